/**
 * The `lipdp` command line: a thin layer over the library. Progress goes to stderr, the report to
 * stdout; bad input ends with one line `lipdp: error: …` and exit code 2 (1 for internal errors).
 */
import { writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError, CommanderError } from 'commander';
import cliProgress from 'cli-progress';
import { estimateLipschitz, DEFAULTS } from '../estimate.js';
import { isLipdpError, LipdpError } from '../model/errors.js';
import { importOnnx } from '../model/import.js';
import { parseByteSize } from '../model/memory-plan.js';
import { toFcChain } from '../model/lower.js';
import { buildLayeredSdp, buildLipSdpNeuron, toSdpaText } from '../lmi/sdpa.js';
import { buildStageSdp } from '../lmi/conv/sdpa.js';
import { planStages } from '../lmi/conv/structure.js';
import { stageLevels } from '../solver/refine-conv.js';
import type { BackendChoice, ProgressEvent } from '../report/types.js';
import { formatReport } from './format.js';

function positiveNumber(v: string): number {
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError('must be a positive number');
  return n;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a nonnegative integer');
  return n;
}

export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const program = new Command()
    .name('lipdp')
    .description('Certified upper bounds on the l2 Lipschitz constant of neural networks (layer-wise LipSDP, WebGPU)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command('estimate')
    .description('certify an upper bound on the Lipschitz constant of an ONNX model')
    .argument('<model>', 'ONNX file (external data .onnx.data is read from the same folder)')
    .option('--backend <name>', 'cpu | webgpu | auto', 'cpu')
    .option('--json', 'print the report as JSON')
    .option('--tol <x>', 'ADMM relative residual tolerance', positiveNumber, DEFAULTS.tol)
    .option('--max-iter <n>', 'ADMM iteration limit', positiveInt, DEFAULTS.maxIter)
    .option('--admm-time <s>', 'ADMM time budget in seconds', positiveNumber, DEFAULTS.admmTimeBudgetMs / 1000)
    .option('--cert-tol <x>', 'stop ADMM when the certified bound improves by less than this (relative)', positiveNumber, DEFAULTS.certTol)
    .option('--no-refine', 'skip the f64 multiplier refinement after ADMM')
    .option('--refine-time <s>', 'time budget of the f64 multiplier optimiser (after ADMM for dense nets), seconds', positiveNumber, 60)
    .option('--formulation <name>', 'conv networks: auto | roesser | unrolled', 'auto')
    .option('--quiet', 'no progress output')
    .option('--max-memory <size>', 'refuse models needing more memory (bytes or 512M, 2G; default 1/4 of RAM, at most 1G)', parseByteSize)
    .action(async (model: string, opts: { backend: string; json?: boolean; tol: number; maxIter: number; admmTime: number; certTol: number; refine: boolean; refineTime: number; formulation: string; quiet?: boolean; maxMemory?: number }) => {
      if (!['cpu', 'webgpu', 'auto'].includes(opts.backend)) throw new LipdpError('INVALID_ARGUMENT', `unknown backend '${opts.backend}' (use cpu, webgpu or auto)`);
      if (!['auto', 'roesser', 'unrolled'].includes(opts.formulation))
        throw new LipdpError('INVALID_ARGUMENT', `unknown formulation '${opts.formulation}' (use auto, roesser or unrolled)`);
      const bar = !opts.quiet && process.stderr.isTTY ? new ProgressView() : undefined;
      try {
        const report = await estimateLipschitz(model, {
          backend: opts.backend as BackendChoice,
          tol: opts.tol,
          maxIter: opts.maxIter,
          admmTimeBudgetMs: opts.admmTime * 1000,
          certTol: opts.certTol,
          noRefine: !opts.refine,
          refineTimeMs: opts.refineTime * 1000,
          formulation: opts.formulation as 'auto' | 'roesser' | 'unrolled',
          ...(opts.maxMemory !== undefined ? { maxMemoryBytes: opts.maxMemory } : {}),
          ...(bar ? { onProgress: (e: ProgressEvent) => bar.update(e) } : {}),
        });
        bar?.stop();
        for (const n of report.notices) process.stderr.write(`lipdp: ${n}\n`);
        process.stdout.write((opts.json ? JSON.stringify(report, null, 2) : formatReport(report)) + '\n');
        if (report.status === 'failed') exitCode = 3;
      } finally {
        bar?.stop();
      }
    });

  program
    .command('export-sdpa')
    .description('write the Lipschitz SDP of a network in SDPA sparse format (for DSDP, CSDP, SDPA, …)')
    .argument('<model>', 'ONNX file')
    .requiredOption('-o, --output <file>', 'output .dat-s file')
    .option('--formulation <name>', 'FC chains: lipsdp-neuron | layered; any network: roesser (the layered SDP lipdp certifies conv/pool/residual nets with)', 'lipsdp-neuron')
    .option('--no-normalise', 'keep the original weight / variable scale')
    .action(async (model: string, opts: { output: string; formulation: string; normalise: boolean }) => {
      if (!['layered', 'lipsdp-neuron', 'roesser'].includes(opts.formulation))
        throw new LipdpError('INVALID_ARGUMENT', `unknown formulation '${opts.formulation}' (use lipsdp-neuron, layered or roesser)`);
      const net = await importOnnx(model);
      if (opts.formulation === 'roesser') {
        const plan = planStages(net);
        const levels = opts.normalise ? await stageLevels(plan.stages) : null;
        const problem = buildStageSdp(plan, levels ? { levels } : {});
        writeFileSync(opts.output, toSdpaText(problem));
        process.stderr.write(`lipdp: wrote ${opts.output} (roesser stages; ρ_original = ρ_file × ${problem.rhoScale}, L = ${plan.inputGain} × √ρ_original)\n`);
        return;
      }
      const chain = toFcChain(net);
      const build = opts.formulation === 'layered' ? buildLayeredSdp : buildLipSdpNeuron;
      const problem = build(chain, { normalise: opts.normalise });
      writeFileSync(opts.output, toSdpaText(problem));
      process.stderr.write(`lipdp: wrote ${opts.output} (${opts.formulation}; ρ_original = ρ_file × ${problem.rhoScale}, L = √ρ)\n`);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (isLipdpError(e)) {
      process.stderr.write(`lipdp: error: ${e.message}\n`);
      return 2;
    }
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`lipdp: internal error: ${msg.split('\n')[0]}\n`);
    if (process.env.LIPDP_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    return 1;
  }
}

/** Progress bar on stderr while solving (cli-progress). */
class ProgressView {
  private readonly bar = new cliProgress.SingleBar(
    { format: 'lipdp {phase} |{bar}| {value}/{total} it  best L {best}', stream: process.stderr, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  private started = false;
  private stopped = false;

  update(e: ProgressEvent): void {
    if (this.stopped) return;
    const best = e.bestBound != null ? e.bestBound.toPrecision(6) : '-';
    if (!this.started) {
      this.bar.start(e.maxIterations ?? 1, 0, { phase: e.phase, best });
      this.started = true;
    }
    if (e.maxIterations !== undefined) this.bar.setTotal(e.maxIterations);
    this.bar.update(e.iteration ?? 0, { phase: e.phase, best });
  }

  stop(): void {
    if (this.started && !this.stopped) this.bar.stop();
    this.stopped = true;
  }
}
