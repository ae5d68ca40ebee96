/** Synthetic benchmark results for the harness tests (no solver runs). */
import type { JobSpec, NetworkInfo, RunResult, RunStatus } from '../../bench/types.js';

export function net(name: string, extra: Partial<NetworkInfo> = {}): NetworkInfo {
  return { name, suite: 'mnist', path: `/models/${name}.onnx`, ...extra };
}

const JOBS: Record<string, JobSpec> = {
  'lipdp-cpu': { kind: 'lipdp', backend: 'cpu' },
  'lipdp-webgpu': { kind: 'lipdp', backend: 'webgpu' },
  'dsdp-neuron': { kind: 'sdp', solver: 'dsdp', formulation: 'lipsdp-neuron' },
  'dsdp-layered': { kind: 'sdp', solver: 'dsdp', formulation: 'layered' },
  'csdp-neuron': { kind: 'sdp', solver: 'csdp', formulation: 'lipsdp-neuron' },
  'csdp-layered': { kind: 'sdp', solver: 'csdp', formulation: 'layered' },
};

export interface RunSpec {
  status?: RunStatus;
  bound?: number;
  certStatus?: string;
  /** build + solve + certify split as 10 % / 80 % / 10 % of this (ms). */
  timeMs?: number;
  message?: string;
}

export function run(network: string, method: keyof typeof JOBS, spec: RunSpec = {}): RunResult {
  const status = spec.status ?? 'ok';
  const t = spec.timeMs ?? 1000;
  const isLipdp = method.startsWith('lipdp');
  return {
    network,
    method,
    job: JOBS[method]!,
    status,
    ...(spec.message ? { message: spec.message } : {}),
    ...(status === 'ok'
      ? {
          bound: spec.bound ?? 10,
          certStatus: spec.certStatus ?? (isLipdp ? 'certified' : 'optimal'),
          times: isLipdp ? { import: 5, build: 0.1 * t, solve: 0.8 * t, certify: 0.1 * t, bounds: 50 } : { import: 5, build: 0.1 * t, solve: 0.9 * t },
          iterations: isLipdp ? 200 : 30,
          ...(isLipdp ? { lowerBound: 8, naiveBound: 20, closedFormBound: 12, refineIterations: 50, bufferBytes: 4 << 20 } : {}),
        }
      : { times: {} }),
    wallMs: t + 500,
    maxRssBytes: 100 << 20,
  };
}
