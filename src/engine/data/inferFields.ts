/** Chooses the label, id, text and numeric fields from a sample of records (unless given explicitly). */
import { DataError, type DatasetSchema } from '../types';
import type { RawRecord } from './record';

const LABEL_NAMES = ['label', 'labels', 'class', 'category', 'target', 'y', 'sentiment', 'gold'];
const ID_NAMES = ['id', '_id', 'uid', 'guid', 'key'];
/** Never text (nor label) by inference: evaluation-only fields. */
const NEVER_TEXT = ['group'];
/** Most distinct values a categorical field (label candidate) may have in the sample. */
const MAX_CLASSES = 20;

export interface InferOptions {
  text?: string[];
  label?: string;
  id?: string;
  tabular?: boolean;
}

interface FieldStats {
  name: string;
  present: number;
  strings: number;
  totalLen: number;
  numeric: number;
  nonNumeric: number;
  /** Cells that spell a missing value (NaN, NA, null...): neither numbers nor text. */
  missing: number;
  /** The first non-numeric value and the first missing-value marker, with their lines. */
  firstText?: { value: string; line: number };
  firstMissing?: { value: string; line: number };
  distinct: Set<string>;
}

/** Above this magnitude a feature value would overflow float64 in the head's curvature (x^2 summed over rows). */
export const MAX_ABS_FEATURE = 1e100;

/** How a CSV cell of a numeric column reads. */
export type NumericCell =
  | { kind: 'number'; value: number }
  /** Empty, or a missing-value marker such as NaN or NA. */
  | { kind: 'missing'; marker: boolean }
  /** inf, Infinity, or a number too large for float64 (1e400). */
  | { kind: 'infinite' }
  /** Finite but above MAX_ABS_FEATURE in magnitude. */
  | { kind: 'huge'; value: number }
  | { kind: 'text' };

const MISSING_MARKERS = new Set(['nan', 'na', 'n/a', 'null', 'none', 'missing', '?', '#n/a']);
const INFINITY = /^[+-]?(inf|infinity)$/i;

export function numericCell(s: string): NumericCell {
  const t = s.trim();
  if (t === '') return { kind: 'missing', marker: false };
  if (MISSING_MARKERS.has(t.toLowerCase())) return { kind: 'missing', marker: true };
  if (INFINITY.test(t)) return { kind: 'infinite' };
  const v = Number(t);
  if (Number.isNaN(v)) return { kind: 'text' };
  if (!Number.isFinite(v)) return { kind: 'infinite' };
  return Math.abs(v) > MAX_ABS_FEATURE ? { kind: 'huge', value: v } : { kind: 'number', value: v };
}

/** A finite number (of any size). */
export function isNumericText(s: string): boolean {
  const k = numericCell(s).kind;
  return k === 'number' || k === 'huge';
}

function collectStats(names: readonly string[], sample: readonly RawRecord[]): Map<string, FieldStats> {
  const stats = new Map<string, FieldStats>();
  for (const name of names) {
    stats.set(name, {
      name,
      present: 0,
      strings: 0,
      totalLen: 0,
      numeric: 0,
      nonNumeric: 0,
      missing: 0,
      distinct: new Set(),
    });
  }
  for (const r of sample) {
    for (const [name, st] of stats) {
      const kind = r.kind(name);
      const t = r.text(name);
      if (t === undefined) continue;
      st.present++;
      if (st.distinct.size <= MAX_CLASSES) st.distinct.add(t);
      if (kind === 'string') {
        st.strings++;
        st.totalLen += t.length;
      }
      if (t.trim() === '') continue;
      if (kind === 'number') {
        st.numeric++;
        continue;
      }
      const cell = kind === 'string' ? numericCell(t) : ({ kind: 'text' } as const);
      if (cell.kind === 'missing') {
        st.missing++;
        st.firstMissing ??= { value: t, line: r.line };
      } else if (cell.kind === 'text') {
        st.nonNumeric++;
        st.firstText ??= { value: t, line: r.line };
      } else st.numeric++;
    }
  }
  return stats;
}

