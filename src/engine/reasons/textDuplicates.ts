/**
 * Exact and near-duplicate rows by their decoded text.
 *
 * Exact: rows whose normalized texts (minhash.ts: NFKC, lowercase, whitespace collapsed) are equal, found by the
 * text itself when short and by its SHA-1 otherwise, form one group. Empty texts are never duplicates (a row without text has nothing
 * to compare).
 * Near: one text per exact group enters MinHash (one-permutation signatures of character 5-gram shingles, 256 bins)
 * with LSH banding (bands sized so a pair at the threshold becomes a candidate with probability >= 0.995). A
 * candidate pair is a near-duplicate when its signature estimate of the Jaccard similarity reaches the threshold;
 * that estimate is what `jaccard` reports (standard deviation sqrt(J (1 - J) / 256): 0.025 at J = 0.8). Verifying
 * every candidate on the exact shingle sets was measured and dropped: on 100k rows in clusters of 25 near-copies it
 * needs the shingle set of every row again for 1.2M pairs (minutes), where the estimate costs 256 comparisons.
 * A pair that shares several bands is evaluated once (in the first band it shares).
 * Bucket cap: a band bucket with more than `maxBucket` texts (thousands of near-identical template rows) compares
 * each text with the next `maxBucket` of its bucket only, so the work stays O(n maxBucket); `stats.cappedBuckets`
 * counts them and the notes say so (rows in such buckets may list fewer near-duplicates than they have).
 * Default threshold 0.8: see the README ("Why a row is memorized") for what 0.7 / 0.8 / 0.9 find on the shared spam data.
 */
import { createHash } from 'node:crypto';
import { yieldToEventLoop } from '../pipeline/clock';
import {
  SIGNATURE_BINS,
  estimateJaccard,
  fmix32,
  normalizeText,
  rowsPerBand,
  shingleHashes,
  signature,
} from './minhash';

export interface DuplicateOptions {
  /** Jaccard similarity of the shingle sets from which two texts are near-duplicates (default 0.8). */
  threshold?: number;
  /** Largest LSH bucket compared pair by pair (default 200). */
  maxBucket?: number;
  signal?: AbortSignal;
}

export interface DuplicateLink {
  /** The other exact group. */
  group: number;
  /** MinHash estimate of the Jaccard similarity of the two groups' shingle sets. */
  jaccard: number;
}

export interface TextDuplicates {
  n: number;
  threshold: number;
  /** Exact group of each row (rows with equal normalized text share one), or -1 for an empty text. */
  group: Int32Array;
  /** The rows of each group, ascending. */
  members: number[][];
  /**
   * Near-duplicate links between groups (estimated Jaccard >= threshold), compressed: group g's links are
   * linkGroup / linkJaccard at [linkOffsets[g], linkOffsets[g + 1]), most similar first (ties: lower group).
   */
  linkOffsets: Int32Array;
  linkGroup: Int32Array;
  linkJaccard: Float64Array;
  stats: {
    /** Distinct non-empty normalized texts. */
    groups: number;
    /** Rows that share their normalized text with another row. */
    exactDuplicateRows: number;
    /** Near-duplicate pairs of groups. */
    nearPairs: number;
    /** Distinct candidate pairs from the LSH buckets, each estimated once. */
    candidates: number;
    cappedBuckets: number;
    bands: number;
    rowsPerBand: number;
  };
  notes: string[];
}

export const DEFAULT_JACCARD = 0.8;
/** Normalized texts up to this many characters key the exact groups themselves (longer ones by their SHA-1). */
const SHORT_KEY = 32;
export const DEFAULT_MAX_BUCKET = 200;

/**
 * The exact groups of texts added one by one, and each group's signature: all that near-duplicate detection needs of
 * the texts, so that it can be built while the rows stream by (the pipeline's reading) and no text is kept.
 */
export class TextGroups {
  private groupOf = new Int32Array(1024);
  private count = 0;
  private readonly members: number[][] = [];
  /** Group by the normalized text (short) or its SHA-1, while texts can be added (until result() or subset()). */
  private byHash: Map<string, number> | undefined = new Map();
  // Signatures kept as their low 16 bits (b-bit MinHash, Li & Koenig 2010): half the memory (51 MB at 100k texts);
  // two different minima then agree by chance with probability 2^-16, a bias of at most 1.5e-5 in the estimate.
  private sigs = new Uint16Array(1024 * SIGNATURE_BINS);
  /** After release(): the signatures are gone. */
  private released = false;

