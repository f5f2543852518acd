/**
 * The memorization report webview's script (bundled for the browser into dist/report.js, chart.js included). The
 * figures come from src/report/charts.ts, the same configurations `memscore eval --png` renders. Data reaches the
 * DOM through textContent only; "Save PNG" sends a canvas as a PNG data URL to the host, which writes the file, and
 * "Save report as PNG" first draws every chart (and the report's key sentences) onto one canvas.
 */
import { Chart, type ChartConfiguration, registerables } from 'chart.js';
import {
  FIGURE,
  groupsChart,
  memorizationChart,
  noiseChart,
  reasonsChart,
  reductionChart,
  removalChart,
  stabilityChart,
  typicalityChart,
} from '../src/report/charts';
import type { FromReport, ReportChart, ToReport } from '../src/protocol/report';
import {
  type Table,
  combinedLayout,
  groupsNote,
  groupsTable,
  memorizationNote,
  memorizationTable,
  mislabeledByLabelTable,
  mislabeledHeadline,
  mislabeledTopTable,
  noiseFindingsNote,
  noiseNote,
  noiseTable,
  numText,
  reasonsHeadline,
  reasonsTable,
  reductionTable,
  removalTable,
  reportImageText,
  reportMeta,
  stabilityTable,
  testSetLabel,
  testSourceNote,
  typicalityTable,
} from '../src/report/summary';
import type { ReportData } from '../src/report/types';

declare function acquireVsCodeApi(): { postMessage(msg: FromReport): void };

Chart.register(...registerables);
const vscode = acquireVsCodeApi();
const root = document.getElementById('root') as HTMLDivElement;
let charts: { name: ReportChart; chart: Chart; canvas: HTMLCanvasElement }[] = [];
let current: { fileName: string; report: ReportData } | undefined;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text?: string,
  className?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (className) e.className = className;
  return e;
}

function button(text: string, onClick: () => void, secondary = false): HTMLButtonElement {
  const b = el('button', text, secondary ? 'secondary' : undefined);
  b.type = 'button';
  b.addEventListener('click', onClick);
  return b;
}

/** A table; columns from `numFrom` on are right-aligned numbers, columns in `textCols` wrap. */
function table(t: Table, numFrom = 1, textCols: number[] = []): HTMLTableElement {
  const tbl = el('table');
  const cls = (i: number) => (textCols.includes(i) ? 'text' : i >= numFrom ? 'num' : undefined);
  const tr = el('tr');
  t.head.forEach((h, i) => tr.appendChild(el('th', h, cls(i))));
  const thead = el('thead');
  thead.appendChild(tr);
  tbl.appendChild(thead);
  const tbody = el('tbody');
  for (const row of t.rows) {
    const r = el('tr');
    row.forEach((c, i) => r.appendChild(el('td', c, cls(i))));
    tbody.appendChild(r);
  }
  tbl.appendChild(tbody);
  return tbl;
}

/**
 * A section with a heading; with `chart`, a figure row: the canvas drawn from `config` (the same figure as
 * `memscore eval --png`: fixed size, pixel ratio 2, no animation) with a "Save PNG" button, and a side column
 * (returned as `side`) for its table, next to the chart when the panel is wide enough.
 */
function section(
  id: string,
  title: string,
  chart?: { name: ReportChart; config: ChartConfiguration },
): { s: HTMLElement; side: HTMLElement } {
  const s = el('section');
  s.id = id;
  const h = el('h2');
  h.appendChild(el('span', title));
  s.appendChild(h);
  const side = el('div', undefined, 'side');
  if (chart) {
    const fig = el('div', undefined, 'figure');
    const canvas = el('canvas');
    canvas.width = FIGURE.width;
    canvas.height = FIGURE.height;
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', title);
    fig.appendChild(canvas);
    fig.appendChild(side);
    s.appendChild(fig);
    charts.push({ name: chart.name, chart: new Chart(canvas, chart.config), canvas });
    h.appendChild(
      button('Save PNG', () =>
        vscode.postMessage({ type: 'savePng', chart: chart.name, dataUrl: canvas.toDataURL('image/png') }),
      ),
    );
  } else s.appendChild(side);
  return { s, side };
}

function note(text: string | undefined, className = 'meta'): HTMLElement | undefined {
  return text ? el('p', text, className) : undefined;
}

function append(parent: HTMLElement, ...children: (HTMLElement | undefined)[]): void {
  for (const c of children) if (c) parent.appendChild(c);
}

