/**
 * The experiments behind the editor's "Memorization report", in one job with progress and cancellation: removal
 * (on a test file, or on a held-out split of the training file when none is given), reduction, stability and,
 * when a grouping field is named, typicality; the reasons of the rows by score tier and, with a grouping field, per
 * group. Each experiment is optional.
 */
import { rankDescending, scoreRows } from '../influence/scores';
import { fit, makeHead } from '../pipeline/fit';
import { reasonsOf } from '../pipeline/scoreJob';
import { type GroupTable, REASON_KINDS, type Reason, type ReasonKind, groupTable } from '../reasons/index';
import type { PipelineOptions } from '../pipeline/options';
import { type ProgressCallback, UsageError } from '../types';
import { type ExperimentControl, type Prepared, holdOut, prepare, prepareTest, yieldNow } from './prepare';
import { type ReductionResult, reductionExperiment } from './reduction';
import { type RemovalResult, removalExperiment } from './removal';
import { type StabilityResult, stabilityExperiment } from './stability';
import { type TypicalityResult, readGroups, typicalityExperiment } from './typicality';
import { type MislabeledResult, mislabeledSummary } from './mislabeled';
import { type NoiseResult, noiseExperiment } from './noise';
import { type MemorizationRun, memorizationExperiment } from './memorization';
import type { SuiteReportHead } from '../../protocol/experiments';

/** The pipeline options (fields, featurizer, head, solver) are those of scoring. */
export interface SuiteOptions extends PipelineOptions {
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
  /** The retraining check (Feldman & Zhang): K heads on random subsets. */
  memorization?: { retrainings: number; subset?: number };
}

export interface SuiteReport extends SuiteReportHead {
  removal?: RemovalResult;
  reduction?: ReductionResult;
  stability?: StabilityResult;
  typicality?: TypicalityResult;
  mislabeled?: MislabeledResult;
  noise?: NoiseResult & { file?: string };
  memorization?: MemorizationRun;
  reasons?: ReasonsPart;
}

/** Tiers of the "reasons among the top-memorized rows" figure: the top 1%, 5%, 10% by score, and all rows. */
export const REASON_TIERS = [0.01, 0.05, 0.1, 1] as const;

/** Share of the rows of one tier (the top `fraction` by score) with each reason, and with any. */
export interface ReasonTier {
  fraction: number;
  rows: number;
  any: number;
  shares: Record<ReasonKind, number>;
}

/** Why rows are memorized, over the whole file: the reasons by score tier and, given a group field, per group. */
export interface ReasonsPart {
  rows: number;
  counts: Record<ReasonKind, number>;
  withAnyReason: number;
  tiers: ReasonTier[];
  /** The per-group table (rows, mean percentile, share in the top 10%, share per reason), with a group field. */
  groups?: GroupTable & { field: string };
  /** Which neighbour search ran, and how duplicates were compared. */
  notes: string[];
  seconds: number;
}

/**
 * Share of each reason among the top `fraction` of rows by score, for each fraction: the rows with percentile >=
 * 100 (1 - fraction), the same "top 10%" as the group table (floor((n - 1) / 10) + 1 rows of n).
 */
export function reasonTiers(
  percentile: ArrayLike<number>,
  reasons: readonly (readonly Reason[])[],
  fractions: readonly number[] = REASON_TIERS,
): ReasonTier[] {
  return fractions.map((fraction) => {
    const floor = 100 * (1 - fraction) - 1e-9;
    const counts = Object.fromEntries(REASON_KINDS.map((k) => [k, 0])) as Record<ReasonKind, number>;
    let rows = 0;
    let any = 0;
    for (let i = 0; i < percentile.length; i++) {
      if (!(percentile[i] >= floor)) continue;
      rows++;
      const kinds = new Set(reasons[i]?.map((r) => r.kind));
      if (kinds.size) any++;
      for (const k of kinds) counts[k]++;
    }
    const shares = Object.fromEntries(REASON_KINDS.map((k) => [k, rows ? counts[k] / rows : 0])) as Record<
      ReasonKind,
      number
    >;
    return { fraction, rows, any: rows ? any / rows : 0, shares };
  });
}

/**
 * The reasons part of the report: the head fitted on all rows (the scoring job's fit), its scores, the reasons of
 * every row as `memscore score` gives them (scoreJob's reasonsOf) and, with `field`, the per-group table.
 */
export async function reasonsPart(
  prep: Prepared,
  field: string | undefined,
  opts: ExperimentControl = {},
): Promise<ReasonsPart> {
  const t0 = performance.now();
  const { signal, onProgress } = opts;
  onProgress?.({ stage: 'reasons', done: 0, total: 1, message: 'fitting on all rows' });
  await yieldNow(signal);
  const fitted = fit(prep, prep.fit, { signal });
  const scores = await scoreRows(fitted.head, prep.data, fitted.solver, { signal });
  const why = await reasonsOf(prep, fitted, scores, { onProgress, signal });
  const { percentile } = rankDescending(scores.score);
  const rows = why.reasons.rows;
  const part: ReasonsPart = {
    rows: prep.data.n,
    counts: why.reasons.counts,
    withAnyReason: why.reasons.withAnyReason,
    tiers: reasonTiers(percentile, rows),
    notes: why.notes,
    seconds: 0,
  };
  if (field) part.groups = { field, ...groupTable(await readGroups(prep, field, signal), percentile, rows) };
  part.seconds = (performance.now() - t0) / 1000;
  return part;
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
  const prep = await prepare(file, opts, { onProgress, signal });
  lap('featurizing');
  const report: SuiteReport = {
    file,
    rows: prep.data.n,
    classes: prep.classes,
    fields: { label: prep.read.schema.labelField, text: prep.read.schema.textFields },
    featurizer: prep.featurizer.name,
    head: makeHead(prep, prep.fit.head).describe(),
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
    const noise = await noiseExperiment(prep, opts.noise.flipped, { folds: opts.noise.folds, seed });
    report.noise = { ...noise, file: opts.noise.file };
    await yieldNow(signal);
    lap('noise');
  }
  // Reasons are on unless turned off (memorization.reasons / --no-reasons); the group column is the typicality field,
  // else memorization.group.
  if (opts.reasons?.enabled !== false) {
    report.reasons = await reasonsPart(prep, opts.typicality?.field ?? opts.reasons?.group, {
      onProgress,
      signal,
    });
    lap('reasons');
  }
  if (opts.memorization) {
    report.memorization = await memorizationExperiment(prep, {
      ...opts.memorization,
      seed,
      onProgress,
      signal,
    });
    lap('memorization');
  }
  return report;
}