  /** Texts added so far. */
  get n(): number {
    return this.count;
  }

  /** The next row's text: its exact group (by the normalized text, or its SHA-1), a new group's signature. */
  add(text: string): void {
    if (!this.byHash) throw new Error('TextGroups: no texts can be added after result() or subset()');
    const K = SIGNATURE_BINS;
    const i = this.count++;
    if (i === this.groupOf.length) {
      const next = new Int32Array(2 * i);
      next.set(this.groupOf);
      this.groupOf = next;
    }
    this.groupOf[i] = -1;
    const norm = normalizeText(text);
    if (!norm) return;
    // A short text is its own key (cheaper than hashing it, and no larger than a digest); a longer one is keyed by
    // its SHA-1, so that no text is kept. The two kinds of key cannot meet: a digest is 28 characters, never "\0..."
    const key =
      norm.length <= SHORT_KEY ? `\0${norm}` : createHash('sha1').update(norm, 'utf8').digest('base64');
    let g = this.byHash.get(key);
    if (g === undefined) {
      g = this.members.length;
      this.byHash.set(key, g);
      this.members.push([]);
      if ((g + 1) * K > this.sigs.length) {
        // Grown by half (the count of groups is not known while streaming): at most a third unused.
        const next = new Uint16Array(Math.ceil(1.5 * (g + 1)) * K);
        next.set(this.sigs);
        this.sigs = next;
      }
      this.sigs.set(signature(shingleHashes(norm), K)!, g * K);
    }
    this.groupOf[i] = g;
    this.members[g].push(i);
  }

  /**
   * The groups of the rows `keep` (ascending indices of added texts) alone, numbered by first appearance: what
   * adding only their texts would have given.
   */
  subset(keep: ArrayLike<number>): TextGroups {
    if (this.released) throw new Error('TextGroups: no subset after release()');
    const out = new TextGroups();
    const K = SIGNATURE_BINS;
    const renumber = new Map<number, number>();
    out.groupOf = new Int32Array(Math.max(1, keep.length));
    for (let k = 0; k < keep.length; k++) {
      const g = this.groupOf[keep[k]];
      out.groupOf[k] = -1;
      if (g < 0) continue;
      let h = renumber.get(g);
      if (h === undefined) {
        h = out.members.length;
        renumber.set(g, h);
        out.members.push([]);
      }
      out.groupOf[k] = h;
      out.members[h].push(k);
    }
    out.sigs = new Uint16Array(Math.max(1, out.members.length) * K);
    for (const [g, h] of renumber) out.sigs.set(this.sigs.subarray(g * K, (g + 1) * K), h * K);
    out.count = keep.length;
    out.byHash = undefined;
    return out;
  }

  /**
   * Lets the signatures go (a million short texts: 150 MB) once the near duplicates are found; the groups stay
   * (TextDuplicates shares them). No texts can be added, and no subset taken, after.
   */
  release(): void {
    this.byHash = undefined;
    this.sigs = new Uint16Array(0);
    this.released = true;
  }

  /** The groups so far: each row's group (-1 for an empty text), each group's rows, the signatures (K per group). */
  result(): { group: Int32Array; members: number[][]; sigs: Uint16Array } {
    if (this.released) throw new Error('TextGroups: no result after release()');
    this.byHash = undefined;
    const group = this.groupOf.length === this.count ? this.groupOf : this.groupOf.slice(0, this.count);
    return { group, members: this.members, sigs: this.sigs };
  }
}

