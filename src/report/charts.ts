/**
 * Chart.js configurations of the experiment figures, shared by `memscore eval --png` (chart.js on @napi-rs/canvas)
 * and the editor's report webview (chart.js on an HTML canvas), so both draw the same figure. Pure: no Node, VS Code
 * or canvas import; chart.js is imported for its types only. Error bars and the white background are drawn by the
 * two small inline plugins below.
 */
import type { ChartConfiguration, ChartDataset, ChartOptions, Plugin } from 'chart.js';
import { REASON_KINDS, type ReasonKind } from '../protocol/reasons';
import type {
  GroupsData,
  MemorizationData,
  NoiseData,
  ReasonsData,
  ReductionData,
  RemovalData,
  StabilityData,
  TypicalityData,
} from './types';

/** Figure size in CSS pixels, drawn at devicePixelRatio 2: the PNG is 1600 x 1000 pixels. */
export const FIGURE = { width: 800, height: 500, devicePixelRatio: 2 } as const;

export const EXPERIMENT_KINDS = [
  'removal',
  'reduction',
  'stability',
  'typicality',
  'noise',
  'memorization',
  'reasons',
  'groups',
] as const;
export type ExperimentKind = (typeof EXPERIMENT_KINDS)[number];

export const COLORS = {
  memorized: '#d62728',
  attribution: '#d62728',
  random: '#1f77b4',
  full: '#555555',
  loss: '#d62728',
  oof: '#ff7f0e',
  selfInfluence: '#2ca02c',
  score: '#9467bd',
  bar: '#1f77b4',
  grid: 'rgba(0, 0, 0, 0.1)',
  text: '#222222',
} as const;

/** One colour per reason (white background; the ranking panel's chips use the theme's --vscode-charts-* of the same hue). */
export const REASON_COLORS: Record<ReasonKind, string> = {
  duplicate: '#1f77b4',
  conflict: '#d62728',
  mislabeled: '#ff7f0e',
  rare: '#9467bd',
  templated: '#2ca02c',
};
/** "any reason" in the reasons figure, and "in the top 10%" in the groups figure. */
const NEUTRAL = '#7f7f7f';

const FONT_FAMILY = "'DejaVu Sans', 'Liberation Sans', 'Helvetica Neue', Helvetica, Arial, sans-serif";

/** A line dataset that may carry symmetric error bars (half-widths in the y unit, one per point). */
export type ErrorBarDataset = ChartDataset<'line', { x: number; y: number }[]> & { errorBars?: number[] };

/** The few 2D-context members the plugins use (the engine's tsconfig has no DOM lib). */
interface Ctx2D {
  save(): void;
  restore(): void;
  beginPath(): void;
  moveTo(x: number, y: number): void;
  lineTo(x: number, y: number): void;
  stroke(): void;
  fillRect(x: number, y: number, w: number, h: number): void;
  strokeStyle: unknown;
  fillStyle: unknown;
  lineWidth: number;
}

/** Draws each dataset's `errorBars` (± half-width, with caps) over its points. */
export const errorBarsPlugin: Plugin = {
  id: 'memErrorBars',
  afterDatasetsDraw(chart) {
    const ctx = chart.ctx as unknown as Ctx2D;
    chart.data.datasets.forEach((ds, i) => {
      const bars = (ds as unknown as ErrorBarDataset).errorBars;
      if (!bars || !chart.isDatasetVisible(i)) return;
      const meta = chart.getDatasetMeta(i);
      const yScale = chart.scales[meta.yAxisID ?? 'y'];
      if (!yScale) return;
      ctx.save();
      ctx.strokeStyle = (ds.borderColor as string | undefined) ?? COLORS.text;
      ctx.lineWidth = 1.5;
      meta.data.forEach((el, j) => {
        const e = bars[j];
        const point = ds.data[j] as { y: number } | undefined;
        if (!(e > 0) || !point || !Number.isFinite(point.y)) return;
        const x = el.x;
        const top = yScale.getPixelForValue(point.y + e);
        const bottom = yScale.getPixelForValue(point.y - e);
        const cap = 5;
        ctx.beginPath();
        ctx.moveTo(x, top);
        ctx.lineTo(x, bottom);
        ctx.moveTo(x - cap, top);
        ctx.lineTo(x + cap, top);
        ctx.moveTo(x - cap, bottom);
        ctx.lineTo(x + cap, bottom);
        ctx.stroke();
      });
      ctx.restore();
    });
  },
};

