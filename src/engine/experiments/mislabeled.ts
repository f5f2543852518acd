/**
 * "Likely mislabeled" summary for any dataset, no known flipped labels needed: the head trained on all rows, and
 * per row its training loss -log P(label|x). Rows whose loss is above log 2 (P(label|x) < 0.5) and rows predicted as
 * another class are the candidates; ranking by this loss found flipped labels best on the shared noisy data (see
 * `memscore eval noise`).
 */
import { ownRows } from '../model/identicalRows';
import { type ExperimentControl, type Prepared, fitHead, yieldNow } from './prepare';
import type { MislabeledResult } from '../../protocol/experiments';

export type { MislabeledResult, MislabeledRow } from '../../protocol/experiments';

/** Loss threshold: -log P(label|x) > log 2 exactly when P(label|x) < 0.5. */
export const LOSS_THRESHOLD = Math.LN2;

export const DEFAULT_MISLABELED_TOP = 10;

/** Trains the head on every row of `prep` and summarizes the training losses. */
export async function mislabeledSummary(
  prep: Prepared,
  opts: ExperimentControl & { top?: number } = {},
): Promise<MislabeledResult> {
  const t0 = performance.now();
  opts.onProgress?.({ stage: 'mislabeled', done: 0, total: 1, message: 'training losses' });
  await yieldNow(opts.signal);
  const { data, classes } = prep;
  const C = classes.length;
  const head = fitHead(prep, data, undefined, opts.signal);
  const n = data.n;
  const loss = new Float64Array(n);
  const prob = new Float64Array(n);
  const pred = new Int32Array(n);
  const probs = head.probabilities(ownRows(data, head.dim).X, n);
  for (let i = 0; i < n; i++) {
    const p = probs.subarray(i * C, (i + 1) * C);
    let best = 0;
    for (let c = 1; c < C; c++) if (p[c] > p[best]) best = c;
    pred[i] = best;
    prob[i] = p[data.y[i]];
    loss[i] = -Math.log(Math.max(p[data.y[i]], Number.MIN_VALUE));
  }
  const result = summarizeLosses(prep, { loss, prob, pred }, opts.top ?? DEFAULT_MISLABELED_TOP);
  result.seconds = (performance.now() - t0) / 1000;
  opts.onProgress?.({ stage: 'mislabeled', done: 1, total: 1 });
  return result;
}

/** The counts and the top rows from per-row losses, probabilities of the label and predicted classes. */
export function summarizeLosses(
  prep: Pick<Prepared, 'rows' | 'classes'> & { data: { y: Int32Array; n: number } },
  v: { loss: ArrayLike<number>; prob: ArrayLike<number>; pred: ArrayLike<number> },
  top: number,
): MislabeledResult {
  const { data, classes, rows } = prep;
  const n = data.n;
  const byLabel = classes.map((label) => ({ label, rows: 0, lossAboveLog2: 0, wrong: 0 }));
  let above = 0;
  let wrong = 0;
  for (let i = 0; i < n; i++) {
    const g = byLabel[data.y[i]];
    g.rows++;
    if (v.loss[i] > LOSS_THRESHOLD) {
      above++;
      g.lossAboveLog2++;
    }
    if (v.pred[i] !== data.y[i]) {
      wrong++;
      g.wrong++;
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => v.loss[b] - v.loss[a] || a - b);
  return {
    rows: n,
    threshold: LOSS_THRESHOLD,
    lossAboveLog2: above,
    wrong,
    byLabel,
    top: order.slice(0, Math.max(0, top)).map((i) => ({
      id: rows[i].id,
      line: rows[i].line,
      label: classes[data.y[i]],
      pred: classes[v.pred[i]],
      prob: v.prob[i],
      loss: v.loss[i],
    })),
    seconds: 0,
  };
}
