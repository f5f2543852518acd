/** Sorting, filtering and paging of scored rows for the ranking panel. Pure: no VS Code import. */
import type { PanelFilter, PanelRow, PanelSort } from './panelProtocol';

/** What paging needs of a scored row: the panel row before its text snippet is attached. */
export type PageSource = Omit<PanelRow, 'text'>;

export const SNIPPET_CHARS = 200;

export function snippet(text: string, max = SNIPPET_CHARS): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function compare(a: PageSource, b: PageSource, sort: PanelSort): number {
  const x = a[sort.key];
  const y = b[sort.key];
  let c: number;
  if (typeof x === 'number' && typeof y === 'number')
    c = (Number.isNaN(x) ? -Infinity : x) - (Number.isNaN(y) ? -Infinity : y);
  else c = String(x).localeCompare(String(y), undefined, { numeric: true });
  if (sort.dir === 'desc') c = -c;
  return c || a.rank - b.rank;
}

export function queryRows(
  rows: readonly PageSource[],
  textOf: (line: number) => string,
  req: { offset: number; limit: number; sort: PanelSort; filter: PanelFilter },
): { rows: PanelRow[]; total: number } {
  const label = req.filter.label ?? '';
  const needle = (req.filter.text ?? '').trim().toLowerCase();
  const kept = rows.filter(
    (r) =>
      (!label || r.label === label) &&
      (!needle || r.id.toLowerCase().includes(needle) || textOf(r.line).toLowerCase().includes(needle)),
  );
  kept.sort((a, b) => compare(a, b, req.sort));
  const offset = Math.max(0, Math.floor(req.offset) || 0);
  const limit = Math.min(1000, Math.max(0, Math.floor(req.limit) || 0));
  const page = kept.slice(offset, offset + limit).map((r) => ({
    line: r.line,
    rank: r.rank,
    id: r.id,
    label: r.label,
    pred: r.pred,
    prob: r.prob,
    score: r.score,
    percentile: r.percentile,
    text: snippet(textOf(r.line)),
  }));
  return { rows: page, total: kept.length };
}
