/**
 * The MLP head's math on a block of rows, written out by hand: forward pass, back-propagation, Pearlmutter's
 * R-operator for exact Hessian-vector products, the Gauss-Newton product J^T (diag p - p p^T) J, and the
 * Gauss-Newton "pseudo-errors" whose outer products make the Kronecker factors and the dense Gauss-Newton matrix.
 *
 * Layer l maps its input U_l (m x w_l, w_l = in_l - 1: the bias input 1 is implicit) to z_l = U_l W~_l^T + b_l
 * (m x out_l); a hidden layer's output is U_{l+1} = phi(z_l), the last layer's z is the logits, p = softmax(z). W_l is
 * the out_l x in_l block of theta at layers[l].offset (head.ts), W~_l its first w_l columns and b_l its last one.
 * U_0 is a view of the data rows themselves (no copy). Every product is one BLAS-style call of linalg/gemm.ts
 * (onnxruntime's float64 Gemm when it loads, else the blocked JavaScript kernel), over all rows of the block at once.
 */
import { gemm } from '../linalg/gemm';
import type { HeadLayer } from './head';
import type { Activation } from './mlpActivation';

export interface MlpNet {
  /** Widths: input dim, the hidden widths, classes. */
  readonly dims: readonly number[];
  readonly layers: readonly HeadLayer[];
  readonly size: number;
  readonly activation: Activation;
}

export function mlpLayers(dims: readonly number[]): { layers: HeadLayer[]; size: number } {
  const layers: HeadLayer[] = [];
  let offset = 0;
  for (let l = 0; l + 1 < dims.length; l++) {
    const layer = { offset, out: dims[l + 1], in: dims[l] + 1 };
    layers.push(layer);
    offset += layer.out * layer.in;
  }
  return { layers, size: offset };
}

/** A layer input: m x w values at off (row stride w) of `values`; U_0 views the data matrix. */
export interface Input {
  values: Float64Array;
  off: number;
}

/** The forward state of m rows. */
export interface Forward {
  m: number;
  /** Per layer: its input U_l without the bias column. */
  U: Input[];
  /** Per hidden layer: phi'(z_l) and phi''(z_l), m x out_l. */
  d1: Float64Array[];
  d2: Float64Array[];
  /** m x classes. */
  prob: Float64Array;
}

/** Back-propagated errors of m rows: deltas[l] = dL/dz_l (m x out_l); backs[l] = deltas[l+1] W~_{l+1} (hidden l). */
export interface Backward {
  deltas: Float64Array[];
  backs: Float64Array[];
}

/** Z (m x out) = U W~^T + b: the layer's pre-activations (beta 0: Z's old values are ignored) or, add, Z += U W~^T. */
function affine(layer: HeadLayer, m: number, U: Input, W: Float64Array, Z: Float64Array, add: boolean): void {
  const { out, in: inW, offset } = layer;
  const w = inW - 1;
  gemm(false, true, m, out, w, 1, U.values, U.off, w, W, offset, inW, add ? 1 : 0, Z, 0, out);
  for (let i = 0; i < m; i++) for (let o = 0; o < out; o++) Z[i * out + o] += W[offset + o * inW + w];
}

/** G[:, :w] += scale E^T U and G[:, w] += scale sum_i E[i]: the summed outer products E_i (x) [U_i, 1]. */
function outerInto(
  layer: HeadLayer,
  m: number,
  E: Float64Array,
  U: Input,
  G: Float64Array,
  scale: number,
): void {
  const { out, in: inW, offset } = layer;
  const w = inW - 1;
  gemm(true, false, out, w, m, scale, E, 0, out, U.values, U.off, w, 1, G, offset, inW);
  for (let o = 0; o < out; o++) {
    let s = 0;
    for (let i = 0; i < m; i++) s += E[i * out + o];
    G[offset + o * inW + w] += scale * s;
  }
}

/** B (m x w) (+)= E W~: errors back through the layer's weights (no bias). */
function backInto(
  layer: HeadLayer,
  m: number,
  E: Float64Array,
  W: Float64Array,
  B: Float64Array,
  add: boolean,
): void {
  const { out, in: inW, offset } = layer;
  gemm(false, false, m, inW - 1, out, 1, E, 0, out, W, offset, inW, add ? 1 : 0, B, 0, inW - 1);
}

