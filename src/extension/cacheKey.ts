/** Results-cache keys: sha256 of the file content plus the settings that change results. Pure: no VS Code import. */
import { createHash } from 'node:crypto';

/** JSON with object keys sorted, so equal settings always give the same key. */
export function stableStringify(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify(obj[k])}`).join(',')}}`;
}

function stripBom(content: string): string {
  return content.charCodeAt(0) === 0xfeff ? content.slice(1) : content;
}

/** sha256 (hex) of the text content; a leading BOM is ignored (editors strip it, files may keep it). */
export function contentHash(content: string): string {
  return createHash('sha256').update(stripBom(content), 'utf8').digest('hex');
}

/** sha256 (hex) of the content and the JSON of the settings. */
export function cacheKey(content: string, settings: unknown): string {
  return contentKeys(content, settings).key;
}

/**
 * cacheKey and contentHash of the same content in one pass over it: the content's hash state is copied before the
 * settings are added (a file can be tens of MB; both are needed each time results are stored or looked up).
 */
export function contentKeys(content: string, settings: unknown): { key: string; contentHash: string } {
  const h = createHash('sha256').update(stripBom(content), 'utf8');
  const key = h.copy().update('\0').update(stableStringify(settings), 'utf8').digest('hex');
  return { key, contentHash: h.digest('hex') };
}