/** Paints the whole canvas white first, so the PNG (CLI and webview alike) is not transparent. */
export const whiteBackgroundPlugin: Plugin = {
  id: 'memWhiteBackground',
  beforeDraw(chart) {
    const ctx = chart.ctx as unknown as Ctx2D;
    ctx.save();
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, chart.width, chart.height);
    ctx.restore();
  },
};

const PLUGINS = [whiteBackgroundPlugin, errorBarsPlugin];

const pct = (x: number) => 100 * x;
const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');

interface Frame {
  title: string;
  subtitle?: string;
  x: string;
  y: string;
  xMin?: number;
  xMax?: number;
  yMin?: number;
  yMax?: number;
  legend?: boolean;
  xType?: 'linear' | 'category' | 'logarithmic';
}

/** Options every figure shares: fixed size, no animation, titles, axis titles, legend at the bottom. */
function frame<T extends 'line' | 'bar' | 'scatter'>(f: Frame): ChartOptions<T> {
  const axis = (title: string, min?: number, max?: number, type?: 'linear' | 'category' | 'logarithmic') => ({
    type: type ?? 'linear',
    min,
    max,
    // Room above and below the data (error bars, points) when the range is not fixed.
    grace: min === undefined || max === undefined ? '5%' : 0,
    title: { display: true, text: title, font: { size: 13, weight: 'bold' as const }, color: COLORS.text },
    grid: { color: COLORS.grid },
    ticks: { color: COLORS.text },
  });
  return {
    animation: false,
    responsive: false,
    devicePixelRatio: FIGURE.devicePixelRatio,
    // Points and error bars on the edge of the plot area are drawn whole.
    clip: false,
    color: COLORS.text,
    font: { family: FONT_FAMILY, size: 12 },
    layout: { padding: { left: 8, right: 16, top: 8, bottom: 8 } },
    scales: {
      x: axis(f.x, f.xMin, f.xMax, f.xType),
      y: axis(f.y, f.yMin, f.yMax),
    },
    plugins: {
      title: {
        display: true,
        text: f.title,
        color: COLORS.text,
        font: { size: 16, weight: 'bold' },
        padding: { top: 4, bottom: f.subtitle ? 2 : 10 },
      },
      subtitle: {
        display: !!f.subtitle,
        text: f.subtitle ?? '',
        color: '#555555',
        font: { size: 12 },
        padding: { bottom: 8 },
      },
      legend: { display: f.legend ?? true, position: 'bottom', labels: { color: COLORS.text, boxHeight: 2 } },
      tooltip: { enabled: true },
    },
  } as unknown as ChartOptions<T>;
}

function line(
  label: string,
  color: string,
  points: { x: number; y: number }[],
  extra: Partial<ErrorBarDataset> = {},
): ErrorBarDataset {
  return {
    label,
    data: points,
    borderColor: color,
    backgroundColor: color,
    borderWidth: 2,
    pointRadius: 4,
    pointHoverRadius: 5,
    tension: 0,
    ...extra,
  };
}

/**
 * Figure 1 of the paper: test accuracy after removing the top-X% memorized rows vs X% random rows (mean ± std over
 * seeds as error bars), and the full-data accuracy as a dashed line. X = 0 is the full model for both curves.
 */
