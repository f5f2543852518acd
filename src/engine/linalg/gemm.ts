/**
 * General matrix products on row-major Float64Arrays: C = alpha op(A) op(B) + beta C, BLAS-style (offsets and row
 * strides, so submatrices of a bigger matrix can be used in place).
 *
 * Two engines, the same results to rounding: onnxruntime-node's float64 Gemm (synchronous, multi-threaded SIMD;
 * ortGemm.ts) for products big enough to pay its ~30 us call, and a packed, register-blocked JavaScript kernel for
 * the rest and wherever onnxruntime cannot be loaded. `linalgBackend()` says which one runs.
 */
import { ortGemmInto, ortGemmStatus } from './ortGemm';

export type LinalgBackend = 'auto' | 'js' | 'onnx';

let backendChoice: LinalgBackend = 'auto';
/** Multiply-adds (m n k) from which a product goes to onnxruntime in `auto` mode. */
let ortMinWork = 1 << 15;

/** Chooses the engine: `auto` (onnxruntime for large products when it loads), `js`, or `onnx` (throws if absent). */
export function setLinalgBackend(choice: LinalgBackend, minWork?: number): void {
  backendChoice = choice;
  if (minWork !== undefined) ortMinWork = minWork;
}

/** The engine large products run on, and why onnxruntime is not used when it is not. */
export function linalgBackend(): { engine: 'onnxruntime' | 'js'; reason?: string } {
  if (backendChoice === 'js') return { engine: 'js', reason: 'chosen' };
  const st = ortGemmStatus();
  if (st.available) return { engine: 'onnxruntime' };
  if (backendChoice === 'onnx') throw new Error(st.reason);
  return { engine: 'js', reason: st.reason };
}

function useOrt(m: number, n: number, k: number): boolean {
  if (backendChoice === 'js') return false;
  if (backendChoice === 'auto' && m * n * k < ortMinWork) return false;
  const st = ortGemmStatus();
  if (!st.available && backendChoice === 'onnx') throw new Error(st.reason);
  return st.available;
}

/**
 * Scratch buffers of the onnxruntime path, kept between calls: a fresh large array costs a page fault per 4 KiB on
 * first touch, which on this machine made copying as slow as the product itself. Very large ones are dropped.
 */
const KEEP = 1 << 22;
const pool: Float64Array[] = [new Float64Array(0), new Float64Array(0), new Float64Array(0)];
function buffer(slot: number, size: number): Float64Array {
  let b = pool[slot];
  if (b.length < size) pool[slot] = b = new Float64Array(size);
  return b.length === size ? b : b.subarray(0, size);
}
function releaseLarge(): void {
  for (let s = 0; s < pool.length; s++) if (pool[s].length > KEEP) pool[s] = new Float64Array(0);
}

/** Drops the scratch buffers kept between products (up to 3 x 32 MB), e.g. after a large factorization. */
export function releaseLinalgScratch(): void {
  for (let s = 0; s < pool.length; s++) pool[s] = new Float64Array(0);
}

/** The r x c block at off with row stride ld, as a contiguous view when it is one, else copied into a pool slot. */
function contiguous(
  X: Float64Array,
  off: number,
  ld: number,
  r: number,
  c: number,
  slot: number,
): Float64Array {
  if (ld === c || r === 1) return X.subarray(off, off + (r - 1) * ld + c);
  const out = buffer(slot, r * c);
  for (let i = 0; i < r; i++) out.set(X.subarray(off + i * ld, off + i * ld + c), i * c);
  return out;
}

/**
 * C[cOff + i*ldc + j] = alpha * sum_p op(A)[i,p] op(B)[p,j] + beta * C[...], for i < m, j < n, p < k.
 * op(A) is A (stored m x k, row stride lda) or, with transA, A^T (A stored k x m); likewise B (k x n or n x k).
 * beta = 0 ignores what C held (NaN included), as BLAS does. C must not overlap A or B.
 */
