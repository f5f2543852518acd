/**
 * Operations on a row's token vectors that work for both shapes of TokenFeatures: dense (T x dim) and sparse
 * (one coordinate per token, numeric columns), so attribution and the reduction experiment never densify them.
 */
import type { Featurizer, PooledBatch, TokenFeatures } from './featurizer';
import type { DatasetRow } from '../types';

export type Pooling = 'mean' | 'sum';

/** Token t's vector from `values` (E or Ebase) added, times w, into h. */
function addToken(f: TokenFeatures, values: Float64Array, t: number, w: number, h: Float64Array): void {
  const D = f.dim;
  if (f.coordinates) {
    h[f.coordinates[t]] += w * values[t];
    return;
  }
  const o = t * D;
  for (let l = 0; l < D; l++) h[l] += w * values[o + l];
}

/**
 * Pools the row's token vectors (E, or the baseline E' when `baseline`), optionally with the tokens in `replaced`
 * taken from the baseline instead (the reduction experiment's z').
 */
export function poolTokens(
  f: TokenFeatures,
  pooling: Pooling,
  baseline = false,
  replaced?: ReadonlySet<number>,
): Float64Array {
  const T = f.tokens.length;
  const h = new Float64Array(f.dim);
  const w = pooling === 'mean' && T > 0 ? 1 / T : 1;
  for (let t = 0; t < T; t++) addToken(f, baseline || replaced?.has(t) ? f.Ebase : f.E, t, w, h);
  return h;
}

/** v . (E_t - E'_t): how far token t moves the input along v. */
export function tokenDeltaDot(f: TokenFeatures, t: number, v: ArrayLike<number>): number {
  if (f.coordinates) return v[f.coordinates[t]] * (f.E[t] - f.Ebase[t]);
  const D = f.dim;
  const o = t * D;
  let s = 0;
  for (let l = 0; l < D; l++) s += v[l] * (f.E[o + l] - f.Ebase[o + l]);
  return s;
}

/** A featurizer's pool() through its own token vectors: for featurizers without a leaner path of their own. */
export async function poolViaTokens(
  featurizer: Pick<Featurizer, 'featurize' | 'dim' | 'pooling'>,
  rows: readonly DatasetRow[],
  signal?: AbortSignal,
): Promise<PooledBatch> {
  const feats = await featurizer.featurize(rows, { baseline: false, signal });
  const D = featurizer.dim;
  const X = new Float64Array(rows.length * D);
  const truncated = new Map<number, NonNullable<TokenFeatures['truncated']>>();
  feats.forEach((f, k) => {
    X.set(poolTokens(f, featurizer.pooling), k * D);
    if (f.truncated?.length) truncated.set(k, f.truncated);
  });
  return { X, truncated };
}
