/**
 * Text of the memorization report (tables and notes) from a ReportData, shared by the report webview and tests.
 * Pure: no Node, VS Code or DOM use. Everything returned is plain text, to be shown with textContent.
 */
import { REASON_KINDS, type ReasonKind } from '../protocol/reasons';
import { NOISE_SERIES, tierLabel } from './charts';
import type {
  GroupsData,
  MemorizationData,
  MislabeledData,
  NoiseData,
  ReasonsData,
  ReportData,
} from './types';

export const pctText = (x: number, d = 2): string => (Number.isFinite(x) ? `${(100 * x).toFixed(d)}%` : '-');
export const numText = (x: number, d = 4): string => (Number.isFinite(x) ? x.toFixed(d) : '-');

/** Where the removal experiment's test accuracy comes from, in one sentence. */
export function testSourceNote(r: ReportData): string {
  if (!r.removal) return 'The removal experiment was not run.';
  const t = r.test;
  if (t.kind === 'file')
    return `Test accuracy is measured on the test file ${baseName(t.file)} (${t.rows} rows).`;
  return (
    `No test file was chosen: the removal experiment trains on ${t.trainRows} rows of this file and measures ` +
    `accuracy on the other ${t.rows} rows, a random ${Math.round(100 * t.fraction)}% held out ` +
    `(the other experiments use all ${r.rows} rows).`
  );
}

/** The removal chart's short name of its test set. */
export function testSetLabel(r: ReportData): string {
  const t = r.test;
  return t.kind === 'file'
    ? `${baseName(t.file)} (${t.rows} rows)`
    : `${Math.round(100 * t.fraction)}% held out (${t.rows} rows)`;
}

export interface Table {
  head: string[];
  rows: string[][];
}

export function removalTable(r: ReportData): Table | undefined {
  const m = r.removal;
  if (!m) return undefined;
  const cell = (x: { mean: number; std: number }) => `${pctText(x.mean)} ± ${pctText(x.std)}`;
  return {
    head: ['removed', 'memorized rows removed', 'random rows removed (mean ± std)'],
    rows: [
      ['0%', cell(m.full), cell(m.full)],
      ...m.memorized.map((x, j) => [pctText(x.fraction, 0), cell(x), m.random[j] ? cell(m.random[j]) : '-']),
    ],
  };
}

export function reductionTable(r: ReportData): Table | undefined {
  const x = r.reduction;
  if (!x) return undefined;
  return {
    head: ['k (tokens replaced)', 'attribution', 'random'],
    rows: x.attribution.map((a, j) => [
      pctText(a.k, 0),
      pctText(a.rate, 1),
      pctText(x.random[j]?.rate ?? NaN, 1),
    ]),
  };
}

export function stabilityTable(r: ReportData): Table | undefined {
  const s = r.stability;
  if (!s) return undefined;
  return {
    head: ['run a', 'run b', 'Spearman'],
    rows: s.pairs.map((p) => [String(p.a), String(p.b), numText(p.spearman)]),
  };
}

export function typicalityTable(r: ReportData): Table | undefined {
  const t = r.typicality;
  if (!t) return undefined;
  return {
    head: [t.field, 'rows', 'mean score', 'mean percentile'],
    rows: t.groups.map((g) => [
      g.value,
      String(g.count),
      numText(g.meanScore, 4),
      numText(g.meanPercentile, 1),
    ]),
  };
}

/** The reasons some row has (in REASON_KINDS order); all of them when none has any. */
function kindsIn(shares: Partial<Record<ReasonKind, number>>): ReasonKind[] {
  const present = REASON_KINDS.filter((k) => (shares[k] ?? 0) > 0);
  return present.length ? present : [...REASON_KINDS];
}

/**
 * The per-group table: rows, mean score percentile (100 = most memorized), share in the top 10% by score and the
 * share with each reason any row has, one row per group (largest first) and one for all rows.
 */
export function groupsTable(g: GroupsData, opts: { compact?: boolean } = {}): Table {
  const kinds = kindsIn(g.all.reasons);
  const line = (name: string, x: GroupsData['all']) => [
    name,
    String(x.rows),
    numText(x.meanPercentile, 1),
    pctText(x.top10Share, 1),
    ...kinds.map((k) => pctText(x.reasons[k] ?? 0, 1)),
  ];
  // Compact (a narrow view): shorter headers and "all" for the all-rows line.
  const c = opts.compact;
  return {
    head: [g.field, 'rows', c ? 'mean pct' : 'mean percentile', c ? 'top 10%' : 'in top 10%', ...kinds],
    rows: [...g.groups.map((x) => line(x.group, x)), line(c ? 'all' : 'all rows', g.all)],
  };
}

