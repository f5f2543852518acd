/**
 * Sorting, filtering and paging of scored rows for the ranking panel. Pure: no VS Code import.
 *
 * The panel asks for one page at a time while it scrolls; a `RowQuery` keeps the sorted, filtered order of the last
 * (sort, filter) so that scrolling costs a slice, not a sort, even with 100k rows.
 */
import type { PanelFilter, PanelRow, PanelSort, SortKey } from './panelProtocol';
import { type Snippet, type TokenRange, snippet } from './rowText';

export { SNIPPET_CHARS, snippet } from './rowText';

/** What paging needs of a scored row: the fields a panel row copies, and the tokens its snippet colours. */
export interface PageSource extends Omit<PanelRow, 'text' | 'heat'> {
  tokens?: readonly TokenRange[];
}

/** Where row text comes from: the lower-cased text the filter searches, and the snippet shown. */
export interface RowText {
  plainLower(line: number): string;
  snippet(line: number, tokens?: readonly TokenRange[]): Snippet;
}

export interface PageRequest {
  offset: number;
  limit: number;
  sort: PanelSort;
  filter: PanelFilter;
}

export const MAX_PAGE = 1000;
const SORT_KEYS: readonly SortKey[] = ['rank', 'line', 'id', 'label', 'pred', 'prob', 'loss', 'score'];

/** Text of a raw line as a RowText (no decoding, no heat). */
export function rawRowText(textOf: (line: number) => string): RowText {
  return {
    plainLower: (line) => textOf(line).toLowerCase(),
    snippet: (line) => ({ text: snippet(textOf(line)) }),
  };
}

function numeric(v: number): number {
  return Number.isNaN(v) ? -Infinity : v;
}

export class RowQuery {
  private cacheKey = '';
  private order: Uint32Array | undefined;

  constructor(
    private readonly rows: readonly PageSource[],
    private readonly text: RowText,
  ) {}

  /** Indices of the rows that pass `filter`, in `sort` order (ties by rank); cached for the last query. */
  ordered(sort: PanelSort, filter: PanelFilter): Uint32Array {
    const key = SORT_KEYS.includes(sort.key) ? sort.key : 'rank';
    const dir = sort.dir === 'desc' ? -1 : 1;
    const label = filter.label ?? '';
    const needle = (filter.text ?? '').trim().toLowerCase();
    const cacheKey = JSON.stringify([key, dir, label, needle]);
    if (this.order && cacheKey === this.cacheKey) return this.order;

    const rows = this.rows;
    const kept: number[] = [];
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      if (label && r.label !== label) continue;
      if (needle && !r.id.toLowerCase().includes(needle) && !this.text.plainLower(r.line).includes(needle))
        continue;
      kept.push(i);
    }
    const order = Uint32Array.from(kept);
    const rank = new Float64Array(rows.length);
    for (let i = 0; i < rows.length; i++) rank[i] = rows[i].rank;
    let keys: Float64Array;
    const first = rows[0];
    if (first && typeof first[key] === 'string') {
      // Strings: sort the distinct values once, then sort rows by their ordinal.
      const distinct = [...new Set(rows.map((r) => String(r[key])))];
      const collator = new Intl.Collator(undefined, { numeric: true });
      distinct.sort(collator.compare);
      const ordinal = new Map(distinct.map((v, i) => [v, i]));
      keys = new Float64Array(rows.length);
      for (let i = 0; i < rows.length; i++) keys[i] = ordinal.get(String(rows[i][key]))!;
    } else {
      keys = new Float64Array(rows.length);
      for (let i = 0; i < rows.length; i++) keys[i] = numeric(rows[i][key] as number);
    }
    order.sort((a, b) => {
      const x = keys[a];
      const y = keys[b];
      const c = x < y ? -dir : x > y ? dir : 0;
      return c || rank[a] - rank[b] || a - b;
    });
    this.cacheKey = cacheKey;
    this.order = order;
    return order;
  }

  page(req: PageRequest): { rows: PanelRow[]; total: number } {
    const order = this.ordered(req.sort, req.filter);
    const offset = Math.max(0, Math.floor(req.offset) || 0);
    const limit = Math.min(MAX_PAGE, Math.max(0, Math.floor(req.limit) || 0));
    const rows: PanelRow[] = [];
    for (let k = offset; k < Math.min(order.length, offset + limit); k++) {
      const r = this.rows[order[k]];
      const s = this.text.snippet(r.line, r.tokens);
      const row: PanelRow = {
        line: r.line,
        rank: r.rank,
        id: r.id,
        label: r.label,
        pred: r.pred,
        prob: r.prob,
        loss: r.loss,
        score: r.score,
        percentile: r.percentile,
        text: s.text,
      };
      if (s.heat?.length) row.heat = s.heat;
      rows.push(row);
    }
    return { rows, total: order.length };
  }
}

/** One-off query (no cache kept): sort, filter and page. */
export function queryRows(
  rows: readonly PageSource[],
  text: RowText | ((line: number) => string),
  req: PageRequest,
): { rows: PanelRow[]; total: number } {
  return new RowQuery(rows, typeof text === 'function' ? rawRowText(text) : text).page(req);
}