export function removalChart(
  r: RemovalData,
  opts: { subtitle?: string; test?: string } = {},
): ChartConfiguration<'line'> {
  const xs = r.memorized.map((m) => pct(m.fraction));
  const xMax = Math.max(0, ...xs);
  const start = { x: 0, y: pct(r.full.mean) };
  const memorized = line('memorized rows removed', COLORS.memorized, [
    start,
    ...r.memorized.map((m) => ({ x: pct(m.fraction), y: pct(m.mean) })),
  ]);
  memorized.errorBars = [pct(r.full.std), ...r.memorized.map((m) => pct(m.std))];
  const random = line('random rows removed (± std over seeds)', COLORS.random, [
    start,
    ...r.random.map((m) => ({ x: pct(m.fraction), y: pct(m.mean) })),
  ]);
  random.errorBars = [pct(r.full.std), ...r.random.map((m) => pct(m.std))];
  random.pointStyle = 'rect';
  const full = line(
    'full training data',
    COLORS.full,
    [
      { x: 0, y: pct(r.full.mean) },
      { x: xMax, y: pct(r.full.mean) },
    ],
    { borderDash: [6, 4], borderWidth: 1.5, pointRadius: 0, pointHoverRadius: 0 },
  );
  const seeds = r.random[0]?.runs?.length;
  const subtitle =
    opts.subtitle ??
    [
      seeds ? `random: mean ± std over ${seeds} seeds` : '',
      `full data ${fmt(pct(r.full.mean))}%`,
      opts.test ? `test set: ${opts.test}` : '',
    ]
      .filter(Boolean)
      .join(' · ');
  return {
    type: 'line',
    data: { datasets: [memorized, random, full] },
    options: frame<'line'>({
      title: 'Removal: test accuracy after removing training rows',
      subtitle,
      x: 'training rows removed (%)',
      y: 'test accuracy (%)',
      xMin: 0,
      xMax: xMax > 0 ? xMax : undefined,
    }),
    plugins: PLUGINS,
  };
}

/** Figure 2 of the paper: reduction rate of the self-influence vs the share k of tokens replaced by the baseline. */
export function reductionChart(
  r: ReductionData,
  opts: { subtitle?: string } = {},
): ChartConfiguration<'line'> {
  const attribution = line(
    'top-k% tokens by attribution',
    COLORS.attribution,
    r.attribution.map((a) => ({ x: pct(a.k), y: pct(a.rate) })),
  );
  const random = line(
    'k% random tokens',
    COLORS.random,
    r.random.map((a) => ({ x: pct(a.k), y: pct(a.rate) })),
    { pointStyle: 'rect' },
  );
  const ks = r.attribution.map((a) => pct(a.k));
  return {
    type: 'line',
    data: { datasets: [attribution, random] },
    options: frame<'line'>({
      title: 'Memorization reduction: tokens replaced by the baseline',
      subtitle:
        opts.subtitle ??
        `mean drop of the self-influence (I(z,z) - I(z',z)) / I(z,z)${r.rows ? ` over the ${r.rows} most memorized rows` : ''}`,
      x: 'k: tokens replaced per row (%)',
      y: 'reduction rate (%)',
      xMin: 0,
      xMax: Math.max(10, ...ks),
      yMin: 0,
    }),
    plugins: PLUGINS,
  };
}

/**
 * Stability: the score ranks of the same rows under two runs (different random subsamples) as a scatter, with the
 * Spearman correlation in the title; without rank data (older JSON), one bar per pair of runs.
 */
export function stabilityChart(r: StabilityData): ChartConfiguration<'scatter'> | ChartConfiguration<'bar'> {
  const first = r.pairs[0];
  const sub = [
    r.fraction ? `each run trains on a random ${fmt(100 * r.fraction, 0)}% of the rows` : '',
    r.commonRows ? `${r.commonRows} rows common to all runs` : '',
    r.pairs.length > 1 ? `mean Spearman over ${r.pairs.length} pairs ${fmt(r.mean, 4)}` : '',
  ]
    .filter(Boolean)
    .join(' · ');
  if (r.scatter && r.scatter.rankA.length) {
    const s = r.scatter;
    const rho = r.pairs.find((p) => p.a === s.a && p.b === s.b)?.spearman ?? first?.spearman ?? NaN;
    return {
      type: 'scatter',
      data: {
        datasets: [
          {
            label: 'rows',
            data: s.rankA.map((a, i) => ({ x: a, y: s.rankB[i] })),
            backgroundColor: 'rgba(31, 119, 180, 0.35)',
            borderColor: 'rgba(31, 119, 180, 0.35)',
            pointRadius: 1.5,
            pointHoverRadius: 3,
          },
        ],
      },
      options: frame<'scatter'>({
        title: `Stability: Spearman ρ = ${fmt(rho, 4)} (run ${s.a} vs run ${s.b})`,
        subtitle: sub,
        x: `score rank in run ${s.a} (1 = most memorized)`,
        y: `score rank in run ${s.b}`,
        xMin: 0,
        yMin: 0,
        legend: false,
      }),
      plugins: PLUGINS,
    };
  }
  return {
    type: 'bar',
    data: {
      labels: r.pairs.map((p) => `run ${p.a} vs ${p.b}`),
      datasets: [
        {
          label: 'Spearman correlation of scores',
          data: r.pairs.map((p) => p.spearman),
          backgroundColor: COLORS.bar,
        },
      ],
    },
    options: frame<'bar'>({
      title: `Stability: mean Spearman ρ = ${fmt(r.mean, 4)}`,
      subtitle: sub,
      x: 'pair of runs',
      y: 'Spearman ρ',
      xType: 'category',
      yMin: Math.min(0, ...r.pairs.map((p) => p.spearman)),
      yMax: 1,
    }),
    plugins: PLUGINS,
  };
}