export function gemm(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  A: Float64Array,
  aOff: number,
  lda: number,
  B: Float64Array,
  bOff: number,
  ldb: number,
  beta: number,
  C: Float64Array,
  cOff: number,
  ldc: number,
): void {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha === 0) {
    scaleBlock(C, cOff, ldc, m, n, beta);
    return;
  }
  if (useOrt(m, n, k)) {
    // A product whose copies of A or C would exceed the kept scratch runs in row blocks of C, so the transient
    // copies stay near KEEP numbers instead of growing with the operands (the factorizations' top levels made three
    // 120 MB copies at p = 7,850).
    const copiesA = !(transA ? lda === m || k === 1 : lda === k || m === 1);
    const copiesB = !(transB ? ldb === k || n === 1 : ldb === n || k === 1);
    const copiesC = !(beta === 0 && alpha === 1 && (ldc === n || m === 1));
    const rowsMax = Math.max(64, Math.floor(KEEP / Math.max(n, k)));
    if ((copiesA || copiesC) && m > rowsMax && m * Math.max(n, k) > KEEP) {
      for (let i0 = 0; i0 < m; i0 += rowsMax) {
        const mc = Math.min(rowsMax, m - i0);
        const a0 = aOff + (transA ? i0 : i0 * lda);
        gemm(transA, transB, mc, n, k, alpha, A, a0, lda, B, bOff, ldb, beta, C, cOff + i0 * ldc, ldc);
      }
      return;
    }
    // Likewise in column blocks of C when the copy of B would be large.
    const colsMax = Math.max(64, Math.floor(KEEP / Math.max(m, k)));
    if (copiesB && n > colsMax && n * k > KEEP) {
      for (let j0 = 0; j0 < n; j0 += colsMax) {
        const nc = Math.min(colsMax, n - j0);
        const b0 = bOff + (transB ? j0 * ldb : j0);
        gemm(transA, transB, m, nc, k, alpha, A, aOff, lda, B, b0, ldb, beta, C, cOff + j0, ldc);
      }
      return;
    }
    const [ar, ac] = transA ? [k, m] : [m, k];
    const [br, bc] = transB ? [n, k] : [k, n];
    const Ac = contiguous(A, aOff, lda, ar, ac, 0);
    // X X^T and X^T X (syrk-like calls) share one copy of X.
    const same = B === A && bOff === aOff && ldb === lda && ar === br && ac === bc;
    const Bc = same ? Ac : contiguous(B, bOff, ldb, br, bc, 1);
    if (beta === 0 && alpha === 1 && (ldc === n || m === 1)) {
      ortGemmInto(transA, transB, m, n, k, Ac, Bc, C.subarray(cOff, cOff + m * n));
      releaseLarge();
      return;
    }
    const Y = buffer(2, m * n);
    ortGemmInto(transA, transB, m, n, k, Ac, Bc, Y);
    for (let i = 0; i < m; i++) {
      const c = cOff + i * ldc;
      const y = i * n;
      if (beta === 0) for (let j = 0; j < n; j++) C[c + j] = alpha * Y[y + j];
      else if (beta === 1) for (let j = 0; j < n; j++) C[c + j] += alpha * Y[y + j];
      else for (let j = 0; j < n; j++) C[c + j] = beta * C[c + j] + alpha * Y[y + j];
    }
    releaseLarge();
    return;
  }
  scaleBlock(C, cOff, ldc, m, n, beta);
  jsGemmAcc(transA, transB, m, n, k, alpha, A, aOff, lda, B, bOff, ldb, C, cOff, ldc);
}

function scaleBlock(C: Float64Array, off: number, ld: number, m: number, n: number, beta: number): void {
  if (beta === 1) return;
  for (let i = 0; i < m; i++) {
    const c = off + i * ld;
    if (beta === 0) C.fill(0, c, c + n);
    else for (let j = 0; j < n; j++) C[c + j] *= beta;
  }
}

