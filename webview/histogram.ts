/**
 * The per-class histogram, drawn with chart.js (bundled into dist/webview.js by esbuild: no CDN, nothing
 * evaluated from strings, so it runs under the view's nonce CSP). Colours come from the theme's --vscode-charts-*
 * variables and are re-read when the theme changes.
 */
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';
import type { HistogramData } from '../src/protocol/panel';
import { formatNumber } from './render';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

const SERIES_VARS = [
  '--vscode-charts-blue',
  '--vscode-charts-orange',
  '--vscode-charts-green',
  '--vscode-charts-purple',
  '--vscode-charts-yellow',
  '--vscode-charts-red',
];
const FALLBACK = ['#3794ff', '#d18616', '#89d185', '#b180d7', '#cca700', '#f14c4c'];

function cssVar(name: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim();
}

/** `color` (a #rgb, #rrggbb, #rrggbbaa or rgb() colour) at `alpha`. */
export function withAlpha(color: string, alpha: number): string {
  const hex = /^#([0-9a-f]{3,8})$/i.exec(color)?.[1];
  let rgb: number[] | undefined;
  if (hex && (hex.length === 3 || hex.length === 4))
    rgb = [...hex.slice(0, 3)].map((h) => parseInt(h + h, 16));
  else if (hex && (hex.length === 6 || hex.length === 8))
    rgb = [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16));
  else {
    const m = /^rgba?\(\s*([\d.]+)[ ,]+([\d.]+)[ ,]+([\d.]+)/i.exec(color);
    if (m) rgb = [m[1], m[2], m[3]].map(Number);
  }
  return rgb ? `rgba(${rgb[0]}, ${rgb[1]}, ${rgb[2]}, ${alpha})` : color;
}

function seriesColor(i: number): string {
  const k = i % SERIES_VARS.length;
  return cssVar(SERIES_VARS[k]) || FALLBACK[k];
}

/** Short label of a bin edge for the category axis. */
function edgeLabel(v: number): string {
  return formatNumber(v);
}

export class HistogramChart {
  private chart: Chart<'bar'> | undefined;
  private last: { data: HistogramData; classes: string[] } | undefined;

  constructor(private readonly canvas: HTMLCanvasElement) {}

  update(data: HistogramData | undefined, classes: string[]): void {
    if (!data) {
      this.chart?.destroy();
      this.chart = undefined;
      this.last = undefined;
      return;
    }
    this.last = { data, classes };
    const fg = cssVar('--vscode-charts-foreground') || cssVar('--vscode-foreground') || '#cccccc';
    const grid = cssVar('--vscode-charts-lines') || withAlpha(fg, 0.2);
    const font = cssVar('--vscode-font-family') || 'sans-serif';
    const edges = data.edges;
    const labels = edges.slice(0, -1).map((e) => edgeLabel(e));
    const datasets = classes.map((name, i) => {
      const c = seriesColor(i);
      return {
        label: name,
        data: data.counts[i] ?? [],
        backgroundColor: withAlpha(c, 0.55),
        borderColor: c,
        borderWidth: 1,
        // Classes overlap (translucent) at the same bin rather than squeezing side by side.
        grouped: false,
        barPercentage: 1,
        categoryPercentage: 0.95,
      };
    });
    const metric = data.metric === 'score' ? 'score' : 'loss';
    this.chart?.destroy();
    this.chart = new Chart(this.canvas, {
      type: 'bar',
      data: { labels, datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        color: fg,
        font: { family: font, size: 11 },
        plugins: {
          legend: {
            position: 'top',
            align: 'start',
            labels: { color: fg, boxWidth: 10, boxHeight: 10, padding: 6, font: { family: font, size: 11 } },
          },
          tooltip: {
            callbacks: {
              title: (items) => {
                const k = items[0]?.dataIndex ?? 0;
                const close = k === edges.length - 2 ? ']' : ')';
                const open = k === 0 && data.below > 0 ? `(≤ ${formatNumber(edges[0])}) ∪ [` : '[';
                return `${metric} ${open}${formatNumber(edges[k])}, ${formatNumber(edges[k + 1])}${close}`;
              },
              label: (item) => ` ${item.dataset.label}: ${item.formattedValue} rows`,
            },
          },
        },
        scales: {
          x: {
            title: {
              display: true,
              text: data.scale === 'log' ? `${metric} (log-spaced bins)` : metric,
              color: fg,
              font: { family: font, size: 11 },
              padding: 0,
            },
            ticks: { color: fg, maxRotation: 0, autoSkip: true, autoSkipPadding: 8, font: { size: 10 } },
            grid: { display: false },
          },
          y: {
            beginAtZero: true,
            title: { display: true, text: 'rows', color: fg, font: { family: font, size: 11 }, padding: 0 },
            ticks: { color: fg, precision: 0, maxTicksLimit: 4, font: { size: 10 } },
            grid: { color: grid },
          },
        },
      },
    });
  }

  /** Redraws with the current theme's colours. */
  refreshTheme(): void {
    if (this.last) this.update(this.last.data, this.last.classes);
  }
}