/** Typicality: mean score percentile (100 = most memorized) per value of the grouping field. */
export function typicalityChart(r: TypicalityData): ChartConfiguration<'bar'> {
  return {
    type: 'bar',
    data: {
      labels: r.groups.map((g) => `${g.value} (${g.count})`),
      datasets: [
        {
          label: 'mean percentile of the memorization score',
          data: r.groups.map((g) => g.meanPercentile),
          backgroundColor: COLORS.bar,
        },
      ],
    },
    options: frame<'bar'>({
      title: `Typicality: mean score percentile by '${r.field}'`,
      subtitle: `100 = most memorized, 50 = average; '${r.field}' is never fed to the model`,
      x: `${r.field} (rows)`,
      y: 'mean percentile',
      xType: 'category',
      yMin: 0,
      yMax: 100,
      legend: false,
    }),
    plugins: PLUGINS,
  };
}

/** A tier's name on the reasons figure's axis: "top 1% (40 rows)", "all rows (4000)". */
export function tierLabel(t: { fraction: number; rows: number }): string {
  return t.fraction >= 1 ? `all rows (${t.rows})` : `top ${fmt(100 * t.fraction, 0)}% (${t.rows} rows)`;
}

/** The reasons with at least one row (all of them when none has any): the figures leave out empty series. */
function presentKinds(counts: Partial<Record<ReasonKind, number>> | undefined): ReasonKind[] {
  const present = REASON_KINDS.filter((k) => (counts?.[k] ?? 0) > 0);
  return present.length ? present : [...REASON_KINDS];
}

/** The y axis' top for shares in %: the next 10 above the largest bar (room for it), at most 100. */
function shareAxisMax(datasets: { data: number[] }[]): number {
  const top = Math.max(0, ...datasets.flatMap((d) => d.data.filter(Number.isFinite)));
  return Math.min(100, Math.max(10, Math.ceil((top + 2) / 10) * 10));
}

function bars(label: string, color: string, data: number[]): ChartDataset<'bar', number[]> {
  return { label, data, backgroundColor: color, borderColor: color, borderWidth: 0 };
}

/** Bar figures carry one legend box per reason: square boxes, not the line figures' thin ones. */
function barLegend(options: ChartOptions<'bar'>): ChartOptions<'bar'> {
  const legend = options.plugins!.legend!;
  legend.labels = { ...legend.labels, boxHeight: 12, boxWidth: 12 };
  return options;
}

/**
 * Reasons among the top-memorized rows: per tier (top 1%, 5%, 10% by score, all rows), the share of its rows with
 * each reason, side by side (a row can have several reasons, so the shares are not stacked), and with any reason.
 */
export function reasonsChart(r: ReasonsData): ChartConfiguration<'bar'> {
  const kinds = presentKinds(r.counts);
  const datasets = [
    ...kinds.map((k) =>
      bars(
        k,
        REASON_COLORS[k],
        r.tiers.map((t) => pct(t.shares[k] ?? 0)),
      ),
    ),
    bars(
      'any reason',
      NEUTRAL,
      r.tiers.map((t) => pct(t.any)),
    ),
  ];
  const all = r.tiers.find((t) => t.fraction >= 1);
  return {
    type: 'bar',
    data: { labels: r.tiers.map(tierLabel), datasets },
    options: barLegend(
      frame<'bar'>({
        title: 'Why the most memorized rows are memorized: reasons by score tier',
        subtitle:
          `share of each tier's rows with each reason (a row can have several)` +
          (all ? ` · ${pct(all.any).toFixed(0)}% of all ${all.rows} rows have one` : ''),
        x: 'rows by memorization score',
        y: 'rows with the reason (%)',
        xType: 'category',
        yMin: 0,
        yMax: shareAxisMax(datasets),
      }),
    ),
    plugins: PLUGINS,
  };
}

