/**
 * Text normalization, character shingles, exact Jaccard, and one-permutation MinHash signatures.
 *
 * Normalization (the same for exact and near-duplicates): Unicode NFKC (full-width and compatibility forms fold to
 * their plain letters), lowercase, zero-width characters and the BOM removed, every run of whitespace (newlines
 * included) made one space, trimmed. Punctuation and digits are kept: "$$$ WIN" and "win" are different texts.
 *
 * Shingles: every run of 5 consecutive characters (UTF-16 code units) of the normalized text; a shorter non-empty
 * text is one shingle. Characters, not words, because classification rows are often short (a 10-word review has only
 * 8 word 3-grams, and one changed word removes 3 of them), because many scripts do not separate words by spaces, and
 * because a character 5-gram set changes little when a number, a name or a typo changes. Each shingle is a 32-bit
 * hash (FNV-1a, then murmur3's finalizer); two different shingles of one pair of texts collide with probability
 * about |A||B| / 2^32, negligible for texts of a few thousand characters.
 *
 * Signatures: one-permutation hashing (Li, Owen & Zhang 2012) with optimal densification (Shrivastava 2017): each
 * shingle hash h goes to bin floor(h K / 2^32) and each bin keeps its smallest h; an empty bin takes the value of
 * the first non-empty bin along a probe sequence that depends only on the bin (the same for every text). The share
 * of equal bins of two signatures estimates the Jaccard similarity of the shingle sets (standard deviation about
 * sqrt(J (1 - J) / K)), at O(shingles + K) per text instead of O(shingles x K) for K independent permutations.
 */

export const SHINGLE_CHARS = 5;
export const SIGNATURE_BINS = 256;

const ZERO_WIDTH = /[\u200b-\u200d\u2060\ufeff\u00ad]/g;
const WHITESPACE = /\s+/g;

// Anything but printable ASCII and ASCII whitespace takes the full path (which is also right for plain ASCII).
const NOT_PLAIN = /[^\t\n\v\f\r -~]/;

export function normalizeText(s: string): string {
  // NFKC leaves ASCII unchanged (and zero-width characters are not ASCII): skip both for plain ASCII text.
  const t = NOT_PLAIN.test(s) ? s.normalize('NFKC').replace(ZERO_WIDTH, '') : s;
  return t.toLowerCase().replace(WHITESPACE, ' ').trim();
}

/** murmur3's 32-bit finalizer: a bijection on 32-bit integers that mixes every input bit into every output bit. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The hash of every shingle of a normalized text, in text order, repeats kept (enough for a signature). */
export function shingleHashes(norm: string, w = SHINGLE_CHARS): Uint32Array {
  const L = norm.length;
  if (L === 0) return new Uint32Array(0);
  const count = L <= w ? 1 : L - w + 1;
  const span = Math.min(w, L);
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    let h = 0x811c9dc5;
    for (let c = 0; c < span; c++) h = Math.imul(h ^ norm.charCodeAt(i + c), 0x01000193);
    out[i] = fmix32(h >>> 0);
  }
  return out;
}

/** The distinct shingle hashes of a normalized text, ascending (the set exactJaccard compares). */
export function shingleSet(norm: string, w = SHINGLE_CHARS): Uint32Array {
  const out = shingleHashes(norm, w).sort();
  let u = 0;
  for (let i = 0; i < out.length; i++) if (i === 0 || out[i] !== out[u - 1]) out[u++] = out[i];
  return out.subarray(0, u);
}

/** |A n B| / |A u B| of two ascending, duplicate-free arrays (1 for two empty sets). */
export function exactJaccard(a: Uint32Array, b: Uint32Array): number {
  if (!a.length && !b.length) return 1;
  let i = 0;
  let j = 0;
  let inter = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      inter++;
      i++;
      j++;
    } else if (a[i] < b[j]) i++;
    else j++;
  }
  return inter / (a.length + b.length - inter);
}

