/**
 * Stage 1 of the pipeline: read a training file, featurize and pool every row (the lean path), standardize the
 * pooled features. Reading streams: a featurizer that pools from the decoded fields pools each batch as reading
 * produces it, so the decoded rows never all live at once; what is kept of every row is a LeanRow (readRowsAt reads
 * a row's fields again when a later stage needs them). What comes out is reusable across fits (the experiments
 * retrain on subsets of it; the worker keeps it for "Explain this row").
 */
import { type DatasetReader, type ReadResult, openDataset } from '../data/readDataset';
import type { Featurizer, PoolOptions, PooledBatch } from '../featurize/featurizer';
import { createFeaturizer, parseFeaturizerSpec } from '../featurize/registry';
import { TextGroups } from '../reasons/textDuplicates';
import type { HeadData } from '../model/head';
import { DataError, type LeanRow, type ProgressCallback, type SkippedRow, type SourceRange } from '../types';
import { yieldToEventLoop } from './clock';
import type { DataOptions, FeaturizerStageOptions, ReasonStageOptions } from './options';
import { IDENTITY, type InputTransform, Standardizer } from './standardize';

export interface Control {
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
  /** Told at once of what the user must know before a long stage runs (a fit estimated at minutes). */
  onWarning?: (message: string) => void;
}

export interface Prepared {
  file: string;
  read: Omit<ReadResult<LeanRow>, 'rows'>;
  /** The rows the head sees (read rows minus those the featurizer has no vector for), in input order. */
  rows: LeanRow[];
  classes: string[];
  featurizer: Featurizer;
  /** Pooled vector -> head input (standardization, or the identity). */
  transform: InputTransform;
  /** The head's input: transformed pooled features and class indices, one per row of `rows`. */
  data: HeadData;
  /** By position in rows: text the featurizer cut off (not scored). */
  truncated: Map<number, SourceRange[]>;
  /** Reading's skipped rows plus rows without a vector. */
  skipped: SkippedRow[];
  warnings: string[];
  /** textGroups: the part of reading's pass spent grouping the texts (the reasons' work, done while streaming). */
  seconds: { reading: number; featurizing: number; textGroups?: number };
  /** The featurizer's counters before this file was featurized (a shared featurizer serves many jobs). */
  countersBefore: Record<string, number>;
  /**
   * Text rows, while the reasons are on: the exact groups and MinHash signatures of the rows' texts (by position in
   * rows), built as reading streamed the texts by (near-duplicate detection needs nothing else of them).
   */
  textGroups?: TextGroups;
}

/** Rows pooled at a time; progress and cancellation are checked between batches. */
const BATCH = 256;

export async function prepare(
  file: string,
  opts: { data?: DataOptions; featurizer?: FeaturizerStageOptions; reasons?: ReasonStageOptions },
  control: Control = {},
): Promise<Prepared> {
  const { signal } = control;
  const report = control.onProgress ?? (() => undefined);
  const fo = opts.featurizer ?? {};
  const t0 = performance.now();
  const tabular = fo.featurizer ? parseFeaturizerSpec(fo.featurizer).kind.tabular : undefined;
  // Near-duplicate detection (the reasons) needs the rows' texts: grouped as they stream by, not kept.
  const groups = opts.reasons?.enabled !== false ? new TextGroups() : undefined;
  let groupMs = 0;
  const onText = (text: string): void => {
    const t = performance.now();
    groups!.add(text);
    groupMs += performance.now() - t;
  };
  let pooledRows = 0;
  const reader = await openDataset(file, {
    ...opts.data,
    // Reading and pooling are one pass: the bytes read, and how many rows are featurized so far.
    onProgress: (p) => report(pooledRows ? { ...p, message: `${pooledRows} rows featurized` } : p),
    signal,
    tabular: tabular ? true : undefined,
    onText: groups && onText,
  });
  const featurizer = await createFeaturizer(reader, fo);
  const countersBefore = { ...(featurizer.report?.().counters ?? {}) };
  const { read, pooled, seconds } = await readAndPool(reader, featurizer, {
    report,
    signal,
    t0,
    stage: 'featurizing',
    fit: true,
    onPooled: (n) => (pooledRows = n),
  });
  if (groups) {
    seconds.reading -= groupMs / 1000;
    seconds.textGroups = groupMs / 1000;
  }
  const readRows = read.rows;
  const skipped = [...read.skipped];
  let rows = readRows;
  let textGroups = groups && groups.n === readRows.length && groups.n > 0 ? groups : undefined;
  if (pooled.missing.size) {
    if (opts.data?.strict) {
      const [first, reason] = pooled.missing.entries().next().value!;
      throw new DataError(reason, file, readRows[first].line);
    }
    for (const [i, reason] of pooled.missing) skipped.push({ line: readRows[i].line, reason });
    skipped.sort((a, b) => a.line - b.line);
    rows = readRows.filter((_, i) => !pooled.missing.has(i)).map((r, index) => ({ ...r, index }));
    textGroups = textGroups?.subset(readRows.flatMap((_, i) => (pooled.missing.has(i) ? [] : [i])));
  }
  if (!rows.length) throw new DataError('no rows have features', file);
  const classes = [...new Set(rows.map((r) => r.label))].sort();
  if (classes.length < 2) throw new DataError(`needs at least two classes among the featurized rows`, file);
  const X = pooled.missing.size
    ? compact(pooled.X, featurizer.dim, readRows.length, pooled.missing)
    : pooled.X;
  const D = featurizer.dim;
  checkFinite(X, rows, D, file);
  const transform = fo.standardize === false ? IDENTITY : Standardizer.fit(X, rows.length, D);
  transform.applyRows(X, rows.length);
  const index = new Map(classes.map((c, k) => [c, k]));
  const y = Int32Array.from(rows, (r) => index.get(r.label)!);
  const truncated = new Map<number, SourceRange[]>();
  if (pooled.truncated.size) {
    const position = new Map(rows.map((r, k) => [r.line, k]));
    for (const [i, ranges] of pooled.truncated) {
      const k = position.get(readRows[i].line);
      if (k !== undefined) truncated.set(k, ranges);
    }
  }
  const { rows: _rows, ...readInfo } = read;
  return {
    file,
    read: readInfo,
    rows,
    classes,
    featurizer,
    transform,
    data: { X, y, n: rows.length },
    truncated,
    skipped,
    warnings: [...read.warnings],
    countersBefore,
    seconds,
    ...(textGroups ? { textGroups } : {}),
  };
}

