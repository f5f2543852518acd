/**
 * Text of the memorization report (tables and notes) from a ReportData, shared by the report webview and tests.
 * Pure: no Node, VS Code or DOM use. Everything returned is plain text, to be shown with textContent.
 */
import type { ReportData } from './types';

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

/** One line: rows, classes, fields, featurizer and seconds per part. */
export function reportMeta(r: ReportData): string {
  const secs = Object.entries(r.seconds)
    .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
    .join(', ');
  return (
    `${r.rows} rows, classes ${r.classes.join(', ')}; label '${r.fields.label}', text ` +
    `${r.fields.text.map((f) => `'${f}'`).join(' + ') || '(numeric columns)'}; ${r.featurizer} + linear head` +
    (secs ? `; ${secs}` : '')
  );
}

function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}
