import type { DatasetRow, LeanRow, SourceRange, SourceToken } from '../types';

/**
 * Per-token vectors of one row: E (T x dim, row-major) and the uninformative baseline E' of the same shape.
 *
 * The baseline is the featurizer's own: the zero vector per token for word vectors and numeric columns; for the ONNX
 * encoder, the encoder's output on the same sequence with every token replaced by [MASK] (the paper's E'), which is
 * not zero and differs per position. Attributions integrate along the straight path from E' to E.
 */
export interface TokenFeatures {
  tokens: SourceToken[];
  dim: number;
  /**
   * Dense: T x dim. Sparse (when `coordinates` is set): length T, token t's vector is E[t] times the unit vector of
   * coordinate coordinates[t] (numeric columns: one-hot times value), never materialized densely.
   */
  E: Float64Array;
  /** E' (same shape as E). Empty (length 0) when featurize was called with `baseline: false`. */
  Ebase: Float64Array;
  /** Sparse token vectors: the one coordinate each token's vector (and baseline) lives on. */
  coordinates?: Int32Array;
  /** Raw-file ranges of the row's text that were cut off (model max length) and so not scored. */
  truncated?: SourceRange[];
}

export interface FeaturizeOptions {
  /**
   * Whether the caller needs the baseline E' (attributions, the reduction experiment). Default true. Pooling for the
   * head does not, and for the ONNX encoder E' costs a second encoder run, so featurizeAll passes false.
   */
  baseline?: boolean;
  signal?: AbortSignal;
}

/** What a featurizer reports about its own work (the summary prints it). */
export interface FeaturizerReport {
  /** Which backend ran the featurizing stage, e.g. "js" or "onnxruntime-node 1.30.0 cpu (2 threads)". */
  backend: string;
  /** Human-readable notes (a CUDA fallback, the cache folder). */
  notes: string[];
  /** Counters since the featurizer was made (session runs, rows encoded, cache hits...). */
  counters: Record<string, number>;
}

export interface PoolOptions {
  signal?: AbortSignal;
}

/** The head's input for a batch of rows, built without per-token objects (the lean path for every row). */
export interface PooledBatch {
  /** m x dim, row-major: the pooled token vectors of each row (before the pipeline's standardization). */
  X: Float64Array;
  /** By position in the batch: raw-file ranges of text cut off by the model's max length (not scored). */
  truncated?: Map<number, SourceRange[]>;
  /**
   * By position in the batch: rows the featurizer has no vector for (precomputed embeddings without an entry), with
   * the reason. The pipeline drops them from scoring and counts them as skipped with their line.
   */
  missing?: Map<number, string>;
}

/** What every featurizer has, whichever rows its pool() reads (see Featurizer). */
interface FeaturizerBase {
  readonly name: string;
  readonly dim: number;
  /** How token vectors are pooled into the head's input: mean for text, sum for tabular columns. */
  readonly pooling: 'mean' | 'sum';
  /**
   * Whether rows have token vectors (attributions, the reduction experiment, "Explain this row"). Precomputed
   * embeddings do not: they are pooled vectors only.
   */
  readonly tokenLevel: boolean;
  /** Token vectors, tokens and their raw-file ranges: only for rows that get attributions. tokenLevel only. */
  featurize(rows: readonly DatasetRow[], options?: FeaturizeOptions): Promise<TokenFeatures[]>;
  /** Backend, notes and counters; featurizers without one ran in plain JS. */
  report?(): FeaturizerReport;
}

/**
 * Pools from the rows' decoded fields (word vectors, the ONNX encoder), with nothing to fit: the pipeline pools each
 * batch of rows as reading decodes it, so the decoded rows of a file never all live at once.
 */
export interface FieldPoolingFeaturizer extends FeaturizerBase {
  readonly poolsFrom: 'fields';
  fit?: undefined;
  /** Pooled vectors of rows (what the head sees), without token objects, ranges or token matrices. */
  pool(rows: readonly DatasetRow[], options?: PoolOptions): Promise<PooledBatch>;
}

/**
 * Pools from what reading keeps of every row (LeanRow: numeric values, ids), after fitting on all training rows
 * (column means, the join of precomputed embeddings): the pipeline pools the kept rows once reading is done.
 */
export interface RowPoolingFeaturizer extends FeaturizerBase {
  readonly poolsFrom: 'row';
  /** Called once with all training rows before pool / featurize (e.g. to fit column means). */
  fit(rows: readonly LeanRow[]): void;
  pool(rows: readonly LeanRow[], options?: PoolOptions): Promise<PooledBatch>;
}

/**
 * The frozen part of the model. Implementations: word vectors (default for text), numeric columns (tabular),
 * an ONNX transformer encoder (onnx/) and precomputed embeddings (embeddings/). Everything downstream (pooling,
 * head, scores, attributions) only sees this.
 */
export type Featurizer = FieldPoolingFeaturizer | RowPoolingFeaturizer;
