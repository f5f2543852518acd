/**
 * Row rendering for the ranking list, written against a minimal DOM-like interface so it can be unit-tested
 * without a browser. Data only ever reaches the DOM as text (text nodes and `textContent`), never parsed as HTML.
 *
 * A row is two lines, readable in a ~300 px sidebar:
 *   #rank  label → pred            M score  P p
 *   decoded text snippet with token heat
 */
import type { HeatSpan, PanelRow } from '../src/extension/panelProtocol';

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
    row.text,
  ].join('\n');
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
  top.appendChild(metrics);
  el.appendChild(top);

  const text = doc.createElement('div');
  text.className = 'snippet';
  appendSnippet(doc, text, row.text, row.heat);
  el.appendChild(text);
  return el;
}