interface Pooled {
  X: Float64Array;
  truncated: Map<number, SourceRange[]>;
  missing: Map<number, string>;
}

/**
 * Reads every row and pools those `accept` takes (all by default): batch by batch while reading for a featurizer
 * that pools from the decoded fields, after reading (and fit(), for a training file) for one that pools from the
 * kept rows. `rows` are the pooled rows, in order. Seconds: featurizing is the time in pool() and fit(), reading
 * the rest.
 */
async function readAndPool(
  reader: DatasetReader,
  featurizer: Featurizer,
  o: {
    report: ProgressCallback;
    signal?: AbortSignal;
    t0: number;
    stage: string;
    fit: boolean;
    accept?: (row: LeanRow) => boolean;
    /** Told the number of rows pooled so far, after each batch pooled while reading. */
    onPooled?: (rows: number) => void;
  },
): Promise<{ read: ReadResult<LeanRow>; rows: LeanRow[]; pooled: Pooled; seconds: Prepared['seconds'] }> {
  const { report, signal, accept } = o;
  if (featurizer.poolsFrom === 'row') {
    const read = await reader.read();
    const t1 = performance.now();
    if (o.fit) featurizer.fit(read.rows);
    const rows = accept ? read.rows.filter(accept) : read.rows;
    const pooled = await poolAll(featurizer, rows, report, signal, o.stage);
    const seconds = { reading: (t1 - o.t0) / 1000, featurizing: (performance.now() - t1) / 1000 };
    return { read, rows, pooled, seconds };
  }
  const sink = new PooledSink(featurizer.dim, reader.estimatedRows);
  const taken: number[] = [];
  let poolMs = 0;
  const read = await reader.read(async (batch) => {
    await yieldToEventLoop(signal);
    const t = performance.now();
    const rows = accept ? batch.filter(accept) : batch;
    if (accept) for (const r of rows) taken.push(r.index);
    if (rows.length) sink.add(await featurizer.pool(rows, { signal }), rows.length, reader.share());
    poolMs += performance.now() - t;
    o.onPooled?.(sink.rows);
  }, BATCH);
  const rows = accept ? taken.map((i) => read.rows[i]) : read.rows;
  report({ stage: o.stage, done: rows.length, total: rows.length });
  const total = performance.now() - o.t0;
  return {
    read,
    rows,
    pooled: sink.finish(),
    seconds: { reading: (total - poolMs) / 1000, featurizing: poolMs / 1000 },
  };
}

/**
 * The pooled features of rows that come in batches, in one matrix. Sized from the reader's estimate of the row count
 * and, when that falls short, from the share of the file read so far, so that it is rarely copied; a large unused
 * tail is cut off at the end.
 */
class PooledSink {
  private X: Float64Array;
  private n = 0;

  /** Rows added so far. */
  get rows(): number {
    return this.n;
  }
  private readonly truncated = new Map<number, SourceRange[]>();
  private readonly missing = new Map<number, string>();

  constructor(
    private readonly D: number,
    estimate: number,
  ) {
    this.X = new Float64Array(Math.ceil(estimate * 1.02 + BATCH) * D);
  }

