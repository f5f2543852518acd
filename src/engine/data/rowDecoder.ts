/**
 * One valid record to a row's parts (label, id text, numeric values, decoded fields, joined text), or the reason it
 * is skipped: the one place that decides, shared by the first read (readDataset.ts) and by readRowsAt.ts, so that a
 * row read again from its offset is the row read the first time.
 */
import type { DatasetSchema, FieldValue } from '../types';
import { MAX_ABS_FEATURE, numericCell } from './inferFields';
import type { RawRecord } from './record';

export type DecodedRecord =
  | { skip: string }
  | {
      skip?: undefined;
      label: string;
      /** The id field's text, when it has a non-empty one. */
      id?: string;
      numeric?: Float64Array;
      /** Built only when asked for (want.fields). */
      fields?: FieldValue[];
      /** The text fields' values joined by a newline (want.text, text rows only). */
      text?: string;
      /** Every text field is empty or blank. */
      emptyText: boolean;
    };

export interface DecodeWants {
  /** Build the FieldValues (decoded values with their raw-file ranges). */
  fields: boolean;
  /** Join the text fields' values. */
  text: boolean;
  /** A numeric cell read as missing from a marker (NaN, NA...): its column and how it is shown. */
  onMarker?: (column: number, shown: string) => void;
}

export function emptyField(name: string, line: number): FieldValue {
  return { name, value: '', rangeOf: () => ({ line, start: 0, end: 0 }) };
}

/** A cell as a message shows it: trimmed, or its first 40 characters. */
const shownCell = (t: string | undefined): string =>
  t === undefined ? '' : t.length > 40 ? `${t.slice(0, 40)}…` : t.trim();

export function decodeRecord(r: RawRecord, schema: DatasetSchema, want: DecodeWants): DecodedRecord {
  const { labelField, idField, textFields, numericFields } = schema;
  const label = r.text(labelField)?.trim();
  if (label === undefined) {
    const k = r.kind(labelField);
    return {
      skip:
        k === 'missing' || k === 'null'
          ? `missing label '${labelField}'`
          : `label '${labelField}' is not a string or number`,
    };
  }
  if (label === '') return { skip: `empty label '${labelField}'` };
  const idText = idField !== undefined ? r.text(idField) : undefined;
  const id = idText !== undefined && idText !== '' ? idText : undefined;

  if (numericFields) {
    const numeric = new Float64Array(numericFields.length);
    const fields: FieldValue[] | undefined = want.fields ? [] : undefined;
    for (let j = 0; j < numericFields.length; j++) {
      const name = numericFields[j];
      const t = r.text(name);
      const cell = t === undefined ? ({ kind: 'missing', marker: false } as const) : numericCell(t);
      if (cell.kind === 'number') numeric[j] = cell.value;
      else if (cell.kind === 'missing') {
        numeric[j] = NaN;
        if (cell.marker) want.onMarker?.(j, shownCell(t));
      } else {
        const shown = shownCell(t);
        return {
          skip:
            cell.kind === 'text'
              ? `value '${shown}' of column '${name}' is not a number`
              : cell.kind === 'infinite'
                ? `value '${shown}' of column '${name}' is not a finite number`
                : `value '${shown}' of column '${name}' is too large: above ${MAX_ABS_FEATURE} it would overflow float64 in the head's curvature (rescale the column)`,
        };
      }
      fields?.push(r.field(name) ?? emptyField(name, r.line));
    }
    return { label, id, numeric, fields, emptyText: false };
  }

  // A text field is present exactly when it has a scalar value (text() and field() agree on that, and on the value).
  const values: string[] = [];
  const fields: FieldValue[] | undefined = want.fields ? [] : undefined;
  let present = 0;
  for (const name of textFields) {
    if (fields) {
      const f = r.field(name);
      if (f) present++;
      const fv = f ?? emptyField(name, r.line);
      fields.push(fv);
      values.push(fv.value);
    } else {
      const t = r.text(name);
      if (t !== undefined) present++;
      values.push(t ?? '');
    }
  }
  if (present === 0)
    return {
      skip: `missing text field${textFields.length > 1 ? 's' : ''} ${textFields.map((t) => `'${t}'`).join(', ')}`,
    };
  return {
    label,
    id,
    fields,
    emptyText: values.every((v) => v.trim() === ''),
    ...(want.text ? { text: values.length === 1 ? values[0] : values.join('\n') } : {}),
  };
}
