import { attributeRow } from './attribution/integratedInfluence';
import {
  type BackendSetting,
  DENSE_BACKEND,
  type StageBackends,
  denseBackendNotes,
  describeBackends,
} from './backends';
import type { Featurizer, TokenFeatures } from './featurize/featurizer';
import { onnxDirOf, sharedOnnxFeaturizer } from './featurize/onnx/index';
import { NumericFeaturizer } from './featurize/numeric';
import { WordsFeaturizer } from './featurize/words';
import { pool } from './attribution/integratedInfluence';
import { type ReadResult, readDataset } from './data/readDataset';
import { rankDescending, scoreRowsAsync } from './influence/scores';
import { type SolverName, defaultSolver, makeSolver } from './influence/solvers';
import { type HeadData, type LinearHead, paramCount, probabilities } from './model/linearHead';
import { trainHead } from './model/train';
import {
  type DatasetRow,
  DataError,
  type ProgressCallback,
  type SkippedRow,
  type SourceRange,
  UsageError,
} from './types';

export interface ScoreOptions {
  test?: string;
  text?: string[];
  label?: string;
  id?: string;
  /** words | numeric | onnx:DIR (a local Hugging Face style ONNX export). */
  featurizer?: FeaturizerSpec;
  /** ONNX featurizer: encoder output used as E (output name or hidden_states index; default last_hidden_state). */
  onnxLayer?: string;
  /** ONNX featurizer: max tokens per row (default the model's); the rest is reported as truncated. */
  onnxMaxLength?: number;
  /** ONNX featurizer: onnxruntime intra-op threads (default onnxruntime's). */
  onnxThreads?: number;
  /** auto | cpu | cuda: the ONNX execution provider to try (cuda falls back to cpu with a message). */
  backend?: BackendSetting;
  /** ONNX featurizer: feature cache folder (default the OS cache folder); false = no cache. */
  cacheDir?: string | false;
  standardize?: boolean;
  model?: 'linear';
  solver?: SolverName;
  l2?: number;
  /** How many of the top-ranked rows get token attributions. */
  attribute?: number;
  /** Also attribute these row indices (the editor's "Explain this row"). */
  attributeRows?: number[];
  steps?: number;
  seed?: number;
  strict?: boolean;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

export type FeaturizerSpec = 'words' | 'numeric' | `onnx:${string}`;

export interface ScoredToken {
  text: string;
  line: number;
  start: number;
  end: number;
  a: number;
  /** Sub-word pieces (ONNX featurizer): pieces of one word share this index (see SourceToken.word). */
  word?: number;
}

export interface ScoredRow {
  index: number;
  line: number;
  id: string;
  label: string;
  pred: string;
  prob: number;
  loss: number;
  score: number;
  selfInfluence: number;
  rank: number;
  percentile: number;
  tokens?: ScoredToken[];
  /** Relative completeness gap of this row's attributions. */
  completenessGap?: number;
  /** Raw-file ranges of text cut off by the model's max length (ONNX featurizer): not scored, not attributed. */
  truncated?: SourceRange[];
}

export interface ScoreSummary {
  file: string;
  format: string;
  fields: { label: string; text: string[]; id?: string; numeric?: string[] };
  counts: { rows: number; skipped: number; test?: number; testSkipped?: number; truncated?: number };
  skipped: SkippedRow[];
  warnings: string[];
  classes: { name: string; count: number }[];
  featurizer: string;
  model: string;
  parameters: number;
  l2: number;
  solver: SolverName;
  /** One line: which backend ran which stage (see `backends`). */
  backend: string;
  /** Which backend ran each stage: featurizing (js, or onnxruntime-node cpu/cuda) and the dense math (js-float64). */
  backends?: StageBackends;
  /** Backend messages: a CUDA fallback and its error, the feature cache folder, what is available. */
  backendNotes?: string[];
  /** Featurizer counters for this run (ONNX: session runs, rows encoded, cache hits and misses). */
  featurizerCounters?: Record<string, number>;
  training: { iterations: number; objective: number; gradNorm: number };
  trainAccuracy: number;
  testAccuracy?: number;
  seconds: Record<string, number>;
  peakMemoryMB: number;
  completeness?: {
    rows: number;
    meanGap: number;
    maxGap: number;
    steps: number;
    perRow: { index: number; gap: number }[];
  };
}

export interface ScoreResult {
  rows: ScoredRow[];
  summary: ScoreSummary;
}

export const DEFAULT_L2 = 1e-3;
const BATCH = 256;

/** Reads, featurizes, trains and scores a training file: the whole job of `memscore score` and the worker. */
export async function scoreDataset(file: string, opts: ScoreOptions = {}): Promise<ScoreResult> {
  const clock = new StageClock();
  const memory = new PeakMemory();
  const report = opts.onProgress ?? (() => undefined);
  const signal = opts.signal;
  const checkAbort = () => {
    if (signal?.aborted) throw signal.reason ?? new Error('aborted');
  };

  const train = await readDataset(file, {
    text: opts.text,
    label: opts.label,
    id: opts.id,
    strict: opts.strict,
    onProgress: report,
    signal,
    tabular: opts.featurizer === 'numeric' ? true : undefined,
  });
  clock.lap('reading');
  const classes = train.classes;
  const featurizer = await chooseFeaturizer(train, opts);
  const countersBefore = featurizer.report?.().counters ?? {};
  featurizer.fit?.(train.rows);

  const data = await featurizeAll(featurizer, train.rows, classes, report, signal, 'featurizing');
  const truncated = data.truncated;
  memory.sample();
  clock.lap('featurizing');
  await yieldToEventLoop(signal);

  const l2 = opts.l2 ?? DEFAULT_L2;
  if (!(l2 > 0))
    throw new UsageError('--l2 must be positive (the influence function needs a strictly convex objective)');
  const fit = trainHead(classes.length, featurizer.dim, data, {
    l2,
    signal,
    onIteration: (it, value, g) =>
      report({
        stage: 'training',
        done: it,
        total: it + 1,
        message: `objective ${value.toFixed(5)}, |grad| ${g.toExponential(1)}`,
      }),
  });
  const head = fit.head;
  clock.lap('training');
  await yieldToEventLoop(signal);

  const solverName = opts.solver ?? defaultSolver(head);
  report({ stage: 'hessian', done: 0, total: 1, message: solverName });
  const solver = makeSolver(solverName, head, data, opts.seed ?? 0);
  memory.sample();
  clock.lap('hessian');
  await yieldToEventLoop(signal);

  const s = await scoreRowsAsync(head, data, solver, { onProgress: report, signal });
  const { rank, percentile, order } = rankDescending(s.score);
  clock.lap('scoring');

  const rows: ScoredRow[] = train.rows.map((r, i) => ({
    index: r.index,
    line: r.line,
    id: r.id,
    label: r.label,
    pred: classes[s.pred[i]],
    prob: s.prob[i],
    loss: s.loss[i],
    score: s.score[i],
    selfInfluence: s.selfInfluence[i],
    rank: rank[i],
    percentile: percentile[i],
    ...(truncated.has(i) ? { truncated: truncated.get(i) } : {}),
  }));

  // Attributions for the top-N rows (and any asked for), re-featurized in batches: token vectors are not kept.
  const steps = opts.steps ?? 50;
  const wanted = new Set<number>(
    Array.from(order.subarray(0, Math.min(opts.attribute ?? 100, order.length))),
  );
  for (const i of opts.attributeRows ?? []) if (i >= 0 && i < rows.length) wanted.add(i);
  const targets = [...wanted];
  const gaps: number[] = [];
  const perRow: { index: number; gap: number }[] = [];
  for (let b = 0; b < targets.length; b += BATCH) {
    await yieldToEventLoop(signal);
    checkAbort();
    const batch = targets.slice(b, b + BATCH);
    const feats = await featurizer.featurize(
      batch.map((i) => train.rows[i]),
      { baseline: true, signal },
    );
    batch.forEach((i, k) => {
      const res = attributeRow(head, solver, feats[k], featurizer.pooling, data.y[i], steps);
      rows[i].tokens = feats[k].tokens.map((t, j) => ({
        text: t.text,
        line: t.line,
        start: t.start,
        end: t.end,
        a: res.a[j],
        ...(t.word !== undefined ? { word: t.word } : {}),
      }));
      rows[i].completenessGap = res.gap;
      gaps.push(res.gap);
      perRow.push({ index: i, gap: res.gap });
    });
    report({ stage: 'attributing', done: Math.min(b + BATCH, targets.length), total: targets.length });
  }
  clock.lap('attributing');
  memory.sample();

  const featReport = featurizer.report?.();
  const backends: StageBackends = {
    featurizing: featReport?.backend ?? 'js',
    training: DENSE_BACKEND,
    hessian: DENSE_BACKEND,
    scoring: DENSE_BACKEND,
    attributing: DENSE_BACKEND,
  };
  const backendNotes = [...(featReport?.notes ?? []), ...denseBackendNotes(opts.backend)];

  const summary: ScoreSummary = {
    file,
    format: train.schema.format,
    fields: {
      label: train.schema.labelField,
      text: train.schema.textFields,
      id: train.schema.idField,
      numeric: train.schema.numericFields,
    },
    counts: {
      rows: rows.length,
      skipped: train.skipped.length,
      ...(truncated.size ? { truncated: truncated.size } : {}),
    },
    skipped: train.skipped,
    warnings: truncated.size
      ? [
          ...train.warnings,
          `${truncated.size} rows longer than the model's max length were truncated; the cut-off text is not scored (rows[].truncated)`,
        ]
      : train.warnings,
    classes: classes.map((name, c) => ({ name, count: countOf(data.y, c) })),
    featurizer: describeFeaturizer(featurizer),
    model: 'linear',
    parameters: paramCount(head),
    l2,
    solver: solverName,
    backend: featReport ? describeBackends(backends) : 'cpu (JavaScript, float64)',
    backends,
    ...(backendNotes.length ? { backendNotes } : {}),
    training: { iterations: fit.iterations, objective: fit.value, gradNorm: fit.gradNorm },
    trainAccuracy: accuracy(head, data),
    seconds: clock.seconds,
    peakMemoryMB: 0,
    completeness: gaps.length
      ? {
          rows: gaps.length,
          meanGap: gaps.reduce((a, b) => a + b, 0) / gaps.length,
          maxGap: Math.max(...gaps),
          steps,
          perRow,
        }
      : undefined,
  };

  if (opts.test) {
    const test = await readDataset(opts.test, {
      text: train.schema.textFields.length ? train.schema.textFields : undefined,
      label: train.schema.labelField,
      id: train.schema.idField,
      strict: opts.strict,
      signal,
      tabular: train.schema.numericFields ? true : undefined,
      allowSingleClass: true,
    });
    const known = test.rows.filter((r) => classes.includes(r.label));
    const testData = await featurizeAll(featurizer, known, classes, report, signal, 'testing');
    summary.testAccuracy = accuracy(head, testData);
    summary.counts.test = known.length;
    summary.counts.testSkipped = test.skipped.length + (test.rows.length - known.length);
    clock.lap('testing');
  }
  if (featReport) summary.featurizerCounters = countersSince(featurizer, countersBefore);
  memory.sample();
  summary.peakMemoryMB = memory.peakMB;
  return { rows, summary };
}

/**
 * Lets the event loop serve pending I/O (a worker's cancellation message, progress writes) between batches and
 * stages, whose work is otherwise synchronous; then honours an abort that arrived meanwhile.
 */
async function yieldToEventLoop(signal: AbortSignal | undefined): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  if (signal?.aborted) throw signal.reason ?? new Error('aborted');
}

