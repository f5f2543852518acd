/**
 * The files memscore writes (--out, --summary, --png): checked before any work, written atomically.
 *
 * - An output that resolves to an input (the same path, a symlink to it, a hard link: same device and inode) or to
 *   another output is refused before the run starts, as are an empty name, a folder, a missing or read-only folder,
 *   and a read-only existing file. Minutes of work never end in "cannot write".
 * - A regular file is written to a temporary file in the same folder and renamed over the target, so a failed or
 *   interrupted run leaves the previous file (or none), never half a file. The temporary file is removed on failure,
 *   on exit and on SIGINT/SIGTERM/SIGHUP. An existing target keeps its permissions; a symlinked target is replaced
 *   where the link points (the link stays).
 * - A target that exists and is not a regular file (/dev/stdout, /dev/null, a FIFO) is written directly.
 */
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  chmodSync,
  constants,
  closeSync,
  fchmodSync,
  fsyncSync,
  openSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { describeSystemError, isSystemError } from '../engine/data/fileErrors';
import { UsageError } from '../engine/types';

/** An output path that cannot be used (exit code 1, like every command-line mistake). */
export class OutputError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = 'OutputError';
  }
}

export interface OutputPath {
  /** The flag that named it, for messages: '--out'. */
  flag: string;
  path: string;
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (err) {
    if (isSystemError(err) && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) return undefined;
    throw err;
  }
}

/** What a path is, for comparing files: device and inode when it exists (any link to it), else its resolved path. */
function identityOf(path: string): string {
  const st = statOrUndefined(path);
  if (st) return `inode ${st.dev}:${st.ino}`;
  const abs = resolve(path);
  try {
    return `path ${join(realpathSync(dirname(abs)), basename(abs))}`;
  } catch {
    return `path ${abs}`;
  }
}

/**
 * Throws an OutputError for the first output that cannot be written or that would overwrite an input or another
 * output. `inputs` are the files the run reads (undefined entries are ignored); `outputs` likewise.
 */
export function checkOutputs(
  outputs: readonly (OutputPath | undefined)[],
  inputs: readonly (string | undefined)[],
): void {
  const taken = new Map<string, string>();
  for (const input of inputs) {
    if (input === undefined || input === '') continue;
    try {
      taken.set(identityOf(input), `the input file ${input}`);
    } catch {
      // An input that cannot even be stat'ed fails when it is read, with its own message.
    }
  }
  for (const out of outputs) {
    if (!out) continue;
    const { flag, path } = out;
    if (path === '') throw new OutputError(`${flag} needs a file name`);
    let st: Stats | undefined;
    try {
      st = statOrUndefined(path);
    } catch (err) {
      throw new OutputError(`cannot write ${flag} ${path}: ${describeSystemError(err)}`);
    }
    if (st?.isDirectory()) throw new OutputError(`${flag} ${path} is a folder; give a file name`);
    const special = st !== undefined && !st.isFile();
    const id = identityOf(path);
    const clash = taken.get(id);
    if (clash !== undefined && !special) {
      throw new OutputError(
        clash.startsWith('the input')
          ? `${flag} ${path} is ${clash}; memscore never overwrites its input: choose another name`
          : `${flag} ${path} is also ${clash}; give each output its own file`,
      );
    }
    taken.set(id, flag);
    if (special) {
      if (!writable(path)) throw new OutputError(`cannot write ${flag} ${path}: permission denied`);
      continue;
    }
    const target = st ? realpathSync(path) : resolve(path);
    const folder = dirname(target);
    const fst = statOrUndefined(folder);
    if (!fst) throw new OutputError(`cannot write ${flag} ${path}: the folder ${folder} does not exist`);
    if (!fst.isDirectory()) throw new OutputError(`cannot write ${flag} ${path}: ${folder} is not a folder`);
    const why = accessError(folder);
    if (why) throw new OutputError(`cannot write ${flag} ${path}: ${why} (folder ${folder})`);
    if (st && !writable(target)) throw new OutputError(`cannot write ${flag} ${path}: the file is read-only`);
  }
}

function accessError(path: string): string | undefined {
  try {
    accessSync(path, constants.W_OK);
    return undefined;
  } catch (err) {
    return describeSystemError(err);
  }
}

const writable = (path: string): boolean => accessError(path) === undefined;

// ---- temporary files: removed whatever happens ----

const pending = new Set<string>();
let handlersInstalled = false;

function removePending(): void {
  for (const tmp of pending) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // Nothing more can be done on the way out.
    }
  }
  pending.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  removePending();
  uninstallHandlers();
  process.kill(process.pid, signal);
}

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', removePending);
  for (const s of SIGNALS) process.on(s, onSignal);
}

function uninstallHandlers(): void {
  if (!handlersInstalled) return;
  handlersInstalled = false;
  process.off('exit', removePending);
  for (const s of SIGNALS) process.off(s, onSignal);
}

function track(tmp: string): void {
  pending.add(tmp);
  installHandlers();
}

function untrack(tmp: string): void {
  pending.delete(tmp);
  if (pending.size === 0) uninstallHandlers();
}

