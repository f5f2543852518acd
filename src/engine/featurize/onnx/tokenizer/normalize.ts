/**
 * Normalization with alignment: the normalized text (exactly the library's normalizer output) and, for every UTF-16
 * unit of it, the range of the source it came from.
 *
 * The source is cut into units (a code point with its following combining marks); each unit is normalized on its own
 * (between two anchor letters, so Prepend / Strip act as inside a text) and every normalized character points back
 * to its unit. When the units' normalizations do not concatenate to the normalization of the whole text
 * (context-dependent normalizers: Greek final sigma, NFC across units), the two are aligned by an edit-distance
 * alignment (exact where characters agree).
 */
import type { Json } from './config';
import { editDistanceAlign } from './editDistance';

/** A normalized string whose every UTF-16 unit knows the range of the source it came from. */
export interface Aligned {
  text: string;
  start: Int32Array;
  end: Int32Array;
}

export type NormalizeFn = (s: string) => string;

/**
 * The whole normalization: tokenizer_config.json's remove_space / do_lowercase_and_remove_accent (slow-tokenizer
 * options some exports keep), then the tokenizer.json normalizer; null when there is none.
 */
export function makeNormalize(cfg: Json, libNormalizer: NormalizeFn | null): NormalizeFn | null {
  const removeSpace = cfg.remove_space === true;
  const lowerStrip = cfg.do_lowercase_and_remove_accent === true;
  if (!removeSpace && !lowerStrip && !libNormalizer) return null;
  return (s: string) => {
    if (removeSpace) s = s.trim().split(/\s+/).join(' ');
    if (lowerStrip) s = s.toLowerCase().replace(/\p{M}/gu, '');
    if (libNormalizer) s = libNormalizer(s);
    return s;
  };
}

/** Normalizer types that act on every character of an ASCII text on its own (none looks at its neighbours there). */
const PER_CHAR_ON_ASCII = new Set([
  'BertNormalizer',
  'Lowercase',
  'NFC',
  'NFD',
  'NFKC',
  'NFKD',
  'StripAccents',
  'Precompiled',
]);

/**
 * Whether the whole normalization (makeNormalize) of an ASCII text is its characters' normalizations concatenated,
 * so that an ASCII text need not be normalized whole to be aligned. Replace of one literal character is per
 * character too; Prepend, Strip, longer or regex Replace, and tokenizer_config's remove_space are not.
 */
export function perCharOnAscii(normalizer: unknown, tokenizerConfig: Json): boolean {
  if (tokenizerConfig.remove_space === true) return false;
  const ok = (cfg: unknown): boolean => {
    if (cfg === null || cfg === undefined) return true;
    if (typeof cfg !== 'object') return false;
    const c = cfg as Json;
    if (c.type === 'Sequence') return Array.isArray(c.normalizers) && c.normalizers.every(ok);
    if (c.type === 'Replace') {
      const lit = (c.pattern as Json | undefined)?.String;
      return typeof lit === 'string' && lit.length === 1;
    }
    return PER_CHAR_ON_ASCII.has(String(c.type));
  };
  return ok(normalizer);
}

/** Whether every UTF-16 unit of s is ASCII. */
function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 128) return false;
  return true;
}

/** The letter a unit is normalized between. */
const UNIT_ANCHOR = 'a';

/**
 * What the normalizer makes of one anchor letter (`pre`) and what a second one adds after it (`tail`), or null when
 * two anchors do not normalize to the first one's result followed by a non-empty rest (then units are normalized
 * alone). The same for every unit, so computed once per tokenizer.
 */
function anchorOf(norm: NormalizeFn): { pre: string; tail: string } | null {
  const pre = norm(UNIT_ANCHOR);
  const both = norm(UNIT_ANCHOR + UNIT_ANCHOR);
  const tail = both.startsWith(pre) ? both.slice(pre.length) : '';
  return tail ? { pre, tail } : null;
}

const MARK = /^\p{M}/u;
/** Per BMP code unit: 0 not yet known, 1 a combining mark, 2 not. */
const markCache = new Uint8Array(0x10000);

function isMark(cp: number): boolean {
  if (cp < 0x300) return false;
  if (cp < 0x10000) {
    let k = markCache[cp];
    if (k === 0) markCache[cp] = k = MARK.test(String.fromCharCode(cp)) ? 1 : 2;
    return k === 1;
  }
  return MARK.test(String.fromCodePoint(cp));
}

/** Length in UTF-16 units of the code point at i (a lone surrogate counts as one). */
function cpLength(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d < 0xe000) return 2;
  }
  return 1;
}

/** End of the unit starting at i: its code point and the combining marks after it. */
function unitEnd(s: string, i: number): number {
  let j = i + cpLength(s, i);
  while (j < s.length && s.charCodeAt(j) >= 0x300) {
    const cp = s.codePointAt(j)!;
    if (!isMark(cp)) break;
    j += cp > 0xffff ? 2 : 1;
  }
  return j;
}

