/**
 * Raw-file plumbing: streaming the file as physical lines, strict UTF-8 decoding, and mapping decoded field
 * values back to raw-file positions (1-based line, 0-based UTF-16 offsets within the raw line, end exclusive).
 */
import { createReadStream } from 'node:fs';
import type { FieldValue, SourceRange } from '../types';

/** One physical line of the file, without its line break. */
export interface RawLine {
  /** 1-based line number. */
  lineNo: number;
  /** Decoded text (lossy if invalid, see `invalid`). The UTF-8 BOM of line 1 is removed. */
  text: string;
  /** The line break that ended it: '\n', '\r\n' or '' at end of file. */
  eol: string;
  /** True if the bytes are not valid UTF-8 (text then holds U+FFFD replacements). */
  invalid: boolean;
}

const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lossyDecoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

function decodeLine(bytes: Buffer, lineNo: number, eol: string): RawLine {
  let b = bytes;
  if (lineNo === 1 && b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) b = b.subarray(3);
  if (eol === '\n' && b.length > 0 && b[b.length - 1] === 0x0d) {
    b = b.subarray(0, b.length - 1);
    eol = '\r\n';
  }
  try {
    return { lineNo, text: strictDecoder.decode(b), eol, invalid: false };
  } catch {
    return { lineNo, text: lossyDecoder.decode(b), eol, invalid: true };
  }
}

export function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('aborted');
}

/**
 * Streams `file` as physical lines (split at LF; a CR before the LF is removed). `onBytes` is told the number of
 * bytes read so far after each chunk. Throws the signal's reason when aborted.
 */
export async function* readLines(
  file: string,
  onBytes?: (bytesRead: number) => void,
  signal?: AbortSignal,
): AsyncGenerator<RawLine> {
  const stream = createReadStream(file, { highWaterMark: 1 << 16 });
  let pending: Buffer[] = [];
  let lineNo = 1;
  let bytesRead = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (signal?.aborted) throw abortError(signal);
      bytesRead += chunk.length;
      let from = 0;
      for (;;) {
        const nl = chunk.indexOf(0x0a, from);
        if (nl < 0) break;
        const part = chunk.subarray(from, nl);
        const bytes = pending.length ? Buffer.concat([...pending, part]) : part;
        pending = [];
        yield decodeLine(bytes, lineNo++, '\n');
        from = nl + 1;
      }
      if (from < chunk.length) pending.push(chunk.subarray(from));
      onBytes?.(bytesRead);
    }
    if (pending.length) yield decodeLine(Buffer.concat(pending), lineNo, '');
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

/** Builds the segment list of a decoded value, merging contiguous runs. */
export class SegmentBuilder {
  readonly segs: Segment[] = [];
  private parts: string[] = [];
  length = 0;

  /** Appends decoded text `s`, each unit `w` raw characters wide, the first starting at raw column `raw`. */
  add(s: string, line: number, raw: number, w = 1, nl = false): void {
    if (s.length === 0) return;
    this.parts.push(s);
    const last = this.segs[this.segs.length - 1];
    if (last && !nl && !last.nl && last.line === line && last.w === w && last.raw + last.n * w === raw) {
      last.n += s.length;
    } else {
      this.segs.push({ v: this.length, line, raw, n: s.length, w, ...(nl ? { nl: true } : {}) });
    }
    this.length += s.length;
  }

  value(): string {
    const s = this.parts.join('');
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
