/**
 * The ranking webview's script (bundled for the browser into dist/webview.js). Virtual scrolling by paging: the
 * host answers {type:'page'} for the visible window only, and sends the histogram as bins. Data reaches the DOM as
 * text only (text nodes, textContent), never as HTML.
 */
import {
  type FromPanel,
  type HistogramData,
  MEMORIZED_SORT,
  MISLABELED_SORT,
  type PanelRow,
  type PanelSort,
  type SortKey,
  type ToPanel,
} from '../src/extension/panelProtocol';
import { NOISE_FINDINGS } from '../src/report/summary';
import { HistogramChart } from './histogram';
import { type MiniDocument, formatNumber, renderRow } from './render';

interface State {
  sort: PanelSort;
  label: string;
  text: string;
  log: boolean;
  histogramOpen: boolean;
}

declare function acquireVsCodeApi(): {
  postMessage(msg: FromPanel): void;
  getState(): Partial<State> | undefined;
  setState(s: State): void;
};

const vscode = acquireVsCodeApi();
/** Two lines per row; must match .row in media/panel.css. */
const ROW_HEIGHT = 44;
const OVERSCAN = 15;

const EXPLAIN = {
  memorized:
    'Ranked by memorization score M = P(label|x) × self-influence. Tokens: red needs memorizing, blue does not.',
  mislabeled:
    'Likely mislabeled — ranked by training loss −log P(label|x); measured best on flipped-label data.',
};
const EXPLAIN_TITLE = {
  memorized:
    'The rows the model had to memorize to fit them (atypical rows, the long tail, mislabeled rows): ' +
    'M(z) = −∇P(y|x)ᵀ H⁻¹ ∇L(z) (Zheng & Jiang, ACL 2022).',
  mislabeled:
    'In-sample loss −log P(label|x), largest first. On flipped-label data it found the flipped rows best ' +
    `(AUROC ${NOISE_FINDINGS.auroc.loss}, vs ${NOISE_FINDINGS.auroc.oof} out-of-fold, ` +
    `${NOISE_FINDINGS.auroc.selfInfluence} for self-influence and ${NOISE_FINDINGS.auroc.score} for the ` +
    `memorization score; the top 10% held ${Math.round(100 * NOISE_FINDINGS.lossTop10)}% of the flipped rows).`,
};
/** The natural direction when a sort key is picked. */
const DEFAULT_DIR: Record<SortKey, PanelSort['dir']> = {
  rank: 'asc',
  score: 'desc',
  loss: 'desc',
  prob: 'asc',
  label: 'asc',
  pred: 'asc',
  id: 'asc',
  line: 'asc',
};

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const list = $<HTMLDivElement>('list');
const spacer = $<HTMLDivElement>('spacer');
const status = $<HTMLDivElement>('status');
const labelSelect = $<HTMLSelectElement>('label');
const textInput = $<HTMLInputElement>('text');
const sortSelect = $<HTMLSelectElement>('sort');
const dirButton = $<HTMLButtonElement>('dir');
const modeMemorized = $<HTMLButtonElement>('mode-memorized');
const modeMislabeled = $<HTMLButtonElement>('mode-mislabeled');
const explain = $<HTMLDivElement>('explain');
const details = $<HTMLDetailsElement>('histogram');
const histogramTitle = $<HTMLElement>('histogram-title');
const histogramNote = $<HTMLSpanElement>('histogram-note');
const logBox = $<HTMLInputElement>('log');
const canvas = $<HTMLCanvasElement>('chart');
const chart = new HistogramChart(canvas);

const rowsBox = document.createElement('div');
rowsBox.className = 'rows';
list.appendChild(rowsBox);

const saved = vscode.getState() ?? {};
let sort: PanelSort = saved.sort ?? MEMORIZED_SORT;
textInput.value = saved.text ?? '';
logBox.checked = saved.log ?? true;
details.open = saved.histogramOpen ?? true;
let wantedLabel = saved.label ?? '';

let total = 0;
let selected = -1;
let seq = 0;
let pageOffset = 0;
let pageRows: PanelRow[] = [];
let pendingKey = '';
let hasFile = false;
let histClasses: string[] = [];
let histograms: HistogramData[] = [];

function saveState(): void {
  vscode.setState({
    sort,
    label: labelSelect.value || wantedLabel,
    text: textInput.value,
    log: logBox.checked,
    histogramOpen: details.open,
  });
}

function mode(): 'memorized' | 'mislabeled' {
  return sort.key === 'loss' ? 'mislabeled' : 'memorized';
}

