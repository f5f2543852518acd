/**
 * Why a row is memorized, as it crosses to the extension and the webviews (and lands in `--out` and `--summary`):
 * the fixed vocabulary of reasons with their evidence, and the per-group table. The rules that produce them are in
 * src/engine/reasons/ (see the README, "Why a row is memorized"). Import-free: the webviews bundle it.
 */
export const REASON_KINDS = ['duplicate', 'conflict', 'mislabeled', 'rare', 'templated'] as const;
export type ReasonKind = (typeof REASON_KINDS)[number];

export interface RowRef {
  /** 0-based row index (input order among the valid rows). */
  index: number;
  /** 1-based line of the row in the raw file. */
  line: number;
}

export interface DuplicateEvidence {
  /** Duplicates with the row's own label: all of them, exact plus near. */
  count: number;
  exact: number;
  near: number;
  /** The first `listed` of them: exact ones first, then the most similar. */
  rows: (RowRef & { exact: boolean; jaccard: number })[];
}
export interface ConflictEvidence {
  /** Duplicates with another label. */
  count: number;
  /** How many of them carry each other label. */
  labels: Record<string, number>;
  rows: (RowRef & { label: string; exact: boolean; jaccard: number })[];
}
export interface MislabeledEvidence {
  /** The class the head predicts, which is also the most common among the row's neighbours. */
  predicted: string;
  /** Neighbours looked at (k, fewer on a tiny dataset). */
  k: number;
  /** Share of the k neighbours labelled with the row's own label, and with the predicted class. */
  ownLabelShare: number;
  predictedShare: number;
  /** Self-influence with the row's label, with the predicted class as label, and the relative fall (0..1). */
  selfInfluence?: number;
  selfInfluenceIfPredicted?: number;
  selfInfluenceDrop?: number;
}
export interface RareEvidence {
  /** Cosine distance (1 - cosine similarity) to the centroid (mean feature vector) of the row's class. */
  distance: number;
  /** The median of that distance over the class. */
  classMedian: number;
  /** distance / classMedian. */
  ratio: number;
  /** Within the class: 100 = the farthest row, 0 = the closest. */
  percentile: number;
}
export interface TemplatedEvidence {
  /** Neighbours with the row's label at cosine similarity >= `similarity`, text duplicates not counted. */
  count: number;
  k: number;
  similarity: number;
  rows: (RowRef & { similarity: number })[];
}

export type Reason =
  | { kind: 'duplicate'; evidence: DuplicateEvidence }
  | { kind: 'conflict'; evidence: ConflictEvidence }
  | { kind: 'mislabeled'; evidence: MislabeledEvidence }
  | { kind: 'rare'; evidence: RareEvidence }
  | { kind: 'templated'; evidence: TemplatedEvidence };

/** The name rows without a value for the group column get. */
export const MISSING_GROUP = '(missing)';

export interface GroupRow {
  group: string;
  rows: number;
  meanPercentile: number;
  /** Share (0..1) of the group's rows in the top 10% by score. */
  top10Share: number;
  /** Share (0..1) of the group's rows with each reason. */
  reasons: Record<ReasonKind, number>;
}

export interface GroupTable {
  /** Largest group first (ties: by name). */
  groups: GroupRow[];
  /** The same figures over all rows, to compare against. */
  all: GroupRow;
}
