/**
 * The experiments behind the editor's "Memorization report", in one job with progress and cancellation: removal
 * (on a test file, or on a held-out split of the training file when none is given), reduction, stability and,
 * when a grouping field is named, typicality. Each experiment is optional.
 */
import type { SolverName } from '../influence/solvers';
import type { FeaturizerOptions } from '../scoreDataset';
import { type ProgressCallback, UsageError } from '../types';
import { holdOut, prepare, prepareTest, yieldNow } from './prepare';
import { type ReductionResult, reductionExperiment } from './reduction';
import { type RemovalResult, removalExperiment } from './removal';
import { type StabilityResult, stabilityExperiment } from './stability';
import { type TypicalityResult, typicalityExperiment } from './typicality';
import { type MislabeledResult, mislabeledSummary } from './mislabeled';
import { type NoiseResult, noiseExperiment } from './noise';
import type { SuiteReportHead } from './reportShape';

/** The featurizer options (featurizer: onnx:DIR, onnxLayer, backend, cacheDir...) are those of scoring. */
export interface SuiteOptions extends FeaturizerOptions {
  text?: string[];
  label?: string;
  id?: string;
  l2?: number;
  solver?: SolverName;
  /** Test file for the removal experiment; without it, `holdout` of the training rows are held out. */
  test?: string;
  /** Fraction of the training rows held out as the test set when no test file is given (default 0.2). */
  holdout?: number;
  /** Base of every random seed (subsets, held-out split, random tokens). */
  seed?: number;
  removal?: { fractions: number[]; seeds: number };
  reduction?: { top: number; ks: number[]; steps?: number };
  stability?: { seeds: number; fraction?: number };
  typicality?: { field: string };
  /** The "likely mislabeled" summary (training losses of the head on all rows); `top` rows listed. */
  mislabeled?: { top?: number };
  /** The label-noise experiment against known flipped ids (`file`: where they came from, for the report). */
  noise?: { flipped: string[]; file?: string; folds?: number };
}

export interface SuiteReport extends SuiteReportHead {
  removal?: RemovalResult;
  reduction?: ReductionResult;
  stability?: StabilityResult;
  typicality?: TypicalityResult;
  mislabeled?: MislabeledResult;
  noise?: NoiseResult & { file?: string };
}

export const DEFAULT_HOLDOUT = 0.2;

export async function runExperimentSuite(
  file: string,
  opts: SuiteOptions,
  control: { onProgress?: ProgressCallback; signal?: AbortSignal } = {},
): Promise<SuiteReport> {
  const { onProgress, signal } = control;
  const holdout = opts.holdout ?? DEFAULT_HOLDOUT;
  if (!(holdout > 0 && holdout < 1)) throw new UsageError('the held-out fraction must be in (0, 1)');
  const seed = opts.seed ?? 0;
  const seconds: Record<string, number> = {};
  let t0 = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    seconds[name] = (now - t0) / 1000;
    t0 = now;
  };
  const prep = await prepare(file, {
    text: opts.text,
    label: opts.label,
    id: opts.id,
    l2: opts.l2,
    solver: opts.solver,
    featurizerOptions: opts,
    onProgress,
    signal,
  });
  lap('featurizing');
  const report: SuiteReport = {
    file,
    rows: prep.data.n,
    classes: prep.classes,
    fields: { label: prep.schema.labelField, text: prep.schema.textFields },
    featurizer: prep.featurizer.name,
    test: { kind: 'file', file: opts.test ?? '', rows: 0 },
    seconds,
  };

  if (opts.removal) {
    let train = prep;
    let test;
    if (opts.test) {
      onProgress?.({ stage: 'testing', done: 0, total: 1, message: 'featurizing the test file' });
      test = await prepareTest(prep, opts.test, signal);
      report.test = { kind: 'file', file: opts.test, rows: test.n };
    } else {
      const split = holdOut(prep, holdout, seed);
      train = split.train;
      test = split.test;
      report.test = { kind: 'holdout', fraction: holdout, rows: test.n, trainRows: train.data.n };
    }
    report.removal = await removalExperiment(train, test, {
      ...opts.removal,
      seedBase: seed,
      onProgress,
      signal,
    });
    lap('removal');
  } else if (opts.test) {
    report.test = { kind: 'file', file: opts.test, rows: 0 };
  }
  if (opts.reduction) {
    report.reduction = await reductionExperiment(prep, { ...opts.reduction, seed, onProgress, signal });
    lap('reduction');
  }
  if (opts.stability) {
    report.stability = await stabilityExperiment(prep, {
      ...opts.stability,
      seedBase: seed,
      onProgress,
      signal,
    });
    lap('stability');
  }
  if (opts.typicality) {
    report.typicality = await typicalityExperiment(prep, opts.typicality.field, { onProgress, signal });
    lap('typicality');
  }
  if (opts.mislabeled) {
    report.mislabeled = await mislabeledSummary(prep, { ...opts.mislabeled, onProgress, signal });
    lap('mislabeled');
  }
  if (opts.noise) {
    onProgress?.({ stage: 'noise', done: 0, total: 1, message: 'flipped labels' });
    await yieldNow(signal);
    const noise = noiseExperiment(prep, opts.noise.flipped, { folds: opts.noise.folds, seed });
    report.noise = { ...noise, file: opts.noise.file };
    await yieldNow(signal);
    lap('noise');
  }
  return report;
}
