/**
 * The shapes of experiment results that the charts and the report read: structural subsets of the engine's result
 * types (src/engine/experiments/*), so that this folder stays free of Node, VS Code and canvas imports and can be
 * bundled into the report webview as well as into the CLI. The per-experiment shapes are looser than the engine's
 * (they also read `memscore eval EXPERIMENT --out` JSON, which lacks some fields); what only the suite's report
 * carries is taken from the engine's import-free src/engine/experiments/reportShape.ts.
 */
import type { MislabeledResult, SuiteReportHead } from '../engine/experiments/reportShape';

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

/** The "likely mislabeled" summary (src/engine/experiments/mislabeled.ts). */
export type MislabeledData = Omit<MislabeledResult, 'seconds'>;

/** What the worker's experiments request answers (src/engine/experiments/suite.ts SuiteReport). */
export interface ReportData extends SuiteReportHead {
  removal?: RemovalData;
  reduction?: ReductionData;
  stability?: StabilityData;
  typicality?: TypicalityData;
  mislabeled?: MislabeledData;
  /** The label-noise experiment, run when a file of flipped ids was chosen (`file`). */
  noise?: NoiseData & { file?: string };
}
