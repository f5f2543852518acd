/**
 * The MLP head: one or two hidden layers (tanh or exact GELU) and a softmax output on the pooled features, objective
 * R = mean_i CE_i + (l2/2)|theta|^2 (biases included, as for the linear head). Unlike the linear head it can fit its
 * training set (Feldman's memorization is a property of a model that can), at the price of a non-convex objective:
 * the exact Hessian at a trained optimum can be indefinite, so the curvature the solvers invert is a choice
 * (`curvature`: the Gauss-Newton matrix by default, positive definite with l2 > 0; or the exact Hessian).
 *
 * All curvature is by hand (mlpNet.ts): Hessian-vector products by Pearlmutter's R-operator, Gauss-Newton products
 * J^T (diag p - p p^T) J, Kronecker factors and their exact eigenbasis diagonal from the Gauss-Newton pseudo-errors.
 */
import { seededRandom } from '../random';
import { UsageError } from '../types';
import type {
  Curvature,
  GradientBatch,
  Head,
  HeadCapability,
  HeadData,
  HeadLayer,
  KroneckerBasis,
  KroneckerFactors,
} from './head';
import type { HeadKind, HeadOptions } from './headKind';
import { ACTIVATIONS, type ActivationName, activation } from './mlpActivation';
import {
  type Backward,
  type Forward,
  type MlpNet,
  accumulateGradient,
  actRow,
  addAtB,
  addGram,
  addInputGram,
  backward,
  blockLoss,
  curvatureProductInto,
  forward,
  mlpLayers,
  project,
  projectInput,
  pseudoErrors,
  sliceRow,
} from './mlpNet';
import { ownRows } from './identicalRows';
import { trainMlp } from './mlpTrain';

/** Rows per block of the full-data passes: large, so each product is one big gemm call. */
const CHUNK = 4096;
/** Rows of flat pseudo-gradients per Gram product of the dense Gauss-Newton matrix. */
const GRAM_ROWS = 512;

/** Default damping added to the curvature before inverting (see DEFAULT_CURVATURE; measured in the bench). */
export const DEFAULT_DAMPING = 0;
export const DEFAULT_CURVATURE: Curvature = 'gauss-newton';

/** The forward state and errors of every row of one data set at one theta (reused by the curvature products). */
interface DataState {
  data: HeadData;
  theta: Float64Array;
  chunks: { from: number; f: Forward; b: Backward }[];
  loss: number;
  grad: Float64Array;
}

export class MlpHead implements Head {
  readonly kind = 'mlp';
  readonly layers: readonly HeadLayer[];
  readonly size: number;
  readonly capabilities: ReadonlySet<HeadCapability>;
  readonly net: MlpNet;
  theta: Float64Array;
  private state?: DataState;

  constructor(
    readonly classes: number,
    readonly dim: number,
    readonly hidden: readonly number[],
    readonly activationName: ActivationName,
    readonly l2: number,
    readonly curvature: Curvature,
    readonly damping: number,
    theta: Float64Array,
  ) {
    const dims = [dim, ...hidden, classes];
    const { layers, size } = mlpLayers(dims);
    this.layers = layers;
    this.size = size;
    this.net = { dims, layers, size, activation: activation(activationName) };
    if (theta.length !== size)
      throw new Error(`mlp head: theta has ${theta.length} values, expected ${size}`);
    this.theta = theta;
    // EK-FAC's factors are those of the Gauss-Newton matrix; with the exact Hessian chosen they would approximate
    // another matrix than the one the head says it inverts, so the capability goes with the curvature.
    const caps: HeadCapability[] = ['denseCurvature', 'rowCurvature'];
    if (curvature === 'gauss-newton') caps.push('kronecker');
    this.capabilities = new Set(caps);
  }

  describe(): string {
    const shape = this.net.dims.join('-');
    const damping = this.damping ? `, damping ${this.damping}` : '';
    return `mlp ${shape} ${this.activationName} (${this.size} parameters, ${this.curvature} curvature${damping})`;
  }

