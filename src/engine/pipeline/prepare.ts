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
import { MERGE_BELOW, gatherFeatures, mergeIdenticalRows, rowHash, sameBits } from '../model/identicalRows';
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
    share: true,
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
  const D = featurizer.dim;
  // Shared rows (identical features and label stored once): the missing rows never got a row of X.
  const of = pooled.of && pooled.missing.size ? pooled.of.filter((v) => v >= 0) : pooled.of;
  const X = pooled.missing.size && !of ? compact(pooled.X, D, readRows.length, pooled.missing) : pooled.X;
  const xRows = X.length / D;
  checkFinite(X, rows, D, file, of);
  const index = new Map(classes.map((c, k) => [c, k]));
  const y = Int32Array.from(rows, (r) => index.get(r.label)!);
  const data: HeadData = { X, y, n: rows.length, ...(of ? { of } : {}) };
  // Shared rows stand for their copies (the merged rows' weights; X is transformed in place, so they stay valid).
  const copies = of ? mergeIdenticalRows(data, D)!.w : undefined;
  const transform = fo.standardize === false ? IDENTITY : Standardizer.fit(X, xRows, D, copies);
  transform.applyRows(X, xRows);
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
    data,
    truncated,
    skipped,
    warnings: [...read.warnings],
    countersBefore,
    seconds,
    ...(textGroups ? { textGroups } : {}),
  };
}