// --- the JavaScript kernel: op(B) packed in 4-column panels, op(A) in 4-row panels, 4 x 4 register tiles ---
const KC = 256;
const MC = 128;
const packA = new Float64Array(KC * MC);
let packB = new Float64Array(0);

/** C += alpha op(A) op(B) on the JS kernel (no dispatch). Exported for the tests and the benchmark. */
export function jsGemmAcc(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  A: Float64Array,
  aOff: number,
  lda: number,
  B: Float64Array,
  bOff: number,
  ldb: number,
  C: Float64Array,
  cOff: number,
  ldc: number,
): void {
  const n4 = (n + 3) & ~3;
  if (packB.length < KC * n4) packB = new Float64Array(KC * n4);
  const bp = packB;
  const ap = packA;
  // Strides of op(A)[i,p] and op(B)[p,j] in memory.
  const aRow = transA ? 1 : lda;
  const aCol = transA ? lda : 1;
  const bRow = transB ? 1 : ldb;
  const bCol = transB ? ldb : 1;
  for (let p0 = 0; p0 < k; p0 += KC) {
    const kc = Math.min(KC, k - p0);
    for (let jp = 0; jp < n; jp += 4) {
      const base = jp * kc;
      const w = Math.min(4, n - jp);
      for (let p = 0; p < kc; p++) {
        const src = bOff + (p0 + p) * bRow + jp * bCol;
        const dst = base + 4 * p;
        for (let jj = 0; jj < 4; jj++) bp[dst + jj] = jj < w ? B[src + jj * bCol] : 0;
      }
    }
    for (let i0 = 0; i0 < m; i0 += MC) {
      const mc = Math.min(MC, m - i0);
      for (let ip = 0; ip < mc; ip += 4) {
        const base = ip * kc;
        const h = Math.min(4, mc - ip);
        for (let p = 0; p < kc; p++) {
          const src = aOff + (i0 + ip) * aRow + (p0 + p) * aCol;
          const dst = base + 4 * p;
          for (let ii = 0; ii < 4; ii++) ap[dst + ii] = ii < h ? A[src + ii * aRow] : 0;
        }
      }
      for (let ip = 0; ip < mc; ip += 4)
        for (let jp = 0; jp < n; jp += 4)
          micro4x4(
            ap,
            ip * kc,
            bp,
            jp * kc,
            kc,
            alpha,
            C,
            cOff,
            ldc,
            i0 + ip,
            jp,
            Math.min(4, m - i0 - ip),
            Math.min(4, n - jp),
          );
    }
  }
}

function micro4x4(
  ap: Float64Array,
  ao: number,
  bp: Float64Array,
  bo: number,
  kc: number,
  alpha: number,
  C: Float64Array,
  cOff: number,
  ldc: number,
  i: number,
  j: number,
  h: number,
  w: number,
): void {
  let c00 = 0,
    c01 = 0,
    c02 = 0,
    c03 = 0,
    c10 = 0,
    c11 = 0,
    c12 = 0,
    c13 = 0;
  let c20 = 0,
    c21 = 0,
    c22 = 0,
    c23 = 0,
    c30 = 0,
    c31 = 0,
    c32 = 0,
    c33 = 0;
  for (let p = 0; p < kc; p++) {
    const a = ao + 4 * p;
    const b = bo + 4 * p;
    const a0 = ap[a],
      a1 = ap[a + 1],
      a2 = ap[a + 2],
      a3 = ap[a + 3];
    const b0 = bp[b],
      b1 = bp[b + 1],
      b2 = bp[b + 2],
      b3 = bp[b + 3];
    c00 += a0 * b0;
    c01 += a0 * b1;
    c02 += a0 * b2;
    c03 += a0 * b3;
    c10 += a1 * b0;
    c11 += a1 * b1;
    c12 += a1 * b2;
    c13 += a1 * b3;
    c20 += a2 * b0;
    c21 += a2 * b1;
    c22 += a2 * b2;
    c23 += a2 * b3;
    c30 += a3 * b0;
    c31 += a3 * b1;
    c32 += a3 * b2;
    c33 += a3 * b3;
  }
  const r0 = cOff + i * ldc + j;
  if (h === 4 && w === 4) {
    const r1 = r0 + ldc;
    const r2 = r1 + ldc;
    const r3 = r2 + ldc;
    C[r0] += alpha * c00;
    C[r0 + 1] += alpha * c01;
    C[r0 + 2] += alpha * c02;
    C[r0 + 3] += alpha * c03;
    C[r1] += alpha * c10;
    C[r1 + 1] += alpha * c11;
    C[r1 + 2] += alpha * c12;
    C[r1 + 3] += alpha * c13;
    C[r2] += alpha * c20;
    C[r2 + 1] += alpha * c21;
    C[r2 + 2] += alpha * c22;
    C[r2 + 3] += alpha * c23;
    C[r3] += alpha * c30;
    C[r3 + 1] += alpha * c31;
    C[r3 + 2] += alpha * c32;
    C[r3 + 3] += alpha * c33;
    return;
  }
  const t = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
  for (let a = 0; a < h; a++) for (let b = 0; b < w; b++) C[r0 + a * ldc + b] += alpha * t[a * 4 + b];
}

