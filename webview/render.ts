/**
 * Row rendering for the ranking list, written against a minimal DOM-like interface so it can be unit-tested
 * without a browser. Data only ever reaches the DOM as text (text nodes and `textContent`), never parsed as HTML.
 *
 * A row is two lines, readable in a ~300 px sidebar:
 *   #rank  label → pred            M score  P p
 *   decoded text snippet with token heat
 */
import type { DuplicateGroupView, HeatSpan, PanelRow, ReasonChip } from '../src/protocol/panel';
import { REASON_KINDS } from '../src/protocol/reasons';
import type { Table } from '../src/report/summary';

export interface MiniText {
  textContent: string | null;
}

export interface MiniElement extends MiniText {
  className: string;
  title: string;
  appendChild(child: MiniElement | MiniText): unknown;
  setAttribute(name: string, value: string): void;
}

export interface MiniDocument {
  createElement(tag: string): MiniElement;
  createTextNode(text: string): MiniText;
}

export type PanelMode = 'memorized' | 'mislabeled';

/** Compact numbers: 3 significant digits, exponent for very small or large values. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a < 1e-3 || a >= 1e4) return v.toExponential(2).replace('e+', 'e');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toFixed(3);
}

function span(doc: MiniDocument, className: string, text: string, title?: string): MiniElement {
  const el = doc.createElement('span');
  el.className = className;
  el.textContent = text;
  if (title) el.title = title;
  return el;
}

/** Appends the snippet to `parent`: plain runs as text nodes, heat spans as coloured <span>s. */
export function appendSnippet(
  doc: MiniDocument,
  parent: MiniElement,
  text: string,
  heat?: readonly HeatSpan[],
): void {
  let at = 0;
  for (const h of heat ?? []) {
    const s = Math.max(at, Math.min(h.s, text.length));
    const e = Math.max(s, Math.min(h.e, text.length));
    if (e <= s) continue;
    if (s > at) parent.appendChild(doc.createTextNode(text.slice(at, s)));
    const b = Math.max(0, Math.min(9, Math.floor(h.b)));
    parent.appendChild(span(doc, `heat h${b}`, text.slice(s, e), `attribution ${formatNumber(h.a)}`));
    at = e;
  }
  if (at < text.length || text.length === 0) parent.appendChild(doc.createTextNode(text.slice(at)));
}

/** The row's accessible name and tooltip. */
export function describeRow(row: PanelRow): string {
  const verdict = row.pred === row.label ? `predicted ${row.pred}` : `predicted ${row.pred} (differs)`;
  return [
    `Rank ${row.rank} (percentile ${row.percentile.toFixed(1)}), id ${row.id}, line ${row.line}`,
    `label ${row.label}, ${verdict}`,
    `score ${formatNumber(row.score)}, P(label|x) ${formatNumber(row.prob)}, loss ${formatNumber(row.loss)}`,
    ...(row.estimate !== undefined
      ? [`retraining estimate ${formatNumber(row.estimate)} ± ${formatNumber(row.estimateStderr ?? NaN)}`]
      : []),
    ...(row.chips ?? []).map((c) => c.text),
    row.text,
  ].join('\n');
}

/** The class of a reason chip: its kind's colour, for the kinds of the vocabulary only. */
function chipClass(kind: string): string {
  return (REASON_KINDS as readonly string[]).includes(kind) ? `chip r-${kind}` : 'chip';
}

/** Appends the row's reason chips (the kind as text, the evidence in words as the tooltip) to `parent`. */
export function appendChips(doc: MiniDocument, parent: MiniElement, chips?: readonly ReasonChip[]): void {
  if (!chips?.length) return;
  const box = doc.createElement('span');
  box.className = 'chips';
  for (const c of chips) box.appendChild(span(doc, chipClass(c.kind), c.kind, c.text));
  parent.appendChild(box);
  // A space, so that the chips and the text read (and copy) as separate words.
  parent.appendChild(doc.createTextNode(' '));
}

