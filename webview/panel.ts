/**
 * The ranking webview's script (bundled for the browser into dist/webview.js). Virtual scrolling by paging: the
 * host answers {type:'page'} for the visible window only, and sends the histogram as bins; the "Duplicates" view
 * asks for groups a page at a time ({type:'getDuplicates'}). Data reaches the DOM as text only (text nodes,
 * textContent), never as HTML.
 */
import {
  type DuplicateGroupView,
  type FromPanel,
  type HistogramData,
  MEMORIZED_SORT,
  MISLABELED_SORT,
  type PanelFacts,
  type PanelFilter,
  type PanelRow,
  type PanelSort,
  type ReasonFilter,
  type SortKey,
  type ToPanel,
} from '../src/protocol/panel';
import { REASON_KINDS } from '../src/protocol/reasons';
import {
  NOISE_FINDINGS,
  groupsNote,
  groupsShortNote,
  groupsTable,
  transposeTable,
} from '../src/report/summary';
import { HistogramChart } from './histogram';
import { type MiniDocument, formatNumber, renderDuplicateGroup, renderRow, renderTable } from './render';

type View = 'rows' | 'duplicates';

interface State {
  sort: PanelSort;
  view: View;
  label: string;
  reason: ReasonFilter;
  text: string;
  log: boolean;
  histogramOpen: boolean;
  groupsOpen: boolean;
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

/** Groups asked for per "Show more". */
const GROUP_PAGE = 30;
/** Rows of a duplicate group shown before its "Show all" button. */
const GROUP_ROWS_SHOWN = 4;
/** Groups (besides "all rows") that a ~300 px view still shows one column each. */
const MAX_NARROW_GROUPS = 3;

const EXPLAIN = {
  memorized:
    'Ranked by memorization score M = P(label|x) × self-influence. Tokens: red needs memorizing, blue does not.',
  mislabeled:
    'Likely mislabeled — ranked by training loss −log P(label|x); measured best on flipped-label data.',
  duplicates:
    'Duplicates — groups of rows with the same or near-identical text; conflicting labels first. A copy needs little memorizing, a conflict is a label to fix.',
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
  duplicates:
    'Exact duplicates (the same normalized text) and near-duplicates (Jaccard similarity ≥ 0.8 of character 5-grams, ' +
    'by MinHash), grouped; each row is clickable. Conflicting labels: the same text labelled two ways.',
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
  estimate: 'desc',
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
const modeDuplicates = $<HTMLButtonElement>('mode-duplicates');
const modes = [modeMemorized, modeMislabeled, modeDuplicates];
const reasonSelect = $<HTMLSelectElement>('reason');
const explain = $<HTMLDivElement>('explain');
const explainMode = $<HTMLSpanElement>('explain-mode');
const explainModel = $<HTMLSpanElement>('explain-model');
const groupsDetails = $<HTMLDetailsElement>('groups');
const groupsTitle = $<HTMLElement>('groups-title');
const groupsNoteEl = $<HTMLParagraphElement>('groups-note');
const groupsBox = $<HTMLDivElement>('groups-table');
const dups = $<HTMLDivElement>('dups');
const dupsBox = $<HTMLDivElement>('dups-groups');
const dupsMore = $<HTMLButtonElement>('dups-more');
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
let view: View = saved.view === 'duplicates' ? 'duplicates' : 'rows';
textInput.value = saved.text ?? '';
logBox.checked = saved.log ?? true;
details.open = saved.histogramOpen ?? true;
groupsDetails.open = saved.groupsOpen ?? false;
let wantedLabel = saved.label ?? '';
let wantedReason: ReasonFilter = saved.reason ?? '';

let total = 0;
let selected = -1;
let seq = 0;
let pageOffset = 0;
let pageRows: PanelRow[] = [];
let pendingKey = '';
let hasFile = false;
let histClasses: string[] = [];
let histograms: HistogramData[] = [];
let facts: PanelFacts | undefined;
/** The "Duplicates" view: groups shown so far, how many pass the filters, the request in flight. */
let dupGroups: DuplicateGroupView[] = [];
let dupTotal = 0;
let dupSeq = 0;
/** Groups (by position in the view) whose rows are all shown. */
const expanded = new Set<number>();

function saveState(): void {
  vscode.setState({
    sort,
    view,
    label: labelSelect.value || wantedLabel,
    reason: (reasonSelect.value as ReasonFilter) || wantedReason,
    text: textInput.value,
    log: logBox.checked,
    histogramOpen: details.open,
    groupsOpen: groupsDetails.open,
  });
}

function mode(): 'memorized' | 'mislabeled' | 'duplicates' {
  if (view === 'duplicates') return 'duplicates';
  return sort.key === 'loss' ? 'mislabeled' : 'memorized';
}

function renderControls(): void {
  const m = mode();
  document.body.classList.toggle('mode-mislabeled', m === 'mislabeled');
  document.body.classList.toggle('mode-duplicates', m === 'duplicates');
  modeMemorized.setAttribute('aria-checked', String(m === 'memorized'));
  modeMislabeled.setAttribute('aria-checked', String(m === 'mislabeled'));
  modeDuplicates.setAttribute('aria-checked', String(m === 'duplicates'));
  list.hidden = m === 'duplicates';
  dups.hidden = m !== 'duplicates';
  explainMode.textContent = EXPLAIN[m];
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
  view = 'rows';
  saveState();
  renderControls();
  reload();
}

function showDuplicates(): void {
  view = 'duplicates';
  saveState();
  renderControls();
  reload();
}

function filter(): PanelFilter {
  return { label: labelSelect.value, reason: reasonSelect.value as ReasonFilter, text: textInput.value };
}

function visibleWindow(): { start: number; count: number } {
  const start = Math.floor(list.scrollTop / ROW_HEIGHT);
  const count = Math.ceil(list.clientHeight / ROW_HEIGHT) + 1;
  return { start, count };
}

/** Asks for the page around the viewport unless the current page already covers it. */
function requestPage(force = false): void {
  if (!hasFile || view === 'duplicates') return;
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

/** Asks for the groups from `offset` on (0: the first page, replacing what is shown). */
function requestDuplicates(offset: number): void {
  if (!hasFile) return;
  vscode.postMessage({ type: 'getDuplicates', offset, limit: GROUP_PAGE, filter: filter(), seq: ++dupSeq });
}

function renderDuplicates(): void {
  const focusedLine = (document.activeElement as HTMLElement | null)?.dataset?.line;
  dupsBox.replaceChildren();
  if (!dupGroups.length) {
    const p = document.createElement('p');
    p.className = 'note dup-empty';
    p.textContent = !facts?.duplicates
      ? 'These results have no duplicate groups (scored with memorization.reasons off, numeric columns, or before reasons existed): rescore to find them.'
      : facts.duplicates.total === 0
        ? 'No two rows have the same or near-identical text.'
        : 'No group has a row that passes the filters.';
    dupsBox.appendChild(p);
  }
  for (const g of dupGroups) {
    const shown = expanded.has(g.position) ? Infinity : GROUP_ROWS_SHOWN;
    const el = renderDuplicateGroup(document as unknown as MiniDocument, g, shown) as unknown as HTMLElement;
    for (const r of el.querySelectorAll<HTMLElement>('.dup-row')) {
      r.addEventListener('click', () => revealDupRow(r));
      r.addEventListener('keydown', (e) => onDupKey(e, r));
    }
    el.querySelector<HTMLButtonElement>('.dup-expand')?.addEventListener('click', () => {
      expanded.add(g.position);
      const at = dups.scrollTop;
      renderDuplicates();
      dups.scrollTop = at;
    });
    dupsBox.appendChild(el);
  }
  dupsMore.hidden = dupGroups.length >= dupTotal;
  dupsMore.textContent = `Show more groups (${dupGroups.length} of ${dupTotal})`;
  // Keep the keyboard focus on the same row across a re-render ("Show more").
  if (focusedLine)
    dupsBox.querySelector<HTMLElement>(`.dup-row[data-line="${CSS.escape(focusedLine)}"]`)?.focus();
  updateStatus();
}

function revealDupRow(r: HTMLElement): void {
  for (const x of dupsBox.querySelectorAll('.dup-row.selected')) x.classList.remove('selected');
  r.classList.add('selected');
  const line = Number(r.dataset.line);
  if (line > 0) vscode.postMessage({ type: 'reveal', line });
}

/** Enter or Space reveals the row; the arrows move between the rows of all groups. */
function onDupKey(e: KeyboardEvent, r: HTMLElement): void {
  if (e.key === 'Enter' || e.key === ' ') {
    e.preventDefault();
    revealDupRow(r);
  } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
    e.preventDefault();
    const rows = [...dupsBox.querySelectorAll<HTMLElement>('.dup-row')];
    const next = rows[rows.indexOf(r) + (e.key === 'ArrowDown' ? 1 : -1)];
    next?.focus();
  }
}

function reload(): void {
  if (view === 'duplicates') {
    dups.scrollTop = 0;
    requestDuplicates(0);
    return;
  }
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
  const filtered = !!(f.label || f.reason || f.text?.trim());
  if (hasFile && view === 'duplicates') {
    const all = facts?.duplicates?.listed ?? 0;
    const groups = filtered ? `${dupTotal} of ${all} groups` : `${all} groups`;
    const cut =
      facts?.duplicates && facts.duplicates.total > all
        ? ` (the ${all} largest of ${facts.duplicates.total})`
        : '';
    status.textContent = `${groups}${cut} of near-identical rows · ${fileStatus}`;
  } else if (hasFile && filtered) status.textContent = `${total} of ${fileTotal} rows · ${fileStatus}`;
  else status.textContent = hasFile ? `${fileTotal} rows · ${fileStatus}` : fileStatus;
}

/** The reason filter's options: every kind with its row count (from the summary), plus any / none. */
function renderReasonOptions(counts: PanelFacts['reasonCounts']): void {
  const keep = reasonSelect.value || wantedReason;
  reasonSelect.replaceChildren();
  const add = (value: string, text: string, title?: string) => {
    const o = document.createElement('option');
    o.value = value;
    o.textContent = text;
    if (title) o.title = title;
    reasonSelect.appendChild(o);
  };
  add('', 'All reasons');
  if (counts) {
    add('any', 'Any reason');
    for (const k of REASON_KINDS) add(k, `${k} (${counts[k] ?? 0})`);
    add('none', 'No reason');
  }
  reasonSelect.disabled = !counts;
  reasonSelect.title = counts
    ? 'Filter by why a row is memorized (hover a chip for its evidence)'
    : 'These results have no reasons: rescore with memorization.reasons on';
  const values = [...reasonSelect.options].map((o) => o.value);
  reasonSelect.value = values.includes(keep) ? keep : '';
}

/** The per-group table (memorization.group), in a collapsible section; hidden without one. */
function renderGroups(g: PanelFacts['groups']): void {
  groupsDetails.hidden = !g;
  groupsBox.replaceChildren();
  if (!g) return;
  groupsTitle.textContent = `Memorization by '${g.field}'`;
  groupsNoteEl.textContent = groupsShortNote(g);
  groupsNoteEl.title = groupsNote(g);
  const doc = document as unknown as MiniDocument;
  const t = groupsTable(g);
  // Few groups: a narrow view shows one column per group (CSS picks the table by the view's width).
  const transposable = g.groups.length <= MAX_NARROW_GROUPS;
  const wide = renderTable(doc, t);
  wide.className = transposable ? 'groups-wide transposable' : 'groups-wide';
  groupsBox.appendChild(wide as unknown as Node);
  if (transposable) {
    const narrow = renderTable(doc, transposeTable(groupsTable(g, { compact: true })));
    narrow.className = 'groups-narrow';
    groupsBox.appendChild(narrow as unknown as Node);
  }
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
reasonSelect.addEventListener('change', () => {
  wantedReason = reasonSelect.value as ReasonFilter;
  saveState();
  reload();
});
dupsMore.addEventListener('click', () => requestDuplicates(dupGroups.length));
groupsDetails.addEventListener('toggle', () => saveState());
sortSelect.addEventListener('change', () => {
  const key = sortSelect.value as SortKey;
  setSort({ key, dir: DEFAULT_DIR[key] });
});
dirButton.addEventListener('click', () =>
  setSort({ key: sort.key, dir: sort.dir === 'asc' ? 'desc' : 'asc' }),
);
modeMemorized.addEventListener('click', () => setSort(MEMORIZED_SORT));
modeMislabeled.addEventListener('click', () => setSort(MISLABELED_SORT));
modeDuplicates.addEventListener('click', () => showDuplicates());
// Radio-group keyboard: arrows move between the modes.
modes.forEach((b, i) => {
  b.addEventListener('keydown', (e) => {
    const step =
      e.key === 'ArrowLeft' || e.key === 'ArrowUp'
        ? -1
        : e.key === 'ArrowRight' || e.key === 'ArrowDown'
          ? 1
          : 0;
    if (!step) return;
    e.preventDefault();
    const other = modes[(i + step + modes.length) % modes.length];
    other.focus();
    other.click();
  });
});
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
    facts = m.facts;
    renderReasonOptions(facts?.reasonCounts);
    renderGroups(facts?.groups);
    explainModel.textContent = facts?.scoredOn ?? '';
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
      dupGroups = [];
      dupTotal = 0;
      renderDuplicates();
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
  } else if (m.type === 'duplicates') {
    if (m.seq !== undefined && m.seq !== dupSeq) return;
    if (m.offset === 0) expanded.clear();
    dupGroups = m.offset === 0 ? m.groups : [...dupGroups.slice(0, m.offset), ...m.groups];
    dupTotal = m.total;
    renderDuplicates();
  } else if (m.type === 'histogram') {
    histClasses = m.classes;
    histograms = m.histograms;
    renderHistogram();
  }
});

renderControls();
vscode.postMessage({ type: 'ready' });
