/**
 * NumPy `.npy` files (format versions 1.0, 2.0 and 3.0 of the NumPy format spec): an n x d float32 or float64 array,
 * either byte order, C or Fortran order. The header is a Python dict literal:
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (20000, 768), }`, space-padded so the data starts aligned.
 * An .npy file has no ids, so it is joined to the dataset by row order.
 */
import { open } from 'node:fs/promises';
import { DataError } from '../../types';
import { checkFinite, type EmbeddingDtype, type EmbeddingTable } from './table';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export interface NpyHeader {
  dtype: EmbeddingDtype;
  littleEndian: boolean;
  fortranOrder: boolean;
  shape: number[];
  /** Byte offset of the data. */
  dataOffset: number;
}

/** Parses the magic, version and header dict; throws a DataError naming the file for anything else. */
export function parseNpyHeader(bytes: Uint8Array, file: string): NpyHeader {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b))
    throw new DataError('not a NumPy .npy file (it does not start with \\x93NUMPY)', file);
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new DataError('truncated .npy header', file);
    headerLen = view.getUint32(8, true);
    start = 12;
  } else throw new DataError(`unsupported .npy format version ${major}.${bytes[7]}`, file);
  if (bytes.length < start + headerLen) throw new DataError('truncated .npy header', file);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(start, start + headerLen),
  );
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined)
    throw new DataError(
      `cannot read the .npy header ${JSON.stringify(header.trim())} (a structured dtype or a damaged file)`,
      file,
    );
  const m = /^([<>=|])f([48])$/.exec(descr);
  if (!m)
    throw new DataError(
      `the .npy array has dtype '${descr}'; embeddings must be float32 ('<f4') or float64 ('<f8')`,
      file,
    );
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (shape.some((s) => !Number.isSafeInteger(s) || s < 0))
    throw new DataError(`bad .npy shape (${shapeText})`, file);
  return {
    dtype: m[2] === '4' ? 'float32' : 'float64',
    littleEndian: m[1] !== '>',
    fortranOrder: fortran === 'True',
    shape,
    dataOffset: start + headerLen,
  };
}

/** Reads an n x d .npy file into a C-order table of its own precision. */
export function readNpy(file: string, bytes: Uint8Array): EmbeddingTable {
  const h = parseNpyHeader(bytes, file);
  if (h.shape.length !== 2)
    throw new DataError(
      `the .npy array has shape (${h.shape.join(', ')}); embeddings must be 2-D: rows x width`,
      file,
    );
  const [n, dim] = h.shape;
  if (n === 0 || dim === 0) throw new DataError(`the .npy array has shape (${n}, ${dim}): no vectors`, file);
  const size = h.dtype === 'float32' ? 4 : 8;
  const expected = n * dim * size;
  const have = bytes.length - h.dataOffset;
  if (have !== expected)
    throw new DataError(
      `${have < expected ? 'truncated' : 'damaged'}: the header says ${n} x ${dim} ${h.dtype} (${expected} bytes of data) but the file has ${have}`,
      file,
    );
  const values = decode(bytes, h, n * dim);
  const table: EmbeddingTable = {
    file,
    format: 'npy',
    n,
    dim,
    dtype: h.dtype,
    values: h.fortranOrder ? transpose(values, n, dim) : values,
  };
  checkFinite(table);
  return table;
}

/** The data as a typed array in native (little-endian) order; copied so the file's buffer can go. */
function decode(bytes: Uint8Array, h: NpyHeader, count: number): Float32Array | Float64Array {
  const size = h.dtype === 'float32' ? 4 : 8;
  const out = h.dtype === 'float32' ? new Float32Array(count) : new Float64Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset + h.dataOffset, count * size);
  if (h.littleEndian) {
    new Uint8Array(out.buffer).set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  } else if (h.dtype === 'float32') {
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, false);
  } else {
    for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, false);
  }
  return out;
}

/** Fortran (column-major) n x d data to row-major. */
function transpose<T extends Float32Array | Float64Array>(a: T, n: number, dim: number): T {
  const out = new (a.constructor as new (len: number) => T)(a.length);
  for (let j = 0; j < dim; j++) {
    const o = j * n;
    for (let i = 0; i < n; i++) out[i * dim + j] = a[o + i];
  }
  return out;
}

/** Header length reserved by NpyWriter: room for any n x d shape, a multiple of 64 as the spec recommends. */
const RESERVED_HEADER = 128;

/** A version 1.0 header for a C-order little-endian n x d array, padded to `total` bytes (magic included). */
export function npyHeader(
  dtype: EmbeddingDtype,
  n: number,
  dim: number,
  total = RESERVED_HEADER,
): Uint8Array {
  const dict = `{'descr': '${dtype === 'float32' ? '<f4' : '<f8'}', 'fortran_order': False, 'shape': (${n}, ${dim}), }`;
  const headerLen = total - 10;
  if (dict.length + 1 > headerLen) throw new Error(`npy header does not fit in ${total} bytes`);
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, headerLen, true);
  const text = dict.padEnd(headerLen - 1, ' ') + '\n';
  for (let i = 0; i < text.length; i++) out[10 + i] = text.charCodeAt(i);
  return out;
}

/**
 * Streams rows into an .npy file: the header's row count is only known at the end, so a fixed-size header is
 * reserved first and written over on close.
 */
export class NpyWriter {
  private rows = 0;
  private offset = RESERVED_HEADER;

  private constructor(
    private readonly fh: import('node:fs/promises').FileHandle,
    private readonly dim: number,
    private readonly dtype: EmbeddingDtype,
  ) {}

  static async create(path: string, dim: number, dtype: EmbeddingDtype): Promise<NpyWriter> {
    const fh = await open(path, 'wx');
    return new NpyWriter(fh, dim, dtype);
  }

  /** Appends m rows of X (m x dim, row-major). */
  async write(X: Float64Array, m: number): Promise<void> {
    const count = m * this.dim;
    const data = this.dtype === 'float32' ? Float32Array.from(X.subarray(0, count)) : X.subarray(0, count);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    await this.fh.write(bytes, 0, bytes.length, this.offset);
    this.offset += bytes.length;
    this.rows += m;
  }

  async close(): Promise<void> {
    const header = npyHeader(this.dtype, this.rows, this.dim);
    await this.fh.write(header, 0, header.length, 0);
    await this.fh.close();
  }

  async abort(): Promise<void> {
    await this.fh.close().catch(() => undefined);
  }
}
