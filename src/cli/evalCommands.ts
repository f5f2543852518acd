/**
 * `memscore eval <experiment> ...`: the paper's evaluation experiments on a linear head over pooled word vectors.
 * Each prints a readable table to stdout and writes JSON to --out when given.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseFlippedIds } from '../engine/experiments/flippedIds';
import { noiseExperiment, NOISE_METHODS } from '../engine/experiments/noise';
import { type Prepared, prepare, prepareTest } from '../engine/experiments/prepare';
import { reductionExperiment } from '../engine/experiments/reduction';
import { removalExperiment } from '../engine/experiments/removal';
import { stabilityExperiment } from '../engine/experiments/stability';
import { typicalityExperiment } from '../engine/experiments/typicality';
import { SOLVER_NAMES } from '../engine/influence/solvers';
import { DataError, UsageError } from '../engine/types';
import { experimentChart } from '../report/charts';
import { ensureCanvas, renderChartPng } from '../report/png';
import { choiceFlag, numberFlag, parseArgs } from './args';
import { FEATURIZER_BOOLEAN_FLAGS, FEATURIZER_VALUE_FLAGS, featurizerOptions } from './featurizerFlags';
import { stderrProgress } from './progress';

export const EVAL_USAGE = `usage: memscore eval removal TRAIN --test TEST [--fractions 0.1,0.3,0.5] [--seeds 5]
       memscore eval reduction TRAIN [--top 0.1] [--ks 0.1,0.3,0.5] [--steps 50] [--seed 0]
       memscore eval stability TRAIN [--seeds 3] [--fraction 0.9]
       memscore eval typicality TRAIN --group FIELD
       memscore eval noise TRAIN --flipped IDS.json [--folds 5]
common options: [--text F1,F2] [--label F] [--id F] [--l2 X] [--solver exact|ekfac|lissa] [--out RESULT.json]
       [--png FIGURE.png] [--quiet] [--featurizer words|numeric|onnx:DIR] (and the other featurizer flags of score)`;

const EXPERIMENTS = ['removal', 'reduction', 'stability', 'typicality', 'noise'] as const;
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
  const { positional, flags } = parseArgs(rest, {
    values: [
      'test',
      'text',
      'label',
      'id',
      'l2',
      'solver',
      'out',
      'fractions',
      'seeds',
      'seed',
      'top',
      'ks',
      'steps',
      'fraction',
      'group',
      'flipped',
      'folds',
      'png',
      ...FEATURIZER_VALUE_FLAGS,
    ],
    booleans: ['quiet', ...FEATURIZER_BOOLEAN_FLAGS],
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
  const seed = numberFlag(flags, 'seed', true) ?? 0;
  if (experiment === 'stability' && seeds < 2)
    throw new UsageError('--seeds must be at least 2 to compare runs');
  if (folds < 2) throw new UsageError('--folds must be at least 2');

  if (typeof png === 'string') await ensureCanvas();

  const quiet = flags.has('quiet');
  const progress = quiet ? undefined : stderrProgress();
  const prep: Prepared = await prepare(positional[0], {
    text: (flags.get('text') as string | undefined)?.split(',').map((s) => s.trim()),
    label: flags.get('label') as string | undefined,
    id: flags.get('id') as string | undefined,
    l2: numberFlag(flags, 'l2'),
    solver: choiceFlag(flags, 'solver', SOLVER_NAMES),
    featurizerOptions: featurizerOptions(flags),
    onProgress: progress ? (p) => progress.update(p) : undefined,
  });
  progress?.done();
  const lines: string[] = [
    `${prep.data.n} rows, ${prep.classes.length} classes, featurized in ${prep.seconds.toFixed(2)}s (${prep.file})`,
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
      const r = noiseExperiment(prep, ids, { folds, seed });
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
  }
  if (typeof png === 'string') {
    // renderChartPng loads the native canvas package only now: it is optional for everything but --png.
    writeFileSync(
      png,
      await renderChartPng(experimentChart(experiment as Experiment, chartData ?? result, chartOptions)),
    );
    lines.push(`figure: ${png}`);
  }
  write(`${lines.join('\n')}\n`);
  const out = flags.get('out');
  if (typeof out === 'string') writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  return 0;
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