function requireField(name: string, names: readonly string[], what: string, file: string): void {
  if (!names.includes(name)) {
    throw new DataError(
      `${what} field '${name}' does not exist; available fields: ${names.join(', ') || '(none)'}`,
      file,
    );
  }
}

function byName(names: readonly string[], wanted: readonly string[]): string | undefined {
  return names.find((n) => wanted.includes(n.toLowerCase()));
}

/**
 * Infers the schema. `names` are the field names in file order (the CSV header, or the union of JSON keys in the
 * sample in order of first appearance). Returns the schema and notes for the user.
 */
export function inferSchema(
  file: string,
  format: DatasetSchema['format'],
  names: readonly string[],
  sample: readonly RawRecord[],
  opts: InferOptions,
): { schema: DatasetSchema; warnings: string[]; ambiguities: string[] } {
  const warnings: string[] = [];
  /** Choices a person should confirm: the editor asks once with a quick pick (the CLI just warns). */
  const ambiguities: string[] = [];
  const stats = collectStats(names, sample);
  const n = sample.length;
  const isCategorical = (st: FieldStats): boolean =>
    st.present > 0 && st.distinct.size <= MAX_CLASSES && st.distinct.size < Math.max(2, n / 2);
  const isNumericCol = (st: FieldStats): boolean => st.numeric > 0 && st.nonNumeric === 0;

  // id
  let idField: string | undefined;
  if (opts.id !== undefined) {
    requireField(opts.id, names, 'id', file);
    idField = opts.id;
  } else {
    idField = byName(names, ID_NAMES);
  }

  // label
  let labelField: string | undefined;
  if (opts.label !== undefined) {
    requireField(opts.label, names, 'label', file);
    labelField = opts.label;
  } else {
    labelField = byName(
      names.filter((x) => x !== idField),
      LABEL_NAMES,
    );
    if (!labelField) {
      const cands = names
        .filter((x) => x !== idField && !opts.text?.includes(x) && !NEVER_TEXT.includes(x.toLowerCase()))
        .map((x) => stats.get(x)!)
        .filter(isCategorical);
      // Prefer a non-numeric categorical field (first in file order), else the last numeric one.
      const pick = cands.find((st) => !isNumericCol(st)) ?? cands[cands.length - 1];
      if (!pick) {
        throw new DataError(
          `could not infer the label field (no field named label/class/target/... and no field with few distinct values); pass --label. Available fields: ${names.join(', ')}`,
          file,
        );
      }
      labelField = pick.name;
      if (cands.length > 1) {
        ambiguities.push(
          `label: no field is named label/class/target; '${labelField}' was chosen among ${cands.map((c) => `'${c.name}'`).join(', ')}`,
        );
      }
      warnings.push(
        `label field inferred as '${labelField}' (${pick.distinct.size} distinct values); pass --label to choose another`,
      );
    }
  }

  const rest = names.filter((x) => x !== labelField && x !== idField);
  const explicitText = opts.text?.length ? opts.text : undefined;
  explicitText?.forEach((t) => requireField(t, names, 'text', file));

  // tabular
  const tabular =
    opts.tabular === true ||
    (opts.tabular === undefined &&
      !explicitText &&
      rest.length > 0 &&
      rest.every((x) => isNumericCol(stats.get(x)!)));
  if (!tabular && opts.tabular === undefined && !explicitText && format !== 'jsonl') {
    // Numeric columns but for a few values: read as text, which is rarely what was meant. Say so.
    const near = rest.map((x) => stats.get(x)!).filter(isNearlyNumeric);
    const restNumeric = rest.every((x) => isNumericCol(stats.get(x)!) || isNearlyNumeric(stats.get(x)!));
    if (near.length && restNumeric) {
      const c = near[0];
      warnings.push(
        `column '${c.name}' holds numbers but for ${c.nonNumeric} value${c.nonNumeric > 1 ? 's' : ''} (first: '${clip(c.firstText!.value)}' on line ${c.firstText!.line})${near.length > 1 ? ` (and ${near.length - 1} more such column${near.length > 2 ? 's' : ''})` : ''}, so the file is read as text; pass --featurizer numeric to read the columns as numbers (rows with a value that is not a number are then skipped)`,
      );
    }
  }
  if (tabular) {
    const numericFields = explicitText ?? rest;
    if (numericFields.length === 0) throw new DataError('no numeric feature columns found', file);
    const schema: DatasetSchema = { format, labelField, textFields: [], numericFields };
    if (idField) schema.idField = idField;
    return { schema, warnings, ambiguities };
  }

  let textFields: string[];
  if (explicitText) {
    textFields = [...explicitText];
  } else {
    const cands = rest
      .filter((x) => !NEVER_TEXT.includes(x.toLowerCase()))
      .map((x) => stats.get(x)!)
      .filter((st) => st.strings > 0 && !isCategorical(st) && !isNumericCol(st))
      .map((st) => ({ name: st.name, avg: st.totalLen / st.strings }));
    if (cands.length === 0) {
      const why = rest.map((x) => whyNotText(stats.get(x)!, n, isCategorical, isNumericCol));
      const few = n < 4 ? ` (only ${n} row${n === 1 ? '' : 's'} to judge from)` : '';
      throw new DataError(
        `could not infer a text field${few}: ${why.join('; ') || 'no field besides the label and the id'}; pass --text FIELD to choose one. Available fields: ${names.join(', ')}`,
        file,
      );
    }
    const longest = Math.max(...cands.map((c) => c.avg));
    // The longest field, plus other long free-text fields of comparable length, in file order.
    textFields = cands
      .filter((c) => c.avg === longest || (c.avg >= 20 && c.avg >= 0.5 * longest))
      .map((c) => c.name);
    // A free-text field left out although it is not much shorter (e.g. title vs body) is a judgement call.
    const closeCall = cands.filter(
      (c) => !textFields.includes(c.name) && c.avg >= 20 && c.avg >= 0.25 * longest,
    );
    if (closeCall.length) {
      ambiguities.push(
        `text: chose ${textFields.map((t) => `'${t}'`).join(', ')}; ${closeCall.map((c) => `'${c.name}'`).join(', ')} also hold free text`,
      );
    }
  }
  const schema: DatasetSchema = { format, labelField, textFields };
  if (idField) schema.idField = idField;
  return { schema, warnings, ambiguities };
}

