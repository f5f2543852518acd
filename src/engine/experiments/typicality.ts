/**
 * Typicality: mean memorization score and mean percentile per value of a grouping field that the model never sees
 * (e.g. the SpamAssassin corpus' easy_ham / hard_ham / spam). Atypical sub-populations should score higher.
 */
import { MISSING_GROUP, readFieldValues } from '../data/fieldValues';
import { rankDescending } from '../influence/scores';
import { type ExperimentControl, type Prepared, fitAndScore, yieldNow } from './prepare';

export interface TypicalityResult {
  field: string;
  rows: number;
  groups: { value: string; count: number; meanScore: number; meanPercentile: number }[];
}

export { MISSING_GROUP };

/** The group value of each training row (see readFieldValues). */
export function readGroups(prep: Prepared, field: string, signal?: AbortSignal): Promise<string[]> {
  return readFieldValues(prep.file, prep.read.schema, field, prep.rows, signal);
}

export function typicalityTable(
  field: string,
  groups: readonly string[],
  score: Float64Array,
): TypicalityResult {
  const { percentile } = rankDescending(score);
  const acc = new Map<string, { count: number; score: number; pct: number }>();
  groups.forEach((g, i) => {
    const a = acc.get(g) ?? { count: 0, score: 0, pct: 0 };
    a.count++;
    a.score += score[i];
    a.pct += percentile[i];
    acc.set(g, a);
  });
  const rows = [...acc].map(([value, a]) => ({
    value,
    count: a.count,
    meanScore: a.score / a.count,
    meanPercentile: a.pct / a.count,
  }));
  rows.sort((a, b) => b.meanPercentile - a.meanPercentile || a.value.localeCompare(b.value));
  return { field, rows: groups.length, groups: rows };
}

export async function typicalityExperiment(
  prep: Prepared,
  field: string,
  opts: ExperimentControl = {},
): Promise<TypicalityResult> {
  opts.onProgress?.({ stage: 'typicality', done: 0, total: 1, message: field });
  const groups = await readGroups(prep, field, opts.signal);
  await yieldNow(opts.signal);
  const result = typicalityTable(
    field,
    groups,
    (await fitAndScore(prep, prep.data, undefined, opts.signal)).scores.score,
  );
  opts.onProgress?.({ stage: 'typicality', done: 1, total: 1, message: field });
  return result;
}