/** Softmax of each row of z (m x C), in place. */
function softmaxRows(z: Float64Array, m: number, C: number): void {
  for (let i = 0; i < m; i++) {
    const o = i * C;
    let max = -Infinity;
    for (let c = 0; c < C; c++) if (z[o + c] > max) max = z[o + c];
    let sum = 0;
    for (let c = 0; c < C; c++) {
      const e = Math.exp(z[o + c] - max);
      z[o + c] = e;
      sum += e;
    }
    for (let c = 0; c < C; c++) z[o + c] /= sum;
  }
}

/** Forward pass of rows X[from..from+m) (X: rows of dims[0] values). */
export function forward(net: MlpNet, theta: Float64Array, X: Float64Array, from: number, m: number): Forward {
  const { layers, activation } = net;
  const L = layers.length;
  const U: Input[] = [{ values: X, off: from * net.dims[0] }];
  const d1: Float64Array[] = [];
  const d2: Float64Array[] = [];
  let prob = new Float64Array(0);
  for (let l = 0; l < L; l++) {
    const out = layers[l].out;
    const z = new Float64Array(m * out);
    affine(layers[l], m, U[l], theta, z, false);
    if (l === L - 1) {
      softmaxRows(z, m, out);
      prob = z;
      break;
    }
    const value = new Float64Array(m * out);
    const g1 = new Float64Array(m * out);
    const g2 = new Float64Array(m * out);
    activation.apply(z, value, g1, g2);
    U.push({ values: value, off: 0 });
    d1.push(g1);
    d2.push(g2);
  }
  return { m, U, d1, d2, prob };
}

/** Per-row cross-entropy errors back through the layers: deltas[L-1] = p - e_y, deltas[l] = phi'(z_l) (.) backs[l]. */
export function backward(
  net: MlpNet,
  theta: Float64Array,
  f: Forward,
  y: ArrayLike<number>,
  yFrom: number,
): Backward {
  const { layers } = net;
  const L = layers.length;
  const C = layers[L - 1].out;
  const { m } = f;
  const top = Float64Array.from(f.prob);
  for (let i = 0; i < m; i++) top[i * C + y[yFrom + i]] -= 1;
  const deltas: Float64Array[] = new Array(L);
  const backs: Float64Array[] = new Array(L - 1);
  deltas[L - 1] = top;
  for (let l = L - 1; l >= 1; l--) {
    const back = new Float64Array(m * (layers[l].in - 1));
    backInto(layers[l], m, deltas[l], theta, back, false);
    const g1 = f.d1[l - 1];
    const d = new Float64Array(back.length);
    for (let k = 0; k < d.length; k++) d[k] = g1[k] * back[k];
    backs[l - 1] = back;
    deltas[l - 1] = d;
  }
  return { deltas, backs };
}

/** Adds scale * sum_i deltas[l][i] (x) [U_l[i], 1] into grad (the block's summed loss gradient). */
export function accumulateGradient(
  net: MlpNet,
  f: Forward,
  b: Backward,
  grad: Float64Array,
  scale: number,
): void {
  net.layers.forEach((layer, l) => outerInto(layer, f.m, b.deltas[l], f.U[l], grad, scale));
}

/** Summed cross-entropy of the block. */
export function blockLoss(f: Forward, y: ArrayLike<number>, yFrom: number, C: number): number {
  let loss = 0;
  for (let i = 0; i < f.m; i++) loss -= Math.log(Math.max(f.prob[i * C + y[yFrom + i]], 1e-300));
  return loss;
}

/** Layer l's input of row i with the trailing 1 (the `act` of a GradientBatch), written at out[o..). */
export function actRow(f: Forward, l: number, w: number, i: number, out: Float64Array, o: number): void {
  const U = f.U[l];
  const s = U.off + i * w;
  for (let j = 0; j < w; j++) out[o + j] = U.values[s + j];
  out[o + w] = 1;
}

/** Forward-mode directional derivatives along v: Rz[l] = d z_l (m x out_l); RU[l] = d U_l (l >= 1). */
interface RForward {
  Rz: Float64Array[];
  RU: Float64Array[];
}

