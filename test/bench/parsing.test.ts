import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { executionOrder, glipsdpFamily, networkFromPath, selectNetworks } from '../../bench/networks.js';
import { parseIpIterations } from '../../bench/worker.js';
import { pgrpFromStat, vmHwmFromStatus } from '../../bench/proc-mem.js';
import { fcSdpNonzeros, sdpSizeOf, sdpTooLarge, stageSdpSize } from '../../bench/sdp-size.js';

describe('network selection', () => {
  it('reads GLipSDP family parameters from file names', () => {
    expect(glipsdpFamily('mlp_L17_W32')).toEqual({ family: 'mlp', depth: 17, width: 32 });
    expect(glipsdpFamily('cnn_C5_CH16')).toEqual({ family: 'cnn', depth: 5, width: 16 });
    expect(glipsdpFamily('mnist_relu_3_50')).toBeUndefined();
  });

  it('suites, the GLipSDP grid, filters, and quick mode with a fallback to the test fixtures', () => {
    const root = mkdtempSync(join(tmpdir(), 'lipdp-bench-nets-'));
    const repo = join(root, 'repo');
    const models = join(root, 'models');
    for (const d of ['repo/examples', 'repo/test/fixtures', 'models/mnist', 'models/glipsdp', 'models/cifar10']) mkdirSync(join(root, d), { recursive: true });
    for (const f of ['repo/examples/mlp_tiny.onnx', 'repo/test/fixtures/mnist_relu_3_50.onnx', 'models/mnist/b.onnx', 'models/mnist/a.onnx', 'models/glipsdp/mlp_L3_W16.onnx', 'models/glipsdp/mlp_L5_W16.onnx', 'models/glipsdp/cnn_C3_CH8.onnx', 'models/cifar10/cifar_base_kw.onnx'])
      writeFileSync(join(root, f), '');
    const base = { quick: false, models: [], filter: [], modelsDir: models };
    expect(selectNetworks({ ...base, suites: ['mnist'] }, repo).map((n) => n.name)).toEqual(['a', 'b']);
    // L5 is not in the benchmarked grid.
    expect(selectNetworks({ ...base, suites: ['glipsdp'] }, repo).map((n) => n.name)).toEqual(['mlp_L3_W16', 'cnn_C3_CH8']);
    expect(selectNetworks({ ...base, suites: ['mnist', 'glipsdp'], filter: ['a', 'L3'] }, repo).map((n) => n.name)).toEqual(['a', 'mlp_L3_W16']);
    const quick = selectNetworks({ ...base, quick: true, suites: ['fixtures', 'mnist', 'cifar10', 'glipsdp'] }, repo);
    expect(quick.map((n) => n.name)).toEqual(['mlp_tiny', 'mnist_relu_3_50', 'mlp_L3_W16', 'cifar_base_kw']);
    expect(quick[1]!.path).toBe(join(repo, 'test', 'fixtures', 'mnist_relu_3_50.onnx'));
    // Without a models directory only the repository's own files remain.
    expect(selectNetworks({ ...base, modelsDir: undefined, suites: ['fixtures', 'mnist'] }, repo).map((n) => n.name)).toEqual(['mlp_tiny']);
  });
});

describe('execution order', () => {
  it('smallest model first (external data counted), ties in the given order', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lipdp-bench-order-'));
    const file = (name: string, bytes: number): string => {
      writeFileSync(join(dir, name), Buffer.alloc(bytes));
      return join(dir, name);
    };
    const big = networkFromPath(file('big.onnx', 500), 'mnist');
    const ext = networkFromPath(file('ext.onnx', 10), 'glipsdp');
    file('ext.onnx.data', 300);
    const small = networkFromPath(file('small.onnx', 100), 'cifar10');
    const tie = networkFromPath(file('tie.onnx', 100), 'cifar10');
    expect(executionOrder([big, ext, small, tie]).map((n) => n.name)).toEqual(['small', 'tie', 'ext', 'big']);
  });
});

