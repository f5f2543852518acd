import type { GroupTable, Reason, ReasonKind } from './reasons';

/**
 * What a scoring job returns, as it crosses the worker / extension-host boundary and lands in `--out` and
 * `--summary`. The engine maps its results to these types; the extension and the webviews read only these.
 */
export interface SourceRangeShape {
  line: number;
  start: number;
  end: number;
}

export interface ScoredToken {
  text: string;
  line: number;
  start: number;
  end: number;
  a: number;
  /** Sub-word pieces (ONNX featurizer): pieces of one word share this index. */
  word?: number;
}

export interface ScoredRow {
  index: number;
  line: number;
  id: string;
  label: string;
  pred: string;
  prob: number;
  loss: number;
  score: number;
  selfInfluence: number;
  rank: number;
  percentile: number;
  tokens?: ScoredToken[];
  /** Relative completeness gap of this row's attributions. */
  completenessGap?: number;
  /** Raw-file ranges of text cut off by the model's max length (ONNX featurizer): not scored, not attributed. */
  truncated?: SourceRangeShape[];
  /** Feldman & Zhang's retraining estimate and its standard error, once the retraining check ran on the file. */
  estimate?: number;
  estimateStderr?: number;
  /** Why the row is memorized: each reason with its evidence (empty when none applies). */
  reasons?: Reason[];
}

/** Which backend ran each stage: featurizing (js, or onnxruntime-node cpu/cuda) and the dense math. */
export interface StageBackends {
  featurizing: string;
  training: string;
  hessian: string;
  scoring: string;
  attributing: string;
}

export interface ScoreSummary {
  file: string;
  format: string;
  fields: { label: string; text: string[]; id?: string; numeric?: string[] };
  counts: { rows: number; skipped: number; test?: number; testSkipped?: number; truncated?: number };
  skipped: { line: number; reason: string }[];
  warnings: string[];
  classes: { name: string; count: number }[];
  featurizer: string;
  /** Whether the featurizer gives token vectors (attributions); false for precomputed embeddings. */
  tokenLevel: boolean;
  /** How the pooled features reach the head: 'standardized' (column mean 0, std 1) or 'raw'. */
  input: string;
  /** The head's kind ('linear', 'mlp'). */
  model: string;
  /** One line: the head and its shape, e.g. "linear (202 parameters)". */
  head: string;
  parameters: number;
  l2: number;
  /** With `--l2 auto`: the cross-validated grid it was chosen from (mean held-out log-likelihood per row). */
  l2Choice?: { folds: number; grid: { l2: number; heldOutLogLikelihood: number }[] };
  /** The curvature the solver inverts and the damping added to it. */
  curvature: string;
  damping: number;
  solver: string;
  /** One line: which backend ran which stage (see `backends`). */
  backend: string;
  backends?: StageBackends;
  /** Backend messages: a CUDA fallback and its error, the feature cache folder, what is available. */
  backendNotes?: string[];
  /** Featurizer counters for this run (ONNX: session runs, rows encoded, cache hits and misses). */
  featurizerCounters?: Record<string, number>;
  training: { method: string; iterations: number; objective: number; gradNorm: number };
  trainAccuracy: number;
  testAccuracy?: number;
  seconds: Record<string, number>;
  peakMemoryMB: number;
  /** The reasons of the rows: how many rows have each, the rules' notes (which neighbour search ran). */
  reasons?: { counts: Record<ReasonKind, number>; withAnyReason: number; notes: string[] };
  /** Groups of exact or near-duplicate texts (row indices, largest group first), for the Duplicates view. */
  duplicates?: { groups: number[][]; total: number };
  /** With a group column (`--group`): rows, mean percentile, share in the top 10% and share per reason, per value. */
  groups?: GroupTable & { field: string };
  completeness?: {
    rows: number;
    meanGap: number;
    maxGap: number;
    steps: number;
    perRow: { index: number; gap: number }[];
  };
}

export interface ScoreResult {
  rows: ScoredRow[];
  summary: ScoreSummary;
}
