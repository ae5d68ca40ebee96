/**
 * One benchmark job in its own process (started by bench/child.ts): lipdp on one backend, or DSDP /
 * CSDP on one of lipdp's SDPA exports. A separate process per job means a crash, an out-of-memory
 * kill or a hang ends this job only, and its max RSS is its own.
 *
 *   node --import tsx bench/worker.ts '<WorkerInput JSON>' <result.json>
 *
 * The result is written to a file rather than stdout so that library and solver chatter cannot
 * corrupt it. Exit code 0 whenever a result file was written, whatever the job's status.
 */
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { JobSpec, PhaseTimes, RunResult } from './types.js';
import { fcSdpNonzeros, MAX_SDPA_NONZEROS, sdpSizeOf, sdpTooLarge, stageSdpSize, type SdpLimits } from './sdp-size.js';

export interface WorkerInput {
  readonly network: string;
  readonly path: string;
  readonly method: string;
  readonly job: JobSpec;
  readonly timeoutMs: number;
  readonly limits: SdpLimits;
}

type JobOutcome = Omit<RunResult, 'network' | 'method' | 'job' | 'wallMs'>;

/**
 * Share of the per-job limit lipdp's own time limit gets: the rest (plus the child's 5 s grace)
 * is for the certificate, which runs after the limit ends the optimiser.
 */
export const LIPDP_LIMIT_SHARE = 0.85;

/** LipdpError codes meaning "lipdp does not handle this network (yet)", not "it broke". */
const UNSUPPORTED_CODES = new Set(['UNSUPPORTED_STRUCTURE', 'UNSUPPORTED_OP']);

function errorCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof (e as { code: unknown }).code === 'string'
    ? (e as { code: string }).code
    : undefined;
}

function errorMessage(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 400);
}

function classifyError(e: unknown, times: PhaseTimes): JobOutcome {
  const code = errorCode(e);
  if (code !== undefined && UNSUPPORTED_CODES.has(code)) return { status: 'unsupported', message: errorMessage(e), times };
  if (code === 'NO_DEVICE') return { status: 'skipped', message: errorMessage(e), times };
  return { status: 'failed', message: code ? `${code}: ${errorMessage(e)}` : errorMessage(e), times };
}

function adapterName(a: { vendor?: string; architecture?: string; device?: string; description?: string } | undefined): string | undefined {
  if (!a) return undefined;
  const parts = [a.description || a.device, a.vendor, a.architecture].filter((s): s is string => !!s);
  return parts.length > 0 ? [...new Set(parts)].join(' / ') : undefined;
}

async function runLipdp(input: WorkerInput, backend: 'cpu' | 'webgpu', variant: 'unrolled' | 'roesser' | 'fc' | undefined): Promise<JobOutcome> {
  const unrolled = variant === 'unrolled';
  // Imported here so that an import-time failure of the library is a recorded 'failed', not a crash.
  const { estimateLipschitz } = await import('../src/estimate.js');
  const { importOnnx, toFcChain } = await import('../src/model/index.js');
  const { chooseFormulation } = await import('../src/pipeline/solve.js');
  const t0 = performance.now();
  try {
    const net = await importOnnx(input.path);
    const tImport = performance.now() - t0;
    const fc = isFcChain(toFcChain, net);
    // Convolutional networks: the main run is the Roesser (layered) formulation, comparable with
    // the peers' layered SDP; the unrolled one is its own job, where it is small enough.
    if (unrolled && fc) return { status: 'skipped', message: 'fully connected: no unrolled formulation', times: { import: tImport } };
    if (unrolled && chooseFormulation(net, 'auto') !== 'unrolled') return { status: 'skipped', message: 'too large for the unrolled formulation', times: { import: tImport } };
    // The 'fc' job is the default path of a fully connected chain; elsewhere the default is the
    // Roesser run, which has a job of its own.
    if (variant === 'fc' && !fc) return { status: 'skipped', message: 'not fully connected: the default formulation is roesser', times: { import: tImport } };
    // An explicit 'roesser' is passed through for fully connected chains too (CLI --formulation roesser).
    const formulation = variant === 'roesser' ? ('roesser' as const) : fc ? undefined : unrolled ? ('unrolled' as const) : ('roesser' as const);
    // lipdp gets the harness limit as its own run-wide time limit (library timeLimitMs), minus a
    // margin for the certificate and the report, so that a run that needs longer still ends with
    // a certified bound (solver.status 'time_limit') instead of being killed without one.
    const timeLimitMs = Math.max(1000, input.timeoutMs * LIPDP_LIMIT_SHARE - tImport);
    const lb = input.job.kind === 'lipdp' ? input.job.lowerBoundTimeMs : undefined;
    const r = await estimateLipschitz(net, { backend, timeLimitMs, ...(formulation ? { formulation } : {}), ...(lb !== undefined ? { lowerBoundTimeMs: lb } : {}) });
    return {
      status: 'ok',
      bound: r.upperBound,
      certStatus: r.status,
      lowerBound: r.lowerBound,
      naiveBound: r.naiveBound,
      closedFormBound: r.certificate.closedFormBound,
      times: { import: tImport, build: r.timings.build, solve: r.timings.solve, certify: r.timings.certify, bounds: r.timings.bounds },
      solverStatus: r.solver.status,
      iterations: r.solver.iterations,
      refineIterations: r.solver.refineIterations,
      bufferBytes: r.solver.bufferBytes,
      ...(r.solver.deviceTraffic ? { deviceTraffic: r.solver.deviceTraffic } : {}),
      ...(adapterName(r.adapter) ? { adapter: adapterName(r.adapter)! } : {}),
      formulation: r.formulation,
      ...(r.notices.length > 0 ? { notices: r.notices } : {}),
    };
  } catch (e) {
    return classifyError(e, {});
  }
}