describe('solver output and /proc parsing', () => {
  it('interior-point iterations: CSDP "Iter:" lines, DSDP table rows', () => {
    expect(parseIpIterations('csdp', 'Iter:  0 Ap: 0.00e+00\nIter:  1 Ap: 9.0e-01\nIter: 17 Ap: 1.0e+00\nSuccess')).toBe(17);
    const dsdp = ['Iter   PP Objective      DD Objective    PInfeas   DInfeas     Nu     StepLength   Pnrm', '   0   1.00000000e+10  -1.50e+03 ', '  34  -7.82462072e+02  -7.82462072e+02   1.5e-12  0.0e+00  1.2e-06  1.00  1.00   2.5e+00', 'DSDP Converged.'].join('\n');
    expect(parseIpIterations('dsdp', dsdp)).toBe(34);
    expect(parseIpIterations('dsdp', 'nothing')).toBeUndefined();
  });

  it('process group from /proc/<pid>/stat (command names may contain spaces and parentheses)', () => {
    expect(pgrpFromStat('1234 (dsdp5) R 1200 1200 1200 0 -1')).toBe(1200);
    expect(pgrpFromStat('99 (a b) c)) S 1 42 42 0')).toBe(42);
    expect(vmHwmFromStatus('Name:\tcsdp\nVmPeak:\t 300 kB\nVmHWM:\t  125880 kB\n')).toBe(125880 * 1024);
  });

  it('too-large rule on variables and on the largest (non-diagonal) block', () => {
    const limits = { maxVars: 1500, maxBlock: 1100 };
    expect(sdpTooLarge(111, [894, -110], limits)).toBeUndefined();
    expect(sdpTooLarge(2716, [834, 100, 60, 10, -110], limits)).toMatch(/too large \(m = 2716/);
    expect(sdpTooLarge(513, [1296, -512], limits)).toMatch(/block 1296/);
    expect(sdpTooLarge(100, [100, -5000], limits)).toBeUndefined();
  });
});

describe('sdpSizeOf', () => {
  it('matches the exported SDPs of random chains', async () => {
    const { buildLayeredSdp, buildLipSdpNeuron } = await import('../../src/lmi/sdpa.js');
    const { randomFcNetwork, ACTIVATIONS } = await import('../helpers/chains.js');
    for (const widths of [[3, 2], [4, 5, 3], [6, 4, 5, 2], [5, 3, 3, 3, 1]]) {
      const { chain } = randomFcNetwork(widths, 7, ACTIVATIONS.relu!);
      for (const [f, build] of [['lipsdp-neuron', buildLipSdpNeuron], ['layered', buildLayeredSdp]] as const) {
        const p = build(chain);
        expect(sdpSizeOf(widths, f), `${f} ${widths}`).toEqual({ vars: p.c.length, blocks: p.blockSizes });
      }
    }
  });
});

describe('stageSdpSize', () => {
  it('matches the exported Roesser stage SDPs (conv, max pooling, residual, dense)', async () => {
    const { buildStageSdp } = await import('../../src/lmi/stage/sdpa.js');
    const { planStages } = await import('../../src/lmi/stage/structure.js');
    const { Rng, conv, dense, flatten, network, pool, relu, residual } = await import('../conv/helpers.js');
    const r = new Rng(5);
    const nets = [
      network([2, 6, 6], [conv(r, 2, 3, 3, 1, 1), relu(), conv(r, 3, 2, 2, 2)], 18),
      network([1, 8, 8], [conv(r, 1, 2, 3, 1, 1), relu(), pool('maxpool', 3, 2, 1), flatten([2, 4, 4]), dense(r, 32, 2)], 2),
      network([2, 5, 5], [residual([conv(r, 2, 2, 3, 1, 1), relu(), conv(r, 2, 2, 3, 1, 1)]), relu(), flatten([2, 5, 5]), dense(r, 50, 2)], 2),
    ];
    for (const net of nets) {
      const plan = planStages(net);
      const p = buildStageSdp(plan);
      expect(stageSdpSize(plan.stages)).toEqual({ vars: p.c.length, blocks: p.blockSizes });
    }
  });
});

describe('fcSdpNonzeros', () => {
  it('bounds the entries of the LipSDP-Neuron export from above, within 2x (ReLU and leaky slopes)', async () => {
    const { buildLipSdpNeuron } = await import('../../src/lmi/sdpa.js');
    const { randomFcNetwork, ACTIVATIONS } = await import('../helpers/chains.js');
    for (const act of [ACTIVATIONS.relu!, ACTIVATIONS.leaky!])
      for (const widths of [[9, 4, 3], [12, 6, 5, 2]]) {
        const { chain } = randomFcNetwork(widths, 3, act);
        const p = buildLipSdpNeuron(chain);
        const actual = p.F.reduce((a, f) => a + f.length, 0);
        const est = fcSdpNonzeros(widths, chain.layers.map((l) => !!l.activation && l.activation.slope.alpha * l.activation.slope.beta !== 0));
        expect(est, `${widths}`).toBeGreaterThanOrEqual(actual);
        expect(est, `${widths}`).toBeLessThanOrEqual(2 * actual);
      }
  });
});