/** The one-permutation MinHash signature (K bins) of a non-empty set of shingle hashes (repeats allowed). */
export function signature(shingles: Uint32Array, K = SIGNATURE_BINS): Uint32Array | undefined {
  if (!shingles.length) return undefined;
  const sig = new Uint32Array(K);
  const filled = new Uint8Array(K);
  for (let t = 0; t < shingles.length; t++) {
    const h = shingles[t];
    const bin = Math.floor((h / 4294967296) * K);
    if (!filled[bin] || h < sig[bin]) {
      sig[bin] = h;
      filled[bin] = 1;
    }
  }
  // Densification: empty bins borrow from a non-empty one, found along a probe sequence fixed per bin. A short text
  // fills few bins (8 of 256 for 12 characters), so each empty bin probes ~32 times: the sequences are a table.
  const original = Uint32Array.from(sig);
  const A = 8 * K;
  const tabled = K <= MAX_TABLE_BINS;
  const probes = tabled ? probeTable(K) : undefined;
  // With f filled bins, probing costs about K / f lookups per empty bin; taking, among the filled bins, the one met
  // first on the bin's sequence (firstProbe) costs f: the cheaper of the two, the same bin either way.
  const full: number[] = [];
  for (let c = 0; c < K; c++) if (filled[c]) full.push(c);
  const first = tabled && full.length * full.length < K ? firstProbeTable(K) : undefined;
  for (let i = 0; i < K; i++) {
    if (filled[i]) continue;
    let j = -1;
    if (first) {
      let best = NEVER;
      for (const c of full) {
        const t = first[i * K + c];
        if (t < best) {
          best = t;
          j = c;
        }
      }
    } else
      for (let t = 1; t <= A; t++) {
        const c = probes ? probes[i * A + t - 1] : probeBin(i, t, K);
        if (filled[c]) {
          j = c;
          break;
        }
      }
    // Practically never reached; still the same for every text, so signatures stay comparable.
    for (let t = 1; j < 0; t++) if (filled[(i + t) % K]) j = (i + t) % K;
    sig[i] = original[j];
  }
  return sig;
}

const probeTables = new Map<number, Uint16Array>();

/**
 * The densification probe sequences of K bins (probeBin): bin i's attempt t (1..8K) at [i 8K + t - 1]. 1 MB for
 * K = 256, made once.
 */
function probeTable(K: number): Uint16Array {
  let table = probeTables.get(K);
  if (!table) {
    const A = 8 * K;
    table = new Uint16Array(K * A);
    for (let i = 0; i < K; i++) for (let t = 1; t <= A; t++) table[i * A + t - 1] = probeBin(i, t, K);
    probeTables.set(K, table);
  }
  return table;
}

const NEVER = 0xffff;
const firstProbeTables = new Map<number, Uint16Array>();

/** For bins i and c, the first attempt t (1..8K) at which bin i's probe sequence meets c, or NEVER: K x K. */
function firstProbeTable(K: number): Uint16Array {
  let table = firstProbeTables.get(K);
  if (!table) {
    const A = 8 * K;
    const probes = probeTable(K);
    table = new Uint16Array(K * K).fill(NEVER);
    for (let i = 0; i < K; i++) for (let t = A; t >= 1; t--) table[i * K + probes[i * A + t - 1]] = t;
    firstProbeTables.set(K, table);
  }
  return table;
}

/** Bin i's t-th densification probe. */
function probeBin(i: number, t: number, K: number): number {
  return fmix32(Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(t, 0x27d4eb2f)) % K;
}

/** Up to this many bins the probe sequences are tabled (16 MB at 1,024); above, computed as they are needed. */
const MAX_TABLE_BINS = 1024;

/** Share of equal bins: the signature estimate of the Jaccard similarity. */
export function estimateJaccard(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let eq = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) eq++;
  return eq / a.length;
}

/**
 * LSH banding: the rows per band (a power of two dividing K) for which a pair at Jaccard `threshold` becomes a
 * candidate with probability at least 0.995, i.e. 1 - (1 - J^r)^(K/r) >= 0.995; the largest such r (fewest false
 * candidates). For K = 256: r = 16 (16 bands) for thresholds from about 0.92, r = 8 (32 bands) from 0.79, r = 4 (64 bands)
 * from 0.53.
 */
export function rowsPerBand(threshold: number, K = SIGNATURE_BINS): number {
  let best = 1;
  for (let r = 1; r <= K; r *= 2) {
    if (K % r) break;
    const p = 1 - Math.pow(1 - Math.pow(threshold, r), K / r);
    if (p >= 0.995) best = r;
  }
  return best;
}
