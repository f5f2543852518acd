/**
 * The shapes of experiment results that the charts and the report read: structural subsets of the engine's result
 * types (src/engine/experiments/*), so that this folder stays free of Node, VS Code and canvas imports and can be
 * bundled into the report webview as well as into the CLI. The per-experiment shapes are looser than the engine's
 * (they also read `memscore eval EXPERIMENT --out` JSON, which lacks some fields); what only the suite's report
 * carries is taken from the engine's import-free src/protocol/experiments.ts.
 */
import type { MemorizationResult, MislabeledResult, SuiteReportHead } from '../protocol/experiments';
import type { GroupTable, ReasonKind } from '../protocol/reasons';

export interface RunsData {
  mean: number;
  std: number;
  runs?: number[];
}

export interface RemovalData {
  full: RunsData;
  memorized: (RunsData & { fraction: number })[];
  random: (RunsData & { fraction: number })[];
  secondsPerRetraining?: number;
}

export interface ReductionData {
  /** How many top memorized rows the rates average over (absent in `memscore eval reduction --out` JSON). */
  rows?: number;
  attribution: { k: number; rate: number }[];
  random: { k: number; rate: number }[];
}

export interface StabilityData {
  fraction?: number;
  seeds?: number;
  rows?: number;
  commonRows?: number;
  pairs: { a: number; b: number; spearman: number }[];
  mean: number;
  scatter?: { a: number; b: number; rankA: number[]; rankB: number[] };
}

export interface TypicalityData {
  field: string;
  rows?: number;
  groups: { value: string; count: number; meanScore: number; meanPercentile: number }[];
}

export interface NoiseData {
  rows?: number;
  flipped?: number;
  matched?: number;
  folds?: number;
  recall: ({ fraction: number } & Record<string, number>)[];
  auroc: Record<string, number>;
  curve?: { checked: number[]; found: Record<string, number[]> };
}

/** The retraining check (`memscore eval memorization --out`, or the report's with its seconds). */
export type MemorizationData = MemorizationResult & { seconds?: number; secondsPerRetraining?: number };

/** The "likely mislabeled" summary (src/engine/experiments/mislabeled.ts). */
export type MislabeledData = Omit<MislabeledResult, 'seconds'>;

/** Why rows are memorized (the suite's reasons part, src/engine/experiments/suite.ts ReasonsPart). */
export interface ReasonsData {
  rows: number;
  counts: Record<ReasonKind, number>;
  withAnyReason?: number;
  /** Per tier (the top `fraction` of rows by score; 1 = all rows): its rows and the share with each reason. */
  tiers: { fraction: number; rows: number; any: number; shares: Record<ReasonKind, number> }[];
  groups?: GroupsData;
  notes?: string[];
  seconds?: number;
}

/** The per-group table: the suite's reasons part, or a score summary's `groups` (`--group`). */
export type GroupsData = GroupTable & { field: string };

/** What the worker's experiments request answers (src/engine/experiments/suite.ts SuiteReport). */
export interface ReportData extends SuiteReportHead {
  removal?: RemovalData;
  reduction?: ReductionData;
  stability?: StabilityData;
  typicality?: TypicalityData;
  mislabeled?: MislabeledData;
  /** The label-noise experiment, run when a file of flipped ids was chosen (`file`). */
  noise?: NoiseData & { file?: string };
  /** The retraining check (Feldman & Zhang), when retrainings were asked for. */
  memorization?: MemorizationData;
  /** The reasons of the rows by score tier and, with a grouping field, per group. */
  reasons?: ReasonsData;
}
