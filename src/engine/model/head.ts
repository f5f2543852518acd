/**
 * The model seam: what the influence math needs from a trainable head on pooled features (after Kronfluence's
 * `Task`: the head says how to compute outputs, per-row gradients and curvature; solvers only ever see this).
 *
 * Parameter layout, shared by every head: theta is the concatenation of dense layers, layer l a block of
 * `out x in` numbers (row-major) at `offset`, whose last input column is the bias (its input is the constant 1).
 * Every per-row loss gradient of such a stack is, per layer, an outer product `delta_l (x) act_l` (the
 * back-propagated error at the layer's outputs times its inputs with the trailing 1): that is the form in which
 * heads hand gradients to solvers (GradientBatch), so EK-FAC never needs the flat gradient and exact solvers can
 * build it when they need it (flatGradient).
 *
 * Everything second-order is written out by hand and checked against finite differences in the tests (PLATFORM.md:
 * tfjs double backprop is silently wrong for tanh/exp/softmax).
 */

/**
 * Training data for a head: n pooled, standardized input vectors and class indices. X holds one row per row
 * (n x dim, row-major), or, with `of`, one per distinct (vector, label) pair of the rows, row i's being X's row
 * of[i]: prepare() shares identical rows so (1,000,000 two-word rows hold about 175,000 distinct ones: 140 MB of
 * features instead of 800). Code that reads X by row goes through model/identicalRows.ts (featureRow, featureBlock,
 * or ownRows for a copy with a row each).
 */
export interface HeadData {
  X: Float64Array;
  y: Int32Array;
  n: number;
  /** Row i's row of X, when rows share them (a distinct (vector, label) pair per row of X, each used). */
  of?: Int32Array;
}

/** One dense layer's parameter block: out x in numbers at offset, row-major; column in-1 is the bias. */
export interface HeadLayer {
  offset: number;
  out: number;
  in: number;
}

/**
 * Loss gradients of m rows, per layer: row i's gradient of layer l's block is delta_l[i] (x) act_l[i], where
 * delta (m x out) and act (m x in, last column 1) are row-major. Plus each row's class probabilities.
 */
export interface GradientBatch {
  m: number;
  /** m x classes softmax probabilities. */
  prob: Float64Array;
  layers: { delta: Float64Array; act: Float64Array }[];
}

/** Which curvature of the objective the solvers invert (for a linear head both are the same matrix). */
export type Curvature = 'hessian' | 'gauss-newton';

/** Optional capabilities a solver can require (SolverKind.requires); a head declares what it has. */
export type HeadCapability = 'denseCurvature' | 'rowCurvature' | 'kronecker';

/** Per layer: the Kronecker factors of the curvature block, G_l ~ S_l (x) A_l (K-FAC / EK-FAC). */
export interface KroneckerFactors {
  /** in x in: (1/n) sum_i act_i act_i^T. */
  A: Float64Array;
  /** out x out: the output-side factor, (1/n) sum_i of the row's curvature w.r.t. the layer's outputs. */
  S: Float64Array;
}

/** Eigenbases of a layer's factors, as columns of row-major matrices (QS: out x out, QA: in x in). */
export interface KroneckerBasis {
  QS: Float64Array;
  QA: Float64Array;
}

export interface Head {
  /** The registry name of its kind ('linear', 'mlp'). */
  readonly kind: string;
  readonly classes: number;
  /** Input dimension (the pooled feature width). */
  readonly dim: number;
  readonly layers: readonly HeadLayer[];
  /** Number of parameters (length of theta). */
  readonly size: number;
  /** Parameters, layout per `layers`. Training replaces it. */
  theta: Float64Array;
  /** The objective is R = mean_i CE_i + (l2/2)|theta|^2. */
  readonly l2: number;
  /** What curvatureProduct and the optional curvature capabilities compute. */
  readonly curvature: Curvature;
  /** Added to the curvature (times I) before inverting; reported in the summary. 0 for the linear head. */
  readonly damping: number;
  readonly capabilities: ReadonlySet<HeadCapability>;
  /** One line for the summary and the report, e.g. "linear (202 parameters)". */
  describe(): string;

  /** Softmax probabilities of the m rows of X (m x dim), written into out (m x classes). */
  probabilities(X: ArrayLike<number>, m: number, out?: Float64Array): Float64Array;
  /** R and its gradient over data. */
  objective(data: HeadData): { value: number; grad: Float64Array };
  /** Per-row loss gradients (and probabilities) of the m rows of X with labels y (offset `from` into both). */
  gradients(X: ArrayLike<number>, y: ArrayLike<number>, m: number, from?: number): GradientBatch;
  /** (1/n) sum_i C_i v + l2 v, C_i row i's loss curvature (Hessian or Gauss-Newton, per `curvature`); no damping. */
  curvatureProduct(data: HeadData, v: ArrayLike<number>): Float64Array;
  /** d/dh of s^T grad_theta L(h, y): the input gradient that token attributions integrate (h: length dim). */
  inputGradient(s: ArrayLike<number>, h: ArrayLike<number>, y: number): Float64Array;

  /** 'denseCurvature': the dense size x size matrix of curvatureProduct (l2 included, no damping), row-major. */
  denseCurvature?(data: HeadData): Float64Array;
  /** 'rowCurvature': adds scale * C_i v (row i's data part only) into out (LiSSA's stochastic products). */
  rowCurvatureProduct?(
    data: HeadData,
    i: number,
    v: ArrayLike<number>,
    out: Float64Array,
    scale: number,
  ): void;
  /** 'kronecker': the Kronecker factors of each layer's curvature block. */
  kroneckerFactors?(data: HeadData): KroneckerFactors[];
  /**
   * 'kronecker': the exact diagonal of each layer's curvature block (data part, no l2) in the eigenbasis
   * QS (x) QA, as out x in (entry [k, l] for eigenvector k of S and l of A): EK-FAC's refitted eigenvalues.
   */
  kroneckerDiagonal?(data: HeadData, bases: readonly KroneckerBasis[]): Float64Array[];
}

/** Row i of a batch as one flat gradient of length head.size. */
export function flatGradient(
  head: Pick<Head, 'layers' | 'size'>,
  batch: GradientBatch,
  i: number,
): Float64Array {
  const g = new Float64Array(head.size);
  head.layers.forEach((layer, l) => {
    const { delta, act } = batch.layers[l];
    const d0 = i * layer.out;
    const a0 = i * layer.in;
    for (let a = 0; a < layer.out; a++) {
      const da = delta[d0 + a];
      if (da === 0) continue;
      const row = layer.offset + a * layer.in;
      for (let b = 0; b < layer.in; b++) g[row + b] = da * act[a0 + b];
    }
  });
  return g;
}

/** Row i's loss gradient and probabilities for one input h (length dim). */
export function rowGradient(
  head: Head,
  h: ArrayLike<number>,
  y: number,
): { grad: Float64Array; p: Float64Array } {
  const batch = head.gradients(h, [y], 1);
  return { grad: flatGradient(head, batch, 0), p: batch.prob.subarray(0, head.classes) };
}

/** Whether a head has every capability in `needs`; the missing ones otherwise. */
export function missingCapabilities(
  head: Pick<Head, 'capabilities'>,
  needs: readonly HeadCapability[],
): HeadCapability[] {
  return needs.filter((c) => !head.capabilities.has(c));
}
