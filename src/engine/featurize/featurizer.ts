import type { DatasetRow, SourceToken } from '../types';

/** Per-token vectors of one row: E (T x dim, row-major) and the uninformative baseline E' of the same shape. */
export interface TokenFeatures {
  tokens: SourceToken[];
  dim: number;
  E: Float64Array;
  Ebase: Float64Array;
}

/**
 * The frozen part of the model. Implementations: word vectors (default for text), numeric columns (tabular),
 * and later an ONNX transformer encoder. Everything downstream (pooling, head, scores, attributions) only sees this.
 */
export interface Featurizer {
  readonly name: string;
  readonly dim: number;
  /** How token vectors are pooled into the head's input: mean for text, sum for tabular columns. */
  readonly pooling: 'mean' | 'sum';
  /** Called once with all training rows before featurize (e.g. to fit standardization). */
  fit?(rows: readonly DatasetRow[]): void;
  featurize(rows: readonly DatasetRow[]): Promise<TokenFeatures[]>;
}
