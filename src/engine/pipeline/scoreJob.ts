/**
 * The scoring job of `memscore score` and the worker: prepare -> fit -> score -> attribute, and the results in the
 * shape of src/protocol/results.ts. The job's state (prepared data, fitted head and solver, scores) is returned too,
 * so that a long-lived process (the worker) can attribute more rows later without refitting.
 */
import { type StageBackends, denseBackend, denseBackendNotes, describeBackends } from '../backends';
import { type RowScores, accuracy, rankDescending, scoreRows } from '../influence/scores';
import type { ScoredRow, ScoreResult, ScoreSummary } from '../../protocol/results';
import { PeakMemory, StageClock, yieldToEventLoop } from './clock';
import { attributeRows } from './attribute';
import { type Fitted, checkFitOptions, fit } from './fit';
import { DEFAULT_ATTRIBUTE, DEFAULT_STEPS, type PipelineOptions, validateOptions } from './options';
import { readFieldValues } from '../data/fieldValues';
import {
  type ReasonJob,
  type ReasonJobOptions,
  computeReasons,
  duplicateClusters,
  groupTable,
} from '../reasons/index';
import { type L2Choice, chooseL2 } from './l2auto';
import { featureBlock, gatherFeatures } from '../model/identicalRows';
import { type Control, type Prepared, prepare, prepareTest } from './prepare';
import { ScoredRows } from './scoredRows';

export interface ScoreJobOptions extends PipelineOptions {
  /** A test file scored for accuracy only. */
  test?: string;
}

/** Everything a finished job knows: enough to attribute more rows ("Explain this row") without refitting. */
export interface ScoreState {
  file: string;
  options: ScoreJobOptions;
  prep: Prepared;
  fitted: Fitted;
  scores: RowScores;
  /** The rows as columns, a row object built when asked (result.rows builds them all, once). */
  rows: ScoredRows;
  result: ScoreResult;
}

/** Reads, featurizes, trains and scores a training file: the whole job of `memscore score` and the worker. */
export async function runScoreJob(
  file: string,
  opts: ScoreJobOptions = {},
  control: Control = {},
): Promise<ScoreState> {
  validateOptions(opts);
  checkFitOptions(opts);
  const clock = new StageClock();
  const memory = new PeakMemory();
  const { signal } = control;
  const report = control.onProgress ?? (() => undefined);

  const prep = await prepare(file, opts, { onProgress: report, signal });
  clock.seconds.reading = prep.seconds.reading;
  clock.seconds.featurizing = prep.seconds.featurizing;
  clock.lap('_');
  delete clock.seconds._;
  memory.sample();
  await yieldToEventLoop(signal);

  // --l2 auto: chosen once on the prepared rows, then used as if given.
  let l2Choice: L2Choice | undefined;
  let fitOpts: ScoreJobOptions = opts;
  if (opts.head?.l2 === 'auto') {
    l2Choice = await chooseL2(prep, opts, { onProgress: report, signal }, opts.head.seed ?? 0);
    fitOpts = { ...opts, head: { ...opts.head, l2: l2Choice.l2 } };
    clock.lap('choosing l2');
  }
  const fitted = fit(prep, fitOpts, { onProgress: report, signal, onWarning: control.onWarning });
  clock.seconds.training = fitted.seconds.training;
  clock.seconds.hessian = fitted.seconds.hessian;
  clock.lap('_');
  delete clock.seconds._;
  memory.sample();
  await yieldToEventLoop(signal);

  const scores = await scoreRows(fitted.head, prep.data, fitted.solver, { onProgress: report, signal });
  clock.lap('scoring');
  const { rank, percentile, order } = rankDescending(scores.score);
  const rows = new ScoredRows(prep, scores, rank, percentile);

  const steps = opts.attribution?.steps ?? DEFAULT_STEPS;
  const wanted = [
    ...order.subarray(0, Math.min(opts.attribution?.top ?? DEFAULT_ATTRIBUTE, order.length)),
    ...(opts.attribution?.rows ?? []),
  ];
  const attributed = await attributeRows(prep, fitted, wanted, steps, { onProgress: report, signal });
  for (const [i, t] of attributed) rows.setTokens(i, t.tokens, t.gap);
  clock.lap('attributing');
  memory.sample();

  const why =
    opts.reasons?.enabled === false
      ? undefined
      : summaryOfReasons(
          await reasonsOf(prep, fitted, scores, { onProgress: report, signal }, { releaseTexts: true }),
          rows,
        );
  // The texts' groups and signatures served the reasons only (the job's state keeps prep for attributions).
  delete prep.textGroups;
  clock.lap('reasons');
  // The texts' near-duplicate groups were built while reading: reasons' work, not reading's.
  clock.seconds.reasons += prep.seconds.textGroups ?? 0;
  const group = opts.reasons?.group;
  const groupValues = group
    ? await readFieldValues(prep.file, prep.read.schema, group, prep.rows, signal)
    : undefined;
  clock.lap('reasons');

  const summary = summarize(prep, fitted, scores, fitOpts, clock, l2Choice !== undefined);
  if (why) {
    summary.reasons = { counts: why.counts, withAnyReason: why.withAnyReason, notes: why.notes };
    if (why.duplicates) summary.duplicates = why.duplicates;
  }
  if (group && groupValues)
    summary.groups = { field: group, ...groupTable(groupValues, percentile, why?.reasons.rows) };
  if (l2Choice) summary.l2Choice = { folds: l2Choice.folds, grid: l2Choice.grid };
  if (opts.test) {
    const test = await prepareTest(
      prep,
      opts.test,
      { strict: opts.data?.strict },
      { onProgress: report, signal },
    );
    summary.testAccuracy = accuracy(fitted.head, test.data);
    summary.counts.test = test.data.n;
    summary.counts.testSkipped = test.skipped;
    clock.lap('testing');
  }
  memory.sample();
  summary.peakMemoryMB = memory.peakMB;
  summary.completeness = completenessOf(rows, steps);
  // Built on first use: `memscore score` writes row by row from `rows` and never builds them all.
  const result = {
    summary,
    get rows(): ScoredRow[] {
      return rows.all();
    },
  };
  return { file, options: opts, prep, fitted, scores, rows, result };
}