/** Builds one row element; every data string goes in as text. */
export function renderRow(
  doc: MiniDocument,
  row: PanelRow,
  absoluteIndex: number,
  selected: boolean,
): MiniElement {
  const el = doc.createElement('div');
  el.className = selected ? 'row selected' : 'row';
  el.setAttribute('id', `row-${absoluteIndex}`);
  el.setAttribute('role', 'option');
  el.setAttribute('data-index', String(absoluteIndex));
  el.setAttribute('data-line', String(row.line));
  el.setAttribute('aria-selected', selected ? 'true' : 'false');
  el.setAttribute('aria-label', describeRow(row).replace(/\n/g, '; '));
  el.title = describeRow(row);

  const top = doc.createElement('div');
  top.className = 'line1';
  top.appendChild(span(doc, 'rank', `#${row.rank}`));
  top.appendChild(span(doc, 'id', row.id));
  const labels = doc.createElement('span');
  labels.className = 'labels';
  labels.appendChild(span(doc, 'label', row.label));
  if (row.pred === row.label) labels.appendChild(span(doc, 'ok', ' ✓'));
  else {
    labels.appendChild(span(doc, 'arrow', '\u2009→\u2009'));
    labels.appendChild(span(doc, 'pred wrong', row.pred));
  }
  top.appendChild(labels);
  const metrics = doc.createElement('span');
  metrics.className = 'metrics';
  metrics.appendChild(span(doc, 'metric score', `M ${formatNumber(row.score)}`));
  metrics.appendChild(span(doc, 'metric loss', `loss ${formatNumber(row.loss)}`));
  metrics.appendChild(span(doc, 'metric prob', `P ${formatNumber(row.prob)}`));
  if (row.estimate !== undefined)
    metrics.appendChild(
      span(
        doc,
        'metric estimate',
        `est ${formatNumber(row.estimate)}`,
        'retraining estimate (Feldman & Zhang)',
      ),
    );
  top.appendChild(metrics);
  el.appendChild(top);

  const text = doc.createElement('div');
  text.className = 'snippet';
  appendChips(doc, text, row.chips);
  appendSnippet(doc, text, row.text, row.heat);
  el.appendChild(text);
  return el;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The group's labels side by side, in one line: "3 near-identical rows: ham ×2, spam ×1 (conflicting labels)". */
export function groupSummary(g: DuplicateGroupView): string {
  return (
    `${plural(g.size, 'near-identical row')}: ` +
    g.labels.map((l) => `${l.label} ×${l.count}`).join(', ') +
    (g.conflict ? ' (conflicting labels)' : '')
  );
}

/**
 * One group of the "Duplicates" view: a header with its size and labels side by side, then its rows (label, rank,
 * line, score, snippet), each focusable and carrying data-line for the click that reveals it.
 */
export function renderDuplicateGroup(
  doc: MiniDocument,
  g: DuplicateGroupView,
  shown = Infinity,
): MiniElement {
  const el = doc.createElement('div');
  el.className = g.conflict ? 'dup-group conflict' : 'dup-group';
  el.setAttribute('role', 'group');
  el.setAttribute('aria-label', `Group ${g.position + 1}: ${groupSummary(g)}`);
  const head = doc.createElement('div');
  head.className = 'dup-head';
  head.appendChild(span(doc, 'dup-size', plural(g.size, 'row')));
  const labels = doc.createElement('span');
  labels.className = 'dup-labels';
  // The label most rows agree on, when one does; every other label of a conflict stands out (all of them on a tie).
  const [first, second] = g.labels;
  const majority = first && (!second || first.count > second.count) ? first.label : undefined;
  const minority = (label: string) => g.conflict && label !== majority;
  for (const l of g.labels)
    labels.appendChild(
      span(doc, minority(l.label) ? 'dup-count minority' : 'dup-count', `${l.label} ×${l.count}`),
    );
  head.appendChild(labels);
  if (g.conflict) head.appendChild(span(doc, 'dup-warn', 'conflicting labels'));
  el.appendChild(head);
  const listed = g.rows.slice(0, Math.max(1, shown));
  for (const row of listed) {
    const r = doc.createElement('div');
    r.className = 'dup-row';
    r.setAttribute('role', 'button');
    r.setAttribute('tabindex', '0');
    r.setAttribute('data-line', String(row.line));
    r.setAttribute('aria-label', describeRow(row).replace(/\n/g, '; '));
    r.title = `Line ${row.line}: click to reveal it\n${describeRow(row)}`;
    const top = doc.createElement('div');
    top.className = 'line1';
    top.appendChild(span(doc, minority(row.label) ? 'pill minority' : 'pill', row.label));
    top.appendChild(span(doc, 'rank', `#${row.rank}`));
    top.appendChild(span(doc, 'where', `line ${row.line}`));
    const metrics = doc.createElement('span');
    metrics.className = 'metrics';
    metrics.appendChild(span(doc, 'metric score', `M ${formatNumber(row.score)}`));
    if (row.pred !== row.label) metrics.appendChild(span(doc, 'pred wrong', `→ ${row.pred}`));
    top.appendChild(metrics);
    r.appendChild(top);
    const text = doc.createElement('div');
    text.className = 'snippet';
    appendSnippet(doc, text, row.text, row.heat);
    r.appendChild(text);
    el.appendChild(r);
  }
  const hidden = g.rows.length - listed.length;
  if (hidden > 0) {
    // The webview expands the group on click (data-position says which).
    const b = doc.createElement('button');
    b.className = 'dup-expand';
    b.setAttribute('type', 'button');
    b.setAttribute('data-position', String(g.position));
    b.textContent = `Show ${plural(hidden, 'more row')}`;
    el.appendChild(b);
  } else if (g.size > g.rows.length)
    el.appendChild(span(doc, 'dup-more', `and ${plural(g.size - g.rows.length, 'more row')} (not listed)`));
  return el;
}

/** A table of text cells; columns from `numFrom` on are right-aligned numbers. */
export function renderTable(doc: MiniDocument, t: Table, numFrom = 1): MiniElement {
  const table = doc.createElement('table');
  const cls = (i: number) => (i >= numFrom ? 'num' : '');
  const head = doc.createElement('thead');
  const tr = doc.createElement('tr');
  t.head.forEach((h, i) => {
    const th = doc.createElement('th');
    th.className = cls(i);
    th.textContent = h;
    tr.appendChild(th);
  });
  head.appendChild(tr);
  table.appendChild(head);
  const body = doc.createElement('tbody');
  for (const row of t.rows) {
    const r = doc.createElement('tr');
    row.forEach((c, i) => {
      const td = doc.createElement('td');
      td.className = cls(i);
      td.textContent = c;
      r.appendChild(td);
    });
    body.appendChild(r);
  }
  table.appendChild(body);
  return table;
}
