/** The dataset files the extension scores, by extension. Pure: no VS Code import (unit-tested). */

export const SCORABLE_EXTENSIONS = ['jsonl', 'ndjson', 'csv', 'tsv'] as const;

/** A path of a scorable file. */
export const SCORABLE = new RegExp(`\\.(${SCORABLE_EXTENSIONS.join('|')})$`, 'i');

/** The same files as a glob pattern (document selectors). */
export const SCORABLE_GLOB = `**/*.{${SCORABLE_EXTENSIONS.join(',')}}`;