/** Groups drawn at most in the groups figure (the largest; the table lists them all). */
export const MAX_CHART_GROUPS = 12;

/**
 * Memorization by group: per value of the group field (and all rows), the share of its rows in the top 10% by score
 * (10% everywhere if memorization did not depend on the group) and the share with each reason.
 */
export function groupsChart(g: GroupsData): ChartConfiguration<'bar'> {
  const shown = g.groups.slice(0, MAX_CHART_GROUPS);
  const rows = [...shown, g.all];
  const counts = Object.fromEntries(REASON_KINDS.map((k) => [k, g.all.reasons[k] ?? 0]));
  const kinds = presentKinds(counts);
  const datasets = [
    bars(
      'in the top 10% by score',
      NEUTRAL,
      rows.map((x) => pct(x.top10Share)),
    ),
    ...kinds.map((k) =>
      bars(
        k,
        REASON_COLORS[k],
        rows.map((x) => pct(x.reasons[k] ?? 0)),
      ),
    ),
  ];
  return {
    type: 'bar',
    data: {
      labels: rows.map((x, i) => (i === rows.length - 1 ? `all rows (${x.rows})` : `${x.group} (${x.rows})`)),
      datasets,
    },
    options: barLegend(
      frame<'bar'>({
        title: `Memorization by '${g.field}': top-10% share and reasons per group`,
        subtitle:
          (shown.length < g.groups.length
            ? `the ${shown.length} largest of ${g.groups.length} groups · `
            : '') +
          `mean score percentile: ` +
          shown
            .slice(0, 6)
            .map((x) => `${x.group} ${fmt(x.meanPercentile, 1)}`)
            .join(', ') +
          (shown.length > 6 ? ', …' : '') +
          ` (50 = average) · 10% of a group in the top 10% = no effect`,
        x: `${g.field} (rows)`,
        y: "share of the group's rows (%)",
        xType: 'category',
        yMin: 0,
        yMax: shareAxisMax(datasets),
      }),
    ),
    plugins: PLUGINS,
  };
}

/** Ranking names of `memscore eval noise`, in legend order, with their labels and colors. */
export const NOISE_SERIES: { key: string; label: string; color: string }[] = [
  { key: 'loss', label: 'loss (in-sample)', color: COLORS.loss },
  { key: 'oof', label: 'out-of-fold 1 - p(y)', color: COLORS.oof },
  { key: 'selfInfluence', label: 'self-influence', color: COLORS.selfInfluence },
  { key: 'score', label: 'memorization score', color: COLORS.score },
];

/** Label noise: share of the known flipped rows found vs share of rows checked, one line per ranking. */
export function noiseChart(r: NoiseData): ChartConfiguration<'line'> {
  const series = NOISE_SERIES.filter((s) => r.auroc[s.key] !== undefined);
  const datasets = series.map((s) => {
    const label = `${s.key === 'oof' && r.folds ? `out-of-fold (${r.folds}-fold)` : s.label}, AUROC ${fmt(r.auroc[s.key], 3)}`;
    const points = r.curve
      ? r.curve.checked.map((c, j) => ({ x: pct(c), y: pct(r.curve!.found[s.key][j]) }))
      : [{ x: 0, y: 0 }, ...r.recall.map((t) => ({ x: pct(t.fraction), y: pct(t[s.key]) }))];
    return line(label, s.color, points, { pointRadius: r.curve ? 0 : 3, borderWidth: 2 });
  });
  const maxChecked = r.curve ? 100 : pct(Math.max(...r.recall.map((t) => t.fraction)));
  datasets.push(
    line(
      'random order',
      COLORS.full,
      [
        { x: 0, y: 0 },
        { x: maxChecked, y: maxChecked },
      ],
      { borderDash: [6, 4], borderWidth: 1.5, pointRadius: 0, pointHoverRadius: 0 },
    ),
  );
  return {
    type: 'line',
    data: { datasets },
    options: frame<'line'>({
      title: 'Label noise: flipped rows found when checking the top-ranked rows',
      subtitle:
        r.matched !== undefined ? `${r.matched} known flipped rows among ${r.rows ?? '?'} rows` : undefined,
      x: 'rows checked, in ranking order (%)',
      y: 'flipped rows found (%)',
      xMin: 0,
      xMax: maxChecked,
      yMin: 0,
      yMax: 100,
    }),
    plugins: PLUGINS,
  };
}