/** The featurizer options (the `memscore score` flags) that pick and configure a featurizer. */
export type FeaturizerOptions = Pick<
  ScoreOptions,
  'featurizer' | 'standardize' | 'onnxLayer' | 'onnxMaxLength' | 'onnxThreads' | 'backend' | 'cacheDir'
>;

/** The featurizer for a read training file: as chosen by the options, else numeric for tabular data, else words. */
export function createFeaturizer(train: ReadResult, opts: FeaturizerOptions): Promise<Featurizer> {
  return chooseFeaturizer(train, opts);
}

async function chooseFeaturizer(train: ReadResult, opts: FeaturizerOptions): Promise<Featurizer> {
  const tabular = !!train.schema.numericFields?.length;
  const kind = opts.featurizer ?? (tabular ? 'numeric' : 'words');
  const onnxDir = onnxDirOf(kind);
  if (onnxDir) {
    if (!train.schema.textFields.length)
      throw new DataError('--featurizer onnx:DIR needs text fields (use --text)', train.file);
    return sharedOnnxFeaturizer({
      dir: onnxDir,
      layer: opts.onnxLayer,
      maxLength: opts.onnxMaxLength,
      threads: opts.onnxThreads,
      backend: opts.backend,
      cacheDir: opts.cacheDir,
    });
  }
  if (kind !== 'words' && kind !== 'numeric')
    throw new UsageError(`--featurizer must be words, numeric or onnx:DIR, got '${String(kind)}'`);
  if (kind === 'numeric') {
    if (!tabular)
      throw new DataError(
        '--featurizer numeric needs a CSV/TSV whose feature columns are all numeric',
        train.file,
      );
    return new NumericFeaturizer({ standardize: opts.standardize ?? true });
  }
  return new WordsFeaturizer();
}

