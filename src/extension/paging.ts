/**
 * Sorting, filtering and paging of scored rows for the ranking panel. Pure: no VS Code import.
 *
 * The panel asks for one page at a time while it scrolls; a `RowQuery` keeps the sorted, filtered order of the last
 * (sort, filter) so that scrolling costs a slice, not a sort, even with 100k rows.
 */
import type { DecodedRowText } from '../protocol/messages';
import type { PanelFilter, PanelRow, PanelSort, ReasonFilter, SortKey } from '../protocol/panel';
import { REASON_KINDS, type Reason } from '../protocol/reasons';
import { reasonSentence } from './explainText';
import { type TokenRange, snippetOf } from './rowText';

export { SNIPPET_CHARS, snippet } from './rowText';

/** What paging needs of a scored row: the fields a panel row copies, the tokens its snippet colours, its reasons. */
export interface PageSource extends Omit<PanelRow, 'text' | 'heat' | 'chips'> {
  tokens?: readonly TokenRange[];
  reasons?: readonly Reason[];
}

/** Whether a row passes the reason filter ('' = every row). */
export function passesReason(row: Pick<PageSource, 'reasons'>, reason: ReasonFilter | undefined): boolean {
  if (!reason) return true;
  const n = row.reasons?.length ?? 0;
  if (reason === 'any') return n > 0;
  if (reason === 'none') return n === 0;
  return !!row.reasons?.some((r) => r.kind === reason);
}

/** A reason filter from the webview, checked: an unknown value keeps every row. */
export function reasonFilter(v: unknown): ReasonFilter {
  return v === 'any' || v === 'none' || (REASON_KINDS as readonly unknown[]).includes(v)
    ? (v as ReasonFilter)
    : '';
}

/** Where row text comes from (the worker, which read the file): the text filter's matches and decoded rows. */
export interface RowText {
  /** Of the rows starting at `lines`, those whose decoded text contains `needle` (lower-case). */
  matching(needle: string, lines: readonly number[]): Promise<ReadonlySet<number>>;
  /** The decoded text of the rows starting at these lines (rows it cannot decode are left out). */
  decoded(lines: readonly number[]): Promise<readonly DecodedRowText[]>;
}

export interface PageRequest {
  offset: number;
  limit: number;
  sort: PanelSort;
  filter: PanelFilter;
}

export const MAX_PAGE = 1000;
const SORT_KEYS: readonly SortKey[] = [
  'rank',
  'line',
  'id',
  'label',
  'pred',
  'prob',
  'loss',
  'score',
  'estimate',
];

/** Text of a raw line as a RowText (no decoding, no heat). */
export function rawRowText(textOf: (line: number) => string): RowText {
  return {
    matching: async (needle, lines) =>
      new Set(lines.filter((line) => textOf(line).toLowerCase().includes(needle))),
    decoded: async (lines) => lines.map((line) => ({ line, text: textOf(line), segs: [] })),
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
    /** Stale results may sit on changed lines: then the text only, no heat. */
    private readonly withHeat = true,
  ) {}

  /** Indices of the rows that pass `filter`, in `sort` order (ties by rank); cached for the last query. */
  async ordered(sort: PanelSort, filter: PanelFilter): Promise<Uint32Array> {
    const key = SORT_KEYS.includes(sort.key) ? sort.key : 'rank';
    const dir = sort.dir === 'desc' ? -1 : 1;
    const label = filter.label ?? '';
    const reason = reasonFilter(filter.reason);
    const needle = (filter.text ?? '').trim().toLowerCase();
    const cacheKey = JSON.stringify([key, dir, label, reason, needle]);
    if (this.order && cacheKey === this.cacheKey) return this.order;

    const rows = this.rows;
    const order = Uint32Array.from(await keptRows(rows, this.text, filter));
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
      for (let i = 0; i < rows.length; i++) keys[i] = numeric((rows[i][key] as number | undefined) ?? NaN);
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

  async page(req: PageRequest): Promise<{ rows: PanelRow[]; total: number }> {
    const order = await this.ordered(req.sort, req.filter);
    const offset = Math.max(0, Math.floor(req.offset) || 0);
    const limit = Math.min(MAX_PAGE, Math.max(0, Math.floor(req.limit) || 0));
    const slice = Array.from(
      order.subarray(offset, Math.min(order.length, offset + limit)),
      (i) => this.rows[i],
    );
    const rows = await panelRows(slice, this.text, this.withHeat);
    return { rows, total: order.length };
  }
}

/**
 * Panel rows of `sources`: their fields, the decoded text's snippet (with token heat when `withHeat`) and reason
 * chips. One worker call decodes them all.
 */
export async function panelRows(
  sources: readonly PageSource[],
  text: RowText,
  withHeat: boolean,
): Promise<PanelRow[]> {
  const decoded = new Map((await text.decoded(sources.map((r) => r.line))).map((d) => [d.line, d]));
  return sources.map((r) => {
    const d = decoded.get(r.line);
    const s = d ? snippetOf(d, withHeat ? r.tokens : undefined) : { text: '' };
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
    if (r.estimate !== undefined) {
      row.estimate = r.estimate;
      row.estimateStderr = r.estimateStderr;
    }
    if (s.heat?.length) row.heat = s.heat;
    if (r.reasons?.length)
      row.chips = r.reasons.map((x) => ({ kind: x.kind, text: reasonSentence(x, r.label) }));
    return row;
  });
}

/** Indices of the rows that pass the label, reason and text filters, in input order. */
export async function keptRows(
  rows: readonly PageSource[],
  text: RowText,
  filter: PanelFilter,
): Promise<number[]> {
  const label = filter.label ?? '';
  const reason = reasonFilter(filter.reason);
  const needle = (filter.text ?? '').trim().toLowerCase();
  const matches = needle
    ? await text.matching(
        needle,
        rows.map((r) => r.line),
      )
    : undefined;
  const kept: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (label && r.label !== label) continue;
    if (!passesReason(r, reason)) continue;
    if (matches && !r.id.toLowerCase().includes(needle) && !matches.has(r.line)) continue;
    kept.push(i);
  }
  return kept;
}

/** One-off query (no cache kept): sort, filter and page. */
export function queryRows(
  rows: readonly PageSource[],
  text: RowText | ((line: number) => string),
  req: PageRequest,
): Promise<{ rows: PanelRow[]; total: number }> {
  return new RowQuery(rows, typeof text === 'function' ? rawRowText(text) : text).page(req);
}
