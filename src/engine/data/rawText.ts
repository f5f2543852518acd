/**
 * Raw-file plumbing: streaming the file as physical lines, strict UTF-8 decoding, and mapping decoded field
 * values back to raw-file positions (1-based line, 0-based UTF-16 offsets within the raw line, end exclusive).
 *
 * Memory stays bounded whatever the file holds: a line longer than `pieceBytes` comes in pieces (the readers keep at
 * most their row limit of it), so a 700 MB line costs no more than a short one.
 */
import { createReadStream } from 'node:fs';
import { DataError, type FieldValue, type SourceRange } from '../types';
import { describeSystemError, isSystemError } from './fileErrors';

/** One physical line of the file, without its line break, or one piece of a long line (see `more`). */
export interface RawLine {
  /** 1-based line number. */
  lineNo: number;
  /** Decoded text (lossy if invalid, see `invalid`). The UTF-8 BOM of line 1 is removed. */
  text: string;
  /** The line break that ended it: '\n', '\r\n' or '' at end of file (and for a piece that is not the last). */
  eol: string;
  /** True if the bytes are not valid UTF-8 (text then holds U+FFFD replacements). */
  invalid: boolean;
  /** More pieces of this line follow (only for lines longer than `pieceBytes`). */
  more?: boolean;
  /** UTF-16 offset of this piece within its line (0 for a whole line or the first piece). */
  col?: number;
  /** Byte offset in the file where the line starts. */
  offset?: number;
}

export interface ReadLinesOptions {
  /** Told the number of bytes read so far after each chunk. */
  onBytes?: (bytesRead: number) => void;
  signal?: AbortSignal;
  /** Where to start: a line's byte offset and number (from RawLine.offset). Default the start of the file. */
  start?: { offset: number; lineNo: number };
  /** A line longer than this (in bytes) comes in pieces of about this size. Default 1 MiB. */
  pieceBytes?: number;
}

const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lossyDecoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

export const DEFAULT_PIECE_BYTES = 1 << 20;

/** Decodes the pieces of one long line, strictly until the first invalid byte, then with replacements. */
class PieceDecoder {
  private strict: InstanceType<typeof TextDecoder> | undefined = new TextDecoder('utf-8', {
    fatal: true,
    ignoreBOM: true,
  });
  private lossy: InstanceType<typeof TextDecoder> | undefined;
  invalid = false;
  decode(b: Uint8Array, last: boolean): string {
    if (this.strict) {
      try {
        return this.strict.decode(b, { stream: !last });
      } catch {
        this.strict = undefined;
        this.invalid = true;
        this.lossy = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
      }
    }
    return this.lossy!.decode(b, { stream: !last });
  }
}

function decodeWhole(b: Uint8Array): { text: string; invalid: boolean } {
  try {
    return { text: strictDecoder.decode(b), invalid: false };
  } catch {
    return { text: lossyDecoder.decode(b), invalid: true };
  }
}

const UTF8_BOM = [0xef, 0xbb, 0xbf];
const startsWith = (b: Uint8Array, sig: number[]) =>
  b.length >= sig.length && sig.every((x, i) => b[i] === x);

/**
 * The encoding of a file that is not UTF-8 text, judged from its first bytes: a UTF-16/32 byte-order mark, or NUL
 * bytes in the pattern of UTF-16/32 text without one. Undefined for UTF-8 (with or without BOM) and plain ASCII.
 */
export function sniffEncoding(head: Uint8Array): { encoding: string; bom: boolean } | undefined {
  if (startsWith(head, UTF8_BOM)) return undefined;
  if (startsWith(head, [0xff, 0xfe, 0, 0])) return { encoding: 'UTF-32 LE', bom: true };
  if (startsWith(head, [0, 0, 0xfe, 0xff])) return { encoding: 'UTF-32 BE', bom: true };
  if (startsWith(head, [0xff, 0xfe])) return { encoding: 'UTF-16 LE', bom: true };
  if (startsWith(head, [0xfe, 0xff])) return { encoding: 'UTF-16 BE', bom: true };
  const guess = guessFromNuls(head);
  return guess ? { encoding: guess, bom: false } : undefined;
}