// --- conveniences over contiguous matrices ---

/** A B for A m x k, B k x n (contiguous); a new m x n array. */
export function matmul(A: Float64Array, B: Float64Array, m: number, k: number, n: number): Float64Array {
  const C = new Float64Array(m * n);
  gemm(false, false, m, n, k, 1, A, 0, k, B, 0, n, 0, C, 0, n);
  return C;
}

/** A^T B for A k x m, B k x n (contiguous); a new m x n array. */
export function matmulTN(A: Float64Array, B: Float64Array, k: number, m: number, n: number): Float64Array {
  const C = new Float64Array(m * n);
  gemm(true, false, m, n, k, 1, A, 0, m, B, 0, n, 0, C, 0, n);
  return C;
}

/** A B^T for A m x k, B n x k (contiguous); a new m x n array. */
export function matmulNT(A: Float64Array, B: Float64Array, m: number, k: number, n: number): Float64Array {
  const C = new Float64Array(m * n);
  gemm(false, true, m, n, k, 1, A, 0, k, B, 0, k, 0, C, 0, n);
  return C;
}

/**
 * G += alpha X^T diag(w) X for the rows [r0, r1) of X (row-major, D columns, row stride ldx), G D x D (row stride
 * ldg); w indexed by row (w[i] for row i), or undefined for unit weights. Rows are processed in blocks of `block`
 * so the weighted copy stays small; G's full square is written (symmetric).
 */
export function weightedGramAcc(
  G: Float64Array,
  gOff: number,
  ldg: number,
  X: Float64Array,
  xOff: number,
  ldx: number,
  D: number,
  r0: number,
  r1: number,
  w: ArrayLike<number> | undefined,
  alpha = 1,
  block = 2048,
): void {
  const tmp = new Float64Array(Math.min(block, Math.max(0, r1 - r0)) * D);
  for (let b0 = r0; b0 < r1; b0 += block) {
    const rows = Math.min(block, r1 - b0);
    if (w) {
      for (let i = 0; i < rows; i++) {
        const wi = w[b0 + i];
        const src = xOff + (b0 + i) * ldx;
        const dst = i * D;
        for (let j = 0; j < D; j++) tmp[dst + j] = wi * X[src + j];
      }
      gemm(true, false, D, D, rows, alpha, tmp, 0, D, X, xOff + b0 * ldx, ldx, 1, G, gOff, ldg);
    } else {
      gemm(true, false, D, D, rows, alpha, X, xOff + b0 * ldx, ldx, X, xOff + b0 * ldx, ldx, 1, G, gOff, ldg);
    }
  }
}
