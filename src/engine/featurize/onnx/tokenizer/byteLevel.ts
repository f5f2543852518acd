/**
 * From pre-token words back to the text they were made from: byte-level words (GPT-2's byte-to-unicode table) are
 * UTF-8 bytes, Metaspace words have "▁" for spaces. Each UTF-16 unit of a word knows the range of text it stands for
 * (several bytes of one character all stand for the whole character).
 */

/** GPT-2's byte-to-unicode table, inverted: character code -> byte (-1: not a byte character). */
const UNICODE_TO_BYTE: Int16Array = (() => {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++)
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  const table = new Int16Array(512).fill(-1);
  bs.forEach((b, i) => (table[cs[i]] = b));
  return table;
})();

/** A decoded word: its text and, per UTF-16 unit of the word, the [start, end) of the text it stands for. */
export interface DecodedWord {
  text: string;
  /** null: the word is its own text, unit k stands for [k, k + 1). */
  start: ArrayLike<number> | null;
  end: ArrayLike<number> | null;
}

/**
 * Decodes UTF-8 bytes; returns the string and, per byte, the UTF-16 range of the character it belongs to
 * (invalid sequences become U+FFFD, one per byte).
 */
export function decodeUtf8(bytes: ArrayLike<number>): { text: string; start: Int32Array; end: Int32Array } {
  let text = '';
  const start = new Int32Array(bytes.length);
  const end = new Int32Array(bytes.length);
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    let need = 0;
    let cp = 0;
    if (b < 0x80) cp = b;
    else if (b >= 0xc2 && b < 0xe0) [need, cp] = [1, b & 0x1f];
    else if (b >= 0xe0 && b < 0xf0) [need, cp] = [2, b & 0x0f];
    else if (b >= 0xf0 && b < 0xf5) [need, cp] = [3, b & 0x07];
    else need = -1;
    let ok = need >= 0 && i + need < bytes.length;
    if (ok)
      for (let k = 1; k <= need; k++) {
        const c = bytes[i + k];
        if ((c & 0xc0) !== 0x80) {
          ok = false;
          break;
        }
        cp = (cp << 6) | (c & 0x3f);
      }
    if (ok && need > 0) {
      const min = need === 1 ? 0x80 : need === 2 ? 0x800 : 0x10000;
      if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) ok = false;
    }
    const len = ok ? need + 1 : 1;
    const s = ok ? String.fromCodePoint(cp) : '\ufffd';
    for (let k = 0; k < len; k++) {
      start[i + k] = text.length;
      end[i + k] = text.length + s.length;
    }
    text += s;
    i += len;
  }
  return { text, start, end };
}

/** The bytes of a byte-level word, or null when a character is not in the byte table. */
function wordBytes(word: string): Uint8Array | null {
  const bytes = new Uint8Array(word.length);
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    const b = c < 512 ? UNICODE_TO_BYTE[c] : -1;
    if (b < 0) return null;
    bytes[i] = b;
  }
  return bytes;
}

export class WordDecoder {
  /** `byteLevel`: words are GPT-2 byte strings; `metaspace`: the Metaspace replacement character, if any. */
  constructor(
    private readonly byteLevel: boolean,
    private readonly metaspace: string | null,
  ) {}

  /** Whether every word is its own text (neither byte-level nor Metaspace). */
  get identity(): boolean {
    return !this.byteLevel && !this.metaspace;
  }

  decode(word: string): DecodedWord {
    if (this.byteLevel) {
      const bytes = wordBytes(word);
      if (bytes) return decodeUtf8(bytes);
    }
    // A Metaspace replacement of one unit stands for a space; one of another length: give up decoding.
    if (this.metaspace?.length === 1 && word.includes(this.metaspace))
      return { text: word.split(this.metaspace).join(' '), start: null, end: null };
    return { text: word, start: null, end: null };
  }
}
