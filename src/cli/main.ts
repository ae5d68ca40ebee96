/**
 * The `lipdp` command line: a thin layer over the library. Progress goes to stderr, the report to
 * stdout. A failure ends with one line `lipdp: error: …` on stderr and, with --json, the object
 * `{ "error": { "code", "message" } }` on stdout, so a script reading stdout always gets JSON.
 * Exit codes (EXIT below, docs/report.md): 0 a bound was certified, 2 bad input, 3 nothing
 * certified, 1 internal error.
 */
import { writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError, CommanderError } from 'commander';
import cliProgress from 'cli-progress';
import { estimateLipschitz } from '../estimate.js';
import { isLipdpError, LipdpError } from '../model/errors.js';
import { importOnnx } from '../model/import.js';
import { parseByteSize } from '../model/memory-plan.js';
import { toFcChain } from '../model/lower.js';
import { buildLayeredSdp, buildLipSdpNeuron, toSdpaText } from '../lmi/sdpa.js';
import { buildStageSdp } from '../lmi/stage/sdpa.js';
import { planStages } from '../lmi/stage/structure.js';
import { stageLevels } from '../solver/refine-chain.js';
import type { BackendChoice, ProgressEvent } from '../report/types.js';
import { errorToJson, reportToJson } from '../report/finish.js';
import { lipdpVersion } from '../report/version.js';
import { formatReport } from './format.js';

/** The exit codes, a documented contract (docs/report.md): scripts branch on them. */
export const EXIT = { ok: 0, internal: 1, badInput: 2, notCertified: 3 } as const;

