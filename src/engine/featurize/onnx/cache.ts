/**
 * Disk cache of the encoder's per-token output, so that re-scoring a file and running the experiments on it never
 * re-encode a row.
 *
 * Layout: <cacheDir>/onnx-v3/<model key>/<2 hex>/<row key>.<kind>, where the model key hashes the model.onnx bytes
 * (and model.onnx_data when present), tokenizer.json (and the tokenizer/model configs), the output layer and the max
 * length, and the row key hashes the exact text fed to the tokenizer. kind `e` holds E (the content tokens' vectors)
 * and the row's tokenization (so a warm re-score does not even tokenize), kind `b` the [MASK] baseline E'.
 *
 * File format (little-endian): "MEMF", u32 version (3), u32 T (tokens), u32 D (dim), u32 X (extra int32 values),
 * 16 bytes of checksum (the first half of the SHA-256 of the 16 header bytes T, D, X and version and of the body),
 * then T*D float32, then X int32 (kind e: the tokenization, see onnxFeaturizer.ts).
 * Size: 36 + 4*T*D + 4*X bytes per row and kind (X is about 5 per token), e.g. 128 tokens of a 768-d model = 396 KB,
 * so 4,000 such rows take about 1.6 GB for E (the baseline is only stored for attributed rows). Delete the folder to
 * reclaim the space.
 *
 * Concurrency: a file is written to a unique temporary name and renamed into place (atomic on one file system), so
 * concurrent writers (two workers, a CLI beside the extension) never leave a torn file; readers check the header, the
 * length, the checksum and that every value is finite, and treat anything else as a miss (a flipped bit on disk gives
 * a recomputed row and one note, never a silently different score). A failing write (read-only or full disk, a cache
 * folder that is a file) disables writing for the rest of the run with one message; it never fails the job.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const MAGIC = 0x464d454d; // "MEMF" read as a little-endian u32
const VERSION = 3;
const CHECKSUM_AT = 20;
const CHECKSUM_BYTES = 16;
const HEADER = CHECKSUM_AT + CHECKSUM_BYTES;

/** The checksum of an entry: over version, T, D, X (bytes 4..20) and the body. */
function checksum(header: Buffer, body: Uint8Array, tail: Uint8Array): Buffer {
  return createHash('sha256')
    .update(header.subarray(4, CHECKSUM_AT))
    .update(body)
    .update(tail)
    .digest()
    .subarray(0, CHECKSUM_BYTES);
}

export type CacheKind = 'e' | 'b';

export interface CachedFeatures {
  T: number;
  D: number;
  data: Float32Array;
  /** Extra int32 values stored with the features (kind e: the tokenization). */
  extra: Int32Array;
}

export interface CacheStats {
  dir: string;
  hits: number;
  misses: number;
  writes: number;
  bytesWritten: number;
  /** Entries that failed their checksum or held a non-finite value (counted as misses too; recomputed). */
  corrupt: number;
}

/** The OS cache folder for memscore: $XDG_CACHE_HOME or ~/.cache on Linux, ~/Library/Caches on macOS, %LOCALAPPDATA% on Windows. */
export function defaultCacheDir(): string {
  const home = homedir();
  if (process.platform === 'win32')
    return join(process.env.LOCALAPPDATA ?? join(home, 'AppData', 'Local'), 'memscore', 'Cache');
  if (process.platform === 'darwin') return join(home, 'Library', 'Caches', 'memscore');
  return join(process.env.XDG_CACHE_HOME || join(home, '.cache'), 'memscore');
}

const fileHashes = new Map<string, string>();

/** sha256 of a file's bytes, remembered per (path, size, mtime) within the process. */
export function hashFile(path: string): string {
  const st = statSync(path);
  const memo = `${path}\0${st.size}\0${st.mtimeMs}`;
  const hit = fileHashes.get(memo);
  if (hit) return hit;
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 22);
    for (let n = readSync(fd, buf, 0, buf.length, null); n > 0; n = readSync(fd, buf, 0, buf.length, null))
      h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  const digest = h.digest('hex');
  fileHashes.set(memo, digest);
  return digest;
}

/** The model part of the key: model bytes + tokenizer.json + layer + max length. */
export function modelKey(files: string[], layer: string, maxLength: number, extra = ''): string {
  const h = createHash('sha256');
  for (const f of files) h.update(`${existsSync(f) ? hashFile(f) : '-'}\n`);
  h.update(`layer=${layer}\nmaxLength=${maxLength}\nformat=${VERSION}\n${extra}`);
  return h.digest('hex');
}