function guessFromNuls(head: Uint8Array): string | undefined {
  const n = Math.min(head.length, 4096) & ~3;
  if (n < 4) return undefined;
  // NULs by position mod 4: UTF-16 LE text has them at odd positions, BE at even ones; UTF-32 at three of four.
  const nul = [0, 0, 0, 0];
  for (let i = 0; i < n; i++) if (head[i] === 0) nul[i & 3]++;
  const total = nul[0] + nul[1] + nul[2] + nul[3];
  if (total < n / 4) return undefined;
  const q = n / 4;
  const high = nul.map((c) => c >= 0.7 * q);
  if (high[1] && high[2] && high[3] && !high[0]) return 'UTF-32 LE';
  if (high[0] && high[1] && high[2] && !high[3]) return 'UTF-32 BE';
  if (high[1] && high[3] && !high[0] && !high[2]) return 'UTF-16 LE';
  if (high[0] && high[2] && !high[1] && !high[3]) return 'UTF-16 BE';
  return 'binary';
}

function encodingError(file: string, { encoding: enc, bom }: { encoding: string; bom: boolean }): DataError {
  if (enc === 'binary')
    return new DataError(
      'is not a text file (it holds NUL bytes); expected UTF-8 JSON Lines, CSV or TSV',
      file,
    );
  return new DataError(
    `this file is ${enc}${bom ? '' : ' (no byte-order mark, but NUL bytes between the characters)'}; save it as UTF-8`,
    file,
  );
}

export function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('aborted');
}

/** A file-system error as a DataError naming the file ("cannot read the file: permission denied"); others as they are. */
export function fileFailure(err: unknown, file: string): unknown {
  return isSystemError(err) ? new DataError(`cannot read the file: ${describeSystemError(err)}`, file) : err;
}

/**
 * Streams `file` as physical lines (split at LF; a CR before the LF is removed); a line longer than `pieceBytes`
 * comes as several RawLines with `more` set on all but the last. Throws the signal's reason when aborted, a
 * DataError naming the file for a UTF-16/32 or binary file and for a read error.
 */
export async function* readLines(file: string, opts: ReadLinesOptions = {}): AsyncGenerator<RawLine> {
  const { onBytes, signal } = opts;
  const pieceBytes = Math.max(4, opts.pieceBytes ?? DEFAULT_PIECE_BYTES);
  const startOffset = opts.start?.offset ?? 0;
  let lineNo = opts.start?.lineNo ?? 1;
  const stream = createReadStream(file, { highWaterMark: Math.min(1 << 16, pieceBytes), start: startOffset });
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  /** Pieces of the current line already given out: their decoder and UTF-16 length so far. */
  let pieces: { decoder: PieceDecoder; col: number } | undefined;
  let lineStart = startOffset;
  let pos = startOffset;
  let first = startOffset === 0;

  const wholeLine = (bytes: Uint8Array, eol: string): RawLine => {
    let b = bytes;
    if (lineNo === 1 && startOffset === 0 && startsWith(b, UTF8_BOM)) b = b.subarray(3);
    if (eol === '\n' && b.length > 0 && b[b.length - 1] === 0x0d) {
      b = b.subarray(0, b.length - 1);
      eol = '\r\n';
    }
    const d = decodeWhole(b);
    return { lineNo, text: d.text, eol, invalid: d.invalid, offset: lineStart };
  };
  /** The last piece of a long line (the bytes after the last piece given out). */
  const lastPiece = (bytes: Uint8Array, eol: string): RawLine => {
    let b = bytes;
    if (eol === '\n' && b.length > 0 && b[b.length - 1] === 0x0d) {
      b = b.subarray(0, b.length - 1);
      eol = '\r\n';
    }
    const p = pieces!;
    const text = p.decoder.decode(b, true);
    const line: RawLine = { lineNo, text, eol, invalid: p.decoder.invalid, col: p.col, offset: lineStart };
    pieces = undefined;
    return line;
  };
  const endLine = (bytes: Uint8Array, eol: string): RawLine =>
    pieces ? lastPiece(bytes, eol) : wholeLine(bytes, eol);

  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (signal?.aborted) throw abortError(signal);
      if (first) {
        first = false;
        const enc = sniffEncoding(chunk);
        if (enc) throw encodingError(file, enc);
      }
      let from = 0;
      for (;;) {
        const nl = chunk.indexOf(0x0a, from);
        if (nl < 0) break;
        const part = chunk.subarray(from, nl);
        const bytes = pending.length ? Buffer.concat([...pending, part]) : part;
        pending = [];
        pendingBytes = 0;
        yield endLine(bytes, '\n');
        pos += nl + 1 - from;
        lineStart = pos;
        lineNo++;
        from = nl + 1;
      }
      if (from < chunk.length) {
        pending.push(chunk.subarray(from));
        pendingBytes += chunk.length - from;
        pos += chunk.length - from;
      }
      // A long line: give out what is pending as a piece (keeping a final CR, which may precede the LF).
      if (pendingBytes > pieceBytes) {
        let bytes = Buffer.concat(pending);
        let keep: Buffer | undefined;
        if (bytes[bytes.length - 1] === 0x0d) {
          keep = bytes.subarray(bytes.length - 1);
          bytes = bytes.subarray(0, bytes.length - 1);
        }
        if (!pieces) {
          pieces = { decoder: new PieceDecoder(), col: 0 };
          if (lineNo === 1 && startOffset === 0 && startsWith(bytes, UTF8_BOM)) bytes = bytes.subarray(3);
        }
        const text = pieces.decoder.decode(bytes, false);
        const piece: RawLine = {
          lineNo,
          text,
          eol: '',
          invalid: pieces.decoder.invalid,
          more: true,
          col: pieces.col,
          offset: lineStart,
        };
        pieces.col += text.length;
        pending = keep ? [keep] : [];
        pendingBytes = keep ? 1 : 0;
        yield piece;
      }
      onBytes?.(pos);
    }
    if (pending.length || pieces) yield endLine(Buffer.concat(pending), '');
  } catch (err) {
    throw fileFailure(err, file);
  } finally {
    stream.destroy();
  }
}