  probabilities(X: ArrayLike<number>, m: number, out = new Float64Array(m * this.classes)): Float64Array {
    const Xf = asFloat64(X);
    for (let r = 0; r < m; r += CHUNK) {
      const len = Math.min(CHUNK, m - r);
      out.set(forward(this.net, this.theta, Xf, r, len).prob, r * this.classes);
    }
    return out;
  }

  objective(data: HeadData): { value: number; grad: Float64Array } {
    const s = this.stateOf(data);
    return { value: s.loss, grad: Float64Array.from(s.grad) };
  }

  gradients(X: ArrayLike<number>, y: ArrayLike<number>, m: number, from = 0): GradientBatch {
    const f = forward(this.net, this.theta, asFloat64(X), from, m);
    const b = backward(this.net, this.theta, f, y, from);
    const layers = this.layers.map((layer, l) => {
      const act = new Float64Array(m * layer.in);
      for (let i = 0; i < m; i++) actRow(f, l, layer.in - 1, i, act, i * layer.in);
      return { delta: b.deltas[l], act };
    });
    return { m, prob: f.prob, layers };
  }

  curvatureProduct(data: HeadData, v: ArrayLike<number>): Float64Array {
    return this.product(data, v, this.curvature === 'hessian');
  }

  /** (1/n) sum_i C_i v + l2 v with the exact Hessian (exact) or the Gauss-Newton matrix, whatever `curvature` is. */
  product(data: HeadData, v: ArrayLike<number>, exact: boolean): Float64Array {
    const s = this.stateOf(data);
    const vv = Float64Array.from(v);
    const out = new Float64Array(this.size);
    for (const c of s.chunks)
      curvatureProductInto(this.net, this.theta, c.f, c.b, vv, exact, out, 1 / data.n);
    for (let k = 0; k < out.length; k++) out[k] += this.l2 * vv[k];
    return out;
  }

  rowCurvatureProduct(
    data: HeadData,
    i: number,
    v: ArrayLike<number>,
    out: Float64Array,
    scale: number,
  ): void {
    const s = this.stateOf(data);
    const c = s.chunks[Math.floor(i / CHUNK)];
    const row = sliceRow(this.net, c.f, c.b, i - c.from);
    curvatureProductInto(
      this.net,
      this.theta,
      row.f,
      row.b,
      Float64Array.from(v),
      this.curvature === 'hessian',
      out,
      scale,
    );
  }

  /**
   * d/dh of f(h) = s^T grad_theta L(h, y) = R_s{grad_h L}: the R-operator along s of the input gradient
   * grad_h L = W~_0^T delta_0, i.e. V~_0^T delta_0 + W~_0^T R{delta_0} (always the exact mixed derivative: the
   * attributions must integrate the true gradient of f for completeness).
   */
  inputGradient(s: ArrayLike<number>, h: ArrayLike<number>, y: number): Float64Array {
    const f = forward(this.net, this.theta, asFloat64(h), 0, 1);
    const b = backward(this.net, this.theta, f, [y], 0);
    const sv = Float64Array.from(s);
    const Rd = curvatureProductInto(this.net, this.theta, f, b, sv, true, new Float64Array(this.size), 0);
    const { out: O, in: inW } = this.layers[0];
    const D = this.dim;
    const g = new Float64Array(D);
    const d0 = b.deltas[0];
    for (let o = 0; o < O; o++) {
      const a = d0[o];
      const r = Rd[o];
      const row = o * inW;
      for (let j = 0; j < D; j++) g[j] += a * sv[row + j] + r * this.theta[row + j];
    }
    return g;
  }