/** The row part of the key: the exact text the tokenizer sees. */
export function rowKey(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export class FeatureCache {
  readonly root: string;
  private writable = true;
  private toldCorrupt = false;
  readonly stats: CacheStats;

  constructor(
    cacheDir: string,
    key: string,
    private readonly warn: (message: string) => void = () => undefined,
  ) {
    this.root = join(cacheDir, `onnx-v${VERSION}`, key.slice(0, 32));
    this.stats = { dir: this.root, hits: 0, misses: 0, writes: 0, bytesWritten: 0, corrupt: 0 };
  }

  private file(row: string, kind: CacheKind): string {
    return join(this.root, row.slice(0, 2), `${row}.${kind}`);
  }

  /** The cached features, or undefined (missing, torn, corrupt or of another shape). */
  get(row: string, kind: CacheKind, expectT?: number, expectD?: number): CachedFeatures | undefined {
    let buf: Buffer;
    try {
      buf = readFileSync(this.file(row, kind));
    } catch {
      this.stats.misses++;
      return undefined;
    }
    const ok =
      buf.length >= HEADER &&
      buf.readUInt32LE(0) === MAGIC &&
      buf.readUInt32LE(4) === VERSION &&
      buf.length === HEADER + 4 * (buf.readUInt32LE(8) * buf.readUInt32LE(12) + buf.readUInt32LE(16));
    const T = ok ? buf.readUInt32LE(8) : -1;
    const D = ok ? buf.readUInt32LE(12) : -1;
    if (!ok || (expectT !== undefined && T !== expectT) || (expectD !== undefined && D !== expectD)) {
      this.stats.misses++;
      return undefined;
    }
    const body = buf.subarray(HEADER, HEADER + 4 * T * D);
    const tail = buf.subarray(HEADER + 4 * T * D);
    if (!checksum(buf, body, tail).equals(buf.subarray(CHECKSUM_AT, HEADER)))
      return this.corrupt('failed its checksum');
    // Copy into aligned arrays (the Buffer's offset in its pool may not be a multiple of 4).
    const data = new Float32Array(T * D);
    new Uint8Array(data.buffer).set(body);
    for (let i = 0; i < data.length; i++)
      if (!Number.isFinite(data[i])) return this.corrupt(`holds a non-finite value (${data[i]})`);
    const extra = new Int32Array(buf.readUInt32LE(16));
    new Uint8Array(extra.buffer).set(tail);
    this.stats.hits++;
    return { T, D, data, extra };
  }

  /** A bad entry: a miss (the caller recomputes and rewrites it), counted, and said once per run. */
  private corrupt(why: string): undefined {
    this.stats.misses++;
    this.stats.corrupt++;
    if (!this.toldCorrupt) {
      this.toldCorrupt = true;
      this.warn(
        `feature cache: an entry under ${this.root} ${why}; corrupt entries are recomputed and rewritten`,
      );
    }
    return undefined;
  }

  /** Counts a lookup the caller decided is unusable (e.g. a token count that does not match) as a miss. */
  reject(): void {
    this.stats.hits--;
    this.stats.misses++;
  }

  put(
    row: string,
    kind: CacheKind,
    T: number,
    D: number,
    data: Float32Array,
    extra: Int32Array = new Int32Array(0),
  ): void {
    if (!this.writable) return;
    const target = this.file(row, kind);
    const tmp = `${target}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      mkdirSync(join(this.root, row.slice(0, 2)), { recursive: true });
      const header = Buffer.alloc(HEADER);
      header.writeUInt32LE(MAGIC, 0);
      header.writeUInt32LE(VERSION, 4);
      header.writeUInt32LE(T, 8);
      header.writeUInt32LE(D, 12);
      header.writeUInt32LE(extra.length, 16);
      const body = Buffer.from(data.buffer, data.byteOffset, T * D * 4);
      const tail = Buffer.from(extra.buffer, extra.byteOffset, extra.length * 4);
      checksum(header, body, tail).copy(header, CHECKSUM_AT);
      writeFileSync(tmp, Buffer.concat([header, body, tail]));
      renameSync(tmp, target);
      this.stats.writes++;
      this.stats.bytesWritten += HEADER + body.length + tail.length;
    } catch (err) {
      this.writable = false;
      try {
        rmSync(tmp, { force: true });
      } catch {
        // No temporary file there (e.g. the cache folder is a file): nothing to remove.
      }
      this.warn(
        `feature cache: cannot write under ${this.root} (${err instanceof Error ? err.message : String(err)}); caching is off for this run`,
      );
    }
  }
}
