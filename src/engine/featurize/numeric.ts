/**
 * Tabular featurizer: one "token" per numeric column. Token t's vector is one-hot(t) * (standardized value), the
 * baseline is zeros, and pooling is 'sum', so the pooled input is exactly the standardized feature vector and each
 * column's attribution is its own contribution. Missing values (NaN) become the column mean (0 after standardizing),
 * i.e. the baseline, so they get zero attribution.
 */
import type { DatasetRow, SourceRange, SourceToken } from '../types';
import type { Featurizer, TokenFeatures } from './featurizer';

export interface NumericFeaturizerOptions {
  /** Standardize each column to mean 0 / std 1 using the statistics from fit(). Default true. */
  standardize?: boolean;
}

export class NumericFeaturizer implements Featurizer {
  readonly name = 'numeric';
  readonly pooling = 'sum' as const;
  private readonly standardize: boolean;
  private means: Float64Array | undefined;
  private stds: Float64Array | undefined;

  constructor(options: NumericFeaturizerOptions = {}) {
    this.standardize = options.standardize ?? true;
  }

  /** Number of numeric columns (0 until fit or the first featurize). */
  get dim(): number {
    return this.means?.length ?? 0;
  }

  get columnMeans(): Float64Array | undefined {
    return this.means;
  }

  get columnStds(): Float64Array | undefined {
    return this.stds;
  }

  fit(rows: readonly DatasetRow[]): void {
    if (rows.length === 0) throw new Error('numeric featurizer: no rows to fit');
    const cols = numericOf(rows[0]).length;
    const sum = new Float64Array(cols);
    const n = new Float64Array(cols);
    for (const row of rows) {
      const x = numericOf(row);
      if (x.length !== cols)
        throw new Error(`line ${row.line}: ${x.length} numeric values, expected ${cols}`);
      for (let j = 0; j < cols; j++) {
        if (Number.isFinite(x[j])) {
          sum[j] += x[j];
          n[j]++;
        }
      }
    }
    const means = new Float64Array(cols);
    for (let j = 0; j < cols; j++) means[j] = n[j] > 0 ? sum[j] / n[j] : 0;
    const ss = new Float64Array(cols);
    for (const row of rows) {
      const x = numericOf(row);
      for (let j = 0; j < cols; j++) if (Number.isFinite(x[j])) ss[j] += (x[j] - means[j]) ** 2;
    }
    const stds = new Float64Array(cols);
    for (let j = 0; j < cols; j++) {
      const s = n[j] > 0 ? Math.sqrt(ss[j] / n[j]) : 0;
      stds[j] = s > 0 && Number.isFinite(s) ? s : 1;
    }
    this.means = means;
    this.stds = stds;
  }

  /** The value the head sees for column j (standardized if enabled; missing -> mean). */
  transform(j: number, x: number): number {
    const mean = this.means![j];
    const v = Number.isFinite(x) ? x : mean;
    return this.standardize ? (v - mean) / this.stds![j] : v;
  }

  async featurize(rows: readonly DatasetRow[]): Promise<TokenFeatures[]> {
    if (!this.means) this.fit(rows);
    const dim = this.dim;
    const out: TokenFeatures[] = [];
    for (const row of rows) {
      const x = numericOf(row);
      if (x.length !== dim) throw new Error(`line ${row.line}: ${x.length} numeric values, expected ${dim}`);
      const tokens: SourceToken[] = [];
      const E = new Float64Array(dim * dim);
      for (let t = 0; t < dim; t++) {
        const fv = row.fields[t];
        const text = fv?.value ?? String(x[t]);
        tokens.push({ text, field: t, ...columnRange(row, t) });
        E[t * dim + t] = this.transform(t, x[t]);
      }
      out.push({ tokens, dim, E, Ebase: new Float64Array(dim * dim) });
    }
    return out;
  }
}

function numericOf(row: DatasetRow): Float64Array {
  if (!row.numeric) throw new Error(`line ${row.line}: row has no numeric values (not a tabular row)`);
  return row.numeric;
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