  /**
   * The dense curvature (l2 included, no damping). Gauss-Newton: (1/n) sum_i sum_c g_ic g_ic^T from the pseudo-errors,
   * O(n k p^2 / 2) (k = 1 for two classes); Hessian: one R-operator product per unit vector, O(n p^2). For small
   * widths: p = 6,594 (100-64-2) is a 348 MB matrix.
   */
  denseCurvature(data: HeadData): Float64Array {
    const P = this.size;
    const H = new Float64Array(P * P);
    if (this.curvature === 'hessian') {
      const e = new Float64Array(P);
      for (let k = 0; k < P; k++) {
        e[k] = 1;
        H.set(this.product(data, e, true), k * P);
        e[k] = 0;
      }
      // Symmetrize away rounding (the product is exact: the two triangles agree to ~1e-16 relative).
      for (let a = 0; a < P; a++)
        for (let b = a + 1; b < P; b++) {
          const m = 0.5 * (H[a * P + b] + H[b * P + a]);
          H[a * P + b] = m;
          H[b * P + a] = m;
        }
      return H;
    }
    const s = this.stateOf(data);
    // Flat pseudo-gradients of GRAM_ROWS rows at a time (GRAM_ROWS x P), then their Gram in one product.
    const G = new Float64Array(Math.min(GRAM_ROWS, data.n) * P);
    const act = new Float64Array(Math.max(...this.layers.map((l) => l.in)));
    for (const { f } of s.chunks)
      for (const per of pseudoErrors(this.net, this.theta, f))
        for (let r0 = 0; r0 < f.m; r0 += GRAM_ROWS) {
          const m = Math.min(GRAM_ROWS, f.m - r0);
          G.fill(0);
          this.layers.forEach((layer, l) => {
            const d = per[l];
            for (let i = 0; i < m; i++) {
              actRow(f, l, layer.in - 1, r0 + i, act, 0);
              for (let o = 0; o < layer.out; o++) {
                const v = d[(r0 + i) * layer.out + o];
                if (v === 0) continue;
                const g0 = i * P + layer.offset + o * layer.in;
                for (let j = 0; j < layer.in; j++) G[g0 + j] = v * act[j];
              }
            }
          });
          addGram(G, m, P, H, 1 / data.n);
        }
    for (let p = 0; p < P; p++) {
      H[p * P + p] += this.l2;
      // Exactly symmetric (the two triangles come from different summation orders).
      for (let q = p + 1; q < P; q++) H[q * P + p] = H[p * P + q];
    }
    return H;
  }

  /** Per layer: A = (1/n) sum_i acts acts^T, S = (1/n) sum_i sum_c pseudo pseudo^T (the Gauss-Newton output factor). */
  kroneckerFactors(data: HeadData): KroneckerFactors[] {
    const s = this.stateOf(data);
    const factors = this.layers.map((layer) => ({
      A: new Float64Array(layer.in * layer.in),
      S: new Float64Array(layer.out * layer.out),
    }));
    const inv = 1 / data.n;
    for (const { f } of s.chunks) {
      const pseudo = pseudoErrors(this.net, this.theta, f);
      this.layers.forEach((layer, l) => {
        addInputGram(f, l, layer.in - 1, factors[l].A, inv);
        for (const per of pseudo) addGram(per[l], f.m, layer.out, factors[l].S, inv);
      });
    }
    return factors;
  }

  /** lambda_l[k, j] = (1/n) sum_i sum_c (QS_k . pseudo_c,i)^2 (QA_j . acts_i)^2: the Gauss-Newton block's exact diagonal. */
  kroneckerDiagonal(data: HeadData, bases: readonly KroneckerBasis[]): Float64Array[] {
    const s = this.stateOf(data);
    const lambda = this.layers.map((layer) => new Float64Array(layer.out * layer.in));
    const inv = 1 / data.n;
    for (const { f } of s.chunks) {
      const pseudo = pseudoErrors(this.net, this.theta, f);
      this.layers.forEach((layer, l) => {
        const pa = projectInput(f, l, layer.in - 1, bases[l].QA);
        for (let k = 0; k < pa.length; k++) pa[k] *= pa[k];
        for (const per of pseudo) {
          const pd = project(per[l], f.m, layer.out, bases[l].QS);
          for (let k = 0; k < pd.length; k++) pd[k] *= pd[k];
          addAtB(pd, f.m, layer.out, pa, layer.in, lambda[l], inv);
        }
      });
    }
    return lambda;
  }