  /** `share`: the part of the file read so far (0..1), to size the matrix for the rest. */
  add(batch: PooledBatch, m: number, share: number): void {
    const { D } = this;
    const need = (this.n + m) * D;
    if (need > this.X.length) {
      const byShare = share > 0 && share <= 1 ? ((this.n + m) / share) * 1.05 : 0;
      const rows = Math.ceil(Math.max(this.n + m, byShare, 1.25 * (this.X.length / D))) + BATCH;
      const grown = new Float64Array(rows * D);
      grown.set(this.X.subarray(0, this.n * D));
      this.X = grown;
    }
    this.X.set(batch.X.subarray(0, m * D), this.n * D);
    for (const [k, r] of batch.truncated ?? []) this.truncated.set(this.n + k, r);
    for (const [k, why] of batch.missing ?? []) this.missing.set(this.n + k, why);
    this.n += m;
  }

  finish(): Pooled {
    const used = this.n * this.D;
    // A tail of more than a tenth is copied away; a smaller one stays (a view, no second matrix).
    const X =
      used === this.X.length
        ? this.X
        : used < 0.9 * this.X.length
          ? this.X.slice(0, used)
          : this.X.subarray(0, used);
    return { X, truncated: this.truncated, missing: this.missing };
  }
}

/** Pools rows in batches into one matrix (positions as in `rows`). */
export async function poolAll<Row extends LeanRow>(
  featurizer: {
    readonly dim: number;
    pool(rows: readonly Row[], options?: PoolOptions): Promise<PooledBatch>;
  },
  rows: readonly Row[],
  report: ProgressCallback,
  signal: AbortSignal | undefined,
  stage: string,
): Promise<Pooled> {
  const D = featurizer.dim;
  const X = new Float64Array(rows.length * D);
  const truncated = new Map<number, SourceRange[]>();
  const missing = new Map<number, string>();
  for (let b = 0; b < rows.length; b += BATCH) {
    await yieldToEventLoop(signal);
    const batch: PooledBatch = await featurizer.pool(rows.slice(b, b + BATCH), { signal });
    X.set(batch.X, b * D);
    for (const [k, r] of batch.truncated ?? []) truncated.set(b + k, r);
    for (const [k, why] of batch.missing ?? []) missing.set(b + k, why);
    report({ stage, done: Math.min(b + BATCH, rows.length), total: rows.length });
  }
  return { X, truncated, missing };
}

/** X without the rows in `drop`. */
function compact(X: Float64Array, D: number, n: number, drop: ReadonlyMap<number, unknown>): Float64Array {
  const out = new Float64Array((n - drop.size) * D);
  let k = 0;
  for (let i = 0; i < n; i++) if (!drop.has(i)) out.set(X.subarray(i * D, (i + 1) * D), D * k++);
  return out;
}

/** A non-finite pooled value would make every score NaN: name the row and the column instead. */
function checkFinite(X: Float64Array, rows: readonly LeanRow[], D: number, file: string): void {
  for (let k = 0; k < X.length; k++)
    if (!Number.isFinite(X[k])) {
      const i = Math.floor(k / D);
      throw new DataError(
        `the row's features overflow: pooled value ${X[k]} in column ${(k % D) + 1} of ${D} (a value too large for float64?)`,
        file,
        rows[i].line,
      );
    }
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

/**
 * Reads, featurizes and transforms a test file with the training file's fields, featurizer, standardization and
 * classes; rows of classes the training file lacks (or without a vector) are left out and counted.
 */
export async function prepareTest(
  prep: Prepared,
  file: string,
  opts: { strict?: boolean },
  control: Control = {},
): Promise<{ data: HeadData; skipped: number }> {
  const schema = prep.read.schema;
  const reader = await openDataset(file, {
    text: schema.textFields.length ? schema.textFields : undefined,
    label: schema.labelField,
    id: schema.idField,
    strict: opts.strict,
    signal: control.signal,
    tabular: schema.numericFields ? true : undefined,
    allowSingleClass: true,
  });
  const classes = new Set(prep.classes);
  const {
    read: test,
    rows: known,
    pooled,
  } = await readAndPool(reader, prep.featurizer, {
    report: control.onProgress ?? (() => undefined),
    signal: control.signal,
    t0: performance.now(),
    stage: 'testing',
    fit: false,
    accept: (r) => classes.has(r.label),
  });
  const keep = known.map((_, i) => i).filter((i) => !pooled.missing.has(i));
  const D = prep.featurizer.dim;
  const X = pooled.missing.size ? compact(pooled.X, D, known.length, pooled.missing) : pooled.X;
  checkFinite(
    X,
    keep.map((i) => known[i]),
    D,
    file,
  );
  prep.transform.applyRows(X, keep.length);
  const index = new Map(prep.classes.map((c, k) => [c, k]));
  const y = Int32Array.from(keep, (i) => index.get(known[i].label)!);
  return { data: { X, y, n: keep.length }, skipped: test.skipped.length + (test.rows.length - keep.length) };
}
