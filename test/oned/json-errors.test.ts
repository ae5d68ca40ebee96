import { describe, expect, it } from 'vitest';
import { LipdpError } from '../../src/model/errors.js';
import { loadSsmJson, parseSsmJson } from '../../src/model/ssm-json.js';
import { solveNetwork } from '../../src/pipeline/solve.js';

function err(text: string): LipdpError {
  try {
    parseSsmJson(text, 'net.json');
  } catch (e) {
    if (e instanceof LipdpError) return e;
    throw e;
  }
  throw new Error('expected a LipdpError');
}

const ok = { type: 'ssm', A: [[0.5]], B: [[1]], C: [[1]] };

describe('lipdp-ssm JSON: one-line errors', () => {
  const cases: [string, string, string][] = [
    ['not JSON', '{"input": ', 'not valid JSON'],
    ['no input', JSON.stringify({ layers: [ok] }), '"input"'],
    ['bad channels', JSON.stringify({ input: { channels: 0 }, layers: [ok] }), 'input.channels'],
    ['empty layers', JSON.stringify({ input: { channels: 1 }, layers: [] }), '"layers"'],
    ['unknown type', JSON.stringify({ input: { channels: 1 }, layers: [{ type: 'lstm' }] }), 'unknown type "lstm"'],
    ['A not square', JSON.stringify({ input: { channels: 1 }, layers: [{ ...ok, A: [[1, 2]] }] }), 'must be square'],
    ['B wrong rows', JSON.stringify({ input: { channels: 1 }, layers: [{ ...ok, B: [[1], [2]] }] }), 'layers[0].B has 2 rows'],
    ['B wrong cols (channels)', JSON.stringify({ input: { channels: 2 }, layers: [ok] }), 'layers[0].B has 1 columns, expected 2'],
    ['ragged C', JSON.stringify({ input: { channels: 1 }, layers: [{ ...ok, A: [[0.5, 0], [0, 0.5]], B: [[1], [1]], C: [[1, 2], [3]] }] }), 'row 1'],
    ['NaN-ish entry', '{"input":{"channels":1},"layers":[{"type":"ssm","A":[["x"]],"B":[[1]],"C":[[1]]}]}', 'layers[0].A[0][0] must be a finite number'],
    ['both A and diagA', JSON.stringify({ input: { channels: 1 }, layers: [{ ...ok, diagA: { re: [0.5] } }] }), 'both "A" and "diagA"'],
    ['complex B not object', JSON.stringify({ input: { channels: 1 }, layers: [{ type: 'ssm', diagA: { re: [0.5], im: [0.1] }, B: [[1]], C: { re: [[1]] } }] }), 'layers[0].B must be {"re"'],
    ['dense width', JSON.stringify({ input: { channels: 3 }, layers: [{ type: 'dense', W: [[1, 2]] }] }), 'layers[0].W has 2 columns, expected 3'],
    ['conv1d stride', JSON.stringify({ input: { channels: 1 }, layers: [{ type: 'conv1d', weight: [[[1, 2]]], stride: 0 }] }), 'stride must be a positive integer'],
    ['conv1d too long', JSON.stringify({ input: { channels: 1, length: 2 }, layers: [{ type: 'conv1d', weight: [[[1, 2, 3]]] }] }), 'output would be empty'],
  ];
  for (const [what, text, needle] of cases) {
    it(what, () => {
      const e = err(text);
      expect(e.code).toBe('MALFORMED_MODEL');
      expect(e.message).toContain(needle);
      expect(e.message).not.toContain('\n');
    });
  }

  it('missing file → IO error', async () => {
    await expect(loadSsmJson('/nonexistent/net.json')).rejects.toMatchObject({ code: 'IO' });
  });

  it('a time-mixing layer is rejected by the 1-D pipeline with a reason', async () => {
    const net = parseSsmJson(JSON.stringify({ input: { channels: 1, length: 4 }, layers: [ok] }));
    const mixed = { ...net, layers: [...net.layers, { kind: 'dense' as const, W: { rows: 1, cols: 4, data: new Float64Array(4).fill(1) }, bias: new Float64Array(1), name: 'sum' }] };
    await expect(solveNetwork(mixed)).rejects.toThrow(/length-independent/);
  });
});
