/**
 * The memorization report webview's script (bundled for the browser into dist/report.js, chart.js included). The
 * figures come from src/report/charts.ts, the same configurations `memscore eval --png` renders. Data reaches the
 * DOM through textContent only; "Save PNG" sends a canvas as a PNG data URL to the host, which writes the file.
 */
import { Chart, type ChartConfiguration, registerables } from 'chart.js';
import { FIGURE, reductionChart, removalChart, stabilityChart } from '../src/report/charts';
import type { FromReport, ReportChart, ToReport } from '../src/report/reportProtocol';
import {
  type Table,
  numText,
  reductionTable,
  removalTable,
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
let charts: Chart[] = [];

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

/** A table; columns from `numFrom` on are right-aligned numbers. */
function table(t: Table, numFrom = 1): HTMLTableElement {
  const tbl = el('table');
  const tr = el('tr');
  t.head.forEach((h, i) => tr.appendChild(el('th', h, i >= numFrom ? 'num' : undefined)));
  const thead = el('thead');
  thead.appendChild(tr);
  tbl.appendChild(thead);
  const tbody = el('tbody');
  for (const row of t.rows) {
    const r = el('tr');
    row.forEach((c, i) => r.appendChild(el('td', c, i >= numFrom ? 'num' : undefined)));
    tbody.appendChild(r);
  }
  tbl.appendChild(tbody);
  return tbl;
}

/** A section with a heading; with `chart`, a canvas drawn from `config` and a "Save PNG" button. */
function section(title: string, chart?: { name: ReportChart; config: ChartConfiguration }): HTMLElement {
  const s = el('section');
  const h = el('h2');
  h.appendChild(el('span', title));
  s.appendChild(h);
  if (chart) {
    const canvas = el('canvas');
    canvas.width = FIGURE.width;
    canvas.height = FIGURE.height;
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', title);
    s.appendChild(canvas);
    // The same figure as `memscore eval --png`: fixed size, pixel ratio 2, no animation.
    charts.push(new Chart(canvas, chart.config));
    h.appendChild(
      button('Save PNG', () =>
        vscode.postMessage({ type: 'savePng', chart: chart.name, dataUrl: canvas.toDataURL('image/png') }),
      ),
    );
  }
  return s;
}

function render(fileName: string, r: ReportData): void {
  charts.forEach((c) => c.destroy());
  charts = [];
  root.replaceChildren();
  const top = el('div');
  top.appendChild(el('h1', `Memorization report: ${fileName}`));
  top.appendChild(el('p', reportMeta(r), 'meta'));
  top.appendChild(el('p', testSourceNote(r), 'note'));
  const bar = el('div', undefined, 'bar');
  bar.appendChild(button('Save JSON', () => vscode.postMessage({ type: 'saveJson' }), true));
  top.appendChild(bar);
  root.appendChild(top);

  if (r.removal) {
    root.appendChild(
      withTable(
        section('Removal: test accuracy after removing memorized vs random rows', {
          name: 'removal',
          config: removalChart(r.removal, { test: testSetLabel(r) }) as unknown as ChartConfiguration,
        }),
        removalTable(r),
        r.removal.secondsPerRetraining !== undefined
          ? `${numText(r.removal.secondsPerRetraining, 3)} s per retraining.`
          : undefined,
      ),
    );
  }
  if (r.reduction) {
    root.appendChild(
      withTable(
        section('Reduction: self-influence removed by replacing the top-attributed tokens', {
          name: 'reduction',
          config: reductionChart(r.reduction) as unknown as ChartConfiguration,
        }),
        reductionTable(r),
      ),
    );
  }
  if (r.stability) {
    const s = section('Stability across training subsamples', {
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
    root.appendChild(withTable(s, stabilityTable(r), undefined, 2));
  }
  const typ = section('Typicality');
  const t = typicalityTable(r);
  if (t && r.typicality) {
    typ.appendChild(
      el(
        'p',
        `Mean memorization score and percentile (100 = most memorized) per value of '${r.typicality.field}', a field the model never sees. Atypical sub-populations should rank higher.`,
        'meta',
      ),
    );
    typ.appendChild(table(t));
  } else {
    typ.appendChild(el('p', 'No grouping field was chosen, so there is no typicality table.', 'meta'));
  }
  root.appendChild(typ);
}

function withTable(s: HTMLElement, t: Table | undefined, note?: string, numFrom = 1): HTMLElement {
  if (t) s.appendChild(table(t, numFrom));
  if (note) s.appendChild(el('p', note, 'meta'));
  return s;
}

window.addEventListener('message', (e: MessageEvent<ToReport>) => {
  const m = e.data;
  if (m?.type === 'report') render(m.fileName, m.report);
  else if (m?.type === 'empty') {
    charts.forEach((c) => c.destroy());
    charts = [];
    root.replaceChildren(el('p', m.message, 'meta'));
  }
});

vscode.postMessage({ type: 'ready' });