/** The head's input matrix, plus the rows (by position) whose text was truncated and not fully scored. */
export interface FeaturizedData extends HeadData {
  truncated: Map<number, SourceRange[]>;
}

/** Featurizes rows in batches (no baseline: pooling does not need it) and pools them into the head's input matrix. */
export async function featurizeAll(
  featurizer: Featurizer,
  rows: readonly DatasetRow[],
  classes: readonly string[],
  report: ProgressCallback,
  signal: AbortSignal | undefined,
  stage: string,
): Promise<FeaturizedData> {
  const D = featurizer.dim;
  const X = new Float64Array(rows.length * D);
  const y = new Int32Array(rows.length);
  const truncated = new Map<number, SourceRange[]>();
  for (let b = 0; b < rows.length; b += BATCH) {
    await yieldToEventLoop(signal);
    const batch = rows.slice(b, b + BATCH);
    const feats: TokenFeatures[] = await featurizer.featurize(batch, { baseline: false, signal });
    feats.forEach((f, k) => {
      X.set(pool(f.E, f.tokens.length, D, featurizer.pooling), (b + k) * D);
      y[b + k] = classes.indexOf(batch[k].label);
      if (f.truncated?.length) truncated.set(b + k, f.truncated);
    });
    report({ stage, done: Math.min(b + BATCH, rows.length), total: rows.length });
  }
  return { X, y, n: rows.length, truncated };
}