function rForward(net: MlpNet, theta: Float64Array, f: Forward, v: Float64Array): RForward {
  const { layers } = net;
  const { m } = f;
  const Rz: Float64Array[] = [];
  const RU: Float64Array[] = [new Float64Array(0)];
  for (let l = 0; l < layers.length; l++) {
    const out = layers[l].out;
    const rz = new Float64Array(m * out);
    affine(layers[l], m, f.U[l], v, rz, false);
    if (l >= 1) {
      const w = layers[l].in - 1;
      gemm(false, true, m, out, w, 1, RU[l], 0, w, theta, layers[l].offset, layers[l].in, 1, rz, 0, out);
    }
    Rz.push(rz);
    if (l + 1 < layers.length) {
      const g1 = f.d1[l];
      const ru = new Float64Array(m * out);
      for (let k = 0; k < ru.length; k++) ru[k] = g1[k] * rz[k];
      RU.push(ru);
    }
  }
  return { Rz, RU };
}

/**
 * The curvature applied to v for the m rows of f, scale * sum_i C_i v added into out; returns R{delta_0} (m x out_0),
 * the directional derivative of the first layer's errors (inputGradient needs it).
 *
 * exact = true: Pearlmutter's R-operator on back-propagation, i.e. the Hessian of the loss:
 *   R{delta_top} = (diag p - p p^T) Rz_top,
 *   R{delta_{l-1}} = phi''(z_{l-1}) Rz_{l-1} (.) back + phi'(z_{l-1}) (.) (R{delta_l} W~_l + delta_l V~_l),
 *   R{grad W_l} = R{delta_l} (x) [U_l, 1] + delta_l (x) [R{U_l}, 0].
 * exact = false: the Gauss-Newton product J^T (diag p - p p^T) J v: the same forward pass (J v = Rz_top) and a purely
 * linear backward pass of (diag p - p p^T) J v, i.e. the terms with delta or phi'' dropped.
 */
function rBackward(
  net: MlpNet,
  theta: Float64Array,
  v: Float64Array,
  f: Forward,
  b: Backward,
  r: RForward,
  exact: boolean,
  out: Float64Array,
  scale: number,
): Float64Array {
  const { layers } = net;
  const L = layers.length;
  const { m } = f;
  const C = layers[L - 1].out;
  const top = r.Rz[L - 1];
  let Rd = new Float64Array(m * C);
  for (let i = 0; i < m; i++) {
    const o = i * C;
    let pu = 0;
    for (let c = 0; c < C; c++) pu += f.prob[o + c] * top[o + c];
    for (let c = 0; c < C; c++) Rd[o + c] = f.prob[o + c] * (top[o + c] - pu);
  }
  for (let l = L - 1; l >= 0; l--) {
    const layer = layers[l];
    const { out: O, in: inW, offset } = layer;
    const w = inW - 1;
    if (scale !== 0) {
      outerInto(layer, m, Rd, f.U[l], out, scale);
      // delta_l (x) [R{U_l}, 0]: no bias column.
      if (exact && l >= 1)
        gemm(true, false, O, w, m, scale, b.deltas[l], 0, O, r.RU[l], 0, w, 1, out, offset, inW);
    }
    if (l === 0) break;
    const Rback = new Float64Array(m * w);
    backInto(layer, m, Rd, theta, Rback, false);
    if (exact) backInto(layer, m, b.deltas[l], v, Rback, true);
    const next = new Float64Array(m * w);
    const g1 = f.d1[l - 1];
    if (exact) {
      const g2 = f.d2[l - 1];
      const rz = r.Rz[l - 1];
      const back = b.backs[l - 1];
      for (let k = 0; k < next.length; k++) next[k] = g1[k] * Rback[k] + g2[k] * rz[k] * back[k];
    } else for (let k = 0; k < next.length; k++) next[k] = g1[k] * Rback[k];
    Rd = next;
  }
  return Rd;
}

/**
 * scale * sum_i C_i v over the block f (with its errors b, needed for the exact Hessian), added into out;
 * C_i the Hessian (exact) or Gauss-Newton matrix of row i's loss. Returns R{delta_0} (see rBackward).
 */
export function curvatureProductInto(
  net: MlpNet,
  theta: Float64Array,
  f: Forward,
  b: Backward,
  v: Float64Array,
  exact: boolean,
  out: Float64Array,
  scale: number,
): Float64Array {
  return rBackward(net, theta, v, f, b, rForward(net, theta, f, v), exact, out, scale);
}

/**
 * Gauss-Newton pseudo-errors: diag p - p p^T = sum_c r_c r_c^T with r_c = sqrt(p_c) (e_c - p) (for two classes the
 * single r = sqrt(p_0 p_1) (1, -1)), each propagated back linearly: pseudo[c][l] (m x out_l) = J_{z_l}^T r_c. Row i's
 * Gauss-Newton matrix is sum_c g_c g_c^T with g_c = (pseudo[c][l][i] (x) [U_l[i], 1])_l.
 */