/** An output being written: `write` appends, `commit` puts it in place, `discard` drops it. */
export interface OutputWriter {
  write(chunk: string | Uint8Array): void;
  commit(): void;
  discard(): void;
  /** Written straight to a non-regular file (a device, a pipe): its writes can still fail at commit. */
  readonly direct: boolean;
}

const FLUSH_BYTES = 1 << 20;

/**
 * Opens an output for writing (atomically for a regular file, see the file comment). Failures are OutputErrors
 * naming the flag and path. `commit` must be called for the output to appear.
 */
export function openOutput(out: OutputPath): OutputWriter {
  const { flag, path } = out;
  const fail = (err: unknown): never => {
    throw new OutputError(`cannot write ${flag} ${path}: ${describeSystemError(err)}`);
  };
  let st: Stats | undefined;
  try {
    st = statOrUndefined(path);
  } catch (err) {
    fail(err);
  }
  const direct = st !== undefined && !st.isFile();
  const target = st && !direct ? realpathSync(path) : path;
  const tmp = direct ? undefined : temporaryPathFor(target);
  let fd: number | undefined;
  try {
    if (tmp) {
      track(tmp);
      fd = openSync(tmp, 'wx', 0o666);
      if (st) fchmodSync(fd, st.mode & 0o7777);
    } else fd = openSync(target, 'w');
  } catch (err) {
    if (tmp) untrack(tmp);
    fail(err);
  }
  const chunks: Buffer[] = [];
  let buffered = 0;
  let done = false;
  const flush = (): void => {
    if (!buffered) return;
    const buf = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    chunks.length = 0;
    buffered = 0;
    for (let off = 0; off < buf.length;) off += writeSync(fd!, buf, off, buf.length - off);
  };
  const cleanup = (): void => {
    done = true;
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // Already failing: the first error is the one to report.
      }
      fd = undefined;
    }
    if (tmp) {
      try {
        rmSync(tmp, { force: true });
      } catch {
        // A temporary file that cannot be removed is left; the exit handler tries again.
      }
      untrack(tmp);
    }
  };
  return {
    direct,
    write(chunk) {
      if (done) throw new Error(`${flag} ${path} was already committed or discarded`);
      const b = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk);
      chunks.push(b);
      buffered += b.length;
      if (buffered >= FLUSH_BYTES) {
        try {
          flush();
        } catch (err) {
          cleanup();
          fail(err);
        }
      }
    },
    commit() {
      if (done) throw new Error(`${flag} ${path} was already committed or discarded`);
      try {
        flush();
        if (tmp) fsyncSync(fd!);
        closeSync(fd!);
        fd = undefined;
        if (tmp) renameSync(tmp, target);
      } catch (err) {
        cleanup();
        fail(err);
      }
      done = true;
      if (tmp) untrack(tmp);
    },
    discard() {
      if (!done) cleanup();
    },
  };
}

/** A fresh temporary name next to `target` (same folder, so the final rename is atomic). */
function temporaryPathFor(target: string): string {
  return join(
    dirname(resolve(target)),
    `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
}

/**
 * For writers that need a path of their own (Parquet, .npy): `fill` writes a temporary file next to the output,
 * which is then renamed into place (keeping an existing file's mode); on failure it is removed. A non-regular
 * output (a device) is written directly.
 */
export async function writeThroughTemporary(
  out: OutputPath,
  fill: (path: string) => Promise<void>,
): Promise<void> {
  const { flag, path } = out;
  let st: Stats | undefined;
  try {
    st = statOrUndefined(path);
  } catch (err) {
    throw new OutputError(`cannot write ${flag} ${path}: ${describeSystemError(err)}`);
  }
  if (st && !st.isFile()) return fill(path);
  const target = st ? realpathSync(path) : path;
  const tmp = temporaryPathFor(target);
  track(tmp);
  try {
    await fill(tmp);
    if (st) chmodSync(tmp, st.mode & 0o7777);
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { force: true });
    if (isSystemError(err))
      throw new OutputError(`cannot write ${flag} ${path}: ${describeSystemError(err)}`);
    throw err;
  } finally {
    untrack(tmp);
  }
}

/**
 * Puts several staged outputs in place together, so that a run failing on one output changes none: the direct ones
 * first (their last writes can fail), then the renames; on a failure the rest are discarded.
 */
export function commitAll(writers: readonly OutputWriter[]): void {
  const ordered = [...writers.filter((w) => w.direct), ...writers.filter((w) => !w.direct)];
  try {
    for (const w of ordered) w.commit();
  } catch (err) {
    for (const w of ordered) w.discard();
    throw err;
  }
}

/** Writes a whole output at once (atomically, see openOutput). */
export function writeOutput(out: OutputPath, data: string | Uint8Array): void {
  const w = openOutput(out);
  try {
    w.write(data);
  } catch (err) {
    w.discard();
    throw err;
  }
  w.commit();
}

/** The temporary files not yet committed or removed (for tests). */
export function pendingTemporaryFiles(): string[] {
  return [...pending];
}
