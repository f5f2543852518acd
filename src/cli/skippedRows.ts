/** The rows a command skipped, on stderr in the form `--strict` fails with: `memscore: FILE:LINE: skipped: reason`. */
import type { SkippedRow } from '../engine/types';
import { forTerminal } from './terminal';

/** Rows listed one by one; the rest are counted (all of them are in the summary file, where there is one). */
const SHOWN = 5;

export function printSkipped(file: string, skipped: readonly SkippedRow[], fullList?: string): void {
  for (const sk of skipped.slice(0, SHOWN))
    process.stderr.write(`memscore: ${forTerminal(`${file}:${sk.line}: skipped: ${sk.reason}`)}\n`);
  if (skipped.length > SHOWN)
    process.stderr.write(
      `memscore: ... and ${skipped.length - SHOWN} more skipped rows${fullList ? ` (see ${fullList})` : ''}\n`,
    );
}