function renderControls(): void {
  const m = mode();
  document.body.classList.toggle('mode-mislabeled', m === 'mislabeled');
  modeMemorized.setAttribute('aria-checked', String(m === 'memorized'));
  modeMislabeled.setAttribute('aria-checked', String(m === 'mislabeled'));
  explain.textContent = EXPLAIN[m];
  explain.title = EXPLAIN_TITLE[m];
  sortSelect.value = sort.key === 'score' ? 'rank' : sort.key;
  const d = directionLabel(sort);
  dirButton.textContent = d.icon;
  dirButton.title = `${d.title} (click to reverse)`;
  dirButton.setAttribute('aria-label', `Sort direction: ${d.title}`);
  renderHistogram();
}

/** What the direction button shows: for rank, ascending rank means highest score first. */
function directionLabel(s: PanelSort): { icon: string; title: string } {
  if (s.key === 'label' || s.key === 'pred' || s.key === 'id')
    return s.dir === 'asc' ? { icon: 'A–Z', title: 'A to Z' } : { icon: 'Z–A', title: 'Z to A' };
  if (s.key === 'line')
    return s.dir === 'asc'
      ? { icon: '1–9', title: 'top of file first' }
      : { icon: '9–1', title: 'end of file first' };
  const highFirst = s.key === 'rank' ? s.dir === 'asc' : s.dir === 'desc';
  return highFirst ? { icon: '↓', title: 'highest first' } : { icon: '↑', title: 'lowest first' };
}

function setSort(next: PanelSort): void {
  sort = next;
  saveState();
  renderControls();
  reload();
}

function filter() {
  return { label: labelSelect.value, text: textInput.value };
}

function visibleWindow(): { start: number; count: number } {
  const start = Math.floor(list.scrollTop / ROW_HEIGHT);
  const count = Math.ceil(list.clientHeight / ROW_HEIGHT) + 1;
  return { start, count };
}

/** Asks for the page around the viewport unless the current page already covers it. */
function requestPage(force = false): void {
  if (!hasFile) return;
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
  list.removeAttribute('aria-activedescendant');
  list.scrollTop = 0;
  requestPage(true);
}

function render(): void {
  spacer.style.height = `${total * ROW_HEIGHT}px`;
  rowsBox.replaceChildren();
  pageRows.forEach((row, k) => {
    const i = pageOffset + k;
    const el = renderRow(
      document as unknown as MiniDocument,
      row,
      i,
      i === selected,
    ) as unknown as HTMLElement;
    el.style.top = `${i * ROW_HEIGHT}px`;
    el.addEventListener('click', () => {
      select(i);
      vscode.postMessage({ type: 'reveal', line: row.line });
    });
    rowsBox.appendChild(el);
  });
  applySelection();
  updateStatus();
}

/** Marks the selected row in place (no re-render: a click's target must survive its own mousedown). */
function applySelection(): void {
  for (const el of rowsBox.children) {
    const on = Number((el as HTMLElement).dataset.index) === selected;
    el.classList.toggle('selected', on);
    el.setAttribute('aria-selected', on ? 'true' : 'false');
  }
  if (selected >= 0 && rowAt(selected)) list.setAttribute('aria-activedescendant', `row-${selected}`);
  else list.removeAttribute('aria-activedescendant');
}

function rowAt(i: number): PanelRow | undefined {
  return pageRows[i - pageOffset];
}

function select(i: number): void {
  if (total === 0) return;
  selected = Math.max(0, Math.min(total - 1, i));
  const top = selected * ROW_HEIGHT;
  if (top < list.scrollTop) list.scrollTop = top;
  else if (top + ROW_HEIGHT > list.scrollTop + list.clientHeight)
    list.scrollTop = top + ROW_HEIGHT - list.clientHeight;
  applySelection();
  requestPage();
}

let fileStatus = 'No scored file. Run “Memorization: Score memorization”.';
let fileTotal = 0;
function updateStatus(): void {
  const f = filter();
  if (hasFile && (f.label || f.text.trim()))
    status.textContent = `${total} of ${fileTotal} rows · ${fileStatus}`;
  else status.textContent = hasFile ? `${fileTotal} rows · ${fileStatus}` : fileStatus;
}

list.addEventListener('keydown', (e) => {
  const pageSize = Math.max(1, Math.floor(list.clientHeight / ROW_HEIGHT) - 1);
  const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: pageSize, PageUp: -pageSize };
  if (e.key in moves) {
    e.preventDefault();
    select(selected < 0 ? 0 : selected + moves[e.key]);
  } else if (e.key === 'Home' || e.key === 'End') {
    e.preventDefault();
    select(e.key === 'Home' ? 0 : total - 1);
  } else if (e.key === 'Enter' || e.key === ' ') {
    e.preventDefault();
    const row = rowAt(selected);
    if (row) vscode.postMessage({ type: 'reveal', line: row.line });
  }
});
// Keyboard focus (Tab) selects the first fully visible row; a click selects the clicked row instead.
let pointerFocus = false;
list.addEventListener('pointerdown', () => {
  pointerFocus = true;
  setTimeout(() => (pointerFocus = false), 0);
});
list.addEventListener('focus', () => {
  if (!pointerFocus && selected < 0 && total > 0) select(Math.ceil(list.scrollTop / ROW_HEIGHT));
});
// From the filter box, ArrowDown moves into the list.
textInput.addEventListener('keydown', (e) => {
  if (e.key === 'ArrowDown') {
    e.preventDefault();
    list.focus();
  }
});

