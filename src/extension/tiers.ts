/** Percentile → highlight tier. Pure: no VS Code import (unit-tested). */

export type Tier = 'top1' | 'top5' | 'top10' | 'none';

/** Minimum percentile (0–100, 100 = most memorized) for each tier. */
export interface TierThresholds {
  top1: number;
  top5: number;
  top10: number;
}

export const DEFAULT_TIER_THRESHOLDS: TierThresholds = { top1: 99, top5: 95, top10: 90 };

/** Fills missing/invalid thresholds with defaults and keeps them ordered top1 ≥ top5 ≥ top10. */
export function normalizeThresholds(t: Partial<TierThresholds> | undefined): TierThresholds {
  const pick = (v: unknown, d: number) =>
    typeof v === 'number' && Number.isFinite(v) ? Math.min(100, Math.max(0, v)) : d;
  const top1 = pick(t?.top1, DEFAULT_TIER_THRESHOLDS.top1);
  const top5 = Math.min(top1, pick(t?.top5, DEFAULT_TIER_THRESHOLDS.top5));
  const top10 = Math.min(top5, pick(t?.top10, DEFAULT_TIER_THRESHOLDS.top10));
  return { top1, top5, top10 };
}

export function tierOf(percentile: number, thresholds: TierThresholds = DEFAULT_TIER_THRESHOLDS): Tier {
  if (!Number.isFinite(percentile)) return 'none';
  if (percentile >= thresholds.top1) return 'top1';
  if (percentile >= thresholds.top5) return 'top5';
  if (percentile >= thresholds.top10) return 'top10';
  return 'none';
}

export const TIERS: readonly Exclude<Tier, 'none'>[] = ['top1', 'top5', 'top10'];