  /** The forward state of every row at the current theta, computed once per (data, theta) and kept for the products. */
  private stateOf(data: HeadData): DataState {
    const st = this.state;
    if (st && st.data === data && sameValues(st.theta, this.theta)) return st;
    // The MLP's passes read a row of X per row: shared rows (HeadData.of) are copied out once (cached).
    const X = ownRows(data, this.dim).X;
    const grad = new Float64Array(this.size);
    const chunks: DataState['chunks'] = [];
    let loss = 0;
    for (let from = 0; from < data.n; from += CHUNK) {
      const m = Math.min(CHUNK, data.n - from);
      const f = forward(this.net, this.theta, X, from, m);
      const b = backward(this.net, this.theta, f, data.y, from);
      loss += blockLoss(f, data.y, from, this.classes);
      accumulateGradient(this.net, f, b, grad, 1 / data.n);
      chunks.push({ from, f, b });
    }
    let reg = 0;
    for (let k = 0; k < grad.length; k++) {
      grad[k] += this.l2 * this.theta[k];
      reg += this.theta[k] * this.theta[k];
    }
    const next: DataState = {
      data,
      theta: Float64Array.from(this.theta),
      chunks,
      loss: loss / data.n + 0.5 * this.l2 * reg,
      grad,
    };
    this.state = next;
    return next;
  }
}

function asFloat64(x: ArrayLike<number>): Float64Array {
  return x instanceof Float64Array ? x : Float64Array.from(x);
}

function sameValues(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

/** Seeded LeCun-normal weights (variance 1 / fan-in, suits tanh and GELU), zero biases. */
export function initialTheta(layers: readonly HeadLayer[], size: number, seed: number): Float64Array {
  const rand = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const theta = new Float64Array(size);
  for (const layer of layers) {
    const sd = 1 / Math.sqrt(layer.in - 1);
    for (let o = 0; o < layer.out; o++)
      for (let j = 0; j + 1 < layer.in; j++) theta[layer.offset + o * layer.in + j] = sd * normal();
  }
  return theta;
}

export const mlpHeadKind: HeadKind = {
  name: 'mlp',
  convex: false,
  summary:
    'a multilayer perceptron on the pooled features (--hidden 64 or 64,32, --activation tanh|gelu): can fit its training set; non-convex',
  create(classes: number, dim: number, options: HeadOptions) {
    const hidden = options.hidden ?? [64];
    if (hidden.length < 1 || hidden.length > 2 || !hidden.every((h) => Number.isInteger(h) && h >= 1))
      throw new UsageError(
        `must be one or two positive integer widths (e.g. 64 or 64,32), got '${hidden.join(',')}'`,
        {
          option: 'hidden',
        },
      );
    const act = options.activation ?? 'tanh';
    if (!ACTIVATIONS.includes(act))
      throw new UsageError(`must be ${ACTIVATIONS.join(' or ')}, got '${String(act)}'`, {
        option: 'activation',
      });
    const curvature = options.curvature ?? DEFAULT_CURVATURE;
    if (curvature !== 'hessian' && curvature !== 'gauss-newton')
      throw new UsageError(`must be hessian or gauss-newton, got '${String(curvature)}'`, {
        option: 'curvature',
      });
    const damping = options.damping ?? DEFAULT_DAMPING;
    if (!(damping >= 0))
      throw new UsageError(`must be zero or positive, got ${damping}`, { option: 'damping' });
    if (!(options.l2 > 0))
      throw new UsageError('must be positive (the influence function needs a strictly convex objective)', {
        option: 'l2',
      });
    const { layers, size } = mlpLayers([dim, ...hidden, classes]);
    const theta = initialTheta(layers, size, options.seed ?? 0);
    return new MlpHead(classes, dim, hidden, act, options.l2, curvature, damping, theta);
  },
  train(head, data, options = {}) {
    if (!(head instanceof MlpHead)) throw new Error(`the mlp kind cannot train a ${head.kind} head`);
    return trainMlp(head, data, options);
  },
};
