/**
 * Nearest training rows in the head's input space (the pooled, standardized features), by cosine similarity.
 *
 * Why cosine: mean-pooled token vectors shrink towards the corpus mean as a text gets longer, so after
 * standardization the length of a row's vector says more about its length than its content; Euclidean neighbours
 * would pair long texts with long texts. Cosine compares directions (the content profile), is bounded in [-1, 1], so
 * one similarity threshold means the same on every dataset, and on unit vectors it is the Euclidean order as well,
 * so exact and graph searches agree. A row of all zeros (exactly at the column means) has similarity 0 to every row.
 *
 * Engines (`engine` in the result says which ran, `note` why):
 * - exact: unit rows, similarity blocks U_q U^T on the shared matrix product (linalg/gemm: onnxruntime's Gemm when
 *   it loads, else the blocked JavaScript kernel), top k per row in JavaScript. O(n^2 D): about a second at 4,000
 *   rows, far too slow at 100k (10^10 similarities).
 * - hnsw: the optional native package `usearch` (HNSW graph, prebuilt binaries for linux x64/arm64 and macOS). Loaded
 *   with a try: when it is missing or fails to load, the exact engine runs and the note says so. Multi-threaded
 *   index construction makes the graph, and in rare near-ties the neighbours, differ between runs.
 * Both return the similarities recomputed in float64 from the unit rows, sorted by similarity (ties: lower index).
 * Rows with bitwise-identical vectors (the same text) are searched once and expanded after: a row's nearest are its
 * copies (similarity 1), then the rows of the nearest distinct vectors. The engine is chosen by the number of
 * distinct vectors (the 100k-row benchmark file repeats 4,000 rows: 3,734 distinct vectors, searched exactly).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gemm, linalgBackend } from '../linalg/gemm';
import { yieldToEventLoop } from '../pipeline/clock';

export type NeighbourMethod = 'auto' | 'exact' | 'approximate';

export interface NeighbourOptions {
  /** Neighbours per row (default 10). */
  k?: number;
  /** auto (default): exact up to `exactLimit` distinct vectors, else the HNSW index when usearch loads, else exact. */
  method?: NeighbourMethod;
  /** Distinct vectors up to which `auto` searches exactly (default 20,000). */
  exactLimit?: number;
  /** Row i's row of X when rows share X's rows (HeadData.of); X then has one row per distinct row. */
  of?: Int32Array;
  /** HNSW parameters (usearch): graph degree, candidate lists while building and searching; threads (0 = all cores). */
  hnsw?: { connectivity?: number; expansionAdd?: number; expansionSearch?: number; threads?: number };
  signal?: AbortSignal;
}

export interface Neighbours {
  n: number;
  k: number;
  /** Row i's neighbours at [i*k, i*k + k), nearest first; -1 where the data has fewer than k other rows. */
  index: Int32Array;
  /** Cosine similarity of each neighbour (NaN where index is -1). */
  similarity: Float64Array;
  engine: 'exact (onnxruntime)' | 'exact (js)' | 'hnsw (usearch)';
  exact: boolean;
  /** One line for the summary: which engine ran and why. */
  note: string;
}

export const DEFAULT_K = 10;
export const DEFAULT_EXACT_LIMIT = 20_000;
export const HNSW_DEFAULTS = { connectivity: 16, expansionAdd: 96, expansionSearch: 64, threads: 0 };

/** The rows of X (n x D, row-major) scaled to unit length; zero rows stay zero. */
export function unitRows(X: ArrayLike<number>, n: number, D: number): Float64Array {
  const U = new Float64Array(n * D);
  for (let i = 0; i < n; i++) {
    const o = i * D;
    let s = 0;
    for (let d = 0; d < D; d++) s += X[o + d] * X[o + d];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let d = 0; d < D; d++) U[o + d] = X[o + d] * inv;
  }
  return U;
}

