/**
 * Row rendering for the ranking table, written against a minimal DOM-like interface so it can be unit-tested
 * without a browser. Data only ever reaches the DOM through `textContent`, never parsed as HTML.
 */
import type { PanelRow } from '../src/extension/panelProtocol';

export interface MiniElement {
  textContent: string | null;
  className: string;
  title: string;
  appendChild(child: MiniElement): unknown;
  setAttribute(name: string, value: string): void;
}

export interface MiniDocument {
  createElement(tag: string): MiniElement;
}

export interface Cell {
  text: string;
  className: string;
  title?: string;
}

export function formatNumber(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e4) ? v.toExponential(2) : v.toFixed(digits);
}

export function rowCells(row: PanelRow): Cell[] {
  return [
    { text: String(row.rank), className: 'num' },
    { text: row.id, className: 'id', title: row.id },
    { text: row.label, className: 'label', title: row.label },
    { text: row.pred, className: row.pred === row.label ? 'pred' : 'pred wrong', title: row.pred },
    { text: formatNumber(row.prob), className: 'num' },
    { text: formatNumber(row.score), className: 'num', title: `percentile ${row.percentile.toFixed(1)}` },
    { text: row.text, className: 'text', title: row.text },
  ];
}

/** Builds one <tr> for a row; every data string goes through textContent. */
export function renderRow(
  doc: MiniDocument,
  row: PanelRow,
  absoluteIndex: number,
  selected: boolean,
): MiniElement {
  const tr = doc.createElement('tr');
  tr.className = selected ? 'row selected' : 'row';
  tr.setAttribute('data-index', String(absoluteIndex));
  tr.setAttribute('data-line', String(row.line));
  tr.setAttribute('role', 'row');
  tr.setAttribute('aria-selected', selected ? 'true' : 'false');
  for (const cell of rowCells(row)) {
    const td = doc.createElement('td');
    td.className = cell.className;
    td.textContent = cell.text;
    if (cell.title) td.title = cell.title;
    tr.appendChild(td);
  }
  return tr;
}