let scrollQueued = false;
list.addEventListener('scroll', () => {
  if (scrollQueued) return;
  scrollQueued = true;
  requestAnimationFrame(() => {
    scrollQueued = false;
    requestPage();
  });
});
new ResizeObserver(() => requestPage()).observe(list);

let textTimer: ReturnType<typeof setTimeout> | undefined;
textInput.addEventListener('input', () => {
  if (textTimer) clearTimeout(textTimer);
  textTimer = setTimeout(() => {
    saveState();
    reload();
  }, 200);
});
labelSelect.addEventListener('change', () => {
  wantedLabel = labelSelect.value;
  saveState();
  reload();
});
sortSelect.addEventListener('change', () => {
  const key = sortSelect.value as SortKey;
  setSort({ key, dir: DEFAULT_DIR[key] });
});
dirButton.addEventListener('click', () =>
  setSort({ key: sort.key, dir: sort.dir === 'asc' ? 'desc' : 'asc' }),
);
modeMemorized.addEventListener('click', () => setSort(MEMORIZED_SORT));
modeMislabeled.addEventListener('click', () => setSort(MISLABELED_SORT));
// Radio-group keyboard: arrows move between the two modes.
for (const b of [modeMemorized, modeMislabeled]) {
  b.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowLeft' || e.key === 'ArrowRight' || e.key === 'ArrowUp' || e.key === 'ArrowDown') {
      e.preventDefault();
      const other = b === modeMemorized ? modeMislabeled : modeMemorized;
      other.focus();
      other.click();
    }
  });
}
logBox.addEventListener('change', () => {
  saveState();
  renderHistogram();
});
details.addEventListener('toggle', () => {
  saveState();
  renderHistogram();
});

function renderHistogram(): void {
  const metric = mode() === 'mislabeled' ? 'loss' : 'score';
  histogramTitle.textContent = metric === 'loss' ? 'Loss histogram by class' : 'Score histogram by class';
  const scale = logBox.checked ? 'log' : 'linear';
  const h = histograms.find((x) => x.metric === metric && x.scale === scale);
  if (!h || !details.open) {
    chart.update(undefined, []);
    histogramNote.textContent = h ? '' : 'no data';
    return;
  }
  const first = h.edges[0];
  const last = h.edges[h.edges.length - 1];
  histogramNote.textContent = `${formatNumber(first)} – ${formatNumber(last)}`;
  histogramNote.title = h.below
    ? `${h.below} row${h.below === 1 ? '' : 's'} at or below ${formatNumber(first)} counted in the first bin`
    : '';
  canvas.setAttribute(
    'aria-label',
    `Histogram of ${metric} per class (${histClasses.join(', ')}), ${h.edges.length - 1} ${scale === 'log' ? 'log-spaced' : 'equal-width'} bins from ${formatNumber(first)} to ${formatNumber(last)}`,
  );
  chart.update(h, histClasses);
}

// Theme changes swap the body class (vscode-light / vscode-dark / vscode-high-contrast): recolour the chart.
new MutationObserver(() => chart.refreshTheme()).observe(document.body, {
  attributes: true,
  attributeFilter: ['class'],
});

window.addEventListener('message', (event: MessageEvent<ToPanel>) => {
  const m = event.data;
  if (m.type === 'reset') {
    const keep = labelSelect.value || wantedLabel;
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
    hasFile = !!m.file;
    document.body.classList.toggle('empty', !hasFile);
    fileStatus = m.file
      ? `${m.file}${m.stale ? ' (stale: rescore to update)' : ''}`
      : 'No scored file. Run “Memorization: Score memorization”.';
    fileTotal = m.total;
    status.title = m.file
      ? `${m.file}: ${m.total} scored rows, ${m.attributed} with token attributions (heat)`
      : '';
    total = hasFile ? m.total : 0;
    pendingKey = '';
    if (!hasFile) {
      pageRows = [];
      render();
    }
    reload();
    updateStatus();
  } else if (m.type === 'page') {
    if (m.seq !== undefined && m.seq !== seq) return;
    pendingKey = '';
    total = m.total;
    pageOffset = m.offset;
    pageRows = m.rows;
    render();
    // The page may not cover the viewport (e.g. after a resize while it was on its way).
    requestPage();
  } else if (m.type === 'histogram') {
    histClasses = m.classes;
    histograms = m.histograms;
    renderHistogram();
  }
});

renderControls();
vscode.postMessage({ type: 'ready' });
