/**
 * Per-class histograms of a row metric (memorization score, training loss) for the ranking panel. Computed here,
 * on the extension side, and sent to the webview as one small message (bins × classes counts), never the rows.
 * Pure: no VS Code import (unit-tested).
 *
 * Memorization scores are heavy-tailed: with equal-width bins nearly every row falls in the first bin or two and
 * only the tail is visible. Log-spaced bins (equal width in log10(score)) spread the body of the distribution over
 * the axis, so the classes' shapes can be compared; a log y axis would only make the tail bins taller while the
 * body stays in one bar. Hence the panel's log toggle switches the bins, and y stays a count.
 */
import type { HistogramData, HistogramMetric, HistogramScale } from '../protocol/panel';

export const DEFAULT_BINS = 30;
/** Log bins span at most this many decades below the maximum; smaller positive values go to the first bin. */
export const MAX_DECADES = 8;

export interface HistogramRow {
  label: string;
  score: number;
  loss: number;
}

/** Bins `values` (of class `classOf[i]`, an index into the class list, or -1 to leave out). */
export function histogram(
  values: ArrayLike<number>,
  classOf: ArrayLike<number>,
  classCount: number,
  metric: HistogramMetric,
  scale: HistogramScale,
  bins = DEFAULT_BINS,
): HistogramData {
  bins = Math.max(1, Math.floor(bins));
  let lo = Infinity;
  let hi = -Infinity;
  let minPositive = Infinity;
  let skipped = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v) || classOf[i] < 0) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    if (v > 0 && v < minPositive) minPositive = v;
  }
  const log = scale === 'log';
  let edges: number[];
  if (!(hi >= lo)) {
    edges = [0, 1];
    bins = 1;
  } else if (log) {
    if (!(hi > 0)) {
      edges = [0, 1];
      bins = 1;
    } else {
      const floor = Math.max(minPositive, hi * 10 ** -MAX_DECADES);
      if (floor === hi) {
        edges = [hi / 2, hi * 2];
        bins = 1;
      } else {
        const a = Math.log10(floor);
        const b = Math.log10(hi);
        edges = Array.from({ length: bins + 1 }, (_, k) => 10 ** (a + ((b - a) * k) / bins));
        edges[0] = floor;
        edges[bins] = hi;
      }
    }
  } else if (hi === lo) {
    edges = [lo - 0.5, lo + 0.5];
    bins = 1;
  } else {
    edges = Array.from({ length: bins + 1 }, (_, k) => lo + ((hi - lo) * k) / bins);
    edges[bins] = hi;
  }
  const counts = Array.from({ length: classCount }, () => new Array<number>(bins).fill(0));
  let below = 0;
  const first = edges[0];
  const last = edges[bins];
  const useLog = log && first > 0;
  const la = useLog ? Math.log10(first) : first;
  const span = (useLog ? Math.log10(last) : last) - la;
  for (let i = 0; i < values.length; i++) {
    const c = classOf[i];
    if (c < 0 || c >= classCount) continue;
    const v = values[i];
    if (!Number.isFinite(v)) {
      skipped++;
      continue;
    }
    let k: number;
    if (v < first) {
      below++;
      k = 0;
    } else {
      const x = ((useLog ? Math.log10(v) : v) - la) / (span || 1);
      k = Math.min(bins - 1, Math.max(0, Math.floor(x * bins)));
      // Guard against rounding at the edges.
      while (k > 0 && v < edges[k]) k--;
      while (k < bins - 1 && v >= edges[k + 1]) k++;
    }
    counts[c][k]++;
  }
  return { metric, scale, edges, counts, below, skipped };
}

/** The four histograms the panel shows: score and loss, linear and log-spaced bins, one series per class. */
export function panelHistograms(
  rows: readonly HistogramRow[],
  classes: readonly string[],
  bins = DEFAULT_BINS,
): HistogramData[] {
  const index = new Map(classes.map((c, i) => [c, i]));
  const classOf = Int32Array.from(rows, (r) => index.get(r.label) ?? -1);
  const score = Float64Array.from(rows, (r) => r.score);
  const loss = Float64Array.from(rows, (r) => r.loss);
  const out: HistogramData[] = [];
  for (const [metric, values] of [
    ['score', score],
    ['loss', loss],
  ] as const)
    for (const scale of ['linear', 'log'] as const)
      out.push(histogram(values, classOf, classes.length, metric, scale, bins));
  return out;
}
