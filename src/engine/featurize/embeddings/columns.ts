/** Which column of an embeddings file holds the vectors and which the ids: asked for, or found. */
import { DataError } from '../../types';

export interface ColumnChoice {
  /** The id column; default `id` when the file has one, else none (joined by row order). */
  idField?: string;
  /** The vector column; default the only list-of-numbers column (or `embedding` among several). */
  vectorField?: string;
}

/** The user-facing names of the ColumnChoice options (CLI flags), used in messages. */
export const COLUMN_OPTION = { idField: '--embeddings-id', vectorField: '--embeddings-vector' } as const;

/** Preferred vector column names when several columns hold lists of numbers. */
const PREFERRED = ['embedding', 'embeddings', 'vector', 'features'];

/**
 * The vector column: `requested` when given (it must be one of `candidates`, the list-of-numbers columns), else the
 * only candidate, else a preferred name among them; otherwise a DataError that lists what there is.
 */
export function pickVectorColumn(
  file: string,
  requested: string | undefined,
  all: readonly string[],
  candidates: readonly string[],
  noun: 'column' | 'field' = 'column',
  hint?: (name: string) => string | undefined,
): string {
  const list = (xs: readonly string[]) => xs.map((x) => `'${x}'`).join(', ') || 'none';
  if (requested !== undefined) {
    if (!all.includes(requested))
      throw new DataError(`no ${noun} '${requested}' (${noun}s: ${list(all)})`, file);
    if (!candidates.includes(requested))
      throw new DataError(
        `the ${noun} '${requested}' is not a list of numbers${hint?.(requested) ?? ''}`,
        file,
      );
    return requested;
  }
  if (candidates.length === 1) return candidates[0];
  const preferred = PREFERRED.find((p) => candidates.includes(p));
  if (preferred) return preferred;
  if (!candidates.length) {
    const hints = all.map((c) => hint?.(c)).filter(Boolean);
    throw new DataError(
      `no ${noun} holds a list of numbers (${noun}s: ${list(all)})${hints.length ? hints[0] : ''}`,
      file,
    );
  }
  throw new DataError(
    `several ${noun}s hold lists of numbers (${list(candidates)}); choose one with ${COLUMN_OPTION.vectorField}`,
    file,
  );
}

/** The id column: `requested` (which must exist), else `id` when present, else none. */
export function pickIdColumn(
  file: string,
  requested: string | undefined,
  all: readonly string[],
  noun: 'column' | 'field' = 'column',
): string | undefined {
  if (requested === undefined) return all.includes('id') ? 'id' : undefined;
  if (!all.includes(requested))
    throw new DataError(
      `no id ${noun} '${requested}' (${noun}s: ${all.map((c) => `'${c}'`).join(', ')})`,
      file,
    );
  return requested;
}
