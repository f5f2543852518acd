/**
 * The ranking webview's script (bundled for the browser into dist/webview.js). Virtual scrolling by paging: the
 * host answers {type:'page'} for the visible window only. Data reaches the DOM through textContent only.
 */
import type { FromPanel, PanelRow, PanelSort, SortKey, ToPanel } from '../src/extension/panelProtocol';
import { type MiniDocument, renderRow } from './render';

declare function acquireVsCodeApi(): { postMessage(msg: FromPanel): void };

const vscode = acquireVsCodeApi();
const ROW_HEIGHT = 22;
const OVERSCAN = 20;

const COLUMNS: { key: SortKey | null; title: string; width: string }[] = [
  { key: 'rank', title: 'Rank', width: '7%' },
  { key: 'id', title: 'Id', width: '10%' },
  { key: 'label', title: 'Label', width: '11%' },
  { key: 'pred', title: 'Pred', width: '11%' },
  { key: 'prob', title: 'P(y|x)', width: '9%' },
  { key: 'score', title: 'Score', width: '10%' },
  { key: null, title: 'Text', width: '42%' },
];

const scroller = document.getElementById('scroller') as HTMLDivElement;
const spacer = document.getElementById('spacer') as HTMLDivElement;
const status = document.getElementById('status') as HTMLDivElement;
const labelSelect = document.getElementById('label') as HTMLSelectElement;
const textInput = document.getElementById('text') as HTMLInputElement;

function colgroup(): HTMLTableColElement {
  const g = document.createElement('colgroup');
  for (const c of COLUMNS) {
    const col = document.createElement('col');
    col.style.width = c.width;
    g.appendChild(col);
  }
  return g;
}

const head = document.createElement('table');
head.appendChild(colgroup());
const headRow = document.createElement('tr');
head.appendChild(document.createElement('thead')).appendChild(headRow);
scroller.parentElement!.insertBefore(head, scroller);

const body = document.createElement('table');
body.appendChild(colgroup());
body.style.position = 'absolute';
body.style.top = '0';
body.style.left = '0';
const tbody = body.appendChild(document.createElement('tbody'));
scroller.appendChild(body);

let sort: PanelSort = { key: 'rank', dir: 'asc' };
let total = 0;
let selected = -1;
let seq = 0;
let pageOffset = 0;
let pageRows: PanelRow[] = [];
let pendingKey = '';

function renderHeader(): void {
  headRow.replaceChildren();
  for (const c of COLUMNS) {
    const th = document.createElement('th');
    const arrow = c.key && c.key === sort.key ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : '';
    th.textContent = c.title + arrow;
    if (c.key) {
      const key = c.key;
      th.setAttribute(
        'aria-sort',
        key === sort.key ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none',
      );
      th.addEventListener('click', () => {
        sort = { key, dir: sort.key === key && sort.dir === 'asc' ? 'desc' : 'asc' };
        renderHeader();
        reload();
      });
    }
    headRow.appendChild(th);
  }
}

function filter() {
  return { label: labelSelect.value, text: textInput.value };
}

function visibleWindow(): { start: number; count: number } {
  const start = Math.floor(scroller.scrollTop / ROW_HEIGHT);
  const count = Math.ceil(scroller.clientHeight / ROW_HEIGHT) + 1;
  return { start, count };
}

/** Asks for the page around the viewport unless the current page already covers it. */
function requestPage(force = false): void {
  const { start, count } = visibleWindow();
  const covered = start >= pageOffset && Math.min(start + count, total) <= pageOffset + pageRows.length;
  if (!force && covered) return;
  const offset = Math.max(0, start - OVERSCAN);
  const limit = count + 2 * OVERSCAN;
  const key = `${offset}:${limit}`;
  if (!force && key === pendingKey) return;
  pendingKey = key;
  vscode.postMessage({ type: 'getPage', offset, limit, sort, filter: filter(), seq: ++seq });
}

function reload(): void {
  pageRows = [];
  pageOffset = 0;
  selected = -1;
  scroller.scrollTop = 0;
  requestPage(true);
}

function render(): void {
  spacer.style.height = `${total * ROW_HEIGHT}px`;
  body.style.transform = `translateY(${pageOffset * ROW_HEIGHT}px)`;
  tbody.replaceChildren();
  pageRows.forEach((row, k) => {
    const i = pageOffset + k;
    const tr = renderRow(
      document as unknown as MiniDocument,
      row,
      i,
      i === selected,
    ) as unknown as HTMLElement;
    tr.addEventListener('click', () => {
      select(i);
      vscode.postMessage({ type: 'reveal', line: row.line });
    });
    tbody.appendChild(tr);
  });
}

function rowAt(i: number): PanelRow | undefined {
  return pageRows[i - pageOffset];
}

function select(i: number): void {
  if (total === 0) return;
  selected = Math.max(0, Math.min(total - 1, i));
  const top = selected * ROW_HEIGHT;
  if (top < scroller.scrollTop) scroller.scrollTop = top;
  else if (top + ROW_HEIGHT > scroller.scrollTop + scroller.clientHeight)
    scroller.scrollTop = top + ROW_HEIGHT - scroller.clientHeight;
  render();
  requestPage();
}

scroller.addEventListener('keydown', (e) => {
  const pageSize = Math.max(1, Math.floor(scroller.clientHeight / ROW_HEIGHT) - 1);
  const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: pageSize, PageUp: -pageSize };
  if (e.key in moves) {
    e.preventDefault();
    select(selected < 0 ? 0 : selected + moves[e.key]);
  } else if (e.key === 'Home' || e.key === 'End') {
    e.preventDefault();
    select(e.key === 'Home' ? 0 : total - 1);
  } else if (e.key === 'Enter') {
    const row = rowAt(selected);
    if (row) vscode.postMessage({ type: 'reveal', line: row.line });
  }
});

let scrollQueued = false;
scroller.addEventListener('scroll', () => {
  if (scrollQueued) return;
  scrollQueued = true;
  requestAnimationFrame(() => {
    scrollQueued = false;
    requestPage();
  });
});
new ResizeObserver(() => requestPage()).observe(scroller);

let textTimer: ReturnType<typeof setTimeout> | undefined;
textInput.addEventListener('input', () => {
  if (textTimer) clearTimeout(textTimer);
  textTimer = setTimeout(reload, 200);
});
labelSelect.addEventListener('change', reload);

window.addEventListener('message', (event: MessageEvent<ToPanel>) => {
  const m = event.data;
  if (m.type === 'reset') {
    const keep = labelSelect.value;
    labelSelect.replaceChildren();
    const all = document.createElement('option');
    all.value = '';
    all.textContent = 'All labels';
    labelSelect.appendChild(all);
    for (const l of m.labels) {
      const o = document.createElement('option');
      o.value = l;
      o.textContent = l;
      labelSelect.appendChild(o);
    }
    labelSelect.value = m.labels.includes(keep) ? keep : '';
    status.textContent = m.file
      ? `${m.file}: ${m.total} rows${m.stale ? ' (stale: rescore to update)' : ''}`
      : 'No scored file. Run “Memorization: Score memorization”.';
    total = m.total;
    pendingKey = '';
    reload();
  } else if (m.type === 'page') {
    if (m.seq !== undefined && m.seq !== seq) return;
    pendingKey = '';
    total = m.total;
    pageOffset = m.offset;
    pageRows = m.rows;
    render();
  }
});

renderHeader();
vscode.postMessage({ type: 'ready' });