/** The scoring job's results only. */
export async function scoreDataset(
  file: string,
  opts: ScoreJobOptions = {},
  control: Control = {},
): Promise<ScoreResult> {
  return (await runScoreJob(file, opts, control)).result;
}

/**
 * Attributes more rows of a finished job (the worker's "Explain this row"): only their token vectors are built, the
 * fit is reused. Updates the state's rows and completeness; returns the rows asked for.
 */
export async function explainRows(
  state: ScoreState,
  indices: readonly number[],
  control: Control = {},
): Promise<ScoredRow[]> {
  const steps = state.options.attribution?.steps ?? DEFAULT_STEPS;
  const rows = state.rows;
  const todo = indices.filter((i) => i >= 0 && i < rows.length && !rows.hasTokens(i));
  const attributed = await attributeRows(state.prep, state.fitted, todo, steps, control);
  for (const [i, t] of attributed) rows.setTokens(i, t.tokens, t.gap);
  state.result.summary.completeness = completenessOf(rows, steps);
  return indices.filter((i) => i >= 0 && i < rows.length).map((i) => rows.at(i));
}

/** Duplicate groups kept in the summary (the largest first); `total` says how many there were. */
const MAX_DUPLICATE_GROUPS = 2000;

/**
 * Hands the reasons to the rows (each row's are built when the row is) and returns what the summary needs of the
 * job. The neighbour lists and duplicate links stay alive as long as the reasons do: they are what a row's evidence
 * is built from.
 */
function summaryOfReasons(
  job: ReasonJob,
  rows: ScoredRows,
): Pick<ReasonJob['reasons'], 'counts' | 'withAnyReason'> & {
  reasons: ReasonJob['reasons'];
  notes: string[];
  duplicates?: ScoreSummary['duplicates'];
} {
  rows.setReasons(job.reasons);
  const clusters = job.duplicates ? duplicateClusters(job.duplicates) : undefined;
  return {
    counts: job.reasons.counts,
    withAnyReason: job.reasons.withAnyReason,
    reasons: job.reasons,
    notes: job.notes,
    ...(clusters
      ? { duplicates: { groups: clusters.slice(0, MAX_DUPLICATE_GROUPS), total: clusters.length } }
      : {}),
  };
}

/**
 * The reasons of every row (src/engine/reasons): neighbours in the head's input space, text duplicates of the
 * decoded text fields (joined by a newline; tabular rows have none), and the rules, with the self-influence a row
 * would have under another label from the same head and solver.
 */
export async function reasonsOf(
  prep: Prepared,
  fitted: Fitted,
  scores: RowScores,
  control: Control,
  opts: Pick<ReasonJobOptions, 'releaseTexts'> = {},
): Promise<ReasonJob> {
  control.onProgress?.({ stage: 'reasons', done: 0, total: 1, message: 'neighbours and duplicates' });
  const { data } = prep;
  const D = prep.featurizer.dim;
  // Text rows: their texts' groups, built by prepare() while reading (with the reasons on).
  const texts = prep.rows.some((r) => r.numeric) ? undefined : prep.textGroups;
  if (!texts && !prep.rows.some((r) => r.numeric))
    throw new Error('reasons: the rows were prepared without their texts (reasons off)');
  const job = await computeReasons(
    {
      X: data.X,
      ...(data.of ? { of: data.of } : {}),
      n: data.n,
      dim: D,
      classes: prep.classes,
      y: data.y,
      pred: scores.pred,
      lines: Int32Array.from(prep.rows, (r) => r.line),
      texts,
      selfInfluence: scores.selfInfluence,
      selfInfluenceWithLabel: (i, c) =>
        fitted.solver.selfInfluence(fitted.head.gradients(featureBlock(data, D, i, 1), [c], 1))[0],
      selfInfluenceWithLabels: selfInfluenceWithLabels(fitted, data, D),
    },
    { signal: control.signal, ...opts },
  );
  control.onProgress?.({ stage: 'reasons', done: 1, total: 1 });
  return job;
}