/** A column of numbers with a few values that are not: a typo or a marker the reader does not know. */
function isNearlyNumeric(st: FieldStats): boolean {
  const values = st.numeric + st.nonNumeric;
  return st.numeric >= 10 && st.nonNumeric > 0 && st.nonNumeric <= Math.max(2, 0.02 * values);
}

/** Why a field is not taken as free text, in words (for the "could not infer a text field" message). */
function whyNotText(
  st: FieldStats,
  n: number,
  isCategorical: (st: FieldStats) => boolean,
  isNumericCol: (st: FieldStats) => boolean,
): string {
  const rows = `${n} row${n === 1 ? '' : 's'}`;
  if (NEVER_TEXT.includes(st.name.toLowerCase())) return `'${st.name}' is for evaluation only, never text`;
  if (st.present === 0) return `'${st.name}' is missing in all ${rows}`;
  if (st.strings === 0) return `'${st.name}' holds no strings`;
  if (isNumericCol(st)) return `'${st.name}' holds numbers`;
  if (isNearlyNumeric(st))
    return `'${st.name}' holds numbers but for ${st.nonNumeric} value${st.nonNumeric > 1 ? 's' : ''} (first: '${clip(st.firstText!.value)}' on line ${st.firstText!.line}; pass --featurizer numeric to read it as numbers)`;
  if (isCategorical(st)) {
    const k = st.distinct.size;
    const what = k === 1 ? `the same value ('${clip([...st.distinct][0])}')` : `${k} distinct values`;
    return `'${st.name}' has ${what} in ${rows}, like a category rather than free text`;
  }
  return `'${st.name}' is not free text`;
}

function clip(s: string, max = 40): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