/** For every row of X (n x D), its k most cosine-similar other rows. */
export async function findNeighbours(
  X: ArrayLike<number>,
  n: number,
  D: number,
  opts: NeighbourOptions = {},
): Promise<Neighbours> {
  const shared = opts.of;
  if (shared ? shared.length !== n || X.length % D : X.length !== n * D)
    throw new Error(`neighbours: X has ${X.length} values, expected ${shared ? 'rows of' : n} x ${D}`);
  const k = Math.max(1, Math.floor(opts.k ?? DEFAULT_K));
  const method = opts.method ?? 'auto';
  // Identical vectors (rows with the same text) are searched once: a row's nearest are its copies, then the
  // copies of the nearest distinct vectors, so k distinct neighbours per distinct vector are enough. Only the
  // distinct unit rows are kept (Ud), not a unit copy of every row.
  const distinct = distinctUnitRows(X, shared ? X.length / D : n, D, shared);
  const m = distinct.count;
  const Ud = distinct.unit;
  const kd = k;
  const counted = m < n ? `${n} rows (${m} distinct vectors)` : `${n} rows`;
  const wantApprox =
    method === 'approximate' || (method === 'auto' && m > (opts.exactLimit ?? DEFAULT_EXACT_LIMIT));
  let why = method === 'exact' ? `${counted}, exact search asked for` : counted;
  let found: { index: Int32Array; engine: Neighbours['engine']; exact: boolean; note: string } | undefined;
  if (wantApprox && m > kd + 1) {
    const lib = loadUsearch();
    if (lib.module) {
      const p = { ...HNSW_DEFAULTS, ...opts.hnsw };
      found = {
        index: await hnswCandidates(lib.module, Ud, m, D, kd, p, opts.signal),
        engine: 'hnsw (usearch)',
        exact: false,
        note: `${counted}: approximate neighbours from an HNSW index (usearch ${lib.version}, M=${p.connectivity}, ef=${p.expansionAdd}/${p.expansionSearch}, f16)`,
      };
    } else
      why = `${counted}, but the optional package usearch could not be loaded (${lib.error}), so the search is exact and O(n^2)`;
  }
  if (!found) {
    const backend = linalgBackend();
    found = {
      index: m > 1 ? await exactCandidates(Ud, m, D, kd, opts.signal) : new Int32Array(m * kd).fill(-1),
      engine: backend.engine === 'onnxruntime' ? 'exact (onnxruntime)' : 'exact (js)',
      exact: true,
      note: `${why}: exact neighbours, similarity products on ${backend.engine}${backend.reason ? ` (${backend.reason.split(/[:(]/)[0].trim()})` : ''}`,
    };
  }
  const index = m < n ? expandCopies(found.index, kd, distinct, n, k) : found.index;
  const out = finish(
    Ud,
    distinct.of,
    n,
    D,
    k,
    index,
    found.engine,
    found.exact,
    m < n ? found.index : undefined,
  );
  out.note = found.note;
  return out;
}

interface DistinctRows {
  count: number;
  /** The distinct unit vectors, count x D (row v is the unit vector of representative[v]). */
  unit: Float64Array;
  /** Distinct vector of each row. */
  of: Int32Array;
  /** The rows of distinct vector v, ascending: rows[offsets[v] .. offsets[v + 1]). */
  offsets: Int32Array;
  rows: Int32Array;
}

/**
 * The rows of X scaled to unit length (unitRows, row by row) and grouped when their unit vectors are bitwise
 * identical (by a hash of their bits, checked value by value); zero rows are never grouped. With `shared`, the
 * rows are shared[i]'s rows of X (n of them) and X's own rows are what is grouped.
 */
function distinctUnitRows(X: ArrayLike<number>, n: number, D: number, shared?: Int32Array): DistinctRows {
  const u = new Float64Array(D);
  const ubits = new Uint32Array(u.buffer);
  let unit = new Float64Array(Math.max(1, Math.min(n, 1024)) * D);
  let bits = new Uint32Array(unit.buffer);
  const byHash = new Map<number, number[]>();
  let of = new Int32Array(n);
  /** Per distinct vector: whether it is a zero row (never shared with another row). */
  const zeroVector: boolean[] = [];
  const same = (v: number) => {
    for (let t = 0; t < 2 * D; t++) if (bits[2 * v * D + t] !== ubits[t]) return false;
    return true;
  };
  for (let i = 0; i < n; i++) {
    const o = i * D;
    let ss = 0;
    for (let d = 0; d < D; d++) ss += X[o + d] * X[o + d];
    const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
    for (let d = 0; d < D; d++) u[d] = X[o + d] * inv;
    let h = 0x811c9dc5;
    for (let t = 0; t < 2 * D; t++) h = Math.imul(h ^ ubits[t], 0x01000193);
    // A zero row is similar to nothing, not even another zero row: never merged.
    let zero = true;
    for (let d = 0; d < D && zero; d++) zero = u[d] === 0;
    const list = zero ? undefined : byHash.get(h >>> 0);
    const v = list?.find((r) => same(r));
    if (v !== undefined) of[i] = v;
    else {
      const w = zeroVector.length;
      of[i] = w;
      zeroVector.push(zero);
      if ((w + 1) * D > unit.length) {
        const grown = new Float64Array(Math.min(n, Math.ceil(1.5 * (w + 1))) * D);
        grown.set(unit);
        unit = grown;
        bits = new Uint32Array(unit.buffer);
      }
      unit.set(u, w * D);
      if (list) list.push(w);
      else if (!zero) byHash.set(h >>> 0, [w]);
    }
  }
  const m = zeroVector.length;
  if (shared) {
    // Each row's group is that of its row of X, numbered by first appearance among the rows (as the rows would be),
    // and a zero row of X stands for rows that are, each, their own group.
    const ofX = of;
    n = shared.length;
    of = new Int32Array(n);
    const id = new Int32Array(m).fill(-1);
    const order: number[] = [];
    for (let i = 0; i < n; i++) {
      const v = ofX[shared[i]];
      if (id[v] < 0 || zeroVector[v]) {
        if (id[v] < 0) id[v] = order.length;
        of[i] = order.length;
        order.push(v);
      } else of[i] = id[v];
    }
    // Usually the same order (prepare numbers X's rows by first appearance): then no copy.
    if (order.length === m && order.every((v, w) => v === w)) return groupRows(unit, m, of, n, D);
    const byRow = new Float64Array(order.length * D);
    order.forEach((v, w) => byRow.set(unit.subarray(v * D, (v + 1) * D), w * D));
    return groupRows(byRow, order.length, of, n, D);
  }
  return groupRows(unit, m, of, n, D);
}

/** The rows of each of m distinct vectors, from each row's (of). */
function groupRows(unit: Float64Array, m: number, of: Int32Array, n: number, D: number): DistinctRows {
  const offsets = new Int32Array(m + 1);
  for (let i = 0; i < n; i++) offsets[of[i] + 1]++;
  for (let v = 0; v < m; v++) offsets[v + 1] += offsets[v];
  const fill = offsets.slice(0, m);
  const rows = new Int32Array(n);
  for (let i = 0; i < n; i++) rows[fill[of[i]]++] = i;
  return {
    count: m,
    unit: unit.length === m * D ? unit : unit.slice(0, m * D),
    of,
    offsets,
    rows,
  };
}

/** Row candidates from distinct-vector neighbours: the row's own copies, then each neighbour's rows, up to k. */
function expandCopies(index: Int32Array, kd: number, d: DistinctRows, n: number, k: number): Int32Array {
  const out = new Int32Array(n * k).fill(-1);
  for (let i = 0; i < n; i++) {
    const v = d.of[i];
    let c = 0;
    for (let t = d.offsets[v]; t < d.offsets[v + 1] && c < k; t++)
      if (d.rows[t] !== i) out[i * k + c++] = d.rows[t];
    for (let j = 0; j < kd && c < k; j++) {
      const u = index[v * kd + j];
      if (u < 0) break;
      for (let t = d.offsets[u]; t < d.offsets[u + 1] && c < k; t++) out[i * k + c++] = d.rows[t];
    }
  }
  return out;
}

/**
 * Recomputes each candidate's similarity in float64 from the distinct unit rows U (row i's is U[of[i]]) and orders
 * them: most similar first, ties by lower index.
 */
function finish(
  U: Float64Array,
  of: Int32Array,
  n: number,
  D: number,
  k: number,
  index: Int32Array,
  engine: Neighbours['engine'],
  exact: boolean,
  distinctIndex?: Int32Array,
): Neighbours {
  const similarity = new Float64Array(n * k).fill(NaN);
  const idx = new Int32Array(k);
  const sim = new Float64Array(k);
  // With copies expanded, a row's candidates are copies of its own distinct vector or of that vector's k nearest
  // (distinctIndex): their similarities are computed once per distinct vector and looked up (the same function of
  // the same two unit rows, so the same values), not once per row.
  const m = distinctIndex ? distinctIndex.length / k : 0;
  const selfSim = new Float64Array(m);
  const nearSim = new Float64Array(m * k);
  for (let v = 0; v < m; v++) {
    selfSim[v] = cosineOfUnit(U, D, v, v);
    for (let j = 0; j < k; j++) {
      const u = distinctIndex![v * k + j];
      nearSim[v * k + j] = u < 0 ? NaN : cosineOfUnit(U, D, v, u);
    }
  }
  const cosine = (v: number, u: number): number => {
    if (!distinctIndex) return cosineOfUnit(U, D, v, u);
    if (u === v) return selfSim[v];
    for (let j = 0; j < k; j++) if (distinctIndex[v * k + j] === u) return nearSim[v * k + j];
    return cosineOfUnit(U, D, v, u);
  };
  // Before: higher similarity, then a real row before a missing one (-1), then the lower index. A total order on
  // the candidates (missing ones are interchangeable), so an insertion sort gives what any sort would.
  const before = (s1: number, t1: number, s2: number, t2: number) =>
    s1 > s2 || (s1 === s2 && t1 >= 0 && (t2 < 0 || t1 < t2));
  for (let i = 0; i < n; i++) {
    const o = i * k;
    for (let j = 0; j < k; j++) {
      const t = index[o + j];
      const s = t < 0 ? -Infinity : cosine(of[i], of[t]);
      let p = j;
      while (p > 0 && before(s, t, sim[p - 1], idx[p - 1])) {
        sim[p] = sim[p - 1];
        idx[p] = idx[p - 1];
        p--;
      }
      sim[p] = s;
      idx[p] = t;
    }
    for (let j = 0; j < k; j++) {
      index[o + j] = idx[j];
      similarity[o + j] = idx[j] < 0 ? NaN : sim[j];
    }
  }
  return { n, k, index, similarity, engine, exact, note: '' };
}

export function cosineOfUnit(U: Float64Array, D: number, i: number, j: number): number {
  let s = 0;
  const a = i * D;
  const b = j * D;
  for (let d = 0; d < D; d++) s += U[a + d] * U[b + d];
  return s;
}

/** Exact top k (excluding the row itself) from blocks of the similarity matrix U U^T. */
async function exactCandidates(
  U: Float64Array,
  n: number,
  D: number,
  k: number,
  signal?: AbortSignal,
): Promise<Int32Array> {
  const index = new Int32Array(n * k).fill(-1);
  const best = new Float64Array(k);
  // About 32 MB of similarities per block.
  const B = Math.max(1, Math.min(n, Math.floor(4_000_000 / Math.max(1, n))));
  const S = new Float64Array(B * n);
  let lastYield = performance.now();
  for (let q0 = 0; q0 < n; q0 += B) {
    const m = Math.min(B, n - q0);
    gemm(false, true, m, n, D, 1, U, q0 * D, D, U, 0, D, 0, S, 0, n);
    for (let r = 0; r < m; r++) {
      const q = q0 + r;
      const row = r * n;
      const o = q * k;
      best.fill(-Infinity);
      let floor = -Infinity;
      for (let j = 0; j < n; j++) {
        const s = S[row + j];
        // Strictly greater: among equal similarities the lower index, met first, stays.
        if (!(s > floor) || j === q) continue;
        let p = k - 1;
        while (p > 0 && best[p - 1] < s) {
          best[p] = best[p - 1];
          index[o + p] = index[o + p - 1];
          p--;
        }
        best[p] = s;
        index[o + p] = j;
        floor = best[k - 1];
      }
    }
    if (performance.now() - lastYield > 50) {
      await yieldToEventLoop(signal);
      lastYield = performance.now();
    }
  }
  return index;
}

// --- usearch, optional ---

interface UsearchIndex {
  add(keys: BigUint64Array, vectors: Float32Array, threads?: number): void;
  /** Several queries: a BatchMatches (keys/distances k per query, `counts` valid); one query: its Matches. */
  search(
    vectors: Float32Array,
    k: number,
    threads?: number,
  ): { keys: BigUint64Array; distances: Float32Array; counts?: BigUint64Array };
}
interface UsearchModule {
  Index: new (config: {
    dimensions: number;
    metric: string;
    quantization: string;
    connectivity: number;
    expansion_add: number;
    expansion_search: number;
    multi: boolean;
  }) => UsearchIndex;
}

let usearchCache: { module?: UsearchModule; version?: string; error?: string } | undefined;

/** The usearch module, or why it is not there. MEMSCORE_NEIGHBOURS=exact turns it off (tests, comparisons). */
export function loadUsearch(): { module?: UsearchModule; version?: string; error?: string } {
  if (process.env.MEMSCORE_NEIGHBOURS === 'exact') return { error: 'MEMSCORE_NEIGHBOURS=exact' };
  if (usearchCache) return usearchCache;
  try {
    // A computed id: the bundler leaves it alone and Node resolves it at run time (the package is optional).
    const id = 'usearch';
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const module = require(id) as UsearchModule;
    if (typeof module.Index !== 'function') throw new Error('usearch has no Index class');
    usearchCache = { module, version: packageVersion(require.resolve(id), id) };
  } catch (err) {
    usearchCache = { error: err instanceof Error ? err.message.split('\n')[0] : String(err) };
  }
  return usearchCache;
}

/** The version in the package.json of the package `name` that holds `file` (its exports map hides it from require). */
function packageVersion(file: string, name: string): string {
  for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === name) return pkg.version ?? '?';
    } catch {
      // No package.json at this level: go up.
    }
  }
  return '?';
}

