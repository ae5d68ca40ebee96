/**
 * Whole-graph checks that run before the importer decodes or folds anything: names must be
 * unique, because the importer keys tensors by name and a duplicate would let "the last one
 * wins" pick the weights (two initializers called 'w' gave bounds of 1670 or 5.83 depending on
 * their order); every live node's domain and attributes must match its schema (schema.ts).
 */
import { LipdpError } from './errors.js';
import { type GraphProto, type NodeProto, nodeLabel } from './onnx.js';
import { checkNodeAttributes } from './schema.js';

function dup(source: string, what: string): never {
  throw new LipdpError('MALFORMED_MODEL', `${what}; tensor names must be unique (${source})`);
}

/** Unique initializer names, graph-input names and node-output names; no node overwrites a graph input or an initializer. */
export function checkUniqueNames(graph: GraphProto, source: string): void {
  const inits = new Set<string>();
  for (const t of graph.initializer ?? []) {
    const name = t.name ?? '';
    if (inits.has(name)) dup(source, `two initializers are named '${name}'`);
    inits.add(name);
  }
  const inputs = new Set<string>();
  for (const i of graph.input ?? []) {
    const name = i.name ?? '';
    // Older exporters list every initializer among the inputs too; that is allowed, twice is not.
    if (inputs.has(name)) dup(source, `two graph inputs are named '${name}'`);
    inputs.add(name);
  }
  const produced = new Map<string, NodeProto>();
  for (const n of graph.node ?? []) {
    for (const o of n.output ?? []) {
      if (!o) continue;
      const other = produced.get(o);
      if (other) dup(source, `tensor '${o}' is produced by node '${nodeLabel(other)}' and by node '${nodeLabel(n)}'`);
      if (inits.has(o)) dup(source, `node '${nodeLabel(n)}' writes '${o}', which is also an initializer`);
      if (inputs.has(o)) dup(source, `node '${nodeLabel(n)}' writes '${o}', which is also a graph input`);
      produced.set(o, n);
    }
  }
}

/** Domain and attribute schema of each node the output depends on. */
export function checkNodes(nodes: readonly NodeProto[], source: string): void {
  for (const n of nodes) checkNodeAttributes(n, source);
}