/** What the group table's columns mean, in one sentence. */
export function groupsNote(g: GroupsData): string {
  return (
    `Per value of '${g.field}': the mean percentile of the memorization score (100 = most memorized, 50 = ` +
    `average), the share of the group's rows in the top 10% by score (10% if memorization did not depend on ` +
    `the group) and the share with each reason.`
  );
}

/** The group table's note for a narrow view (the ranking panel). */
export function groupsShortNote(g: GroupsData): string {
  return `Per value of '${g.field}': mean score percentile (50 = average), share in the top 10% by score (10% = no effect), share with each reason.`;
}

/** A table turned on its side: one row per column of `t` (its header first), one column per row of `t`. */
export function transposeTable(t: Table): Table {
  return {
    head: ['', ...t.rows.map((r) => r[0])],
    rows: t.head.slice(1).map((h, j) => [h, ...t.rows.map((r) => r[j + 1] ?? '')]),
  };
}

/** The groups in one sentence each: mean percentile, top-10% share and the two commonest reasons. */
export function groupsSentence(g: GroupsData): string {
  const parts = g.groups.map((x) => {
    const top = REASON_KINDS.filter((k) => (x.reasons[k] ?? 0) > 0)
      .sort((a, b) => x.reasons[b] - x.reasons[a])
      .slice(0, 2)
      .map((k) => `${k} ${pctText(x.reasons[k], 0)}`);
    return (
      `${x.group} (${x.rows} rows) mean percentile ${numText(x.meanPercentile, 1)}, ` +
      `${pctText(x.top10Share, 0)} in the top 10%${top.length ? `, ${top.join(', ')}` : ''}`
    );
  });
  return `By '${g.field}': ${parts.join('; ')}.`;
}

/** Per tier (top 1%, 5%, 10% by score, all rows): its rows, the share with any reason and with each. */
export function reasonsTable(r: ReasonsData): Table {
  const kinds = kindsIn(r.counts);
  return {
    head: ['rows by score', 'any reason', ...kinds],
    rows: r.tiers.map((t) => [
      tierLabel(t),
      pctText(t.any, 1),
      ...kinds.map((k) => pctText(t.shares[k] ?? 0, 1)),
    ]),
  };
}

/** The reasons among the top 1% next to all rows, in one sentence. */
export function reasonsHeadline(r: ReasonsData): string {
  const describe = (t: ReasonsData['tiers'][number]) => {
    const kinds = REASON_KINDS.filter((k) => (t.shares[k] ?? 0) > 0)
      .sort((a, b) => t.shares[b] - t.shares[a])
      .map((k) => `${k} ${pctText(t.shares[k], 0)}`);
    return `${pctText(t.any, 0)} have a reason${kinds.length ? ` (${kinds.join(', ')})` : ''}`;
  };
  const top = r.tiers[0];
  const all = r.tiers.find((t) => t.fraction >= 1);
  if (!top) return 'No reasons were computed.';
  return (
    `Of the ${tierLabel(top).replace(/ \(.*\)$/, '')} most memorized rows (${top.rows}), ${describe(top)}` +
    (all && all !== top ? `; of all ${all.rows} rows, ${describe(all)}.` : '.')
  );
}

/** The retraining check's agreement figures: each column's Spearman and top-10% overlap with the estimate. */
export function memorizationTable(r: ReportData): Table | undefined {
  const m = r.memorization;
  if (!m) return undefined;
  const names = {
    score: 'memorization score',
    selfInfluence: 'self-influence',
    loss: 'loss (in-sample)',
  } as const;
  return {
    head: ['ranking', 'Spearman with the estimate', 'top-10% overlap'],
    rows: (Object.keys(names) as (keyof typeof names)[]).map((k) => [
      names[k],
      numText(m.spearman[k], 3),
      pctText(m.topOverlap[k], 0),
    ]),
  };
}

/** How far the scores are from what they approximate, in words. */
export function memorizationNote(m: MemorizationData): string {
  const estimated = m.rows.filter((x) => Number.isFinite(x.estimate));
  const se = estimated.map((x) => x.stderr).sort((a, b) => a - b);
  const medianSe = se.length ? se[Math.floor(se.length / 2)] : NaN;
  return (
    `Feldman & Zhang's estimate retrains the head ${m.retrainings} times on random ${Math.round(100 * m.subset)}% ` +
    `subsets: mem(z) = P(y|x) of the heads that trained on z minus that of the heads that did not (median standard ` +
    `error ${numText(medianSe, 4)}). The influence score approximates it without retraining: of the 10% of rows ` +
    `retraining finds most memorized, ${pctText(m.topOverlap.score, 0)} are also in the score's top 10% ` +
    `(in-sample loss: ${pctText(m.topOverlap.loss, 0)}). Most rows have an estimate near 0 within its noise, which ` +
    `keeps the rank correlation over all rows (${numText(m.spearman.score, 3)}) below the agreement at the top.` +
    (m.secondsPerRetraining !== undefined ? ` ${numText(m.secondsPerRetraining, 3)} s per retraining.` : '')
  );
}