/** Exact groups and near-duplicate links of the rows' decoded texts (or of their groups, built as they streamed). */
export async function findTextDuplicates(
  texts: readonly string[] | TextGroups,
  opts: DuplicateOptions = {},
): Promise<TextDuplicates> {
  const threshold = opts.threshold ?? DEFAULT_JACCARD;
  if (!(threshold > 0 && threshold <= 1))
    throw new Error(`duplicates: the Jaccard threshold must be in (0, 1], got ${threshold}`);
  const maxBucket = Math.max(2, Math.floor(opts.maxBucket ?? DEFAULT_MAX_BUCKET));
  const signal = opts.signal;
  const K = SIGNATURE_BINS;

  // Exact groups, and the signature of each group's text.
  let groups: TextGroups;
  if (texts instanceof TextGroups) groups = texts;
  else {
    groups = new TextGroups();
    for (let i = 0; i < texts.length; i++) {
      groups.add(texts[i]);
      if ((i & 2047) === 2047) await yieldToEventLoop(signal);
    }
  }
  const n = groups.n;
  const { group, members, sigs } = groups.result();
  const m = members.length;

  // Band hashes of every group.
  const r = rowsPerBand(threshold, K);
  const bands = K / r;
  const bandHash = new Uint32Array(bands * m);
  for (let band = 0; band < bands; band++)
    for (let g = 0; g < m; g++) {
      let h = 0x9747b28c ^ band;
      for (let t = 0; t < r; t++) h = fmix32(h ^ sigs[g * K + band * r + t]);
      bandHash[band * m + g] = h;
    }

  // Candidates: groups sharing a band's hash (runs of the sorted hashes). A pair is estimated in the first band
  // where it shares the hash; accepted pairs are kept as (a, b, estimate).
  const pairs = new PairList();
  let candidates = 0;
  let cappedBuckets = 0;
  const packed = new Float64Array(m);
  const order = new Int32Array(m);
  const sharesEarlierBand = (a: number, b: number, band: number) => {
    for (let e = 0; e < band; e++) if (bandHash[e * m + a] === bandHash[e * m + b]) return true;
    return false;
  };
  const consider = (a: number, b: number, band: number) => {
    if (sharesEarlierBand(a, b, band)) return;
    candidates++;
    const j = estimateJaccard(sigs.subarray(a * K, a * K + K), sigs.subarray(b * K, b * K + K));
    if (j >= threshold) pairs.push(a, b, j);
  };
  for (let band = 0; band < bands; band++) {
    sortByHash(bandHash.subarray(band * m, band * m + m), packed, order);
    const keyOf = (t: number) => bandHash[band * m + order[t]];
    for (let s = 0; s < m;) {
      let e = s + 1;
      while (e < m && keyOf(e) === keyOf(s)) e++;
      const size = e - s;
      if (size > 1) {
        if (size > maxBucket) cappedBuckets++;
        const window = Math.min(size - 1, maxBucket);
        for (let a = s; a < e; a++)
          for (let w = 1; w <= window && (size > maxBucket || a + w < e); w++)
            consider(order[a], order[s + ((a - s + w) % size)], band);
      }
      s = e;
    }
    await yieldToEventLoop(signal);
  }

  const { linkOffsets, linkGroup, linkJaccard } = pairs.adjacency(m);
  let exactDuplicateRows = 0;
  for (const g of members) if (g.length > 1) exactDuplicateRows += g.length;
  const notes: string[] = [];
  if (cappedBuckets)
    notes.push(
      `${cappedBuckets} MinHash buckets held more than ${maxBucket} texts (near-identical templates); each text was compared with ${maxBucket} of its bucket, so near-duplicate counts there are lower bounds`,
    );
  return {
    n,
    threshold,
    group,
    members,
    linkOffsets,
    linkGroup,
    linkJaccard,
    stats: {
      groups: m,
      exactDuplicateRows,
      nearPairs: pairs.length,
      candidates,
      cappedBuckets,
      bands,
      rowsPerBand: r,
    },
    notes,
  };
}

/** Orders 0..m-1 by the 32-bit hashes (ties by index) into `order`, through one native float64 sort. */
function sortByHash(hash: Uint32Array, packed: Float64Array, order: Int32Array): void {
  const m = hash.length;
  if (m < 2 ** 21) {
    // hash * 2^21 + index < 2^53: exact in a float64.
    for (let g = 0; g < m; g++) packed[g] = hash[g] * 2 ** 21 + g;
    packed.sort();
    for (let t = 0; t < m; t++) order[t] = packed[t] % 2 ** 21;
    return;
  }
  const idx = Array.from({ length: m }, (_, g) => g).sort((a, b) => hash[a] - hash[b] || a - b);
  for (let t = 0; t < m; t++) order[t] = idx[t];
}

/** Group g's near-duplicate links. */
export function linksOf(d: TextDuplicates, g: number): DuplicateLink[] {
  const out: DuplicateLink[] = [];
  for (let t = d.linkOffsets[g]; t < d.linkOffsets[g + 1]; t++)
    out.push({ group: d.linkGroup[t], jaccard: d.linkJaccard[t] });
  return out;
}