/** Rows per batch of selfInfluenceWithLabels. */
const LABEL_BATCH = 1024;

/** Self-influence of rows[t] under label classIndex[t]: a batch of gradients and one solver pass per LABEL_BATCH rows. */
function selfInfluenceWithLabels(
  fitted: Fitted,
  data: Prepared['data'],
  D: number,
): (rows: Int32Array, classIndex: Int32Array) => Float64Array {
  const { head, solver } = fitted;
  return (rows, classIndex) => {
    const out = new Float64Array(rows.length);
    const Xb = new Float64Array(Math.min(LABEL_BATCH, rows.length) * D);
    for (let b = 0; b < rows.length; b += LABEL_BATCH) {
      const m = Math.min(LABEL_BATCH, rows.length - b);
      gatherFeatures(data, D, rows.subarray(b, b + m), Xb);
      out.set(solver.selfInfluence(head.gradients(Xb, classIndex.subarray(b, b + m), m)).subarray(0, m), b);
    }
    return out;
  };
}

function completenessOf(rows: ScoredRows, steps: number): ScoreSummary['completeness'] {
  const perRow = rows.gaps();
  if (!perRow.length) return undefined;
  return {
    rows: perRow.length,
    meanGap: perRow.reduce((a, r) => a + r.gap, 0) / perRow.length,
    maxGap: perRow.reduce((a, r) => Math.max(a, r.gap), 0),
    steps,
    perRow,
  };
}

function summarize(
  prep: Prepared,
  fitted: Fitted,
  scores: RowScores,
  opts: ScoreJobOptions,
  clock: StageClock,
  l2Chosen: boolean,
): ScoreSummary {
  const { featurizer, read, classes } = prep;
  const featReport = featurizer.report?.();
  const backends: StageBackends = {
    featurizing: featReport?.backend ?? 'js',
    training: denseBackend(),
    hessian: denseBackend(),
    scoring: denseBackend(),
    attributing: denseBackend(),
  };
  const backendNotes = [...(featReport?.notes ?? []), ...denseBackendNotes(opts.featurizer?.backend)];
  const counts = new Int32Array(classes.length);
  for (const y of prep.data.y) counts[y]++;
  const warnings = [...prep.warnings, ...fitted.warnings, ...fitted.training.warnings];
  if (prep.truncated.size)
    warnings.push(
      `${prep.truncated.size} rows longer than the model's max length were truncated; the cut-off text is not scored (rows[].truncated)`,
    );
  const trainAccuracy = accuracyOf(scores, prep.data.y);
  const head0 = fitted.head;
  // Few rows for the parameters and a weak penalty: the head can fit every label, flipped ones included.
  if (prep.rows.length < 5 * head0.size && trainAccuracy > 0.99 && !l2Chosen)
    warnings.push(
      `the head fits ${(100 * trainAccuracy).toFixed(1)}% of its ${prep.rows.length} training rows with ${head0.size} parameters (l2 = ${head0.l2}): it can fit mislabeled rows too, which then rank low by loss; consider --l2 auto (memorization.l2: "auto"), which chooses the penalty by cross-validation`,
    );
  if (!featurizer.tokenLevel)
    warnings.push(
      `${featurizer.name} has no token vectors: rows are scored, but no token attributions are computed`,
    );
  const head = fitted.head;
  const describe = (featurizer as { describe?: () => string }).describe;
  return {
    file: prep.file,
    format: read.schema.format,
    fields: {
      label: read.schema.labelField,
      text: read.schema.textFields,
      id: read.schema.idField,
      numeric: read.schema.numericFields,
    },
    counts: {
      rows: prep.rows.length,
      skipped: prep.skipped.length,
      ...(prep.truncated.size ? { truncated: prep.truncated.size } : {}),
    },
    skipped: prep.skipped,
    warnings,
    classes: classes.map((name, c) => ({ name, count: counts[c] })),
    featurizer: typeof describe === 'function' ? describe.call(featurizer) : featurizer.name,
    tokenLevel: featurizer.tokenLevel,
    input: prep.transform.name,
    model: head.kind,
    head: head.describe(),
    parameters: head.size,
    l2: fitted.head.l2,
    curvature: head.curvature,
    damping: head.damping,
    solver: fitted.solverName,
    backend: describeBackends(backends),
    backends,
    ...(backendNotes.length ? { backendNotes } : {}),
    ...(featReport ? { featurizerCounters: countersSince(featReport.counters, prep.countersBefore) } : {}),
    training: {
      method: fitted.training.method,
      iterations: fitted.training.iterations,
      objective: fitted.training.value,
      gradNorm: fitted.training.gradNorm,
    },
    trainAccuracy,
    seconds: clock.seconds,
    peakMemoryMB: 0,
  };
}

function accuracyOf(scores: RowScores, y: Int32Array): number {
  let ok = 0;
  for (let i = 0; i < y.length; i++) if (scores.pred[i] === y[i]) ok++;
  return y.length ? ok / y.length : NaN;
}

/** A shared featurizer serves many runs: its counters since this run started. */
function countersSince(now: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(now)) out[k] = v - (before[k] ?? 0);
  return out;
}
