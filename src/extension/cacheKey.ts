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
  return createHash('sha256')
    .update(stripBom(content), 'utf8')
    .update('\0')
    .update(stableStringify(settings), 'utf8')
    .digest('hex');
}
