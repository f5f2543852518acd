/**
 * What the worker keeps between requests: the fitted state of each file's latest scoring job (so "Explain this row"
 * attributes one row instead of refitting), and the rows of a file, lean (so the ranking panel gets row text from
 * the process that already read the file, and the extension host never parses files itself). Both are dropped when
 * the file changes on disk.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { decodedText } from '../engine/data/decodedText';
import { openDataset } from '../engine/data/readDataset';
import { readRowsAt } from '../engine/data/readRowsAt';
import type { DataOptions } from '../engine/pipeline/options';
import type { ScoreJobOptions, ScoreState } from '../engine/pipeline/scoreJob';
import type { DatasetRow, DatasetSchema, LeanRow } from '../engine/types';
import type { DecodedRowText } from '../protocol/messages';

/** Stable JSON (sorted keys), so equal options give equal keys whatever their order. */
function stableKey(x: unknown): string {
  return JSON.stringify(x, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}

/** What decides a fit: every option but which rows get attributions. */
function fitKey(options: ScoreJobOptions): string {
  const { attribution, test: _test, ...rest } = options;
  return stableKey({ ...rest, steps: attribution?.steps });
}

async function fileStamp(file: string): Promise<string> {
  const st = await stat(file);
  return `${st.size}:${st.mtimeMs}`;
}

interface Kept {
  key: string;
  stamp: string;
  state: ScoreState;
}

export class FittedStates {
  private readonly byFile = new Map<string, Kept>();

  async keep(file: string, options: ScoreJobOptions, state: ScoreState): Promise<void> {
    this.byFile.set(resolve(file), { key: fitKey(options), stamp: await fileStamp(file), state });
  }

  /** The latest job's state for this file and these options, unless the file changed since. */
  async get(file: string, options: ScoreJobOptions): Promise<ScoreState | undefined> {
    const kept = this.byFile.get(resolve(file));
    if (!kept || kept.key !== fitKey(options)) return undefined;
    try {
      if ((await fileStamp(file)) === kept.stamp) return kept.state;
    } catch {
      // gone: fall through
    }
    this.byFile.delete(resolve(file));
    return undefined;
  }

  /** Any kept state of the file read with these fields (row text needs no particular fit): its schema and rows. */
  async rowsFor(file: string, data: RowDataOptions): Promise<KeptRows | undefined> {
    const kept = this.byFile.get(resolve(file));
    if (!kept) return undefined;
    const schema = kept.state.prep.read.schema;
    const same =
      stableKey(schema.textFields.length ? schema.textFields : (schema.numericFields ?? [])) ===
        stableKey(data.text ?? []) && schema.labelField === data.label;
    if (!same || (await fileStamp(file).catch(() => '')) !== kept.stamp) return undefined;
    return { schema, rows: kept.state.prep.rows };
  }
}

export type RowDataOptions = DataOptions & { tabular?: boolean };

/** A file's rows as one read kept them (lean: no decoded text), with the schema to read them again with. */
interface KeptRows {
  schema: DatasetSchema;
  rows: readonly LeanRow[];
}

/** Rows whose text a search reads again by offset rather than reading the whole file (a narrowed search). */
const MAX_NARROWED = 5000;

/**
 * The decoded text of rows, for the ranking panel. The rows a file was read into are kept lean (a kept job's rows,
 * or a lean read of the file); the text of the rows asked for is read again from their offsets (readRowsAt), and a
 * search streams the file once (or re-reads only the matches of the search it narrows), so no decoded copy of the
 * file stays in memory.
 */
export class RowTexts {
  private cache:
    | {
        file: string;
        key: string;
        stamp: string;
        schema: DatasetSchema;
        byLine: Map<number, LeanRow>;
        named: boolean;
        /** The last search: its needle and the lines whose decoded text contains it. */
        last?: { needle: string; lines: number[] };
      }
    | undefined;

  constructor(private readonly states: FittedStates) {}

  private async rows(file: string, data: RowDataOptions): Promise<NonNullable<RowTexts['cache']>> {
    const key = stableKey(data);
    const stamp = await fileStamp(file);
    if (
      this.cache &&
      this.cache.file === resolve(file) &&
      this.cache.key === key &&
      this.cache.stamp === stamp
    )
      return this.cache;
    const source: KeptRows =
      (await this.states.rowsFor(file, data)) ??
      (await (
        await openDataset(file, {
          text: data.text,
          label: data.label,
          id: data.id,
          tabular: data.tabular,
          allowSingleClass: true,
        })
      ).read());
    const byLine = new Map(source.rows.map((r) => [r.line, r]));
    const named = data.tabular === true || source.rows.some((r) => r.numeric !== undefined);
    this.cache = { file: resolve(file), key, stamp, schema: source.schema, byLine, named };
    return this.cache;
  }

  async decoded(file: string, data: RowDataOptions, lines: readonly number[]): Promise<DecodedRowText[]> {
    const { byLine, named, schema } = await this.rows(file, data);
    const wanted = [...new Set(lines)].flatMap((line) => byLine.get(line) ?? []);
    const read = new Map((await readRowsAt(file, schema, wanted)).map((r) => [r.line, r]));
    const out: DecodedRowText[] = [];
    for (const line of lines) {
      const row = read.get(line);
      if (row) out.push({ line, ...decodedText(row, named) });
    }
    return out;
  }

  /** Lines of the rows whose id or decoded text contains `text` (case-insensitive), in file order. */
  async find(file: string, data: RowDataOptions, text: string): Promise<number[]> {
    const cache = await this.rows(file, data);
    const { byLine, named, schema } = cache;
    const needle = text.toLowerCase();
    const matches = (row: DatasetRow) =>
      row.id.toLowerCase().includes(needle) || decodedText(row, named).text.toLowerCase().includes(needle);
    const out: number[] = [];
    const last = cache.last;
    if (last && needle.includes(last.needle) && last.lines.length <= MAX_NARROWED) {
      // Typing on: only the rows that matched the shorter needle can match this one.
      const rows = last.lines.flatMap((line) => byLine.get(line) ?? []);
      for (const row of await readRowsAt(file, schema, rows)) if (matches(row)) out.push(row.line);
    } else {
      const reader = await openDataset(file, { schema, allowSingleClass: true });
      await reader.read((batch) => {
        for (const row of batch) if (byLine.has(row.line) && matches(row)) out.push(row.line);
      });
    }
    cache.last = { needle, lines: out };
    return out;
  }
}
