/**
 * Token attribution → colour bucket. Pure: no VS Code import (unit-tested).
 * Buckets 0–4 are red (positive attribution, pushing the row's memorization score up), 5–9 blue (negative),
 * each by |a| relative to the row's largest |a|: bucket 0/5 faintest, 4/9 strongest.
 */

export const BUCKETS_PER_SIGN = 5;
export const BUCKET_COUNT = 2 * BUCKETS_PER_SIGN;
/** No colour (zero attribution or an all-zero row). */
export const NO_BUCKET = -1;

export function maxAbsAttribution(tokens: readonly { a: number }[]): number {
  let m = 0;
  for (const t of tokens) if (Number.isFinite(t.a)) m = Math.max(m, Math.abs(t.a));
  return m;
}

export function bucketOf(a: number, maxAbs: number): number {
  if (!Number.isFinite(a) || a === 0 || !(maxAbs > 0)) return NO_BUCKET;
  const rel = Math.min(1, Math.abs(a) / maxAbs);
  const level = Math.min(BUCKETS_PER_SIGN - 1, Math.floor(rel * BUCKETS_PER_SIGN));
  return a > 0 ? level : BUCKETS_PER_SIGN + level;
}

/** Background alpha per level (faintest first), and the red / blue of the two signs. */
export const BUCKET_ALPHAS = [0.12, 0.24, 0.36, 0.5, 0.65] as const;
export const RED_RGB = '230, 40, 40';
export const BLUE_RGB = '40, 110, 230';

/** The background colour of a bucket: the editor's decorations, and the ranking panel's .h0-.h9 (media/panel.css). */
export function bucketColor(bucket: number): string {
  const rgb = isRedBucket(bucket) ? RED_RGB : BLUE_RGB;
  return `rgba(${rgb}, ${BUCKET_ALPHAS[bucket % BUCKETS_PER_SIGN]})`;
}

export function isRedBucket(bucket: number): boolean {
  return bucket >= 0 && bucket < BUCKETS_PER_SIGN;
}

/** Indices of the `limit` tokens with the largest |a| (all of them when limit ≤ 0 or ≥ length), in input order. */
export function strongestTokens<T extends { a: number }>(tokens: readonly T[], limit: number): T[] {
  if (!(limit > 0) || limit >= tokens.length) return [...tokens];
  const keep = new Set(
    tokens
      .map((t, i) => ({ i, m: Math.abs(t.a) }))
      .sort((x, y) => y.m - x.m || x.i - y.i)
      .slice(0, limit)
      .map((x) => x.i),
  );
  return tokens.filter((_, i) => keep.has(i));
}

/** 1-based rank of token `i` in its row by attribution, largest (most memorizing) first. */
export function attributionRank(tokens: readonly { a: number }[], i: number): number {
  const a = tokens[i].a;
  let r = 1;
  tokens.forEach((t, j) => {
    if (t.a > a || (t.a === a && j < i)) r++;
  });
  return r;
}