/** One duplicate of a row: another row with the same normalized text (exact) or a near-duplicate text. */
export interface DuplicateOf {
  index: number;
  exact: boolean;
  jaccard: number;
}

/** Every duplicate of `row`: exact ones first (ascending), then near ones, most similar first. */
export function duplicatesOf(d: TextDuplicates, row: number): DuplicateOf[] {
  const g = d.group[row];
  if (g < 0) return [];
  const out: DuplicateOf[] = [];
  for (const i of d.members[g]) if (i !== row) out.push({ index: i, exact: true, jaccard: 1 });
  for (const l of linksOf(d, g))
    for (const i of d.members[l.group]) out.push({ index: i, exact: false, jaccard: l.jaccard });
  return out;
}

/**
 * Groups of near-identical rows for a "Duplicates" view: connected components (over exact groups and near links)
 * with at least two rows, each ascending, largest first. Linking is transitive here, so a component can hold two
 * rows that are not near-duplicates of each other themselves (each is of a third); the per-row lists are not.
 */
export function duplicateClusters(d: TextDuplicates): number[][] {
  const m = d.members.length;
  const parent = Int32Array.from({ length: m }, (_, g) => g);
  const find = (g: number): number => {
    while (parent[g] !== g) {
      parent[g] = parent[parent[g]];
      g = parent[g];
    }
    return g;
  };
  for (let a = 0; a < m; a++)
    for (let t = d.linkOffsets[a]; t < d.linkOffsets[a + 1]; t++) {
      const ra = find(a);
      const rb = find(d.linkGroup[t]);
      if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
    }
  const byRoot = new Map<number, number[]>();
  for (let g = 0; g < m; g++) {
    const root = find(g);
    let list = byRoot.get(root);
    if (!list) byRoot.set(root, (list = []));
    list.push(...d.members[g]);
  }
  return [...byRoot.values()]
    .filter((c) => c.length > 1)
    .map((c) => c.sort((a, b) => a - b))
    .sort((a, b) => b.length - a.length || a[0] - b[0]);
}

/** Accepted pairs (a, b, estimate), then turned into per-group adjacency lists. */
class PairList {
  private a = new Int32Array(1024);
  private b = new Int32Array(1024);
  private j = new Float64Array(1024);
  length = 0;
  push(a: number, b: number, j: number): void {
    if (this.length === this.a.length) {
      const grow = <T extends Int32Array | Float64Array>(x: T, make: (n: number) => T): T => {
        const next = make(x.length * 2);
        next.set(x);
        return next;
      };
      this.a = grow(this.a, (k) => new Int32Array(k));
      this.b = grow(this.b, (k) => new Int32Array(k));
      this.j = grow(this.j, (k) => new Float64Array(k));
    }
    this.a[this.length] = a;
    this.b[this.length] = b;
    this.j[this.length] = j;
    this.length++;
  }
  adjacency(m: number): { linkOffsets: Int32Array; linkGroup: Int32Array; linkJaccard: Float64Array } {
    const linkOffsets = new Int32Array(m + 1);
    for (let t = 0; t < this.length; t++) {
      linkOffsets[this.a[t] + 1]++;
      linkOffsets[this.b[t] + 1]++;
    }
    for (let g = 0; g < m; g++) linkOffsets[g + 1] += linkOffsets[g];
    const fill = linkOffsets.slice(0, m);
    const linkGroup = new Int32Array(2 * this.length);
    const linkJaccard = new Float64Array(2 * this.length);
    for (let t = 0; t < this.length; t++) {
      for (const [x, y] of [
        [this.a[t], this.b[t]],
        [this.b[t], this.a[t]],
      ]) {
        linkGroup[fill[x]] = y;
        linkJaccard[fill[x]++] = this.j[t];
      }
    }
    // Most similar first, ties by group.
    for (let g = 0; g < m; g++) {
      const lo = linkOffsets[g];
      const hi = linkOffsets[g + 1];
      if (hi - lo < 2) continue;
      const idx = Array.from({ length: hi - lo }, (_, t) => lo + t).sort(
        (p, q) => linkJaccard[q] - linkJaccard[p] || linkGroup[p] - linkGroup[q],
      );
      const gs = idx.map((t) => linkGroup[t]);
      const js = idx.map((t) => linkJaccard[t]);
      linkGroup.set(gs, lo);
      linkJaccard.set(js, lo);
    }
    return { linkOffsets, linkGroup, linkJaccard };
  }
}
