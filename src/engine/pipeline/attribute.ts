/**
 * Stage 3b: token attributions for chosen rows (the top-N and any the user asks for). Token vectors are built here,
 * for these rows only (pooling every row never needed them), from the rows' fields read again from the file.
 */
import { attributeRow, influenceDirections } from '../attribution/integratedInfluence';
import { poolTokens } from '../featurize/tokenVectors';
import { readRowsAt } from '../data/readRowsAt';
import type { ScoredToken } from '../../protocol/results';
import { yieldToEventLoop } from './clock';
import type { Fitted } from './fit';
import type { Control, Prepared } from './prepare';

export interface RowTokens {
  tokens: ScoredToken[];
  /** Relative completeness gap of the row's attributions. */
  gap: number;
}

/** Rows featurized (with their baseline) at a time. */
const BATCH = 256;

export async function attributeRows(
  prep: Prepared,
  fitted: Pick<Fitted, 'head' | 'solver'>,
  indices: readonly number[],
  steps: number,
  control: Control = {},
): Promise<Map<number, RowTokens>> {
  const out = new Map<number, RowTokens>();
  const { featurizer } = prep;
  if (!featurizer.tokenLevel) return out;
  const targets = [...new Set(indices)].filter((i) => i >= 0 && i < prep.rows.length);
  for (let b = 0; b < targets.length; b += BATCH) {
    await yieldToEventLoop(control.signal);
    const batch = targets.slice(b, b + BATCH);
    const rows = await readRowsAt(
      prep.file,
      prep.read.schema,
      batch.map((i) => prep.rows[i]),
      { signal: control.signal },
    );
    const feats = await featurizer.featurize(rows, { baseline: true, signal: control.signal });
    // The rows' directions s = H^-1 grad P in one blocked solve (784 columns x 10 classes: 19 s one by one).
    const directions = influenceDirections(
      fitted.head,
      fitted.solver,
      feats.map((f) => prep.transform.apply(poolTokens(f, featurizer.pooling))),
      batch.map((i) => prep.data.y[i]),
    );
    batch.forEach((i, k) => {
      const f = feats[k];
      const res = attributeRow(
        fitted.head,
        fitted.solver,
        f,
        featurizer.pooling,
        prep.data.y[i],
        steps,
        prep.transform,
        directions[k],
      );
      out.set(i, {
        tokens: f.tokens.map((t, j) => ({
          text: t.text,
          line: t.line,
          start: t.start,
          end: t.end,
          a: res.a[j],
          ...(t.word !== undefined ? { word: t.word } : {}),
        })),
        gap: res.gap,
      });
    });
    control.onProgress?.({
      stage: 'attributing',
      done: Math.min(b + BATCH, targets.length),
      total: targets.length,
    });
  }
  return out;
}
