/**
 * Symmetric eigendecomposition A = V diag(w) V^T (row-major Float64Arrays), the LAPACK dsyevd recipe:
 * blocked Householder tridiagonalization (dsytrd), divide and conquer on the tridiagonal matrix (dstedc,
 * tridiagonalDC.ts), and the Householder back-transformation of the eigenvectors in blocks (compact WY).
 *
 * Work: 4/3 n^3 for the reduction, half of it matrix-vector products in plain loops (the part that dominates), the
 * other half gemm; the divide and conquer merges and the back-transformation are gemm. The tridiagonal matrix is
 * split where its off-diagonal is negligible first, so a rank-r Gram matrix (r rows, wide features) only pays for an
 * r x r-sized tridiagonal problem. Replaces cyclic Jacobi (O(n^3) per sweep, many sweeps).
 */
import { gemm } from './gemm';
import { tridiagonalEigenDC } from './tridiagonalDC';

export interface SymmetricEigen {
  /** Eigenvalues, ascending. */
  values: Float64Array;
  /** Eigenvectors as the columns of V (row-major n x n): A V[:, k] = values[k] V[:, k]. */
  vectors: Float64Array;
}

/** Eigendecomposition of a symmetric n x n matrix (only the lower triangle is read; A is not modified). */
export function symmetricEigenDC(A: Float64Array, n: number): SymmetricEigen {
  if (n === 0) return { values: new Float64Array(0), vectors: new Float64Array(0) };
  const a = A.slice(0, n * n);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const tau = new Float64Array(n);
  tridiagonalize(a, n, d, e, tau);
  // Rows of ZT are the eigenvectors of the tridiagonal matrix, then of A.
  const ZT = new Float64Array(n * n);
  tridiagonalEigen(d, e, ZT, n);
  backTransform(a, n, tau, ZT);
  // Sort ascending and transpose into columns.
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => d[x] - d[y]);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const src = order[k];
    values[k] = d[src];
    const row = src * n;
    for (let j = 0; j < n; j++) vectors[j * n + k] = ZT[row + j];
  }
  return { values, vectors };
}

/**
 * Householder reduction of the lower triangle of a (overwritten) to tridiagonal form T = Q^T A Q, Q = H_0 ... H_{n-3},
 * H_i = I - tau_i v_i v_i^T with v_i[i+1] = 1 and v_i[i+2:] stored in a[i+2:, i]. d: diagonal of T, e[i]: T[i+1, i].
 *
 * Blocked as LAPACK's dsytrd/dlatrd: within a panel of NB columns each reflector needs one symmetric
 * matrix-vector product with the not-yet-updated trailing matrix (plain loops over its lower triangle, corrected
 * by the panel's earlier reflectors), and the trailing matrix gets the panel's rank-2NB update
 * A22 -= V W^T + W V^T as two gemm calls.
 */
