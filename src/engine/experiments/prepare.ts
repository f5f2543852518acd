/**
 * Shared setup of the evaluation experiments: read and featurize a training file once into a HeadData, then
 * retrain / rescore the linear head on subsets of it as often as an experiment needs (featurizing is the slow part,
 * training the convex head is cheap).
 */
import { readDataset } from '../data/readDataset';
import type { Featurizer } from '../featurize/featurizer';
import { NumericFeaturizer } from '../featurize/numeric';
import { WordsFeaturizer } from '../featurize/words';
import { type InfluenceSolver, type SolverName, defaultSolver, makeSolver } from '../influence/solvers';
import { type RowScores, scoreRows } from '../influence/scores';
import type { HeadData, LinearHead } from '../model/linearHead';
import { trainHead } from '../model/train';
import { permutation as seededPermutation } from '../random';
import { DEFAULT_L2, type FeaturizerOptions, createFeaturizer, featurizeAll } from '../scoreDataset';
import { type DatasetRow, type DatasetSchema, DataError, type ProgressCallback } from '../types';

export interface PrepareOptions {
  text?: string[];
  label?: string;
  id?: string;
  l2?: number;
  solver?: SolverName;
  /** Featurizer to use (default: numeric for tabular CSV, words otherwise). */
  featurizer?: Featurizer;
  /** Or the featurizer flags of `memscore score` (--featurizer onnx:DIR, --onnx-layer, --cache-dir...). */
  featurizerOptions?: FeaturizerOptions;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

/** A featurized training set, reusable across retrainings. */
export interface Prepared {
  file: string;
  rows: DatasetRow[];
  classes: string[];
  schema: DatasetSchema;
  featurizer: Featurizer;
  data: HeadData;
  l2: number;
  solver?: SolverName;
  /** Seconds spent reading and featurizing. */
  seconds: number;
}

export async function prepare(file: string, opts: PrepareOptions = {}): Promise<Prepared> {
  const t0 = performance.now();
  const report = opts.onProgress ?? (() => undefined);
  const read = await readDataset(file, {
    text: opts.text,
    label: opts.label,
    id: opts.id,
    onProgress: report,
    signal: opts.signal,
  });
  const rows: DatasetRow[] = [...read.rows];
  const classes: string[] = [...read.classes];
  const featurizer: Featurizer =
    opts.featurizer ??
    (opts.featurizerOptions?.featurizer
      ? await createFeaturizer(read, opts.featurizerOptions)
      : read.schema.numericFields?.length
        ? new NumericFeaturizer({ standardize: true })
        : new WordsFeaturizer());
  featurizer.fit?.(rows);
  const data = await featurizeAll(featurizer, rows, classes, report, opts.signal, 'featurizing');
  const l2 = opts.l2 ?? DEFAULT_L2;
  if (!(l2 > 0)) throw new DataError('l2 must be positive');
  return {
    file,
    rows,
    classes,
    schema: read.schema,
    featurizer,
    data,
    l2,
    solver: opts.solver,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Reads and featurizes a test file with the training file's fields and classes (rows of unknown classes dropped). */
export async function prepareTest(prep: Prepared, file: string, signal?: AbortSignal): Promise<HeadData> {
  const test = await readDataset(file, {
    text: prep.schema.textFields.length ? prep.schema.textFields : undefined,
    label: prep.schema.labelField,
    id: prep.schema.idField,
    signal,
    tabular: prep.schema.numericFields ? true : undefined,
    allowSingleClass: true,
  });
  const known = test.rows.filter((r: DatasetRow) => prep.classes.includes(r.label));
  return featurizeAll(prep.featurizer, known, prep.classes, () => undefined, signal, 'testing');
}

/** The rows idx of data (in that order). */
export function subset(data: HeadData, dim: number, idx: ArrayLike<number>): HeadData {
  const n = idx.length;
  const X = new Float64Array(n * dim);
  const y = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const i = idx[k];
    X.set(data.X.subarray(i * dim, (i + 1) * dim), k * dim);
    y[k] = data.y[i];
  }
  return { X, y, n };
}

/** All row indices except those in `removed`. */
export function complement(n: number, removed: Iterable<number>): Int32Array {
  const drop = new Uint8Array(n);
  for (const i of removed) drop[i] = 1;
  const keep: number[] = [];
  for (let i = 0; i < n; i++) if (!drop[i]) keep.push(i);
  return Int32Array.from(keep);
}

/** Trains the head to its optimum (the objective is strictly convex, so warm starts do not change the result). */
export function fitHead(
  prep: Prepared,
  data: HeadData,
  init?: Float64Array,
  signal?: AbortSignal,
): LinearHead {
  return trainHead(prep.classes.length, prep.featurizer.dim, data, {
    l2: prep.l2,
    init,
    tolerance: 1e-8,
    signal,
  }).head;
}

export interface Scored {
  head: LinearHead;
  solver: InfluenceSolver;
  scores: RowScores;
}

/** Trains (or takes) a head on data and scores every row of data. */
export function fitAndScore(
  prep: Prepared,
  data: HeadData,
  init?: Float64Array,
  signal?: AbortSignal,
): Scored {
  const head = fitHead(prep, data, init, signal);
  const solver = makeSolver(prep.solver ?? defaultSolver(head), head, data);
  return { head, solver, scores: scoreRows(head, data, solver) };
}
export { permutation, seededRandom } from '../random';

export function meanStd(values: readonly number[]): { mean: number; std: number } {
  const n = values.length;
  if (!n) return { mean: NaN, std: NaN };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const v = n > 1 ? values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, std: Math.sqrt(v) };
}

/** Number of rows in a fraction of n, rounded, clamped to [0, n]. */
export function countOf(fraction: number, n: number): number {
  return Math.max(0, Math.min(n, Math.round(fraction * n)));
}

/** Progress and cancellation for the experiments (the worker passes both; the CLI passes progress only). */
export interface ExperimentControl {
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

/**
 * Lets the event loop run (a worker's cancellation message, progress writes) between the synchronous
 * retrainings of an experiment, then honours an abort that arrived meanwhile.
 */
export async function yieldNow(signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) throw signal.reason ?? new Error('aborted');
  await new Promise<void>((resolve) => setImmediate(resolve));
  if (signal?.aborted) throw signal.reason ?? new Error('aborted');
}

/**
 * Splits a prepared training set into a training part and a held-out test part (a seeded random `fraction` of the
 * rows), for the removal experiment when no test file is given.
 */
export function holdOut(prep: Prepared, fraction: number, seed = 0): { train: Prepared; test: HeadData } {
  const n = prep.data.n;
  const m = Math.min(n - 1, Math.max(1, countOf(fraction, n)));
  const perm = seededPermutation(n, seed);
  const held = Array.from(perm.subarray(0, m)).sort((a, b) => a - b);
  const kept = complement(n, held);
  const dim = prep.featurizer.dim;
  return {
    train: { ...prep, rows: Array.from(kept, (i) => prep.rows[i]), data: subset(prep.data, dim, kept) },
    test: subset(prep.data, dim, held),
  };
}
