/**
 * Unicode-aware word tokenizer over DECODED field values. Offsets are UTF-16 indices into the value (end exclusive),
 * so they can be mapped back to the raw file with FieldValue.rangeOf.
 *
 * Tokens: runs of letters/marks/digits, with internal apostrophes (' ’), hyphens and dots between word characters
 * kept inside ("don't", "e-mail", "3.5", "u.s"); every other non-space character (punctuation, symbols, emoji) is a
 * token of its own ("!", "$", "🙂") together with the combining marks, variation selectors, skin-tone modifiers and
 * ZWJ-joined code points that follow it. Whitespace (JavaScript's \s) is skipped.
 *
 * Exactly the matches of the regular expression
 *   [\p{L}\p{M}\p{N}]+(?:['’\-.][\p{L}\p{M}\p{N}]+)*|[^\s\p{L}\p{N}](?:\p{M}|\u{FE0F}|\p{Emoji_Modifier}|\u200D[^\s])*
 * with the flags g and u (a test checks it on every row of the shared data), found by a scanner over char codes: the
 * regex took twice its time on the spam data and makes a match array and a string per token, which the lean pooling
 * path never needs. Character classes come from the same \p escapes, cached per code point, so both follow the
 * runtime's Unicode version.
 */
export interface WordToken {
  text: string;
  start: number;
  end: number;
}

export interface TokenizeOptions {
  /** Keep at most this many tokens per value (the rest are dropped). Default 512. */
  maxTokens?: number;
}

export const DEFAULT_MAX_TOKENS = 512;

const WORD = 1; // \p{L} | \p{M} | \p{N}
const SPACE = 2; // \s
const MARK = 4; // \p{M} (U+FE0F included)
const MODIFIER = 8; // \p{Emoji_Modifier}
const KNOWN = 128;

const WORD_RE = /^[\p{L}\p{M}\p{N}]$/u;
const SPACE_RE = /^\s$/u;
const MARK_RE = /^\p{M}$/u;
const MODIFIER_RE = /^\p{Emoji_Modifier}$/u;

function classify(cp: number): number {
  const s = String.fromCodePoint(cp);
  let c = KNOWN;
  if (WORD_RE.test(s)) c |= WORD;
  if (SPACE_RE.test(s)) c |= SPACE;
  if (MARK_RE.test(s)) c |= MARK;
  if (MODIFIER_RE.test(s)) c |= MODIFIER;
  return c;
}

/** Classes of BMP code points, filled on first sight (ASCII up front); astral ones in a map. */
const bmp = new Uint8Array(0x10000);
for (let c = 0; c < 128; c++) bmp[c] = classify(c);
const astral = new Map<number, number>();

function classOf(cp: number): number {
  if (cp < 0x10000) {
    const c = bmp[cp];
    return c !== 0 ? c : (bmp[cp] = classify(cp));
  }
  let c = astral.get(cp);
  if (c === undefined) astral.set(cp, (c = classify(cp)));
  return c;
}

/** Code point at UTF-16 index i of s (a lone surrogate is its own code point, as in a /u regex). */
function codePointAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return (c - 0xd800) * 0x400 + (d - 0xdc00) + 0x10000;
  }
  return c;
}

const width = (cp: number): number => (cp > 0xffff ? 2 : 1);

/** ' ’ - . between word characters. */
const isJoiner = (c: number): boolean => c === 0x27 || c === 0x2019 || c === 0x2d || c === 0x2e;

/**
 * Finds the tokens of a value one at a time, without making strings: `next()` moves to the next token and sets
 * `start`/`end` (UTF-16 indices into the value). The lean paths hash the span themselves.
 */
export class WordScanner {
  start = 0;
  end = 0;
  private value = '';
  private pos = 0;

  reset(value: string): this {
    this.value = value;
    this.pos = 0;
    this.start = this.end = 0;
    return this;
  }

  /** Moves to the next token; false when there is none. */
  next(): boolean {
    const s = this.value;
    const n = s.length;
    let p = this.pos;
    let k = 0;
    let cp = 0;
    // Skip whitespace; stop at the first code point of a token.
    for (;;) {
      if (p >= n) {
        this.pos = n;
        return false;
      }
      cp = s.charCodeAt(p);
      if (cp >= 0xd800) cp = codePointAt(s, p);
      k = cp < 128 ? bmp[cp] : classOf(cp);
      if ((k & SPACE) === 0) break;
      p += cp > 0xffff ? 2 : 1;
    }
    this.start = p;
    p += cp > 0xffff ? 2 : 1;
    if ((k & WORD) === 0) {
      // A symbol: alone, unless marks, modifiers or ZWJ-joined code points follow.
      this.end = this.pos = this.symbolTail(p);
      return true;
    }
    // A word: word characters, then (joiner, word characters)* while a word character follows the joiner.
    for (;;) {
      while (p < n) {
        const c = s.charCodeAt(p);
        if (c < 128) {
          if ((bmp[c] & WORD) === 0) break;
          p++;
        } else {
          const q = c >= 0xd800 ? codePointAt(s, p) : c;
          if ((classOf(q) & WORD) === 0) break;
          p += q > 0xffff ? 2 : 1;
        }
      }
      if (p + 1 < n && isJoiner(s.charCodeAt(p)) && this.isWordAt(p + 1)) p++;
      else break;
    }
    this.end = this.pos = p;
    return true;
  }

  private isWordAt(i: number): boolean {
    const c = this.value.charCodeAt(i);
    return c < 128 ? (bmp[c] & WORD) !== 0 : (classOf(codePointAt(this.value, i)) & WORD) !== 0;
  }

  /** End of a symbol token whose first code point ends at i: (mark | modifier | ZWJ + non-space)*. */
  private symbolTail(i: number): number {
    const s = this.value;
    const n = s.length;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c < 128) return i; // no ASCII mark, modifier or ZWJ
      const cp = codePointAt(s, i);
      if (classOf(cp) & (MARK | MODIFIER)) {
        i += width(cp);
      } else if (c === 0x200d && i + 1 < n) {
        const next = codePointAt(s, i + 1);
        if (classOf(next) & SPACE) return i;
        i += 1 + width(next);
      } else return i;
    }
    return i;
  }
}

const shared = new WordScanner();

export function tokenizeWords(value: string, options: TokenizeOptions = {}): WordToken[] {
  const maxTokens = options.maxTokens ?? DEFAULT_MAX_TOKENS;
  const out: WordToken[] = [];
  if (maxTokens <= 0) return out;
  const sc = shared.reset(value);
  while (out.length < maxTokens && sc.next())
    out.push({ text: value.slice(sc.start, sc.end), start: sc.start, end: sc.end });
  return out;
}
