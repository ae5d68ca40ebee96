/**
 * Before/after table of the empirical lower bound on the CIFAR-10 nets and MNIST CNNs of
 * ../shared/models:
 *
 *   npx tsx bench/lower-bound.ts [--impl before,after,samples | --print] [--save out.json] [--load prev.json] [name …]
 *
 * before:  the search lipdp shipped until issue 18 (6 Gaussian starts, 20 s wall-clock cap), called
 *          with the options estimate.ts passed it;
 * after:   the iteration-budgeted search (src/bounds/search.ts) with its defaults, as estimate.ts
 *          now calls it;
 * samples: the same, seeded with the 20 test images of ../shared/models/<set>/images.json mapped
 *          into each model's input space (the preprocessing that file records per model).
 *
 * --print runs nothing and prints the table of --load.
 * --load reuses the rows of an earlier --save for the implementations not run now, so the slow
 * "before" column need not be re-measured for every change of the new search. Timings are wall
 * clock on this machine, single-threaded.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { empiricalLowerBound } from '../src/bounds/lower.js';
import { forward, jvp, vjp } from '../src/model/forward.js';
import { importOnnx } from '../src/model/import.js';
import { defaultLowerIterations, searchLowerBound } from '../src/bounds/search.js';

const MODELS = fileURLToPath(new URL('../../shared/models', import.meta.url));
const MNIST_CNNS = [
  'convSmallRELU__Point',
  'convSmallRELU__DiffAI',
  'convSmallRELU__PGDK',
  'mnist_0.1',
  'autolirpa_mnist_a_adv',
  'autolirpa_mnist_cnn_small',
  'Convnet_avgpool',
  'Convnet_maxpool',
  'cnn_max_mninst2',
  'cnn_max_mninst3',
];
/** What the independent search of issue 18 found: the new search must reach these. */
const INDEPENDENT: Record<string, number> = { cifar10_small: 56.9, cifar_net: 15.3, cifar_base_kw: 2.2 };

type Impl = 'before' | 'after' | 'samples';
interface Row {
  readonly set: 'cifar10' | 'mnist';
  readonly name: string;
  readonly impl: Impl;
  readonly bound: number;
  readonly ms: number;
}

function parseArgs(argv: string[]): { impls: Impl[]; save?: string; load?: string; names: string[] } {
  let impls: Impl[] = ['before', 'after'];
  let save: string | undefined;
  let load: string | undefined;
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--impl') impls = argv[++i]!.split(',') as Impl[];
    else if (a === '--print') impls = [];
    else if (a === '--save') save = argv[++i];
    else if (a === '--load') load = argv[++i];
    else names.push(a);
  }
  return { impls, ...(save ? { save } : {}), ...(load ? { load } : {}), names };
}

function networks(filter: string[]): { set: 'cifar10' | 'mnist'; name: string; path: string }[] {
  const cifar = readdirSync(join(MODELS, 'cifar10'))
    .filter((f) => f.endsWith('.onnx'))
    .sort()
    .map((f) => ({ set: 'cifar10' as const, name: basename(f, '.onnx'), path: join(MODELS, 'cifar10', f) }));
  const mnist = MNIST_CNNS.map((name) => ({ set: 'mnist' as const, name, path: join(MODELS, 'mnist', `${name}.onnx`) })).filter((n) => existsSync(n.path));
  const all = [...cifar, ...mnist];
  return filter.length ? all.filter((n) => filter.includes(n.name)) : all;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const rows: Row[] = args.load ? (JSON.parse(readFileSync(args.load, 'utf8')) as Row[]) : [];
  const keep = rows.filter((r) => !args.impls.includes(r.impl));
  const fresh: Row[] = [];
  for (const nw of args.impls.length ? networks(args.names) : []) {
    const net = await importOnnx(nw.path);
    for (const impl of args.impls) {
      const t0 = performance.now();
      let bound: number;
      if (impl === 'before') {
        const n = net.inputShape.reduce((a, b) => a * b, 1);
        // Exactly the call estimate.ts made before issue 18 (DEFAULTS.lowerBoundSamples 6, lowerBoundTimeMs 20 000).
        bound = empiricalLowerBound(
          { inputSize: n, f: (x) => forward(net, x), jvp: (x, t) => jvp(net, x, t), vjp: (x, v) => vjp(net, x, v) },
          { samples: 6, timeBudgetMs: 20_000 },
        ).bound;
      } else if (impl === 'after') {
        // What estimate.ts now runs by default: the default budget for this network, seed 1.
        bound = searchLowerBound(net, { iterations: defaultLowerIterations(net) }).bound;
      } else {
        const samples = imageSamples(nw.set, `${nw.name}.onnx`);
        bound = searchLowerBound(net, { iterations: defaultLowerIterations(net), samples }).bound;
      }
      const row: Row = { set: nw.set, name: nw.name, impl, bound, ms: performance.now() - t0 };
      fresh.push(row);
      console.error(`${nw.name} ${impl}: ${bound.toPrecision(6)} in ${(row.ms / 1000).toFixed(1)} s`);
      if (args.save) writeFileSync(args.save, JSON.stringify([...keep, ...fresh], null, 1));
    }
  }
  printTable([...keep, ...fresh]);
}

interface ImagesFile {
  readonly images: readonly { readonly x: number[][][] }[];
  readonly models: Record<string, { layout: string; pixel_scale: number; mean: number[]; std: number[] }>;
}

/** The 20 test images of <set>/images.json in the model's input space, per the preprocessing recorded there. */
function imageSamples(set: string, file: string): Float64Array[] {
  const data = JSON.parse(readFileSync(join(MODELS, set, 'images.json'), 'utf8')) as ImagesFile;
  const pre = data.models[file];
  if (!pre) throw new Error(`${set}/images.json has no preprocessing for ${file}`);
  return data.images.map(({ x }) => {
    const C = x.length;
    const H = x[0]!.length;
    const W = x[0]![0]!.length;
    const out = new Float64Array(C * H * W);
    for (let c = 0; c < C; c++)
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++) {
          const v = (pre.pixel_scale * x[c]![h]![w]! - pre.mean[c]!) / pre.std[c]!;
          out[pre.layout === 'NHWC' ? (h * W + w) * C + c : (c * H + h) * W + w] = v;
        }
    return out;
  });
}

function printTable(rows: readonly Row[]): void {
  const impls = (['before', 'after', 'samples'] as const).filter((i) => rows.some((r) => r.impl === i));
  const names = [...new Set(rows.map((r) => `${r.set}/${r.name}`))];
  const head = ['network', ...impls.flatMap((i) => [`${i}`, `${i} s`]), 'after/before', 'independent'];
  console.log(`| ${head.join(' | ')} |`);
  console.log(`|${head.map(() => '---').join('|')}|`);
  for (const key of names) {
    const [set, name] = key.split('/') as [string, string];
    const get = (i: Impl) => rows.find((r) => r.set === set && r.name === name && r.impl === i);
    const cells = impls.flatMap((i) => {
      const r = get(i);
      return r ? [r.bound.toPrecision(4), (r.ms / 1000).toFixed(1)] : ['–', '–'];
    });
    const b = get('before');
    const a = get('after');
    const ratio = a && b && b.bound > 0 ? `${(a.bound / b.bound).toFixed(2)}×` : '–';
    console.log(`| ${key} | ${cells.join(' | ')} | ${ratio} | ${INDEPENDENT[name] !== undefined ? `≥ ${INDEPENDENT[name]}` : ''} |`);
  }
}

await main();