/**
 * What `memscore eval noise` measured on the shared noisy data (spam-noisy10: the 4,000 SpamAssassin training rows
 * with 10% of the labels flipped; inferred text field, words featurizer, defaults): AUROC of each ranking for "is
 * flipped", and the share of the flipped rows among the top 10% by loss.
 */
export const NOISE_FINDINGS = {
  auroc: { loss: 0.984, oof: 0.983, selfInfluence: 0.969, score: 0.87 },
  lossTop10: 0.85,
} as const;

/** Why the report (and the ranking's "Likely mislabeled" view) ranks by training loss. */
export function noiseFindingsNote(): string {
  const a = NOISE_FINDINGS.auroc;
  return (
    `Ranking by training loss was the best detector of flipped labels on the shared noisy spam data ` +
    `(10% of 4,000 labels flipped): AUROC ${a.loss.toFixed(3)} for the loss vs ${a.oof.toFixed(3)} for the ` +
    `5-fold out-of-fold probability and ${a.selfInfluence.toFixed(3)} for self-influence (${a.score.toFixed(3)} ` +
    `for the memorization score, which favours atypical but correct rows); checking the top 10% by loss found ` +
    `${Math.round(100 * NOISE_FINDINGS.lossTop10)}% of the flipped rows. The Ranking view's “Likely mislabeled” ` +
    `order is this ranking.`
  );
}

/** The likely-mislabeled counts in one sentence. */
export function mislabeledHeadline(m: MislabeledData): string {
  const share = (k: number) => (m.rows ? pctText(k / m.rows, 1) : '-');
  const same =
    m.byLabel.length === 2 && m.wrong === m.lossAboveLog2 ? ' (with two classes, the same rows)' : '';
  return (
    `${m.lossAboveLog2} of ${m.rows} rows (${share(m.lossAboveLog2)}) have a training loss above log 2, ` +
    `i.e. P(label|x) < 0.5; ${m.wrong} (${share(m.wrong)}) are predicted as another class${same}.`
  );
}

export function mislabeledByLabelTable(r: ReportData): Table | undefined {
  const m = r.mislabeled;
  if (!m) return undefined;
  return {
    head: ['given label', 'rows', 'loss > log 2', 'predicted otherwise'],
    rows: m.byLabel.map((g) => [g.label, String(g.rows), String(g.lossAboveLog2), String(g.wrong)]),
  };
}

export function mislabeledTopTable(r: ReportData): Table | undefined {
  const m = r.mislabeled;
  if (!m || !m.top.length) return undefined;
  return {
    head: ['#', 'id', 'line', 'label', 'predicted', 'P(label|x)', 'loss'],
    rows: m.top.map((t, i) => [
      String(i + 1),
      t.id,
      String(t.line),
      t.label,
      t.pred,
      numText(t.prob, 4),
      numText(t.loss, 3),
    ]),
  };
}

/** The rankings of a noise result in legend order, with their short names. */
function noiseSeries(n: NoiseData): { key: string; label: string }[] {
  return NOISE_SERIES.filter((s) => n.auroc[s.key] !== undefined).map((s) => ({
    key: s.key,
    label: s.key === 'oof' && n.folds ? `out-of-fold (${n.folds}-fold)` : s.label,
  }));
}

/** Share of the flipped rows found in the top X% of each ranking, and each ranking's AUROC. */
export function noiseTable(r: ReportData): Table | undefined {
  const n = r.noise;
  if (!n) return undefined;
  const series = noiseSeries(n);
  return {
    head: ['rows checked', ...series.map((s) => s.label)],
    rows: [
      ...n.recall.map((t) => [`top ${pctText(t.fraction, 0)}`, ...series.map((s) => pctText(t[s.key], 1))]),
      ['AUROC', ...series.map((s) => numText(n.auroc[s.key], 3))],
    ],
  };
}

