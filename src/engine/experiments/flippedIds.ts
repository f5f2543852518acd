/**
 * Reads the list of known flipped ids for the label-noise experiment (`memscore eval noise --flipped`, the report's
 * "flipped ids" pick). Kept apart from the experiments so the extension host can validate a file without bundling
 * the engine.
 */
import { DataError } from '../types';

/** The ids of a JSON file of known flipped rows: an array of ids (strings or numbers). Throws a DataError. */
export function parseFlippedIds(text: string, file?: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new DataError(`cannot read the flipped ids: ${(e as Error).message}`, file);
  }
  if (!Array.isArray(parsed)) throw new DataError('expected a JSON array of row ids', file);
  const ids = parsed.filter((x) => typeof x === 'string' || typeof x === 'number').map((x) => String(x));
  if (ids.length !== parsed.length)
    throw new DataError('expected a JSON array of row ids (strings or numbers)', file);
  if (!ids.length) throw new DataError('the file of flipped ids is empty', file);
  return ids;
}