/** Points drawn at most in the retraining scatter (evenly thinned beyond). */
export const MEMORIZATION_POINTS = 5000;

/**
 * The retraining check: each row's memorization score (x, influence) against Feldman & Zhang's retraining estimate
 * (y), with the agreement figures in the title. Scores are heavy-tailed, so x is a log axis (rows with a score <= 0
 * are left out of the plot, not of the figures).
 */
export function memorizationChart(r: MemorizationData): ChartConfiguration<'scatter'> {
  const rows = r.rows.filter((x) => Number.isFinite(x.estimate) && Number.isFinite(x.score));
  // Scores span many decades and well-fitted rows sit near 0: the axis starts 6 decades below the largest score.
  const top = Math.max(...rows.map((x) => x.score), 1e-12);
  const floor = top * 1e-6;
  const step = Math.max(1, rows.length / MEMORIZATION_POINTS);
  const points: { x: number; y: number }[] = [];
  for (let k = 0; k < rows.length; k += step) {
    const row = rows[Math.floor(k)];
    points.push({ x: Math.max(floor, row.score), y: row.estimate });
  }
  const options = frame<'scatter'>({
    title: `Scores vs retraining: Spearman ρ ${fmt(r.spearman.score, 3)} (score), ${fmt(r.spearman.selfInfluence, 3)} (self-influence), ${fmt(r.spearman.loss, 3)} (loss)`,
    subtitle: `${r.retrainings} heads on random ${fmt(100 * r.subset, 0)}% subsets · top-10% overlap: score ${fmt(100 * r.topOverlap.score, 0)}%, self-influence ${fmt(100 * r.topOverlap.selfInfluence, 0)}%, loss ${fmt(100 * r.topOverlap.loss, 0)}% · scores below ${floor.toExponential(0)} drawn at the left edge`,
    x: 'memorization score M(z), influence (log scale)',
    y: 'retraining estimate mem(z)',
    xType: 'logarithmic',
    xMin: floor,
    legend: false,
  });
  // Label the decades only (1e-3, 1e-2, ...).
  const x = options.scales!.x as { ticks: Record<string, unknown> };
  x.ticks = {
    ...x.ticks,
    autoSkip: false,
    maxRotation: 0,
    callback: (v: number | string) => {
      const e = Math.log10(Number(v));
      return Math.abs(e - Math.round(e)) < 1e-9 ? `1e${Math.round(e)}` : '';
    },
  };
  return {
    type: 'scatter',
    data: {
      datasets: [
        {
          label: 'rows',
          data: points,
          backgroundColor: 'rgba(148, 103, 189, 0.4)',
          borderColor: 'rgba(148, 103, 189, 0.4)',
          pointRadius: 1.5,
          pointHoverRadius: 3,
        },
      ],
    },
    options,
    plugins: PLUGINS,
  };
}

/** The figure of one `memscore eval` experiment's result (its --out JSON). */
export function experimentChart(
  kind: ExperimentKind,
  result: unknown,
  opts: { test?: string } = {},
): ChartConfiguration {
  const config =
    kind === 'removal'
      ? removalChart(result as RemovalData, opts)
      : kind === 'reduction'
        ? reductionChart(result as ReductionData)
        : kind === 'stability'
          ? stabilityChart(result as StabilityData)
          : kind === 'typicality'
            ? typicalityChart(result as TypicalityData)
            : kind === 'noise'
              ? noiseChart(result as NoiseData)
              : kind === 'reasons'
                ? reasonsChart(result as ReasonsData)
                : kind === 'groups'
                  ? groupsChart(result as GroupsData)
                  : memorizationChart(result as MemorizationData);
  return config as unknown as ChartConfiguration;
}