/** Which flipped ids were used and which ranking found them best, in one sentence. */
export function noiseNote(r: ReportData): string | undefined {
  const n = r.noise;
  if (!n) return undefined;
  const src = r.noise?.file ? ` in ${baseName(r.noise.file)}` : '';
  if (!n.matched)
    return (
      `None of the ${n.flipped ?? 0} flipped ids${src} is the id of a row of this file, so there is ` +
      `nothing to measure (ids are matched against the rows' id field, else their 0-based row index).`
    );
  const best = noiseSeries(n)
    .filter((s) => Number.isFinite(n.auroc[s.key]))
    .sort((a, b) => n.auroc[b.key] - n.auroc[a.key])[0];
  return (
    `${n.matched} of the ${n.flipped ?? n.matched} flipped ids${src} are rows of this file` +
    (best ? `; the best ranking here is ${best.label}, AUROC ${numText(n.auroc[best.key], 3)}.` : '.')
  );
}

/** Text of the whole-report image: a title, header lines (above the charts) and footer lines (below). */
export function reportImageText(
  fileName: string,
  r: ReportData,
): { title: string; header: string[]; footer: string[] } {
  const footer: string[] = [];
  if (r.memorization)
    footer.push(
      `Scores vs retraining (${r.memorization.retrainings} heads): Spearman ${numText(r.memorization.spearman.score, 3)}, top-10% overlap ${pctText(r.memorization.topOverlap.score, 0)}.`,
    );
  if (r.stability)
    footer.push(
      `Stability: mean Spearman ${numText(r.stability.mean)} over ${r.stability.pairs.length} pairs of runs.`,
    );
  if (r.typicality)
    footer.push(
      `Typicality by '${r.typicality.field}': ` +
        r.typicality.groups
          .map((g) => `${g.value} ${numText(g.meanPercentile, 1)} (${g.count} rows)`)
          .join(', ') +
        ' (mean percentile, 100 = most memorized).',
    );
  if (r.reasons) footer.push(`Reasons: ${reasonsHeadline(r.reasons)}`);
  if (r.reasons?.groups) footer.push(groupsSentence(r.reasons.groups));
  if (r.mislabeled) footer.push(`Likely mislabeled: ${mislabeledHeadline(r.mislabeled)}`);
  const nn = noiseNote(r);
  if (nn) footer.push(`Label noise: ${nn}`);
  else if (r.mislabeled) footer.push(noiseFindingsNote());
  return {
    title: `Memorization report: ${fileName}`,
    header: [reportMeta(r), testSourceNote(r)],
    footer,
  };
}

export interface CombinedLayout {
  width: number;
  height: number;
  /** Top-left corner of each chart, in order, row by row. */
  charts: { x: number; y: number }[];
  /** Where the header text starts and the footer text starts (top of their first line). */
  headerY: number;
  footerY: number;
  /** The first empty cell of the chart grid (when the last row is not full), for text. */
  spare?: { x: number; y: number };
}

/**
 * Where the pieces of the whole-report image go: the header text, the charts in a grid of `columns` (at most as
 * many as charts), the footer text; `margin` around and between everything. All in device pixels. A footer that
 * fits into the grid's empty cell goes there instead (pass footerHeight 0 and draw it at `spare`).
 */
export function combinedLayout(o: {
  charts: number;
  chartWidth: number;
  chartHeight: number;
  columns?: number;
  margin: number;
  headerHeight: number;
  footerHeight: number;
}): CombinedLayout {
  const cols = Math.max(1, Math.min(o.columns ?? 2, o.charts));
  const rows = Math.ceil(o.charts / cols);
  const m = o.margin;
  const width = m + cols * (o.chartWidth + m);
  const headerY = m;
  const gridY = headerY + o.headerHeight + (o.headerHeight > 0 ? m : 0);
  const charts = Array.from({ length: o.charts }, (_, i) => ({
    x: m + (i % cols) * (o.chartWidth + m),
    y: gridY + Math.floor(i / cols) * (o.chartHeight + m),
  }));
  const footerY = gridY + rows * (o.chartHeight + m);
  const height = footerY + (o.footerHeight > 0 ? o.footerHeight + m : 0);
  const k = o.charts;
  const spare =
    k % cols
      ? { x: m + (k % cols) * (o.chartWidth + m), y: gridY + Math.floor(k / cols) * (o.chartHeight + m) }
      : undefined;
  return { width, height, charts, headerY, footerY, spare };
}

/** One line: rows, classes, fields, featurizer and seconds per part. */
export function reportMeta(r: ReportData): string {
  const secs = Object.entries(r.seconds)
    .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
    .join(', ');
  return (
    `${r.rows} rows, classes ${r.classes.join(', ')}; label '${r.fields.label}', text ` +
    `${r.fields.text.map((f) => `'${f}'`).join(' + ') || '(numeric columns)'}; ${r.featurizer} + ${r.head ?? 'linear head'}` +
    (secs ? `; ${secs}` : '')
  );
}

function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}
