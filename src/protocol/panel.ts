/** Messages between the ranking webview and the extension host. Pure types, shared by both bundles. */
import type { GroupTable, ReasonKind } from './reasons';

/**
 * `rank`: memorization rank (1 = most memorized, i.e. score descending); `loss`: in-sample training loss
 * −log P(label|x), the "Likely mislabeled" order when descending; `line`: file order.
 */
export type SortKey = 'rank' | 'line' | 'id' | 'label' | 'pred' | 'prob' | 'loss' | 'score' | 'estimate';
export type SortDir = 'asc' | 'desc';

export interface PanelSort {
  key: SortKey;
  dir: SortDir;
}

/** The "Likely mislabeled" view: rows by in-sample loss −log P(label|x), largest first. */
export const MISLABELED_SORT: PanelSort = { key: 'loss', dir: 'desc' };
/** The default view: most memorized first. */
export const MEMORIZED_SORT: PanelSort = { key: 'rank', dir: 'asc' };

/** The reason filter: one kind, `any` (rows with at least one reason), `none` (rows without); empty = all rows. */
export type ReasonFilter = '' | 'any' | 'none' | ReasonKind;

export interface PanelFilter {
  /** Exact label to keep; empty = all. */
  label?: string;
  /** Case-insensitive substring of the row's decoded text or id; empty = all. */
  text?: string;
  reason?: ReasonFilter;
}

/** A reason chip: its kind (the chip's text and colour) and the evidence in words (its tooltip), plain text. */
export interface ReasonChip {
  kind: ReasonKind;
  text: string;
}

/**
 * A coloured token in a row's snippet: snippet characters [s, e), colour bucket b (0–4 red = positive attribution,
 * needs memorizing; 5–9 blue = negative; strength by |a| relative to the row's largest, as in the editor), and the
 * token's attribution a.
 */
export interface HeatSpan {
  s: number;
  e: number;
  b: number;
  a: number;
}

export interface PanelRow {
  line: number;
  rank: number;
  id: string;
  label: string;
  pred: string;
  prob: number;
  /** In-sample cross-entropy −log P(label|x). */
  loss: number;
  score: number;
  percentile: number;
  /** The retraining estimate of memorization and its standard error, when the retraining check ran. */
  estimate?: number;
  estimateStderr?: number;
  /** One-line snippet of the decoded text field(s) the engine tokenized (whitespace collapsed, shortened). */
  text: string;
  /** Token heat for attributed rows (absent when the row has no attributions or the results are stale). */
  heat?: HeatSpan[];
  /** The row's reasons (absent when it has none). */
  chips?: ReasonChip[];
}

/** One group of near-identical rows in the "Duplicates" view. */
export interface DuplicateGroupView {
  /** Position of the group in the view's order (0 = first). */
  position: number;
  /** All rows of the group (those listed in `rows` may be fewer). */
  size: number;
  /** Rows per label, the most common first. */
  labels: { label: string; count: number }[];
  /** More than one label in the group. */
  conflict: boolean;
  /** The group's rows, the most common label first, then by rank; at most MAX_GROUP_ROWS. */
  rows: PanelRow[];
}

export type HistogramMetric = 'score' | 'loss';
export type HistogramScale = 'linear' | 'log';

/** Counts per class of one metric in `counts[class][bin]`, bins [edges[k], edges[k+1]). */
export interface HistogramData {
  metric: HistogramMetric;
  scale: HistogramScale;
  /** bins + 1 increasing edges. */
  edges: number[];
  counts: number[][];
  /** Rows below edges[0] counted in the first bin (log scale: zero, negative or below the range floor). */
  below: number;
  /** Rows with a non-finite value, not counted. */
  skipped: number;
}

export type FromPanel =
  | { type: 'ready' }
  | { type: 'getPage'; offset: number; limit: number; sort: PanelSort; filter: PanelFilter; seq?: number }
  /** A page of the "Duplicates" view: groups [offset, offset + limit) of those with a row that passes `filter`. */
  | { type: 'getDuplicates'; offset: number; limit: number; filter: PanelFilter; seq?: number }
  | { type: 'reveal'; line: number };

/** What the results were computed with and what they hold beyond the rows, for the panel's header and tables. */
export interface PanelFacts {
  /** One sentence: the head, its input and the solver ("scores of a linear head (202 parameters) on ..."). */
  scoredOn: string;
  /** Rows per reason (absent when the results have no reasons). */
  reasonCounts?: Record<ReasonKind, number>;
  /** Groups of near-identical texts: how many the view can list, and how many there were. */
  duplicates?: { listed: number; total: number; rows: number };
  /** The per-group table (`memorization.group`). */
  groups?: GroupTable & { field: string };
}

export type ToPanel =
  | { type: 'page'; rows: PanelRow[]; total: number; offset: number; seq?: number }
  | {
      type: 'reset';
      file: string | null;
      labels: string[];
      total: number;
      stale: boolean;
      attributed: number;
      facts?: PanelFacts;
    }
  | { type: 'duplicates'; groups: DuplicateGroupView[]; total: number; offset: number; seq?: number }
  | { type: 'histogram'; classes: string[]; histograms: HistogramData[] };
