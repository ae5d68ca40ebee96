// esbuild imports .wgsl files as their text (loader '.wgsl': 'text' in demo/build.ts).
declare module '*.wgsl' {
  const source: string;
  export default source;
}
