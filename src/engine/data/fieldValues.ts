/**
 * The value of one more field for each row already read (a group column: a source, a split, an annotator): a second
 * read of the file with that field as its only text field, matched by line. The value is never featurized.
 */
import { MISSING_GROUP } from '../../protocol/reasons';
import type { DatasetSchema, LeanRow } from '../types';
import { openDataset } from './readDataset';

export { MISSING_GROUP };

export async function readFieldValues(
  file: string,
  schema: Pick<DatasetSchema, 'labelField'>,
  field: string,
  rows: readonly Pick<LeanRow, 'line'>[],
  signal?: AbortSignal,
): Promise<string[]> {
  const second = await openDataset(file, {
    text: [field],
    label: schema.labelField,
    allowSingleClass: true,
    // The one text field's value is the row's kept text; no decoded fields are built.
    keepText: true,
    signal,
  });
  const byLine = new Map<number, string>();
  for (const r of (await second.read()).rows) byLine.set(r.line, r.text ?? MISSING_GROUP);
  return rows.map((r) => byLine.get(r.line) ?? MISSING_GROUP);
}
