import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after } from 'node:test';
import type { HeadData } from '../../src/engine/model/head';

/** Deterministic pseudo-random numbers for fixtures. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

export function gaussian(r: () => number): number {
  return Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
}

/** A small, noisy C-class problem (some rows near the boundary or mislabeled so influence varies). */
export function syntheticData(n: number, D: number, C: number, seed = 1): HeadData {
  const r = rng(seed);
  const centers = Array.from({ length: C }, () => Array.from({ length: D }, () => 1.5 * gaussian(r)));
  const X = new Float64Array(n * D);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % C;
    y[i] = r() < 0.08 ? (c + 1) % C : c;
    for (let j = 0; j < D; j++) X[i * D + j] = centers[c][j] + gaussian(r);
  }
  return { X, y, n };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i] / n;
    mb += b[i] / n;
  }
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** Gauss-Jordan inverse with partial pivoting: independent of the engine's Cholesky path (the exact solver's). */
export function inverse(A: Float64Array, n: number): Float64Array {
  const a = Float64Array.from(A);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r * n + c]) > Math.abs(a[piv * n + c])) piv = r;
    for (let k = 0; k < n; k++) {
      [a[c * n + k], a[piv * n + k]] = [a[piv * n + k], a[c * n + k]];
      [inv[c * n + k], inv[piv * n + k]] = [inv[piv * n + k], inv[c * n + k]];
    }
    const d = a[c * n + c];
    for (let k = 0; k < n; k++) {
      a[c * n + k] /= d;
      inv[c * n + k] /= d;
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = a[r * n + c];
      for (let k = 0; k < n; k++) {
        a[r * n + k] -= f * a[c * n + k];
        inv[r * n + k] -= f * inv[c * n + k];
      }
    }
  }
  return inv;
}

/**
 * A temporary folder for one test file's fixtures, removed after its tests: `fixture(ext, content)` writes a new
 * file f<k>.<ext> there and returns its path.
 */
export function fixtureFolder(prefix: string): {
  dir: string;
  fixture: (ext: string, content: string | Buffer) => string;
} {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  return {
    dir,
    fixture(ext, content) {
      const file = path.join(dir, `f${n++}.${ext}`);
      writeFileSync(file, content);
      return file;
    },
  };
}