const HELP_FOOTER = `
Exit codes:
  0  a bound was certified (status certified or fallback)
  2  bad input: unreadable or unsupported model, invalid option
  3  the model was read but nothing could be certified (status failed)
  1  internal error: a bug in lipdp, please report it (with LIPDP_DEBUG=1 for the stack)

Report status (estimate):
  certified  the optimised multipliers passed the f64 certificate and gave the smallest
             bound; upperBound is their bound
  fallback   the bound is the closed-form start's or the naive product of layer norms
             (certificate.source says which): the optimised multipliers did not verify,
             verified a larger bound, or the optimiser ran no iteration; upperBound is
             still a certified bound
  failed     nothing passed; upperBound is null

With --json the report is printed as JSON (schema: docs/report.schema.json, fields:
docs/report.md); on failure stdout gets {"error": {"code": ..., "message": ...}} and the
exit code is the same as without --json.`;

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
  let exitCode: number = EXIT.ok;
  // Known before parsing, so that errors in the arguments themselves also come out as JSON.
  const json = argv.includes('--json');
  const program = new Command()
    .name('lipdp')
    .description('Certified upper bounds on the l2 Lipschitz constant of neural networks (layer-wise LipSDP, WebGPU)')
    .version(await lipdpVersion(), '-V, --version', 'print the lipdp version')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .addHelpText('after', HELP_FOOTER);

  program
    .command('estimate')
    .description('certify an upper bound on the Lipschitz constant of an ONNX model')
    .argument('<model>', 'ONNX file (external data is read from the same folder), or a lipdp-ssm .json file (docs/ssm-json.md)')
    .option('--backend <name>', 'cpu | webgpu | auto', 'cpu')
    .option('--json', 'print the report (or the error) as JSON on stdout')
    .option('--max-iter <n>', 'iteration limit of the multiplier optimiser (default by formulation: dense 3000, unrolled 1000, Roesser 6000; same as --refine-iter)', positiveInt)
    .option('--time-limit <s>', 'time limit of the whole solve in seconds (default: none; the report says when it ended the solve)', positiveNumber)
    .option('--admm-time <s>', 'deprecated: counts as --time-limit', positiveNumber)
    .option('--refine-iter <n>', 'iteration limit of the multiplier optimiser (wins over --max-iter)', positiveInt)
    .option('--refine-time <s>', 'deprecated: counts as --time-limit', positiveNumber)
    .option('--formulation <name>', 'auto | fc (dense chains) | roesser | unrolled (conv networks)', 'auto')
    .option('--stage-solver <name>', 'Roesser stage chains: auto (Newton where the stages are small enough, else L-BFGS) | newton | lbfgs', 'auto')
    .option('--samples <file.json>', 'extra start points for the lower-bound search: a JSON array of inputs (flat or nested numbers), or { "inputs": [...] }')
    .option('--lower-iterations <n>', 'iteration budget of the lower-bound search (default: from the network size)', positiveInt)
    .option('--lower-seed <n>', 'seed of the lower-bound search (default 1)', positiveInt)
    .option('--quiet', 'no progress output')
    .option('--max-memory <size>', 'refuse models needing more memory (bytes or 512M, 2G; default 1/4 of RAM, at most 1G)', parseByteSize)
    .addHelpText('after', HELP_FOOTER)
    .action(async (model: string, opts: { backend: string; json?: boolean; maxIter?: number; timeLimit?: number; admmTime?: number; refineTime?: number; refineIter?: number; samples?: string; lowerIterations?: number; lowerSeed?: number; formulation: string; stageSolver: string; quiet?: boolean; maxMemory?: number }) => {
      if (!['cpu', 'webgpu', 'auto'].includes(opts.backend)) throw new LipdpError('INVALID_ARGUMENT', `unknown backend '${opts.backend}' (use cpu, webgpu or auto)`);
      if (!['auto', 'fc', 'roesser', 'unrolled'].includes(opts.formulation))
        throw new LipdpError('INVALID_ARGUMENT', `unknown formulation '${opts.formulation}' (use auto, fc, roesser or unrolled)`);
      if (!['auto', 'newton', 'lbfgs'].includes(opts.stageSolver))
        throw new LipdpError('INVALID_ARGUMENT', `unknown stage solver '${opts.stageSolver}' (use auto, newton or lbfgs)`);
      const bar = !opts.quiet && process.stderr.isTTY ? new ProgressView() : undefined;
      try {
        const report = await estimateLipschitz(model, {
          backend: opts.backend as BackendChoice,
          ...(opts.timeLimit !== undefined ? { timeLimitMs: opts.timeLimit * 1000 } : {}),
          ...(opts.admmTime !== undefined ? { admmTimeBudgetMs: opts.admmTime * 1000 } : {}),
          ...(opts.refineTime !== undefined ? { refineTimeMs: opts.refineTime * 1000 } : {}),
          ...((opts.refineIter ?? opts.maxIter) !== undefined ? { refineMaxIter: opts.refineIter ?? opts.maxIter } : {}),
          ...(opts.samples !== undefined ? { samples: opts.samples } : {}),
          ...(opts.lowerIterations !== undefined ? { lowerBoundIterations: opts.lowerIterations } : {}),
          ...(opts.lowerSeed !== undefined ? { lowerBoundSeed: opts.lowerSeed } : {}),
          formulation: opts.formulation as 'auto' | 'fc' | 'roesser' | 'unrolled',
          stageSolver: opts.stageSolver as 'auto' | 'newton' | 'lbfgs',
          ...(opts.maxMemory !== undefined ? { maxMemoryBytes: opts.maxMemory } : {}),
          ...(bar ? { onProgress: (e: ProgressEvent) => bar.update(e) } : {}),
        });
        bar?.stop();
        for (const n of report.notices) process.stderr.write(`lipdp: ${n}\n`);
        process.stdout.write((opts.json ? JSON.stringify(reportToJson(report), null, 2) : formatReport(report)) + '\n');
        if (report.status === 'failed') exitCode = EXIT.notCertified;
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
        process.stderr.write(`lipdp: wrote ${opts.output} (roesser stages; ρ_original = ρ_file × ${problem.rhoScale}, L = ${plan.outerGain} × √ρ_original)\n`);
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
    if (e instanceof CommanderError) {
      // --help and --version end here too, with exit code 0; commander already wrote the message.
      if (e.exitCode === 0) return EXIT.ok;
      if (json) printJsonError('USAGE', e.message.replace(/^error:\s*/, ''));
      return EXIT.badInput;
    }
    if (isLipdpError(e) && e.code !== 'INTERNAL') {
      process.stderr.write(`lipdp: error: ${e.message}\n`);
      if (json) printJsonError(e.code, e.message);
      // A constant output is a valid model whose constant is 0: nothing to certify, not bad input.
      return e.code === 'CONSTANT_OUTPUT' ? EXIT.notCertified : EXIT.badInput;
    }
    const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
    process.stderr.write(`lipdp: internal error: ${msg}\n`);
    if (process.env.LIPDP_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    if (json) printJsonError('INTERNAL', msg);
    return EXIT.internal;
  }
}

function printJsonError(code: string, message: string): void {
  process.stdout.write(JSON.stringify(errorToJson(code, message), null, 2) + '\n');
}

/** Progress bar on stderr while solving (cli-progress). */
class ProgressView {
  private readonly bar = new cliProgress.SingleBar(
    { format: 'lipdp {phase} |{bar}| {value}/{total} it  {best}', stream: process.stderr, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  private started = false;
  private stopped = false;

  update(e: ProgressEvent): void {
    if (this.stopped) return;
    // Only a verified bound is shown as one; the optimiser's running value is marked an estimate.
    const best = e.bestBound == null ? 'L -' : e.bestBoundCertified ? `L ≤ ${e.bestBound.toPrecision(6)} (certified)` : `L ≈ ${e.bestBound.toPrecision(6)} (estimate)`;
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