function render(fileName: string, r: ReportData): void {
  charts.forEach((c) => c.chart.destroy());
  charts = [];
  current = { fileName, report: r };
  root.replaceChildren();
  const top = el('div');
  top.appendChild(el('h1', `Memorization report: ${fileName}`));
  top.appendChild(el('p', reportMeta(r), 'meta'));
  top.appendChild(el('p', testSourceNote(r), 'note'));
  const bar = el('div', undefined, 'bar');
  bar.appendChild(button('Save report as PNG', saveWholeReport));
  bar.appendChild(button('Save JSON', () => vscode.postMessage({ type: 'saveJson' }), true));
  top.appendChild(bar);
  root.appendChild(top);

  if (r.memorization) {
    const { s, side } = section('memorization', 'Trust: the scores against retraining', {
      name: 'memorization',
      config: memorizationChart(r.memorization) as unknown as ChartConfiguration,
    });
    s.insertBefore(el('p', memorizationNote(r.memorization), 'meta'), s.children[1] ?? null);
    append(side, tableOf(memorizationTable(r)));
    root.appendChild(s);
  }
  if (r.removal) {
    const { s, side } = section('removal', 'Removal: test accuracy after removing memorized vs random rows', {
      name: 'removal',
      config: removalChart(r.removal, { test: testSetLabel(r) }) as unknown as ChartConfiguration,
    });
    append(
      side,
      tableOf(removalTable(r)),
      note(
        r.removal.secondsPerRetraining !== undefined
          ? `${numText(r.removal.secondsPerRetraining, 3)} s per retraining.`
          : undefined,
      ),
    );
    root.appendChild(s);
  }
  if (r.reduction) {
    const { s, side } = section(
      'reduction',
      'Reduction: self-influence removed by replacing the top-attributed tokens',
      { name: 'reduction', config: reductionChart(r.reduction) as unknown as ChartConfiguration },
    );
    append(side, tableOf(reductionTable(r)));
    root.appendChild(s);
  }
  if (r.stability) {
    const { s, side } = section('stability', 'Stability across training subsamples', {
      name: 'stability',
      config: stabilityChart(r.stability) as unknown as ChartConfiguration,
    });
    const summary = el('p');
    summary.appendChild(el('span', `Mean Spearman ${numText(r.stability.mean)}`, 'big'));
    summary.appendChild(
      el(
        'span',
        ` over ${r.stability.pairs.length} pairs of runs; each run trains on a different random ` +
          `${Math.round(100 * (r.stability.fraction ?? 0.9))}% of the rows (the convex head has one optimum, so ` +
          `subsamples replace the paper's training seeds).`,
      ),
    );
    s.insertBefore(summary, s.children[1] ?? null);
    append(side, tableOf(stabilityTable(r), 2));
    root.appendChild(s);
  }
  const t = typicalityTable(r);
  if (t && r.typicality) {
    const { s, side } = section('typicality', 'Typicality', {
      name: 'typicality',
      config: typicalityChart(r.typicality) as unknown as ChartConfiguration,
    });
    s.insertBefore(
      el(
        'p',
        `Mean memorization score and percentile (100 = most memorized) per value of '${r.typicality.field}', a field the model never sees. Atypical sub-populations should rank higher.`,
        'meta',
      ),
      s.children[1] ?? null,
    );
    append(side, table(t));
    root.appendChild(s);
  } else {
    const { s } = section('typicality', 'Typicality');
    s.appendChild(el('p', 'No grouping field was chosen, so there is no typicality table.', 'meta'));
    root.appendChild(s);
  }
  if (r.reasons) appendReasons(r);
  if (r.mislabeled || r.noise) root.appendChild(labelNoise(r));
}

/** "Why rows are memorized": reasons by score tier and, with a grouping field, memorization by group. */
function appendReasons(r: ReportData): void {
  const why = r.reasons!;
  const { s, side } = section('reasons', 'Why rows are memorized: reasons among the top-memorized rows', {
    name: 'reasons',
    config: reasonsChart(why) as unknown as ChartConfiguration,
  });
  s.insertBefore(
    el(
      'p',
      `${reasonsHeadline(why)} The reasons (duplicate, conflict, mislabeled, rare, templated) are those of the ` +
        `ranking view and the hover, from each row's nearest rows and near-identical texts; see the README for the rules.`,
      'meta',
    ),
    s.children[1] ?? null,
  );
  append(side, tableOf(reasonsTable(why)));
  for (const n of why.notes ?? []) append(side, note(n));
  root.appendChild(s);
  const g = why.groups;
  if (!g) return;
  const groups = section('groups', `Memorization by '${g.field}'`, {
    name: 'groups',
    config: groupsChart(g) as unknown as ChartConfiguration,
  });
  groups.s.insertBefore(el('p', groupsNote(g), 'meta'), groups.s.children[1] ?? null);
  append(groups.side, table(groupsTable(g)));
  root.appendChild(groups.s);
}

