/**
 * LiSSA with the paper's settings (damping 5e-3, scale 1e4, 1000 steps of batch-1 stochastic curvature products):
 * the baseline users compare against. Its fixed point is (H + damping * scale * I)^-1 v = (H + 50 I)^-1 v, not H^-1 v.
 */
import { dot } from '../linalg/dense';
import { flatGradient } from '../model/head';
import { seededRandom } from '../random';
import type { SolverKind } from './solver';

export const LISSA_DAMPING = 5e-3;
export const LISSA_SCALE = 1e4;
export const LISSA_STEPS = 1000;

export const lissaSolverKind: SolverKind = {
  name: 'lissa',
  summary: `the paper's LiSSA baseline (damping ${LISSA_DAMPING}, scale ${LISSA_SCALE}, ${LISSA_STEPS} steps): estimates (H + 50 I)^-1`,
  requires: ['rowCurvature'],
  build(head, data, options = {}) {
    const rand = seededRandom(options.seed ?? 0);
    // The head's own regularizer (l2) and damping belong to every stochastic product.
    const ridge = head.l2 + head.damping;
    const solve = (v: Float64Array): Float64Array => {
      let h = Float64Array.from(v);
      for (let s = 0; s < LISSA_STEPS; s++) {
        const i = Math.floor(rand() * data.n);
        const Hh = new Float64Array(h.length);
        head.rowCurvatureProduct!(data, i, h, Hh, 1);
        const next = new Float64Array(h.length);
        for (let k = 0; k < h.length; k++)
          next[k] = v[k] + (1 - LISSA_DAMPING) * h[k] - (Hh[k] + ridge * h[k]) / LISSA_SCALE;
        h = next;
      }
      for (let k = 0; k < h.length; k++) h[k] /= LISSA_SCALE;
      return h;
    };
    return {
      name: 'lissa',
      solve,
      selfInfluence(batch) {
        const out = new Float64Array(batch.m);
        for (let i = 0; i < batch.m; i++) {
          options.signal?.throwIfAborted();
          const g = flatGradient(head, batch, i);
          out[i] = dot(g, solve(g));
        }
        return out;
      },
    };
  },
};
