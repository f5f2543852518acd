import type { DatasetRow, SourceRange, SourceToken } from '../types';

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
  E: Float64Array;
  /** E' (T x dim). Empty (length 0) when featurize was called with `baseline: false`. */
  Ebase: Float64Array;
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

/**
 * The frozen part of the model. Implementations: word vectors (default for text), numeric columns (tabular),
 * and an ONNX transformer encoder (onnx/). Everything downstream (pooling, head, scores, attributions) only sees this.
 */
export interface Featurizer {
  readonly name: string;
  readonly dim: number;
  /** How token vectors are pooled into the head's input: mean for text, sum for tabular columns. */
  readonly pooling: 'mean' | 'sum';
  /** Called once with all training rows before featurize (e.g. to fit standardization). */
  fit?(rows: readonly DatasetRow[]): void;
  featurize(rows: readonly DatasetRow[], options?: FeaturizeOptions): Promise<TokenFeatures[]>;
  /** Backend, notes and counters; featurizers without one ran in plain JS. */
  report?(): FeaturizerReport;
}
