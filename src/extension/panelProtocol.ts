/** Messages between the ranking webview and the extension host. Pure types, shared by both bundles. */

export type SortKey = 'rank' | 'id' | 'label' | 'pred' | 'prob' | 'score';
export type SortDir = 'asc' | 'desc';

export interface PanelSort {
  key: SortKey;
  dir: SortDir;
}

export interface PanelFilter {
  /** Exact label to keep; empty = all. */
  label?: string;
  /** Case-insensitive substring of the row's text or id; empty = all. */
  text?: string;
}

export interface PanelRow {
  line: number;
  rank: number;
  id: string;
  label: string;
  pred: string;
  prob: number;
  score: number;
  percentile: number;
  text: string;
}

export type FromPanel =
  | { type: 'ready' }
  | { type: 'getPage'; offset: number; limit: number; sort: PanelSort; filter: PanelFilter; seq?: number }
  | { type: 'reveal'; line: number };

export type ToPanel =
  | { type: 'page'; rows: PanelRow[]; total: number; offset: number; seq?: number }
  | { type: 'reset'; file: string | null; labels: string[]; total: number; stale: boolean };
