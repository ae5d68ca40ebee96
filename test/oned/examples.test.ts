import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importOnnx, importOnnxBytes } from '../../src/model/import.js';
import { loadSsmJson } from '../../src/model/ssm-json.js';
import { solveNetwork } from '../../src/pipeline/solve.js';
import { lowerBoundOneD } from '../../src/bounds/lower-oned.js';
import { buildCnn1dOnnx, buildSsmNetJson } from '../../examples/oned/make-oned-examples.js';

describe('seeded 1-D examples', () => {
  it('committed files match the generator', () => {
    expect(Buffer.from(readFileSync('examples/oned/cnn1d.onnx')).equals(Buffer.from(buildCnn1dOnnx()))).toBe(true);
    expect(readFileSync('examples/oned/ssm-net.json', 'utf8')).toBe(buildSsmNetJson());
  });

  it('cnn1d.onnx imports as conv1d layers on a [2, 64] signal', () => {
    const net = importOnnxBytes(buildCnn1dOnnx());
    expect(net.signal).toBe(true);
    expect(net.inputShape).toEqual([2, 64]);
    expect(net.layers.map((l) => l.kind)).toEqual(['conv1d', 'activation', 'conv1d', 'activation', 'conv1d']);
    expect(net.outputSize).toBe(3 * 32);
  });

  it('cnn1d: certified bound ≥ lower bound on length-512 sequences, ≤ naive', async () => {
    const net = await importOnnx('examples/oned/cnn1d.onnx');
    const r = { ...(await solveNetwork(net)), lowerBound: await lowerBoundOneD(net, { length: 512, samples: 3 }) };
    console.log(`cnn1d: certified ${r.upperBound} lower(T=512) ${r.lowerBound} naive ${r.naiveBound} sizes ${r.lmiSizes}`);
    expect(r.status).toBe('certified');
    expect(r.lowerBound).toBeGreaterThan(0);
    expect(r.upperBound!).toBeGreaterThanOrEqual(r.lowerBound);
    expect(r.upperBound!).toBeLessThanOrEqual(r.naiveBound! * (1 + 1e-9));
  }, 120000);

  it('ssm-net.json: certified bound ≥ lower bound on length-512 sequences, ≤ naive', async () => {
    const net = await loadSsmJson('examples/oned/ssm-net.json');
    const r = { ...(await solveNetwork(net)), lowerBound: await lowerBoundOneD(net, { length: 512, samples: 3 }) };
    console.log(`ssm-net: certified ${r.upperBound} lower(T=512) ${r.lowerBound} naive ${r.naiveBound} sizes ${r.lmiSizes}`);
    expect(r.status).toBe('certified');
    expect(r.upperBound!).toBeGreaterThanOrEqual(r.lowerBound);
    expect(r.upperBound!).toBeLessThanOrEqual(r.naiveBound! * (1 + 1e-9));
  }, 120000);
});