function tridiagonalize(
  a: Float64Array,
  n: number,
  d: Float64Array,
  e: Float64Array,
  tau: Float64Array,
): void {
  const NB = 64;
  const nref = n - 2; // reflectors for columns 0..n-3
  const V = new Float64Array(n * NB); // panel reflectors, row r - i0, column j
  const W = new Float64Array(n * NB);
  const VW = new Float64Array(n * 2 * NB); // [V W] and [W V] of the trailing rows, for the update
  const WV = new Float64Array(n * 2 * NB);
  const v = new Float64Array(n);
  const w = new Float64Array(n);
  const t1 = new Float64Array(NB);
  const t2 = new Float64Array(NB);
  for (let i0 = 0; i0 < nref; i0 += NB) {
    const nb = Math.min(NB, nref - i0);
    const rowsP = n - i0;
    V.fill(0, 0, rowsP * NB);
    W.fill(0, 0, rowsP * NB);
    for (let j = 0; j < nb; j++) {
      const c = i0 + j;
      // Column c, rows c..n-1, gets the panel's earlier reflectors: a[c:, c] -= V[c:, :j] W[c, :j] + W[c:, :j] V[c, :j].
      if (j > 0) {
        const rc = (c - i0) * NB;
        for (let r = c; r < n; r++) {
          const rr = (r - i0) * NB;
          let s = 0;
          for (let q = 0; q < j; q++) s += V[rr + q] * W[rc + q] + W[rr + q] * V[rc + q];
          a[r * n + c] -= s;
        }
      }
      d[c] = a[c * n + c];
      // Reflector annihilating a[c+2:, c].
      const s0 = c + 1;
      let xnorm2 = 0;
      for (let r = s0 + 1; r < n; r++) xnorm2 += a[r * n + c] * a[r * n + c];
      const x0 = a[s0 * n + c];
      if (xnorm2 === 0) {
        tau[c] = 0;
        e[c] = x0;
        continue; // V[:, j] = W[:, j] = 0: H_c = I
      }
      const beta = -Math.sign(x0 || 1) * Math.sqrt(x0 * x0 + xnorm2);
      const t = (beta - x0) / beta;
      const scale = 1 / (x0 - beta);
      tau[c] = t;
      e[c] = beta;
      v.fill(0, 0, s0);
      v[s0] = 1;
      for (let r = s0 + 1; r < n; r++) v[r] = a[r * n + c] *= scale;
      // w = A22 v over the lower triangle of a[s0:, s0:] (not yet updated by this panel).
      symvLower(a, n, s0, v, w);
      // w -= V (W^T v) + W (V^T v), over rows s0..n-1.
      if (j > 0) {
        t1.fill(0);
        t2.fill(0);
        for (let r = s0; r < n; r++) {
          const rr = (r - i0) * NB;
          const vr = v[r];
          for (let q = 0; q < j; q++) {
            t1[q] += W[rr + q] * vr;
            t2[q] += V[rr + q] * vr;
          }
        }
        for (let r = s0; r < n; r++) {
          const rr = (r - i0) * NB;
          let s = 0;
          for (let q = 0; q < j; q++) s += V[rr + q] * t1[q] + W[rr + q] * t2[q];
          w[r] -= s;
        }
      }
      let wv = 0;
      for (let r = s0; r < n; r++) {
        w[r] *= t;
        wv += w[r] * v[r];
      }
      const alpha = -0.5 * t * wv;
      for (let r = s0; r < n; r++) {
        const rr = (r - i0) * NB + j;
        V[rr] = v[r];
        W[rr] = w[r] + alpha * v[r];
      }
    }
    // Trailing matrix a[i0+nb:, i0+nb:] -= V W^T + W V^T (both triangles; the next panels read the lower one).
    const s = i0 + nb;
    const m = n - s;
    if (m > 0) {
      // One product with k = 2 nb, [V W] [W V]^T, so the trailing matrix is read and written once per panel.
      for (let r = 0; r < m; r++) {
        const src = (r + nb) * NB;
        const dst = r * 2 * nb;
        for (let q = 0; q < nb; q++) {
          VW[dst + q] = WV[dst + nb + q] = V[src + q];
          WV[dst + q] = VW[dst + nb + q] = W[src + q];
        }
      }
      gemm(false, true, m, m, 2 * nb, -1, VW, 0, 2 * nb, WV, 0, 2 * nb, 1, a, s * n + s, n);
    }
  }
  if (n >= 2) {
    d[n - 2] = a[(n - 2) * n + n - 2];
    e[n - 2] = a[(n - 1) * n + n - 2];
    tau[n - 2] = 0;
  }
  d[n - 1] = a[(n - 1) * n + n - 1];
  e[n - 1] = 0;
}

/**
 * w[s0:] = A[s0:, s0:] v[s0:] for symmetric A given by its lower triangle (row stride n). Two rows per pass, so each
 * v[q] and w[q] is loaded once for two matrix entries (the reduction's hot loop: ~1.7x over one row at a time).
 */
function symvLower(a: Float64Array, n: number, s0: number, v: Float64Array, w: Float64Array): void {
  w.fill(0, s0, n);
  let r = s0;
  for (; r + 2 <= n; r += 2) {
    const r0 = r * n;
    const r1 = r0 + n;
    const v0 = v[r];
    const v1 = v[r + 1];
    let a0 = 0;
    let a1 = 0;
    for (let q = s0; q < r; q++) {
      const x0 = a[r0 + q];
      const x1 = a[r1 + q];
      const vq = v[q];
      a0 += x0 * vq;
      a1 += x1 * vq;
      w[q] += x0 * v0 + x1 * v1;
    }
    const x10 = a[r1 + r];
    w[r] += a0 + a[r0 + r] * v0 + x10 * v1;
    w[r + 1] += a1 + x10 * v0 + a[r1 + r + 1] * v1;
  }
  if (r < n) {
    const row = r * n;
    const vr = v[r];
    let acc = 0;
    for (let q = s0; q < r; q++) {
      acc += a[row + q] * v[q];
      w[q] += a[row + q] * vr;
    }
    w[r] += acc + a[row + r] * vr;
  }
}

