/**
 * A row's decoded text as one string (its text fields joined, numeric columns as name=value) with the map from each
 * decoded character back to the raw file: what the ranking panel shows, with token heat placed through the map.
 */
import type { DatasetRow } from '../types';
import type { Segment } from './rawText';

/** Between the values of several text fields (e.g. subject · body). */
export const FIELD_SEPARATOR = ' · ';

export interface DecodedText {
  text: string;
  segs: Segment[];
}

/** `named`: prefix each value with its field name (numeric columns); empty values are then kept. */
export function decodedText(row: DatasetRow, named: boolean): DecodedText {
  let text = '';
  const segs: Segment[] = [];
  for (const f of row.fields) {
    if (!named && f.value.trim() === '') continue;
    if (text) text += FIELD_SEPARATOR;
    if (named) text += `${f.name}=`;
    for (const s of f.segments ?? []) segs.push({ ...s, v: s.v + text.length });
    text += f.value;
  }
  return { text, segs };
}
