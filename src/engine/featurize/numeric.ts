/**
 * Tabular featurizer: one "token" per numeric column. Token t's vector is the unit vector of coordinate t times the
 * column's value, pooling is 'sum', so the pooled input is the row's values themselves and each column's attribution
 * is its own contribution. The token vectors are sparse (TokenFeatures.coordinates): nothing dim x dim is built.
 *
 * The baseline of column t is its mean over the training rows (fitted in fit()); a missing value (NaN) is replaced by
 * that mean, so it equals its baseline and gets zero attribution. The pipeline standardizes the pooled features (mean
 * 0 / std 1 over the training rows, unless --no-standardize), which maps the pooled baseline, the column means, to
 * the zero vector.
 */
import type { DatasetRow, LeanRow, SourceRange, SourceToken } from '../types';
import type {
  FeaturizeOptions,
  PoolOptions,
  PooledBatch,
  RowPoolingFeaturizer,
  TokenFeatures,
} from './featurizer';

export class NumericFeaturizer implements RowPoolingFeaturizer {
  readonly name = 'numeric';
  /** The pooled input is the row's numeric values (with the means for missing ones): no decoded fields. */
  readonly poolsFrom = 'row' as const;
  readonly pooling = 'sum' as const;
  readonly tokenLevel = true;
  private means: Float64Array | undefined;
  /** 0..dim-1, shared by every row's TokenFeatures (read-only). */
  private coordinates: Int32Array | undefined;

  /** Number of numeric columns (0 until fit or the first pool / featurize). */
  get dim(): number {
    return this.means?.length ?? 0;
  }

  /** Column means over the fitted rows (missing values left out); a column with no value has mean 0. */
  get columnMeans(): Float64Array | undefined {
    return this.means;
  }

  fit(rows: readonly LeanRow[]): void {
    if (rows.length === 0) throw new Error('numeric featurizer: no rows to fit');
    const cols = numericOf(rows[0]).length;
    const sum = new Float64Array(cols);
    const n = new Float64Array(cols);
    for (const row of rows) {
      const x = valuesOf(row, cols);
      for (let j = 0; j < cols; j++) {
        if (Number.isFinite(x[j])) {
          sum[j] += x[j];
          n[j]++;
        }
      }
    }
    const means = new Float64Array(cols);
    for (let j = 0; j < cols; j++) means[j] = n[j] > 0 ? sum[j] / n[j] : 0;
    this.means = means;
    this.coordinates = Int32Array.from({ length: cols }, (_, j) => j);
  }

  /** Column means, fitting them on `rows` if fit() was not called (a standalone use; the pipeline fits first). */
  private fitted(rows: readonly LeanRow[]): Float64Array {
    if (!this.means) this.fit(rows);
    return this.means!;
  }

  /** The row's values with each missing one replaced by its column mean, into out at offset. */
  private fill(row: LeanRow, means: Float64Array, out: Float64Array, offset: number): void {
    const x = valuesOf(row, means.length);
    for (let j = 0; j < means.length; j++) out[offset + j] = Number.isFinite(x[j]) ? x[j] : means[j];
  }

  async pool(rows: readonly LeanRow[], options: PoolOptions = {}): Promise<PooledBatch> {
    options.signal?.throwIfAborted();
    const means = this.fitted(rows);
    const D = means.length;
    const X = new Float64Array(rows.length * D);
    for (let i = 0; i < rows.length; i++) this.fill(rows[i], means, X, i * D);
    return { X };
  }

  /** Sparse token vectors: E[t] = the value of column t (missing: the mean), Ebase[t] = the column mean. */
  async featurize(rows: readonly DatasetRow[], options: FeaturizeOptions = {}): Promise<TokenFeatures[]> {
    options.signal?.throwIfAborted();
    const means = this.fitted(rows);
    const dim = means.length;
    const coordinates = this.coordinates!;
    const out: TokenFeatures[] = [];
    for (const row of rows) {
      const E = new Float64Array(dim);
      this.fill(row, means, E, 0);
      const tokens: SourceToken[] = [];
      for (let t = 0; t < dim; t++) {
        const text = row.fields[t]?.value ?? String(row.numeric![t]);
        tokens.push({ text, field: t, ...columnRange(row, t) });
      }
      const Ebase = options.baseline === false ? new Float64Array(0) : Float64Array.from(means);
      out.push({ tokens, dim, E, Ebase, coordinates });
    }
    return out;
  }
}

function numericOf(row: LeanRow): Float64Array {
  if (!row.numeric) throw new Error(`line ${row.line}: row has no numeric values (not a tabular row)`);
  return row.numeric;
}

function valuesOf(row: LeanRow, cols: number): Float64Array {
  const x = numericOf(row);
  if (x.length !== cols) throw new Error(`line ${row.line}: ${x.length} numeric values, expected ${cols}`);
  return x;
}

function columnRange(row: DatasetRow, t: number): SourceRange {
  const fv = row.fields[t];
  if (!fv) return { line: row.line, start: 0, end: 0 };
  if (fv.value.length > 0) return fv.rangeOf(0, fv.value.length);
  // Empty cell: a zero-width range at the field start, if the field can give one.
  try {
    const r = fv.rangeOf(0, 0);
    return { line: r.line, start: r.start, end: r.start };
  } catch {
    return { line: row.line, start: 0, end: 0 };
  }
}
