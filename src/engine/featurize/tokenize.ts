/**
 * Unicode-aware word tokenizer over DECODED field values. Offsets are UTF-16 indices into the value (end exclusive),
 * so they can be mapped back to the raw file with FieldValue.rangeOf.
 *
 * Tokens: runs of letters/marks/digits, with internal apostrophes (' ’), hyphens and dots between word characters
 * kept inside ("don't", "e-mail", "3.5", "u.s"); every other non-space character (punctuation, symbols, emoji) is a
 * token of its own ("!", "$", "🙂") since these matter (e.g. for spam). Whitespace is skipped.
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

// Either a word (with internal joiners), or one non-space "character" (a grapheme-ish unit: a code point with any
// following combining marks, variation selectors, ZWJ sequences and skin-tone modifiers).
const TOKEN_RE =
  /[\p{L}\p{M}\p{N}]+(?:['’\-.][\p{L}\p{M}\p{N}]+)*|[^\s\p{L}\p{N}](?:\p{M}|\u{FE0F}|\p{Emoji_Modifier}|\u200D[^\s])*/gu;

export function tokenizeWords(value: string, options: TokenizeOptions = {}): WordToken[] {
  const maxTokens = options.maxTokens ?? DEFAULT_MAX_TOKENS;
  const out: WordToken[] = [];
  if (maxTokens <= 0) return out;
  TOKEN_RE.lastIndex = 0;
  for (let m = TOKEN_RE.exec(value); m !== null; m = TOKEN_RE.exec(value)) {
    out.push({ text: m[0], start: m.index, end: m.index + m[0].length });
    if (out.length >= maxTokens) break;
  }
  return out;
}
