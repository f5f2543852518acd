/**
 * `--l2 auto`: the L2 strength chosen by k-fold cross-validation of the held-out log-likelihood over a log-spaced
 * grid, so the penalty follows the data (a weak penalty lets a head on few rows and many standardized features fit
 * every label, flipped ones included; a strong one underfits large sets). The folds are seeded; along the grid,
 * from the strongest penalty down, each fold warm-starts from its previous solution (for a convex head this reaches
 * the same optimum, only faster).
 */
import type { HeadData } from '../model/head';
import { HEADS } from '../model/heads';
import { permutation } from '../random';
import { yieldToEventLoop } from './clock';
import { type FitOptions, trainHead } from './fit';
import type { Control, Prepared } from './prepare';
import { subset } from './prepare';

/** 10^-5 ... 10^1 in half-decades. */
export const L2_GRID = Array.from({ length: 13 }, (_, k) => 10 ** (-5 + k / 2));
export const L2_FOLDS = 5;

export interface L2Choice {
  l2: number;
  folds: number;
  /** Mean held-out log-likelihood per row, for each grid value (larger is better). */
  grid: { l2: number; heldOutLogLikelihood: number }[];
  seconds: number;
}

export async function chooseL2(
  prep: Pick<Prepared, 'classes' | 'featurizer' | 'data'>,
  opts: FitOptions,
  control: Control = {},
  seed = 0,
): Promise<L2Choice> {
  const t0 = performance.now();
  const { data } = prep;
  const n = data.n;
  const D = prep.featurizer.dim;
  const C = prep.classes.length;
  const folds = Math.min(L2_FOLDS, n);
  const perm = permutation(n, seed);
  const parts = Array.from({ length: folds }, (_, f) => perm.filter((_, k) => k % folds === f));
  const trainOf = parts.map((held) => {
    const out = new Uint8Array(n);
    for (const i of held) out[i] = 1;
    return subset(
      data,
      D,
      Int32Array.from({ length: n }, (_, i) => i).filter((i) => !out[i]),
    );
  });
  const heldOf: HeadData[] = parts.map((held) => subset(data, D, held));
  const convex = HEADS[opts.head?.model ?? 'linear'].convex === true;
  const warm: (Float64Array | undefined)[] = parts.map(() => undefined);
  const grid: L2Choice['grid'] = [];
  const steps = L2_GRID.length * folds;
  for (const [g, l2] of [...L2_GRID].reverse().entries()) {
    let ll = 0;
    for (let f = 0; f < folds; f++) {
      control.onProgress?.({
        stage: 'choosing l2',
        done: g * folds + f,
        total: steps,
        message: `l2 ${l2.toExponential(0)}`,
      });
      await yieldToEventLoop(control.signal);
      const { head } = trainHead(
        prep,
        { ...opts, head: { ...opts.head, l2 }, init: convex ? warm[f] : undefined },
        { signal: control.signal },
        trainOf[f],
      );
      warm[f] = head.theta;
      const held = heldOf[f];
      const p = head.probabilities(held.X, held.n);
      for (let i = 0; i < held.n; i++) ll += Math.log(Math.max(p[i * C + held.y[i]], 1e-300));
    }
    grid.push({ l2, heldOutLogLikelihood: ll / n });
  }
  grid.reverse();
  const best = grid.reduce((a, b) => (b.heldOutLogLikelihood > a.heldOutLogLikelihood ? b : a));
  return { l2: best.l2, folds, grid, seconds: (performance.now() - t0) / 1000 };
}