async function hnswCandidates(
  lib: UsearchModule,
  U: Float64Array,
  n: number,
  D: number,
  k: number,
  p: typeof HNSW_DEFAULTS,
  signal?: AbortSignal,
): Promise<Int32Array> {
  const V = Float32Array.from(U);
  const index = new lib.Index({
    dimensions: D,
    metric: 'ip', // inner product of unit vectors = cosine; distance = 1 - similarity
    // Half-precision vectors in the graph: the candidates only (similarities are recomputed in float64). On the
    // 172,532 distinct vectors of scripts/bench-million.mjs: build + search 15.6 s instead of 22.9 s, recall@10
    // against exact on 500 sampled queries 0.975 (f32: 0.972); i8 fell to 0.926.
    quantization: 'f16',
    connectivity: p.connectivity,
    expansion_add: p.expansionAdd,
    expansion_search: Math.max(p.expansionSearch, k + 1),
    multi: false,
  });
  // In chunks, so a worker can serve a cancellation between them.
  const CHUNK = 8192;
  for (let a = 0; a < n; a += CHUNK) {
    const b = Math.min(n, a + CHUNK);
    const keys = new BigUint64Array(b - a);
    for (let i = a; i < b; i++) keys[i - a] = BigInt(i);
    index.add(keys, V.subarray(a * D, b * D), p.threads);
    await yieldToEventLoop(signal);
  }
  const out = new Int32Array(n * k).fill(-1);
  const kk = k + 1; // the row itself is usually its own nearest
  const limit = BigInt(n);
  for (let a = 0; a < n; a += CHUNK) {
    const b = Math.min(n, a + CHUNK);
    const res = index.search(V.subarray(a * D, b * D), kk, p.threads);
    for (let i = a; i < b; i++) {
      const found = res.counts ? Number(res.counts[i - a]) : res.keys.length;
      let c = 0;
      for (let j = 0; j < found && c < k; j++) {
        const key = res.keys[(i - a) * kk + j];
        if (key >= limit) continue;
        const t = Number(key);
        if (t !== i) out[i * k + c++] = t;
      }
    }
    await yieldToEventLoop(signal);
  }
  return out;
}