export class Normalizer {
  private readonly anchor: { pre: string; tail: string } | null;
  /** Normalizations of single ASCII units, by code; the rest in a map. */
  private readonly ascii: Array<string | undefined> = new Array<string | undefined>(128);
  private readonly units = new Map<string, string>();

  /** `asciiPerChar`: perCharOnAscii of the tokenizer (then ASCII texts are aligned without normalizing them whole). */
  constructor(
    readonly fn: NormalizeFn | null,
    private readonly asciiPerChar = false,
  ) {
    this.anchor = fn ? anchorOf(fn) : null;
  }

  /**
   * The normalization of one unit as it would be inside a text: between two anchor letters, which are then removed
   * (so a Prepend normalizer does not prepend to every unit, nor Strip strip every space); the unit alone if the
   * anchors do not survive normalization unchanged.
   */
  private normalizeUnit(u: string): string {
    const norm = this.fn!;
    const anchor = this.anchor;
    if (anchor) {
      const { pre, tail } = anchor;
      const full = norm(UNIT_ANCHOR + u + UNIT_ANCHOR);
      if (full.startsWith(pre) && full.endsWith(tail) && full.length >= pre.length + tail.length)
        return full.slice(pre.length, full.length - tail.length);
    }
    return norm(u);
  }

  /** The (cached) normalization of src[i, j), a unit. */
  private unit(src: string, i: number, j: number): string {
    const c = src.charCodeAt(i);
    if (j === i + 1 && c < 128) {
      let p = this.ascii[c];
      if (p === undefined) this.ascii[c] = p = this.normalizeUnit(src[i]);
      return p;
    }
    const u = src.slice(i, j);
    let p = this.units.get(u);
    if (p === undefined) {
      if (this.units.size > 100_000) this.units.clear();
      p = this.normalizeUnit(u);
      this.units.set(u, p);
    }
    return p;
  }

  /** Normalizes src with, for every UTF-16 unit of the result, the [start, end) of src it came from. */
  align(src: string): Aligned {
    const norm = this.fn;
    if (!norm) {
      const start = new Int32Array(src.length);
      const end = new Int32Array(src.length);
      for (let i = 0; i < src.length; i++) {
        start[i] = i;
        end[i] = i + 1;
      }
      return { text: src, start, end };
    }
    if (this.asciiPerChar && isAscii(src)) {
      const out = this.alignAscii(src);
      if (out) return out;
    }
    const text = norm(src);
    const out: Aligned = { text, start: new Int32Array(text.length), end: new Int32Array(text.length) };
    if (!this.alignByUnits(src, out)) this.alignByEditDistance(src, out);
    return out;
  }

  /**
   * An ASCII text under a per-character normalization: its characters' normalizations, concatenated, with their
   * origins; null when a character normalizes to more than one ASCII character (then the general path).
   */
  private alignAscii(src: string): Aligned | null {
    const n = src.length;
    const bytes = Buffer.allocUnsafe(n);
    const start = new Int32Array(n);
    let k = 0;
    for (let i = 0; i < n; i++) {
      const p = this.ascii[src.charCodeAt(i)] ?? this.unit(src, i, i + 1);
      if (p.length === 0) continue;
      const c = p.charCodeAt(0);
      if (p.length > 1 || c >= 128) return null;
      bytes[k] = c;
      start[k++] = i;
    }
    const end = new Int32Array(k);
    for (let q = 0; q < k; q++) end[q] = start[q] + 1;
    return { text: bytes.toString('latin1', 0, k), start: start.subarray(0, k), end };
  }

  /** The common case: the units' normalizations concatenate to the whole normalization. False if they do not. */
  private alignByUnits(src: string, out: Aligned): boolean {
    const text = out.text;
    let k = 0;
    for (let i = 0; i < src.length;) {
      const j = unitEnd(src, i);
      const p = this.unit(src, i, j);
      const n = p.length;
      if (k + n > text.length) return false;
      if (n === 1 ? text.charCodeAt(k) !== p.charCodeAt(0) : !text.startsWith(p, k)) return false;
      for (let q = k; q < k + n; q++) {
        out.start[q] = i;
        out.end[q] = j;
      }
      k += n;
      i = j;
    }
    return k === text.length;
  }

  /** The units' normalizations with their origins, aligned onto the whole normalization by edit distance. */
  private alignByEditDistance(src: string, out: Aligned): void {
    let c = '';
    const cs: number[] = [];
    const ce: number[] = [];
    for (let i = 0; i < src.length;) {
      const j = unitEnd(src, i);
      const p = this.unit(src, i, j);
      c += p;
      for (let k = 0; k < p.length; k++) {
        cs.push(i);
        ce.push(j);
      }
      i = j;
    }
    editDistanceAlign(c, Int32Array.from(cs), Int32Array.from(ce), out);
  }
}
