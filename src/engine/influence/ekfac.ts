/**
 * EK-FAC (George et al. 2018; Grosse et al. 2023, as in Kronfluence), over every layer of a head: the curvature is
 * taken block-diagonal by layer, each block in the Kronecker eigenbasis QS (x) QA of its factors S (x) A, with the
 * eigenvalues refitted to the exact diagonal of the block in that basis (Head.kroneckerDiagonal), plus l2 and damping.
 * A row's gradient of a layer is delta (x) act, so its quadratic form needs only the projections delta^T QS and
 * act^T QA: for a batch of m rows, three matrix products (m O^2 + m I^2 + m O I) per layer.
 */
import { symmetricEigen } from '../linalg/dense';
import { gemm } from '../linalg/gemm';
import type { KroneckerBasis } from '../model/head';
import type { SolverKind } from './solver';

export const ekfacSolverKind: SolverKind = {
  name: 'ekfac',
  summary:
    'Kronecker-factored eigenbasis per layer with eigenvalues refitted to the exact curvature diagonal',
  requires: ['kronecker'],
  build(head, data) {
    const factors = head.kroneckerFactors!(data);
    const bases: KroneckerBasis[] = head.layers.map((layer, l) => ({
      QS: symmetricEigen(factors[l].S, layer.out).vectors,
      QA: symmetricEigen(factors[l].A, layer.in).vectors,
    }));
    const ridge = head.l2 + head.damping;
    const lambda = head.kroneckerDiagonal!(data, bases).map((d) => d.map((x) => x + ridge));
    const inverse = lambda.map((d) => d.map((x) => 1 / x));
    return {
      name: 'ekfac',
      solve(v) {
        const out = new Float64Array(head.size);
        head.layers.forEach((layer, l) => {
          const { out: O, in: I, offset } = layer;
          const { QS, QA } = bases[l];
          // M = QS^T V QA, divided by lambda, back: QS M QA^T; four products, O^2 I + O I^2 each pair.
          const T = new Float64Array(O * I);
          const M = new Float64Array(O * I);
          gemm(true, false, O, I, O, 1, QS, 0, O, v, offset, I, 0, T, 0, I);
          gemm(false, false, O, I, I, 1, T, 0, I, QA, 0, I, 0, M, 0, I);
          const lam = lambda[l];
          for (let k = 0; k < M.length; k++) M[k] /= lam[k];
          gemm(false, false, O, I, O, 1, QS, 0, O, M, 0, I, 0, T, 0, I);
          gemm(false, true, O, I, I, 1, T, 0, I, QA, 0, I, 0, out, offset, I);
        });
        return out;
      },
      selfInfluence(batch) {
        const m = batch.m;
        const out = new Float64Array(m);
        head.layers.forEach((layer, l) => {
          const { out: O, in: I } = layer;
          const { QS, QA } = bases[l];
          const { delta, act } = batch.layers[l];
          // a = delta QS (m x O), b = act QA (m x I): row i's gradient in the eigenbasis is a_i (x) b_i, so its
          // quadratic form is sum_k a_ik^2 sum_j b_ij^2 / lambda_kj = sum_k a_ik^2 [(b o b) Lambda^-T]_ik.
          const a = new Float64Array(m * O);
          const b = new Float64Array(m * I);
          gemm(false, false, m, O, O, 1, delta, 0, O, QS, 0, O, 0, a, 0, O);
          gemm(false, false, m, I, I, 1, act, 0, I, QA, 0, I, 0, b, 0, I);
          for (let k = 0; k < b.length; k++) b[k] *= b[k];
          const t = new Float64Array(m * O);
          gemm(false, true, m, O, I, 1, b, 0, I, inverse[l], 0, I, 0, t, 0, O);
          for (let i = 0; i < m; i++) {
            let total = 0;
            for (let k = i * O, e = k + O; k < e; k++) total += a[k] * a[k] * t[k];
            out[i] += total;
          }
        });
        return out;
      },
    };
  },
};