/**
 * A run of decoded code units [v, v+n) that sit on raw line `line`, unit j at raw [raw + j*w, raw + (j+1)*w).
 * `nl` marks a line break inside a value (raw = length of the line it ends).
 */
export interface Segment {
  v: number;
  line: number;
  raw: number;
  n: number;
  w: number;
  nl?: boolean;
}

const NO_SEGMENTS: Segment[] = [];

/**
 * Builds a decoded value and its segment list, merging contiguous runs. `track` false: the value only (a read that
 * never maps spans back to the file; `segs` stays empty).
 */
export class SegmentBuilder {
  readonly segs: Segment[];
  private parts: string[] = [];
  length = 0;

  constructor(private readonly track = true) {
    this.segs = track ? [] : NO_SEGMENTS;
  }

  /** Appends decoded text `s`, each unit `w` raw characters wide, the first starting at raw column `raw`. */
  add(s: string, line: number, raw: number, w = 1, nl = false): void {
    if (s.length === 0) return;
    this.parts.push(s);
    if (!this.track) {
      this.length += s.length;
      return;
    }
    const last = this.segs[this.segs.length - 1];
    if (last && !nl && !last.nl && last.line === line && last.w === w && last.raw + last.n * w === raw) {
      last.n += s.length;
    } else {
      this.segs.push({ v: this.length, line, raw, n: s.length, w, ...(nl ? { nl: true } : {}) });
    }
    this.length += s.length;
  }

  value(): string {
    const s = this.parts.length === 1 ? this.parts[0] : this.parts.join('');
    this.parts = [s];
    return s;
  }
}

function findSeg(segs: readonly Segment[], i: number): number {
  let lo = 0;
  let hi = segs.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (segs[mid].v <= i) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** A FieldValue whose rangeOf uses a segment list. `empty` is the range used for an empty value. */
export function segmentField(
  name: string,
  value: string,
  segs: readonly Segment[],
  empty: SourceRange,
): FieldValue {
  return {
    name,
    value,
    segments: segs,
    rangeOf(start: number, end: number): SourceRange {
      if (segs.length === 0 || value.length === 0) return { ...empty };
      const s = Math.max(0, Math.min(start, value.length - 1));
      const e = Math.max(s + 1, Math.min(end, value.length));
      const ia = findSeg(segs, s);
      const a = segs[ia];
      const ib = findSeg(segs, e - 1);
      const b = segs[ib];
      const rs = a.raw + (s - a.v) * a.w;
      let re: number;
      if (b.line === a.line) {
        re = b.raw + (e - b.v) * b.w;
      } else {
        // Cut at the end of the first line: the first line break on a's line.
        re = rs;
        for (let k = ia; k <= ib && segs[k].line === a.line; k++) {
          if (segs[k].nl) {
            re = segs[k].raw;
            break;
          }
          re = segs[k].raw + segs[k].n * segs[k].w;
        }
        re = Math.max(re, rs);
      }
      return { line: a.line, start: rs, end: re };
    },
  };
}

/** A FieldValue every span of which maps to one fixed raw range (e.g. a JSON number written as `1e3`). */
export function fixedField(name: string, value: string, range: SourceRange): FieldValue {
  return { name, value, rangeOf: () => ({ ...range }) };
}

/** Calls `cb` at most every `ms` milliseconds (the last call can be forced). */
export function throttle<T>(cb: ((x: T) => void) | undefined, ms = 50): (x: T, force?: boolean) => void {
  let last = 0;
  return (x, force = false) => {
    if (!cb) return;
    const now = Date.now();
    if (force || now - last >= ms) {
      last = now;
      cb(x);
    }
  };
}
