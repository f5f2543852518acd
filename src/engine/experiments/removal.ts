/**
 * Removal experiment (Zheng & Jiang 2022, Sec. 4.1): drop the top-X% most memorized training rows, retrain, and
 * compare test accuracy with dropping X% random rows and with dropping nothing.
 */
import { accuracy, rankDescending } from '../influence/scores';
import type { HeadData } from '../model/head';
import {
  type ExperimentControl,
  type Prepared,
  complement,
  countOf,
  fitAndScore,
  fitHead,
  meanStd,
  permutation,
  subset,
  yieldNow,
} from './prepare';

export interface Runs {
  mean: number;
  std: number;
  runs: number[];
}

export interface RemovalResult {
  full: Runs;
  memorized: (Runs & { fraction: number })[];
  random: (Runs & { fraction: number })[];
  /** Per fraction: the smallest memorization score among the removed top-X% rows. */
  scores: Record<string, number>;
  secondsPerRetraining: number;
}

export interface RemovalOptions extends ExperimentControl {
  fractions: number[];
  seeds: number;
  /** Offset of the random seeds (seed k uses seedBase + k). */
  seedBase?: number;
}

function runs(values: number[]): Runs {
  return { ...meanStd(values), runs: values };
}

export async function removalExperiment(
  prep: Prepared,
  test: HeadData,
  opts: RemovalOptions,
): Promise<RemovalResult> {
  const { data } = prep;
  const dim = prep.featurizer.dim;
  const n = data.n;
  const seeds = Math.max(1, opts.seeds);
  const { signal } = opts;
  // One full training, then per fraction one 'memorized' and `seeds` 'random' retrainings.
  const total = 1 + opts.fractions.length * (1 + seeds);
  const report = (done: number) =>
    opts.onProgress?.({ stage: 'removal', done, total, message: 'retraining' });
  report(0);
  await yieldNow(signal);
  const full = await fitAndScore(prep, data, undefined, signal);
  report(1);
  const { order } = rankDescending(full.scores.score);
  const init = full.head.theta;
  let retrainSeconds = 0;
  let retrainings = 0;
  const retrainAccuracy = async (removed: Iterable<number>): Promise<number> => {
    await yieldNow(signal);
    const t0 = performance.now();
    const head = fitHead(prep, subset(data, dim, complement(n, removed)), init, signal);
    retrainSeconds += (performance.now() - t0) / 1000;
    retrainings++;
    report(1 + retrainings);
    return accuracy(head, test);
  };

  // The head's training is deterministic (a strictly convex objective solved to its optimum; warm-starting from the
  // full model's theta reaches the same optimum, so it adds no bias). Hence the 'full' and 'memorized' runs are the
  // same for every seed: they are trained once and repeated `seeds` times (std 0). Only 'random' varies by seed,
  // through which rows are removed.
  const fullAcc = accuracy(full.head, test);
  const result: RemovalResult = {
    full: runs(Array.from({ length: seeds }, () => fullAcc)),
    memorized: [],
    random: [],
    scores: {},
    secondsPerRetraining: 0,
  };
  for (const fraction of opts.fractions) {
    const m = countOf(fraction, n);
    const top = order.subarray(0, m);
    const acc = await retrainAccuracy(top);
    result.memorized.push({ fraction, ...runs(Array.from({ length: seeds }, () => acc)) });
    result.scores[String(fraction)] = m ? full.scores.score[top[m - 1]] : NaN;
    const rand: number[] = [];
    for (let s = 0; s < seeds; s++)
      rand.push(await retrainAccuracy(permutation(n, (opts.seedBase ?? 0) + s).subarray(0, m)));
    result.random.push({ fraction, ...runs(rand) });
  }
  result.secondsPerRetraining = retrainings ? retrainSeconds / retrainings : 0;
  return result;
}
