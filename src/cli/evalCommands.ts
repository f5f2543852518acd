/**
 * `memscore eval <experiment> ...`: the paper's evaluation experiments on a linear head over pooled word vectors.
 * Each prints a readable table to stdout and writes JSON to --out when given.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseFlippedIds } from '../engine/experiments/flippedIds';
import {
  DEFAULT_RETRAININGS,
  DEFAULT_SUBSET,
  memorizationExperiment,
} from '../engine/experiments/memorization';
import { noiseExperiment, NOISE_METHODS } from '../engine/experiments/noise';
import { type Prepared, prepare, prepareTest } from '../engine/experiments/prepare';
import { reductionExperiment } from '../engine/experiments/reduction';
import { removalExperiment } from '../engine/experiments/removal';
import { stabilityExperiment } from '../engine/experiments/stability';
import { typicalityExperiment } from '../engine/experiments/typicality';
import { DataError, UsageError } from '../engine/types';
import { experimentChart } from '../report/charts';
import { ensureCanvas, renderChartPng } from '../report/png';
import { checkFitOptions } from '../engine/pipeline/fit';
import { validateOptions } from '../engine/pipeline/options';
import { optionsFromFlags, pipelineFlags } from '../engine/pipeline/optionSources';
import { numberFlag, parseArgs } from './args';
import { checkOutputs, writeOutput } from './outputFiles';
import { forTerminal } from './terminal';
import { PIPELINE_USAGE } from './usage';
import { stderrProgress } from './progress';

export const EVAL_USAGE = `usage: memscore eval removal TRAIN --test TEST [--fractions 0.1,0.3,0.5] [--seeds 5]
       memscore eval reduction TRAIN [--top 0.1] [--ks 0.1,0.3,0.5] [--steps 50] [--seed 0]
       memscore eval stability TRAIN [--seeds 3] [--fraction 0.9]
       memscore eval typicality TRAIN --group FIELD
       memscore eval noise TRAIN --flipped IDS.json [--folds 5]
       memscore eval memorization TRAIN [--retrainings 100] [--subset 0.7] [--seed 0]
common options: [--out RESULT.json] [--png FIGURE.png] [--quiet]
${PIPELINE_USAGE}`;

const EXPERIMENTS = ['removal', 'reduction', 'stability', 'typicality', 'noise', 'memorization'] as const;
type Experiment = (typeof EXPERIMENTS)[number];

function listFlag(flags: Map<string, string | boolean>, name: string, fallback: number[]): number[] {
  const v = flags.get(name);
  if (v === undefined) return fallback;
  const xs = String(v)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (!xs.length || xs.some((x) => !Number.isFinite(x) || x < 0 || x > 1))
    throw new UsageError(`--${name} must be a comma-separated list of fractions in [0, 1], got '${v}'`);
  return xs;
}

function fractionFlag(flags: Map<string, string | boolean>, name: string, fallback: number): number {
  const v = numberFlag(flags, name) ?? fallback;
  if (!(v > 0 && v <= 1)) throw new UsageError(`--${name} must be in (0, 1]`);
  return v;
}

function positiveInt(flags: Map<string, string | boolean>, name: string, fallback: number): number {
  const v = numberFlag(flags, name, true) ?? fallback;
  if (!(v >= 1)) throw new UsageError(`--${name} must be a positive integer`);
  return v;
}

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(2)}%` : '-');
const num = (x: number, d = 4) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const row = (cells: (string | number)[], widths: number[]) =>
  cells
    .map((c, i) => String(c).padEnd(widths[i] ?? 12))
    .join(' ')
    .trimEnd();

/** Runs one experiment; `write` receives the table (default: stdout). Returns the exit code; throws UsageError/DataError. */
export async function runEval(
  argv: string[],
  write: (text: string) => void = (t) => void process.stdout.write(t),
): Promise<number> {
  const [experiment, ...rest] = argv;
  if (!experiment || experiment === '--help' || experiment === '-h' || experiment === 'help') {
    write(`${EVAL_USAGE}\n`);
    return experiment ? 0 : 1;
  }
  if (!(EXPERIMENTS as readonly string[]).includes(experiment))
    throw new UsageError(`unknown experiment '${experiment}' (one of ${EXPERIMENTS.join(', ')})`);
  const flagsSpec = pipelineFlags();
  const { positional, flags } = parseArgs(rest, {
    values: [
      ...flagsSpec.values,
      'test',
      'out',
      'fractions',
      'seeds',
      'top',
      'ks',
      'fraction',
      'group',
      'flipped',
      'folds',
      'retrainings',
      'subset',
      'png',
    ],
    booleans: ['quiet', ...flagsSpec.booleans],
  });
  if (positional.length !== 1) throw new UsageError(`eval ${experiment} needs exactly one TRAIN file`);
  const png = flags.get('png');
  if (png !== undefined && (typeof png !== 'string' || !png)) throw new UsageError('--png needs a file name');
  const need = (name: string): string => {
    const v = flags.get(name);
    if (typeof v !== 'string' || !v) throw new UsageError(`eval ${experiment} needs --${name}`);
    return v;
  };
  // Validate experiment-specific flags before the (slow) featurizing.
  const testFile = experiment === 'removal' ? need('test') : undefined;
  const group = experiment === 'typicality' ? need('group') : undefined;
  const flippedFile = experiment === 'noise' ? need('flipped') : undefined;
  const fractions = listFlag(flags, 'fractions', [0.1, 0.3, 0.5]);
  const ks = listFlag(flags, 'ks', [0.1, 0.3, 0.5]);
  const top = fractionFlag(flags, 'top', 0.1);
  const fraction = fractionFlag(flags, 'fraction', 0.9);
  const seeds = positiveInt(flags, 'seeds', experiment === 'stability' ? 3 : 5);
  const steps = positiveInt(flags, 'steps', 50);
  const folds = positiveInt(flags, 'folds', 5);
  const retrainings = positiveInt(flags, 'retrainings', DEFAULT_RETRAININGS);
  const subsetShare = numberFlag(flags, 'subset') ?? DEFAULT_SUBSET;
  if (!(subsetShare > 0 && subsetShare < 1)) throw new UsageError('must be in (0, 1)', { option: 'subset' });
  const seed = numberFlag(flags, 'seed', true) ?? 0;
  if (experiment === 'stability' && seeds < 2)
    throw new UsageError('--seeds must be at least 2 to compare runs');
  if (folds < 2) throw new UsageError('--folds must be at least 2');

  const options = optionsFromFlags(flags);
  validateOptions(options);
  checkFitOptions(options);
  // Before any work: an output that is an input (or another output), or that cannot be written, is refused now.
  const out = flags.get('out');
  checkOutputs(
    [
      typeof out === 'string' ? { flag: '--out', path: out } : undefined,
      typeof png === 'string' ? { flag: '--png', path: png } : undefined,
    ],
    [positional[0], testFile, flippedFile],
  );
  if (typeof png === 'string') await ensureCanvas();

  const quiet = flags.has('quiet');
  const progress = quiet ? undefined : stderrProgress();
  const prep: Prepared = await prepare(positional[0], options, {
    onProgress: progress ? (p) => progress.update(p) : undefined,
  });
  progress?.done();
  const lines: string[] = [
    `${prep.data.n} rows, ${prep.classes.length} classes, featurized in ${(prep.seconds.reading + prep.seconds.featurizing).toFixed(2)}s (${prep.file})`,
  ];
  let result: unknown;
  // What the figure is drawn from (the --out JSON, or more detail where that JSON keeps a fixed shape).
  let chartData: unknown;
  let chartOptions: { test?: string } = {};

  switch (experiment) {
    case 'removal': {
      const test = await prepareTest(prep, testFile as string);
      const t0 = performance.now();
      const r = await removalExperiment(prep, test, {
        fractions,
        seeds,
        seedBase: seed,
        onProgress: progress ? (p) => progress.update(p) : undefined,
      });
      progress?.done();
      const retrainings = fractions.length * (1 + seeds);
      const total = (performance.now() - t0) / 1000;
      result = r;
      chartOptions = { test: `${basename(testFile as string)} (${test.n} rows)` };
      const w = [10, 22, 22, 14];
      lines.push(
        `removal: test accuracy after removing the top-X% memorized rows vs X% random rows (${test.n} test rows)`,
        `(training is deterministic: 'full' and 'memorized' repeat one run per seed, std 0; 'random' varies by seed)`,
        row(['fraction', 'memorized mean±std', 'random mean±std', 'min score'], w),
        row(
          ['0', `${pct(r.full.mean)} ± ${pct(r.full.std)}`, `${pct(r.full.mean)} ± ${pct(r.full.std)}`, '-'],
          w,
        ),
      );
      r.memorized.forEach((m, j) => {
        const rnd = r.random[j];
        lines.push(
          row(
            [
              m.fraction,
              `${pct(m.mean)} ± ${pct(m.std)}`,
              `${pct(rnd.mean)} ± ${pct(rnd.std)}`,
              num(r.scores[String(m.fraction)], 5),
            ],
            w,
          ),
        );
      });
      lines.push(
        `seconds per retraining: ${r.secondsPerRetraining.toFixed(3)} (${retrainings} retrainings; experiment ${total.toFixed(2)} s)`,
      );
      break;
    }
    case 'reduction': {
      const r = await reductionExperiment(prep, {
        top,
        ks,
        steps,
        seed,
        onProgress: progress ? (p) => progress.update(p) : undefined,
      });
      progress?.done();
      result = { attribution: r.attribution, random: r.random };
      chartData = r;
      const w = [8, 14, 14];
      lines.push(
        `reduction: mean relative drop of self-influence, (I(z,z) - I(z',z)) / I(z,z), over ${r.rows} top memorized rows`,
      );
      lines.push(row(['k', 'attribution', 'random'], w));
      r.attribution.forEach((a, j) => lines.push(row([a.k, pct(a.rate), pct(r.random[j].rate)], w)));
      lines.push(`seconds: ${r.seconds.toFixed(2)}`);
      break;
    }
    case 'stability': {
      const r = await stabilityExperiment(prep, {
        seeds,
        fraction,
        seedBase: seed,
        onProgress: progress ? (p) => progress.update(p) : undefined,
      });
      progress?.done();
      result = r;
      lines.push(
        `${r.kind}: ${r.note}`,
        `common rows: ${r.commonRows} of ${r.rows}`,
        row(['seed a', 'seed b', 'spearman'], [8, 8, 10]),
      );
      for (const p of r.pairs) lines.push(row([p.a, p.b, num(p.spearman)], [8, 8, 10]));
      lines.push(`mean Spearman: ${num(r.mean)}; seconds: ${r.seconds.toFixed(2)}`);
      break;
    }
    case 'typicality': {
      const r = await typicalityExperiment(prep, group as string);
      result = r;
      const w = [20, 8, 14, 16];
      lines.push(
        `typicality by '${r.field}' (never fed to the model)`,
        row(['value', 'rows', 'mean score', 'mean percentile'], w),
      );
      for (const g of r.groups)
        lines.push(row([g.value, g.count, num(g.meanScore, 5), num(g.meanPercentile, 1)], w));
      break;
    }
    case 'noise': {
      const ids = readFlipped(flippedFile as string);
      const r = await noiseExperiment(prep, ids, { folds, seed });
      result = r;
      const w = [10, 14, 10, 10, 10];
      lines.push(
        `noise: ${r.matched} of ${r.flipped} flipped ids found among the rows; share of them in the top X% of each ranking (oof = 1 - p_oof(y), ${r.folds}-fold)`,
        row(['top', ...NOISE_METHODS], w),
      );
      for (const t of r.recall) lines.push(row([pct(t.fraction), ...NOISE_METHODS.map((m) => pct(t[m]))], w));
      lines.push(
        row(['AUROC', ...NOISE_METHODS.map((m) => num(r.auroc[m]))], w),
        `seconds: ${r.seconds.toFixed(2)}`,
      );
      break;
    }
    case 'memorization': {
      const r = await memorizationExperiment(prep, {
        retrainings,
        subset: subsetShare,
        seed,
        onProgress: progress ? (p) => progress.update(p) : undefined,
      });
      progress?.done();
      const { seconds, secondsPerRetraining, ...exact } = r;
      result = exact;
      const w = [16, 10, 16];
      const estimated = r.rows.filter((x) => Number.isFinite(x.estimate)).length;
      lines.push(
        `memorization: Feldman & Zhang's estimate P(y|x; z in) - P(y|x; z out) over ${r.retrainings} heads trained on random ${(100 * r.subset).toFixed(0)}% subsets (${estimated} rows estimated)`,
        row(['column', 'Spearman', 'top-10% overlap'], w),
        ...(['score', 'selfInfluence', 'loss'] as const).map((k) =>
          row([k, num(r.spearman[k], 3), pct(r.topOverlap[k])], w),
        ),
        `median standard error of the estimate: ${num(median(r.rows.map((x) => x.stderr)), 4)}`,
        `seconds: ${seconds.toFixed(2)} (${secondsPerRetraining.toFixed(3)} per retraining)`,
      );
      break;
    }
  }
  if (typeof png === 'string') {
    // renderChartPng loads the native canvas package only now: it is optional for everything but --png.
    writeOutput(
      { flag: '--png', path: png },
      await renderChartPng(experimentChart(experiment as Experiment, chartData ?? result, chartOptions)),
    );
    lines.push(`figure: ${png}`);
  }
  write(`${lines.map((l) => forTerminal(l)).join('\n')}\n`);
  // Every warning of reading the data, on stderr (as `memscore score` does).
  for (const w of prep.warnings) process.stderr.write(`memscore: warning: ${forTerminal(w)}\n`);
  if (typeof out === 'string')
    writeOutput({ flag: '--out', path: out }, `${JSON.stringify(result, null, 2)}\n`);
  return 0;
}

function median(xs: number[]): number {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return v.length ? v[Math.floor(v.length / 2)] : NaN;
}

function readFlipped(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new DataError(`cannot read the flipped ids: ${(e as Error).message}`, file);
  }
  return parseFlippedIds(text, file);
}
