/**
 * How a failed `memscore` run ends: one line on stderr naming what went wrong (the file and line, the option), and
 * an exit code a script can act on: 1 the command line is wrong (a bad option, an output path that cannot be used),
 * 2 the data or a file is (a bad file, an unreadable input, a full disk), 3 a bug in memscore. A stack trace is for
 * the developers: it is printed only with MEMSCORE_DEBUG=1.
 */
import { describeSystemError, isSystemError } from '../engine/data/fileErrors';
import { DataError, UsageError } from '../engine/types';
import { OutputError } from './outputFiles';
import { forTerminal } from './terminal';

export const EXIT_USAGE = 1;
export const EXIT_DATA = 2;
export const EXIT_BUG = 3;

export interface Failure {
  exitCode: typeof EXIT_USAGE | typeof EXIT_DATA | typeof EXIT_BUG;
  /** The line to print (without the program prefix); terminal-safe. */
  message: string;
}

function kindOf(err: unknown): 'usage' | 'data' | undefined {
  if (err instanceof UsageError) return 'usage';
  if (err instanceof DataError) return 'data';
  const kind = (err as { kind?: unknown } | null)?.kind;
  return kind === 'usage' || kind === 'data' ? kind : undefined;
}

/** Maps an error to its exit code and one line. */
export function describeFailure(err: unknown): Failure {
  const kind = kindOf(err);
  const text = err instanceof Error ? err.message : String(err);
  // A bad output path is named with its flag already; pointing at --help would not help.
  if (err instanceof OutputError) return { exitCode: EXIT_USAGE, message: oneLine(text) };
  if (kind === 'usage') return { exitCode: EXIT_USAGE, message: oneLine(`${text}; see memscore --help`) };
  if (kind === 'data') return { exitCode: EXIT_DATA, message: oneLine(text) };
  // A file-system error that no layer translated (a file that vanished mid-run, a disk that filled up).
  if (isSystemError(err)) {
    const where = err.path ? `${err.path}: ` : '';
    return { exitCode: EXIT_DATA, message: oneLine(`${where}${describeSystemError(err)}`) };
  }
  if (err instanceof RangeError && /allocation failed/i.test(text))
    return {
      exitCode: EXIT_DATA,
      message: oneLine(`out of memory (${text}); the data does not fit: use fewer rows or shorter texts`),
    };
  return {
    exitCode: EXIT_BUG,
    message: oneLine(
      `internal error: ${text.split('\n')[0]} (this is a bug in memscore: please report it with the command you ran and the output of the same command run with MEMSCORE_DEBUG=1)`,
    ),
  };
}

function oneLine(s: string): string {
  return forTerminal(s.trim());
}

/** Prints the failure (and with MEMSCORE_DEBUG=1 the stack) on `stream`; returns the exit code. */
export function reportFailure(
  err: unknown,
  stream: { write(s: string): unknown } = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): number {
  const f = describeFailure(err);
  stream.write(`memscore: ${f.message}\n`);
  if (env.MEMSCORE_DEBUG === '1' && err instanceof Error && err.stack)
    stream.write(`${forTerminal(err.stack, { lines: true })}\n`);
  return f.exitCode;
}
