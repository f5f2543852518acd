/**
 * The plain-data parts of the experiment suite's report (suite.ts SuiteReport) that the report code reads as they
 * are. This file imports nothing: src/report/types.ts builds its ReportData on it, and that folder is type-checked
 * and bundled into the report webview as well (no Node, VS Code or engine run-time code may come with it).
 */

/** Where the removal experiment's test accuracy comes from. */
export type TestSource =
  | { kind: 'file'; file: string; rows: number }
  | { kind: 'holdout'; fraction: number; rows: number; trainRows: number };

/** What every suite report carries besides the experiments' results. */
export interface SuiteReportHead {
  file: string;
  rows: number;
  classes: string[];
  fields: { label: string; text: string[] };
  featurizer: string;
  /** The head the experiments trained, e.g. "linear (202 parameters)". */
  head?: string;
  test: TestSource;
  /** Wall-clock seconds per part. */
  seconds: Record<string, number>;
}

export interface MislabeledRow {
  id: string;
  /** 1-based line of the row in the file. */
  line: number;
  label: string;
  pred: string;
  /** P(label|x) under the head trained on all rows. */
  prob: number;
  /** Training loss -log P(label|x). */
  loss: number;
}

/** The "likely mislabeled" summary (mislabeled.ts). */
export interface MislabeledResult {
  rows: number;
  /** log 2. */
  threshold: number;
  /** Rows with a training loss above log 2, i.e. P(label|x) < 0.5. */
  lossAboveLog2: number;
  /** Rows predicted as another class than their label. */
  wrong: number;
  /** The same counts per given label. */
  byLabel: { label: string; rows: number; lossAboveLog2: number; wrong: number }[];
  /** The rows with the largest training loss, largest first (ties: file order). */
  top: MislabeledRow[];
  seconds: number;
}

/** One row of the retraining check (memorization.ts): Feldman & Zhang's estimate next to the influence scores. */
export interface MemorizationRow {
  index: number;
  line: number;
  id: string;
  /** mem(z) = mean P(y|x) over retrainings that kept z - mean over those that left it out. */
  estimate: number;
  /** Standard error of the estimate (the two means' sampling errors combined). */
  stderr: number;
  score: number;
  selfInfluence: number;
  loss: number;
}

/** `memscore eval memorization --out`: exactly these fields. */
export interface MemorizationResult {
  retrainings: number;
  subset: number;
  /** Spearman correlation of each column with the estimate, over rows with an estimate. */
  spearman: { score: number; selfInfluence: number; loss: number };
  /** Share of the top 10% by estimate that are also in the top 10% by the column. */
  topOverlap: { score: number; selfInfluence: number; loss: number };
  rows: MemorizationRow[];
}