function isFcChain(toFcChain: (n: never) => unknown, net: unknown): boolean {
  try {
    toFcChain(net as never);
    return true;
  } catch {
    return false;
  }
}

/** Interior-point iterations from the tail of the solver's output (the last iteration line). */
export function parseIpIterations(solver: 'dsdp' | 'csdp', output: string): number | undefined {
  if (solver === 'csdp') {
    const all = [...output.matchAll(/Iter:\s*(\d+)/g)];
    return all.length > 0 ? Number(all[all.length - 1]![1]) : undefined;
  }
  // DSDP prints a table whose rows start with the iteration number followed by the objectives.
  let last: number | undefined;
  for (const line of output.split('\n')) {
    const m = /^\s*(\d+)\s+[-+]?\d\.\d+e[-+]\d+\s+[-+]?\d\.\d+e[-+]\d+/.exec(line);
    if (m) last = Number(m[1]);
  }
  return last;
}

async function runSdp(input: WorkerInput, solver: 'dsdp' | 'csdp', formulation: 'lipsdp-neuron' | 'layered' | 'roesser'): Promise<JobOutcome> {
  const t0 = performance.now();
  const { importOnnx, toFcChain } = await import('../src/model/index.js');
  const { buildLayeredSdp, buildLipSdpNeuron } = await import('../src/lmi/sdpa.js');
  const { solveSdpa, solverAvailable, missingSolverMessage } = await import('../src/oracle/index.js');
  if (!solverAvailable(solver)) return { status: 'skipped', message: missingSolverMessage(solver), times: {} };
  let net;
  try {
    net = await importOnnx(input.path);
  } catch (e) {
    return classifyError(e, {});
  }
  const tImport = performance.now() - t0;
  // Fully connected chains: LipSDP-Neuron / layered as such. Convolutional networks: LipSDP-Neuron
  // of the unrolled chain (where it unrolls), and lipdp's Roesser stage SDP as the layered one.
  let chain: import('../src/model/ir.js').FcChain | undefined;
  let convFormulation: 'roesser' | 'unrolled' | undefined;
  // 'roesser' asks for the stage SDP on any network (export-sdpa --formulation roesser), so even
  // a fully connected chain takes the stage path below.
  if (formulation === 'roesser') convFormulation = 'roesser';
  else try {
    chain = toFcChain(net);
  } catch {
    if (formulation === 'lipsdp-neuron') {
      const { unrollNetwork, unrolledSizes } = await import('../src/model/unroll.js');
      convFormulation = 'unrolled';
      try {
        // Size first: multiplying out the Toeplitz matrices of a big image is itself slow.
        const planned = sdpSizeOf(unrolledSizes(net), formulation);
        const tooLarge = sdpTooLarge(planned.vars, planned.blocks, input.limits);
        if (tooLarge) return { status: 'skipped', message: tooLarge, times: { import: tImport }, sdpVars: planned.vars, sdpBlocks: planned.blocks, formulation: convFormulation };
        chain = unrollNetwork(net);
      } catch (e) {
        return classifyError(e, { import: tImport });
      }
    } else convFormulation = 'roesser';
  }
  let problem: import('../src/lmi/sdpa.js').SdpaProblem;
  let outerGain = 1;
  let tBuild: number;
  if (chain) {
    // Decide on the size before building: a wide layered SDP is expensive even to build.
    const widths = [chain.inputSize, ...chain.layers.map((l) => l.W.rows)];
    const fcFormulation = formulation === 'layered' ? 'layered' : 'lipsdp-neuron';
    const planned = sdpSizeOf(widths, fcFormulation);
    const nnz = fcSdpNonzeros(widths, chain.layers.map((l) => !!l.activation && l.activation.slope.alpha * l.activation.slope.beta !== 0));
    const tooLarge = sdpTooLarge(planned.vars, planned.blocks, input.limits) ?? (nnz > MAX_SDPA_NONZEROS ? `too large (~${(nnz / 1e6).toFixed(0)} million SDPA entries)` : undefined);
    if (tooLarge) return { status: 'skipped', message: tooLarge, times: { import: tImport }, sdpVars: planned.vars, sdpBlocks: planned.blocks, ...(convFormulation ? { formulation: convFormulation } : {}) };
    const tB = performance.now();
    // Normalised as in lipSdpOracle: the interior-point solvers are far more accurate on it.
    problem = (fcFormulation === 'layered' ? buildLayeredSdp : buildLipSdpNeuron)(chain, { normalise: true });
    tBuild = performance.now() - tB;
  } else {
    const { planStages } = await import('../src/lmi/stage/structure.js');
    const { buildStageSdp } = await import('../src/lmi/stage/sdpa.js');
    const { stageLevels } = await import('../src/solver/refine-chain.js');
    const tB = performance.now();
    let plan;
    try {
      plan = planStages(net);
    } catch (e) {
      return classifyError(e, { import: tImport });
    }
    const planned = stageSdpSize(plan.stages);
    const tooLarge = sdpTooLarge(planned.vars, planned.blocks, input.limits);
    if (tooLarge) return { status: 'skipped', message: tooLarge, times: { import: tImport }, sdpVars: planned.vars, sdpBlocks: planned.blocks, formulation: 'roesser' };
    // Variables scaled by the levels of lipdp's closed-form start (exact; part of the build time).
    const levels = await stageLevels(plan.stages);
    problem = buildStageSdp(plan, levels ? { levels } : {});
    outerGain = plan.outerGain;
    tBuild = performance.now() - tB;
  }
  const size = { sdpVars: problem.c.length, sdpBlocks: problem.blockSizes, ...(convFormulation ? { formulation: convFormulation } : {}) };
  const left = input.timeoutMs - (performance.now() - t0);
  if (left <= 0) return { status: 'timeout', message: 'no time left after building the SDP', times: { import: tImport, build: tBuild }, ...size };
  const res = await solveSdpa(problem, { solver, timeoutMs: left });
  const times: PhaseTimes = { import: tImport, build: tBuild, solve: res.timeMs };
  const iterations = parseIpIterations(solver, res.solverOutput);
  const common = { times, ...size, ...(iterations !== undefined ? { iterations } : {}) };
  if (res.status === 'timeout') return { status: 'timeout', message: `${solver} killed at the time limit`, ...common };
  if (res.status !== 'optimal' && res.status !== 'inaccurate') {
    const lastLine = res.solverOutput.trim().split('\n').slice(-1)[0]?.trim() ?? '';
    return { status: 'failed', certStatus: res.status, message: `${solver}: ${res.status} (${lastLine})`, ...common };
  }
  const rho = res.x[problem.rhoIndex]! * problem.rhoScale;
  return {
    status: 'ok',
    certStatus: res.status,
    bound: Math.sqrt(Math.max(rho, 0)) * outerGain,
    ...common,
    ...(res.attempts > 1 ? { notices: [`${res.attempts} attempts, last with ${res.solverArgs.slice(1).join(' ')}`] } : {}),
  };
}

export async function runJob(input: WorkerInput): Promise<JobOutcome> {
  try {
    if (input.job.kind === 'lipdp') return await runLipdp(input, input.job.backend, input.job.formulation);
    return await runSdp(input, input.job.solver, input.job.formulation);
  } catch (e) {
    return classifyError(e, {});
  }
}

async function main(): Promise<void> {
  const [json, resultPath] = process.argv.slice(2);
  if (!json || !resultPath) {
    process.stderr.write('usage: worker.ts <input json> <result file>\n');
    process.exit(2);
  }
  const input = JSON.parse(json) as WorkerInput;
  const t0 = performance.now();
  const partial = await runJob(input);
  const result: RunResult = {
    network: input.network,
    method: input.method,
    job: input.job,
    ...partial,
    wallMs: performance.now() - t0,
    // resourceUsage().maxRSS is in kilobytes.
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
  };
  writeFileSync(resultPath, JSON.stringify(result, null, 2));
  // WebGPU (Dawn) can keep the event loop alive after the backend is disposed.
  process.exit(0);
}

// Only run when executed, not when a test imports parseIpIterations.
if (process.argv[1] && /worker\.[cm]?[jt]s$/.test(process.argv[1])) await main();
