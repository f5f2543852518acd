/**
 * Operating-system errors (ENOENT, EACCES, ENOSPC...) in words a user reads: "permission denied", "no space left on
 * the device". Node's own messages name the syscall and repeat the path ("EACCES: permission denied, open '/x'").
 */

const REASONS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a folder, not a file',
  ENOTDIR: 'a part of the path is not a folder',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'the file system is read-only',
  EFBIG: 'the file is too large for the file system',
  EIO: 'input/output error (a failing disk or network share?)',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'the file name is too long',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  EBUSY: 'the file is busy',
  ETXTBSY: 'the file is busy',
  EEXIST: 'the file already exists',
  EXDEV: 'cannot rename across file systems',
  EAGAIN: 'the resource is temporarily unavailable',
  ENXIO: 'no such device',
  ENODEV: 'no such device',
  EINVAL: 'invalid argument',
};

/** A Node system error (has a string `code` such as 'ENOENT'). */
export interface SystemError extends Error {
  code: string;
  path?: string;
  syscall?: string;
}

export function isSystemError(err: unknown): err is SystemError {
  const code: unknown = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code);
}

/** The error's reason in words ("permission denied"), without the path; the code itself when unknown. */
export function describeSystemError(err: unknown): string {
  if (isSystemError(err)) return REASONS[err.code] ?? err.code;
  return err instanceof Error ? err.message : String(err);
}

/** What a path is when it is not a regular file ("a folder", "a FIFO (named pipe)"...), from its stat. */
export function kindOfNonFile(st: {
  isDirectory(): boolean;
  isFIFO(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isSocket(): boolean;
}): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}