/** The featurizer's one-line description for the summary. */
function describeFeaturizer(f: Featurizer): string {
  const d = (f as { describe?: () => string }).describe;
  return typeof d === 'function' ? d.call(f) : f.name;
}

/** The featurizer's counters accumulated since `before` (a shared featurizer serves many runs). */
function countersSince(f: Featurizer, before: Record<string, number>): Record<string, number> {
  const now = f.report?.().counters ?? {};
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(now)) out[k] = v - (before[k] ?? 0);
  return out;
}

export function accuracy(head: LinearHead, data: HeadData): number {
  let ok = 0;
  const p = new Float64Array(head.classes);
  for (let i = 0; i < data.n; i++) {
    probabilities(head.theta, head.classes, head.dim, data.X, i * head.dim, p);
    let best = 0;
    for (let c = 1; c < head.classes; c++) if (p[c] > p[best]) best = c;
    if (best === data.y[i]) ok++;
  }
  return data.n ? ok / data.n : NaN;
}

function countOf(y: Int32Array, c: number): number {
  let n = 0;
  for (const v of y) if (v === c) n++;
  return n;
}

class StageClock {
  readonly seconds: Record<string, number> = {};
  private last = performance.now();
  lap(stage: string): void {
    const now = performance.now();
    this.seconds[stage] = (this.seconds[stage] ?? 0) + (now - this.last) / 1000;
    this.last = now;
  }
}

class PeakMemory {
  peakMB = 0;
  sample(): void {
    this.peakMB = Math.max(this.peakMB, process.memoryUsage().rss / 2 ** 20);
  }
}
