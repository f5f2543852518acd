/**
 * Removal experiment (Zheng & Jiang 2022, Sec. 4.1): drop the top-X% most memorized training rows, retrain, and
 * compare test accuracy with dropping X% random rows and with dropping nothing.
 */
import { rankDescending } from '../influence/scores';
import { accuracy } from '../scoreDataset';
import type { HeadData } from '../model/linearHead';
import {
  type Prepared,
  complement,
  countOf,
  fitAndScore,
  fitHead,
  meanStd,
  permutation,
  subset,
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

export interface RemovalOptions {
  fractions: number[];
  seeds: number;
  /** Offset of the random seeds (seed k uses seedBase + k). */
  seedBase?: number;
}

function runs(values: number[]): Runs {
  return { ...meanStd(values), runs: values };
}

export function removalExperiment(prep: Prepared, test: HeadData, opts: RemovalOptions): RemovalResult {
  const { data } = prep;
  const dim = prep.featurizer.dim;
  const n = data.n;
  const seeds = Math.max(1, opts.seeds);
  const full = fitAndScore(prep, data);
  const { order } = rankDescending(full.scores.score);
  const init = full.head.theta;
  let retrainSeconds = 0;
  let retrainings = 0;
  const retrainAccuracy = (removed: Iterable<number>): number => {
    const t0 = performance.now();
    const head = fitHead(prep, subset(data, dim, complement(n, removed)), init);
    retrainSeconds += (performance.now() - t0) / 1000;
    retrainings++;
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
    const acc = retrainAccuracy(top);
    result.memorized.push({ fraction, ...runs(Array.from({ length: seeds }, () => acc)) });
    result.scores[String(fraction)] = m ? full.scores.score[top[m - 1]] : NaN;
    const rand: number[] = [];
    for (let s = 0; s < seeds; s++)
      rand.push(retrainAccuracy(permutation(n, (opts.seedBase ?? 0) + s).subarray(0, m)));
    result.random.push({ fraction, ...runs(rand) });
  }
  result.secondsPerRetraining = retrainings ? retrainSeconds / retrainings : 0;
  return result;
}