/**
 * Eigenpairs of the tridiagonal (d, e; e[i] couples i and i+1), eigenvectors into the rows of ZT (zero on entry).
 * Overwrites d with the eigenvalues (unsorted). The matrix is first split where |e| is below the rounding of its
 * norm (a backward error of eps |A|, the accuracy of the whole method anyway); each unreduced block is solved by
 * divide and conquer (tridiagonalDC.ts), and its eigenvectors are supported on its own columns.
 */
function tridiagonalEigen(d: Float64Array, e: Float64Array, ZT: Float64Array, n: number): void {
  let norm = 0;
  for (let i = 0; i < n; i++)
    norm = Math.max(norm, Math.abs(d[i]) + Math.abs(e[i]) + (i > 0 ? Math.abs(e[i - 1]) : 0));
  const eps = 2 ** -52;
  let lo = 0;
  while (lo < n) {
    let hi = lo;
    while (hi < n - 1 && Math.abs(e[hi]) > eps * norm) hi++;
    const m = hi - lo + 1;
    if (m === 1) ZT[lo * n + lo] = 1;
    else {
      const { values, rows } = tridiagonalEigenDC(d.subarray(lo, hi + 1), e.subarray(lo, hi), m);
      d.set(values, lo);
      for (let i = 0; i < m; i++) ZT.set(rows.subarray(i * m, (i + 1) * m), (lo + i) * n + lo);
    }
    lo = hi + 1;
  }
}

/** Rows x of ZT := Q x, with Q = H_0 ... H_{n-3} from tridiagonalize, by blocks of reflectors (compact WY). */
function backTransform(a: Float64Array, n: number, tau: Float64Array, ZT: Float64Array): void {
  const NB = 64;
  const nref = n - 2;
  if (nref <= 0) return;
  const V = new Float64Array(n * NB); // reflectors of the block as columns (rows s..n-1 used)
  const T = new Float64Array(NB * NB);
  const W = new Float64Array(n * NB); // ZT V, then (ZT V) T^T
  const W2 = new Float64Array(n * NB);
  const lastStart = Math.floor((nref - 1) / NB) * NB;
  for (let b0 = lastStart; b0 >= 0; b0 -= NB) {
    const nb = Math.min(NB, nref - b0);
    const s = b0 + 1; // first row any reflector of the block touches
    const rows = n - s;
    // V[r - s, j] = v_{b0+j}[r]
    V.fill(0, 0, rows * nb);
    for (let j = 0; j < nb; j++) {
      const i = b0 + j;
      V[(i + 1 - s) * nb + j] = 1;
      for (let r = i + 2; r < n; r++) V[(r - s) * nb + j] = a[r * n + i];
    }
    // T (upper, nb x nb): Q_blk = H_b0 ... H_{b0+nb-1} = I - V T V^T.
    T.fill(0, 0, nb * nb);
    for (let j = 0; j < nb; j++) {
      const tj = tau[b0 + j];
      T[j * nb + j] = tj;
      if (tj === 0) continue;
      // z = V[:, 0:j]^T v_j, then T[0:j, j] = -tj T[0:j, 0:j] z
      const z = new Float64Array(j);
      for (let r = 0; r < rows; r++) {
        const vrj = V[r * nb + j];
        if (vrj === 0) continue;
        for (let q = 0; q < j; q++) z[q] += V[r * nb + q] * vrj;
      }
      for (let q = 0; q < j; q++) {
        let acc = 0;
        for (let u = q; u < j; u++) acc += T[q * nb + u] * z[u];
        T[q * nb + j] = -tj * acc;
      }
    }
    // ZT[:, s:] -= ((ZT[:, s:] V) T^T) V^T
    gemm(false, false, n, nb, rows, 1, ZT, s, n, V, 0, nb, 0, W, 0, nb);
    gemm(false, true, n, nb, nb, 1, W, 0, nb, T, 0, nb, 0, W2, 0, nb);
    gemm(false, true, n, rows, nb, -1, W2, 0, nb, V, 0, nb, 1, ZT, s, n);
  }
}