export function pseudoErrors(net: MlpNet, theta: Float64Array, f: Forward): Float64Array[][] {
  const { layers } = net;
  const L = layers.length;
  const C = layers[L - 1].out;
  const { m, prob } = f;
  const k = C === 2 ? 1 : C;
  const out: Float64Array[][] = [];
  for (let c = 0; c < k; c++) {
    const top = new Float64Array(m * C);
    for (let i = 0; i < m; i++) {
      const o = i * C;
      if (C === 2) {
        const s = Math.sqrt(prob[o] * prob[o + 1]);
        top[o] = s;
        top[o + 1] = -s;
      } else {
        const s = Math.sqrt(prob[o + c]);
        for (let d = 0; d < C; d++) top[o + d] = s * ((d === c ? 1 : 0) - prob[o + d]);
      }
    }
    const per: Float64Array[] = new Array(L);
    per[L - 1] = top;
    for (let l = L - 1; l >= 1; l--) {
      const back = new Float64Array(m * (layers[l].in - 1));
      backInto(layers[l], m, per[l], theta, back, false);
      const g1 = f.d1[l - 1];
      for (let q = 0; q < back.length; q++) back[q] *= g1[q];
      per[l - 1] = back;
    }
    out.push(per);
  }
  return out;
}

/** G (k x k, full square) += scale * E^T E for E m x k. */
export function addGram(E: Float64Array, m: number, k: number, G: Float64Array, scale: number): void {
  gemm(true, false, k, k, m, scale, E, 0, k, E, 0, k, 1, G, 0, k);
}

/** A (in x in) += scale * [U, 1]^T [U, 1]: the input-side Kronecker factor of a block. */
export function addInputGram(f: Forward, l: number, w: number, A: Float64Array, scale: number): void {
  const U = f.U[l];
  const inW = w + 1;
  gemm(true, false, w, w, f.m, scale, U.values, U.off, w, U.values, U.off, w, 1, A, 0, inW);
  for (let j = 0; j < w; j++) {
    let s = 0;
    for (let i = 0; i < f.m; i++) s += U.values[U.off + i * w + j];
    A[j * inW + w] += scale * s;
    A[w * inW + j] += scale * s;
  }
  A[w * inW + w] += scale * f.m;
}

/** E Q (m x k times k x k). */
export function project(E: Float64Array, m: number, k: number, Q: Float64Array): Float64Array {
  const P = new Float64Array(m * k);
  gemm(false, false, m, k, k, 1, E, 0, k, Q, 0, k, 0, P, 0, k);
  return P;
}

/** [U_l, 1] QA (m x in): the block's layer inputs in the eigenbasis of A. */
export function projectInput(f: Forward, l: number, w: number, QA: Float64Array): Float64Array {
  const U = f.U[l];
  const inW = w + 1;
  const P = new Float64Array(f.m * inW);
  gemm(false, false, f.m, inW, w, 1, U.values, U.off, w, QA, 0, inW, 0, P, 0, inW);
  for (let i = 0; i < f.m; i++) for (let j = 0; j < inW; j++) P[i * inW + j] += QA[w * inW + j];
  return P;
}

/** G (k x n) += scale * A^T B, A m x k, B m x n. */
export function addAtB(
  A: Float64Array,
  m: number,
  k: number,
  B: Float64Array,
  n: number,
  G: Float64Array,
  scale: number,
): void {
  gemm(true, false, k, n, m, scale, A, 0, k, B, 0, n, 1, G, 0, n);
}

/** Row r of a forward state and its errors, as views (no copies). */
export function sliceRow(net: MlpNet, f: Forward, b: Backward, r: number): { f: Forward; b: Backward } {
  const { layers } = net;
  const row = (a: Float64Array, w: number) => a.subarray(r * w, (r + 1) * w);
  const C = layers[layers.length - 1].out;
  return {
    f: {
      m: 1,
      U: f.U.map((u, l) => ({ values: u.values, off: u.off + r * (layers[l].in - 1) })),
      d1: f.d1.map((a, l) => row(a, layers[l].out)),
      d2: f.d2.map((a, l) => row(a, layers[l].out)),
      prob: row(f.prob, C),
    },
    b: {
      deltas: b.deltas.map((a, l) => row(a, layers[l].out)),
      backs: b.backs.map((a, l) => row(a, layers[l].out)),
    },
  };
}
