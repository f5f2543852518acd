/**
 * Standardized pooled features (the default for every featurizer): each column of the head's input is shifted and
 * scaled to mean 0 / std 1 over the training rows. It is an affine map T(h) = (h - mean) / scale in front of the
 * head, so the straight attribution path from the baseline maps to a straight path, and chain rule through it is a
 * division by scale: attributions, the baseline and completeness stay exact. With `--no-standardize` it is the
 * identity (the head sees the raw pooled features).
 */
export interface InputTransform {
  /** The head's input for a pooled vector. */
  apply(h: ArrayLike<number>): Float64Array;
  /** A gradient with respect to the head's input, as a gradient with respect to the pooled vector. */
  pullback(g: ArrayLike<number>): Float64Array;
  /** In place over n rows of X (n x dim). */
  applyRows(X: Float64Array, n: number): void;
  /** For the summary: 'standardized' or 'raw'. */
  readonly name: string;
}

export const IDENTITY: InputTransform = {
  name: 'raw',
  apply: (h) => Float64Array.from(h),
  pullback: (g) => Float64Array.from(g),
  applyRows: () => undefined,
};

/** Columns with no spread keep scale 1 (they carry no information; only the shift applies). */
export class Standardizer implements InputTransform {
  readonly name = 'standardized';
  constructor(
    readonly mean: Float64Array,
    readonly scale: Float64Array,
  ) {}

  /**
   * Fits mean and std of the n rows of X (n x dim); with `copies`, row i of X stands for copies[i] rows (shared
   * rows, HeadData.of), and the moments are those of all of them.
   */
  static fit(X: Float64Array, n: number, dim: number, copies?: Float64Array): Standardizer {
    const mean = new Float64Array(dim);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const w = copies ? copies[i] : 1;
      total += w;
      for (let j = 0; j < dim; j++) mean[j] += w * X[i * dim + j];
    }
    for (let j = 0; j < dim; j++) mean[j] /= Math.max(1, total);
    const ss = new Float64Array(dim);
    for (let i = 0; i < n; i++) {
      const w = copies ? copies[i] : 1;
      for (let j = 0; j < dim; j++) {
        const d = X[i * dim + j] - mean[j];
        ss[j] += w * d * d;
      }
    }
    const scale = new Float64Array(dim);
    for (let j = 0; j < dim; j++) {
      const sd = Math.sqrt(ss[j] / Math.max(1, total));
      // A constant column (or one at rounding level of its mean) has no spread to scale.
      scale[j] = sd > 1e-12 * Math.max(1, Math.abs(mean[j])) && Number.isFinite(sd) ? sd : 1;
    }
    return new Standardizer(mean, scale);
  }

  apply(h: ArrayLike<number>): Float64Array {
    const out = new Float64Array(this.mean.length);
    for (let j = 0; j < out.length; j++) out[j] = (h[j] - this.mean[j]) / this.scale[j];
    return out;
  }

  pullback(g: ArrayLike<number>): Float64Array {
    const out = new Float64Array(this.mean.length);
    for (let j = 0; j < out.length; j++) out[j] = g[j] / this.scale[j];
    return out;
  }

  applyRows(X: Float64Array, n: number): void {
    const D = this.mean.length;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < D; j++) X[i * D + j] = (X[i * D + j] - this.mean[j]) / this.scale[j];
  }
}
