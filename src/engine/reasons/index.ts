/**
 * Reasons in one call: neighbours in the head's input space, text duplicates, and the reason of every row, with the
 * seconds per stage and the notes (which neighbour engine ran and why) for the summary. The parts are exported too.
 */
import { yieldToEventLoop } from '../pipeline/clock';
import { type NeighbourMethod, type Neighbours, findNeighbours } from './neighbours';
import { type ReasonRules, type ReasonsResult, explainReasons } from './reasons';
import { type TextDuplicates, TextGroups, findTextDuplicates } from './textDuplicates';

// Named re-exports (not `export *`): an ES module importing this file through tsx sees only names it can detect.
export { type GroupRow, type GroupTable, MISSING_GROUP, TOP_PERCENTILE, groupTable } from './groups';
export { normalizeText } from './minhash';
export {
  DEFAULT_EXACT_LIMIT,
  DEFAULT_K,
  type NeighbourMethod,
  type NeighbourOptions,
  type Neighbours,
  findNeighbours,
  loadUsearch,
} from './neighbours';
export {
  type ConflictEvidence,
  DEFAULT_RULES,
  type DuplicateEvidence,
  type MislabeledEvidence,
  REASON_KINDS,
  type RareEvidence,
  type Reason,
  type ReasonInput,
  type ReasonKind,
  type ReasonRules,
  type ReasonsResult,
  type RowRef,
  type TemplatedEvidence,
  explainReasons,
} from './reasons';
export {
  DEFAULT_JACCARD,
  type DuplicateOf,
  type TextDuplicates,
  TextGroups,
  duplicateClusters,
  duplicatesOf,
  findTextDuplicates,
  linksOf,
} from './textDuplicates';

export interface ReasonJobInput {
  /** The head's input: n x dim, pooled and standardized, row-major (with `of`: a row per distinct row). */
  X: ArrayLike<number>;
  /** Row i's row of X when rows share X's rows (HeadData.of). */
  of?: Int32Array;
  n: number;
  dim: number;
  classes: readonly string[];
  y: ArrayLike<number>;
  pred: ArrayLike<number>;
  /** 1-based raw-file line of each row. */
  lines: ArrayLike<number>;
  /**
   * Decoded text of each row (its text fields joined by a newline), or their groups built as the rows streamed by
   * (the pipeline's prepare); absent for data without text.
   */
  texts?: readonly string[] | TextGroups;
  selfInfluence?: ArrayLike<number>;
  selfInfluenceWithLabel?: (row: number, classIndex: number) => number;
  /** Many rows at once (ReasonInput.selfInfluenceWithLabels). */
  selfInfluenceWithLabels?: (rows: Int32Array, classIndex: Int32Array) => ArrayLike<number>;
}

export interface ReasonJobOptions {
  k?: number;
  method?: NeighbourMethod;
  /** Near-duplicate Jaccard threshold (default 0.8). */
  jaccard?: number;
  rules?: Partial<ReasonRules>;
  signal?: AbortSignal;
  /** The texts' groups (TextGroups) are not needed after: their signatures go once the duplicates are found. */
  releaseTexts?: boolean;
}

export interface ReasonJob {
  reasons: ReasonsResult;
  neighbours: Neighbours;
  duplicates?: TextDuplicates;
  seconds: { neighbours: number; duplicates: number; reasons: number };
  notes: string[];
}

export async function computeReasons(input: ReasonJobInput, opts: ReasonJobOptions = {}): Promise<ReasonJob> {
  const { signal } = opts;
  let t = performance.now();
  const lap = () => {
    const now = performance.now();
    const s = (now - t) / 1000;
    t = now;
    return s;
  };
  const neighbours = await findNeighbours(input.X, input.n, input.dim, {
    of: input.of,
    k: opts.k,
    method: opts.method,
    signal,
  });
  const sn = lap();
  await yieldToEventLoop(signal);
  const duplicates = input.texts
    ? await findTextDuplicates(input.texts, { threshold: opts.jaccard, signal })
    : undefined;
  if (opts.releaseTexts && input.texts instanceof TextGroups) input.texts.release();
  const sd = lap();
  await yieldToEventLoop(signal);
  const reasons = explainReasons({ ...input, neighbours, duplicates }, opts.rules);
  const sr = lap();
  return {
    reasons,
    neighbours,
    duplicates,
    seconds: { neighbours: sn, duplicates: sd, reasons: sr },
    notes: [neighbours.note, ...(duplicates?.notes ?? [])],
  };
}