interface Pooled {
  /** A row per pooled row, or with `of` a row per distinct (vector, label) pair. */
  X: Float64Array;
  /** Pooled row i's row of X (-1 for a row without a vector), when identical rows share one. */
  of?: Int32Array;
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
    /** Store identical (vector, label) rows once (HeadData.of) when enough of them repeat. */
    share?: boolean;
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
  const sink = new PooledSink(featurizer.dim, reader.estimatedRows, o.share ?? false);
  const taken: number[] = [];
  let poolMs = 0;
  const read = await reader.read(async (batch) => {
    await yieldToEventLoop(signal);
    const t = performance.now();
    const rows = accept ? batch.filter(accept) : batch;
    if (accept) for (const r of rows) taken.push(r.index);
    if (rows.length) sink.add(await featurizer.pool(rows, { signal }), rows, reader.share());
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
 *
 * With `share`, a row whose vector and label are bitwise those of an earlier row gets no row of its own: it points
 * to the earlier one (Pooled.of). A file of short texts repeats them (1,000,000 two-word rows: 763 MB of features
 * as rows, 140 MB as distinct rows). When most rows turn out distinct, the matrix becomes a row per row again: after
 * SHARE_PROBE rows as soon as more than SHARE_GIVE_UP of them are distinct, and at the end above MERGE_BELOW.
 */
class PooledSink {
  private X: Float64Array;
  private n = 0;
  /** Shared mode: each row's row of X (-1: no vector), the distinct rows so far, their labels and hash chains. */
  private of?: Int32Array;
  private distinct = 0;
  private Xbits: Uint32Array = new Uint32Array(0);
  private label = new Int32Array(0);
  private chain = new Int32Array(0);
  private readonly heads = new Map<number, number>();
  private readonly labelIds = new Map<string, number>();

  /** Rows added so far. */
  get rows(): number {
    return this.n;
  }
  private readonly truncated = new Map<number, SourceRange[]>();
  private readonly missing = new Map<number, string>();

  constructor(
    private readonly D: number,
    private readonly estimate: number,
    share: boolean,
  ) {
    const rows = share ? Math.min(estimate, 4096) : estimate;
    this.X = new Float64Array(Math.ceil(rows * 1.02 + BATCH) * D);
    if (share) {
      this.Xbits = new Uint32Array(this.X.buffer);
      this.of = new Int32Array(Math.ceil(estimate * 1.02 + BATCH));
      this.label = new Int32Array(this.X.length / D);
      this.chain = new Int32Array(this.X.length / D);
    }
  }

  /** `share`: the part of the file read so far (0..1), to size the matrix for the rest. */
  add(batch: PooledBatch, rows: readonly LeanRow[], share: number): void {
    const m = rows.length;
    for (const [k, r] of batch.truncated ?? []) this.truncated.set(this.n + k, r);
    for (const [k, why] of batch.missing ?? []) this.missing.set(this.n + k, why);
    if (this.of) this.addShared(batch, rows, share);
    else {
      this.reserve(this.n + m, share);
      this.X.set(batch.X.subarray(0, m * this.D), this.n * this.D);
    }
    this.n += m;
    if (this.of && this.n >= SHARE_PROBE && this.distinct > SHARE_GIVE_UP * this.n) this.unshare();
  }

  private addShared(batch: PooledBatch, rows: readonly LeanRow[], share: number): void {
    const { D } = this;
    const words = 2 * D;
    const bits = new Uint32Array(batch.X.buffer, batch.X.byteOffset, rows.length * words);
    const need = this.n + rows.length;
    if (need > this.of!.length) this.of = resized(this.of!, grownRows(need, this.of!.length, share));
    for (let k = 0; k < rows.length; k++) {
      const i = this.n + k;
      if (batch.missing?.has(k)) {
        this.of![i] = -1;
        continue;
      }
      let lab = this.labelIds.get(rows[k].label);
      if (lab === undefined) this.labelIds.set(rows[k].label, (lab = this.labelIds.size));
      const h = rowHash(bits, k * words, words, lab);
      let v = this.heads.get(h) ?? -1;
      const Xbits = this.Xbits;
      while (v >= 0 && !(this.label[v] === lab && sameBits(Xbits, v * words, bits, k * words, words)))
        v = this.chain[v];
      if (v < 0) {
        v = this.distinct++;
        this.reserve(this.distinct, 0);
        this.X.set(batch.X.subarray(k * D, (k + 1) * D), v * D);
        this.label[v] = lab;
        this.chain[v] = this.heads.get(h) ?? -1;
        this.heads.set(h, v);
      }
      this.of![i] = v;
    }
  }

  /** Room for `rows` rows of X (and, shared, their labels and chains). */
  private reserve(rows: number, share: number): void {
    const { D } = this;
    if (rows * D <= this.X.length) return;
    const size = grownRows(rows, this.X.length / D, share);
    const grown = new Float64Array(size * D);
    grown.set(this.X.subarray(0, (this.of ? this.distinct : this.n) * D));
    this.X = grown;
    if (this.of) {
      this.Xbits = new Uint32Array(grown.buffer);
      this.label = resized(this.label, size);
      this.chain = resized(this.chain, size);
    }
  }

  /** Back to a row of X per row (rows without a vector get zeros, as compact() drops them). */
  private unshare(): void {
    const { D } = this;
    const of = this.of!;
    const X = new Float64Array(Math.ceil(Math.max(this.n, this.estimate) * 1.02 + BATCH) * D);
    for (let i = 0; i < this.n; i++)
      if (of[i] >= 0) X.set(this.X.subarray(of[i] * D, (of[i] + 1) * D), i * D);
    this.X = X;
    this.of = undefined;
    this.heads.clear();
    this.label = this.chain = new Int32Array(0);
  }

  finish(): Pooled {
    if (this.of && this.distinct > MERGE_BELOW * (this.n - this.missing.size)) this.unshare();
    const used = (this.of ? this.distinct : this.n) * this.D;
    // A tail of more than a tenth is copied away; a smaller one stays (a view, no second matrix).
    const X =
      used === this.X.length
        ? this.X
        : used < 0.9 * this.X.length
          ? this.X.slice(0, used)
          : this.X.subarray(0, used);
    const of = this.of?.slice(0, this.n);
    return { X, ...(of ? { of } : {}), truncated: this.truncated, missing: this.missing };
  }
}

/**
 * The rows to allocate for `need` rows when `have` are: what the share of the file read so far (0..1; 0 when not
 * known) says the whole file needs, and at least a quarter more.
 */
function grownRows(need: number, have: number, share: number): number {
  const byShare = share > 0 && share <= 1 ? (need / share) * 1.05 : 0;
  return Math.ceil(Math.max(need, byShare, 1.25 * have)) + BATCH;
}

/** A copy of a with room for `size` entries. */
function resized(a: Int32Array, size: number): Int32Array<ArrayBuffer> {
  const out = new Int32Array(size);
  out.set(a);
  return out;
}

/** Rows after which a sink gives sharing up when more than this share of them are distinct. */
const SHARE_PROBE = 20_000;
const SHARE_GIVE_UP = 0.9;

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
function checkFinite(
  X: Float64Array,
  rows: readonly LeanRow[],
  D: number,
  file: string,
  of?: Int32Array,
): void {
  for (let k = 0; k < X.length; k++)
    if (!Number.isFinite(X[k])) {
      const r = Math.floor(k / D);
      const i = of ? of.indexOf(r) : r;
      throw new DataError(
        `the row's features overflow: pooled value ${X[k]} in column ${(k % D) + 1} of ${D} (a value too large for float64?)`,
        file,
        rows[i].line,
      );
    }
}

/** The rows idx of data (in that order), a row of X each. */
export function subset(data: HeadData, dim: number, idx: ArrayLike<number>): HeadData {
  const y = Int32Array.from({ length: idx.length }, (_, k) => data.y[idx[k]]);
  return { X: gatherFeatures(data, dim, idx), y, n: idx.length };
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