/** The "Label noise" section: the likely-mislabeled summary, and the found-vs-checked curve given flipped ids. */
function labelNoise(r: ReportData): HTMLElement {
  const n = r.noise;
  const withCurve = !!n?.matched;
  const { s, side } = section(
    'noise',
    'Label noise',
    withCurve ? { name: 'noise', config: noiseChart(n!) as unknown as ChartConfiguration } : undefined,
  );
  const intro = el('div');
  const m = r.mislabeled;
  if (m) {
    const p = el('p');
    p.appendChild(el('span', `${m.lossAboveLog2} likely mislabeled`, 'big'));
    p.appendChild(el('span', ` — ${mislabeledHeadline(m)}`));
    intro.appendChild(p);
  }
  append(intro, note(noiseNote(r)), note(noiseFindingsNote(), 'note'));
  if (!n)
    intro.appendChild(
      el(
        'p',
        'To measure it on this file, run the experiments again and choose a JSON file of the ids of rows whose label is known to be wrong.',
        'meta',
      ),
    );
  s.insertBefore(intro, s.children[1] ?? null);
  // The by-label counts are narrow (next to the curve); the recall table has a column per ranking (below it).
  append(side, tableOf(mislabeledByLabelTable(r)));
  const recall = noiseTable(r);
  if (recall) {
    s.appendChild(el('h3', 'Share of the flipped rows found in the top-ranked rows'));
    s.appendChild(table(recall));
  }
  const topRows = mislabeledTopTable(r);
  if (topRows) {
    s.appendChild(el('h3', `The ${topRows.rows.length} rows with the largest training loss`));
    s.appendChild(table(topRows, 5, [1]));
  }
  return s;
}

function tableOf(t: Table | undefined, numFrom = 1): HTMLTableElement | undefined {
  return t ? table(t, numFrom) : undefined;
}

/** Splits `text` into lines no wider than `width` at the context's current font. */
function wrap(ctx: CanvasRenderingContext2D, text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    const next = line ? `${line} ${word}` : word;
    if (line && ctx.measureText(next).width > width) {
      lines.push(line);
      line = word;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines;
}

/**
 * Draws the whole report as one image: title and notes, every chart canvas at its full resolution in a grid of
 * two columns, then the key sentences (stability, typicality, label noise); white background, like the charts.
 */
function reportCanvas(): HTMLCanvasElement | undefined {
  if (!current) return undefined;
  const scale = FIGURE.devicePixelRatio;
  const cw = FIGURE.width * scale;
  const ch = FIGURE.height * scale;
  const margin = 24 * scale;
  const text = reportImageText(current.fileName, current.report);
  const font = "'DejaVu Sans', 'Liberation Sans', 'Helvetica Neue', Helvetica, Arial, sans-serif";
  const titleFont = `bold ${20 * scale}px ${font}`;
  const bodyFont = `${13 * scale}px ${font}`;
  const titleLine = 30 * scale;
  const bodyLine = 19 * scale;
  const measure = document.createElement('canvas').getContext('2d');
  if (!measure) return undefined;
  const columns = Math.min(2, Math.max(1, charts.length));
  const textWidth = columns * cw + (columns - 1) * margin;
  measure.font = bodyFont;
  const header = text.header.flatMap((t) => wrap(measure, t, textWidth));
  // The key sentences go into the grid's empty cell when there is one and they fit, else below the grid.
  const pad = 16 * scale;
  const inCell = text.footer.flatMap((t) => [...wrap(measure, t, cw - 2 * pad), '']).slice(0, -1);
  const cellFits = charts.length % columns !== 0 && inCell.length * bodyLine <= ch - 2 * pad;
  const footer = cellFits ? inCell : text.footer.flatMap((t) => wrap(measure, t, textWidth));
  const layout = combinedLayout({
    charts: charts.length,
    chartWidth: cw,
    chartHeight: ch,
    columns,
    margin,
    headerHeight: titleLine + header.length * bodyLine,
    footerHeight: cellFits ? 0 : footer.length * bodyLine,
  });
  const footerAt =
    cellFits && layout.spare
      ? { x: layout.spare.x + pad, y: layout.spare.y + pad }
      : { x: margin, y: layout.footerY };
  const out = document.createElement('canvas');
  out.width = layout.width;
  out.height = layout.height;
  const ctx = out.getContext('2d');
  if (!ctx) return undefined;
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.fillStyle = '#222222';
  ctx.textBaseline = 'top';
  ctx.font = titleFont;
  ctx.fillText(text.title, margin, layout.headerY);
  ctx.font = bodyFont;
  header.forEach((l, i) => ctx.fillText(l, margin, layout.headerY + titleLine + i * bodyLine));
  charts.forEach((c, i) => {
    const at = layout.charts[i];
    ctx.drawImage(c.canvas, at.x, at.y, cw, ch);
    ctx.strokeStyle = '#cccccc';
    ctx.lineWidth = scale;
    ctx.strokeRect(at.x, at.y, cw, ch);
  });
  footer.forEach((l, i) => ctx.fillText(l, footerAt.x, footerAt.y + i * bodyLine));
  return out;
}

function saveWholeReport(): void {
  const canvas = reportCanvas();
  if (canvas)
    vscode.postMessage({ type: 'savePng', chart: 'report', dataUrl: canvas.toDataURL('image/png') });
}

window.addEventListener('message', (e: MessageEvent<ToReport>) => {
  const m = e.data;
  if (m?.type === 'report') render(m.fileName, m.report);
  else if (m?.type === 'empty') {
    charts.forEach((c) => c.chart.destroy());
    charts = [];
    current = undefined;
    root.replaceChildren(el('p', m.message, 'meta'));
  }
});

vscode.postMessage({ type: 'ready' });
