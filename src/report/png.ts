/**
 * Renders a chart configuration of ./charts to a PNG without a browser: chart.js (bundled) drawing on a
 * @napi-rs/canvas canvas. The native canvas package stays external to the CLI bundle and is loaded only when a PNG
 * is asked for, so `memscore` works without it.
 */
import type { ChartConfiguration } from 'chart.js';
import { UsageError } from '../engine/types';
import { FIGURE } from './charts';

interface NativeCanvas {
  width: number;
  height: number;
  toBuffer(mime: 'image/png'): Buffer;
}

interface Lib {
  createCanvas(width: number, height: number): NativeCanvas;
  Chart: new (item: unknown, config: ChartConfiguration) => { destroy(): void };
}

let loaded: Promise<Lib> | undefined;

async function load(): Promise<Lib> {
  let canvas: { createCanvas(width: number, height: number): unknown };
  try {
    canvas = (await import('@napi-rs/canvas')) as unknown as typeof canvas;
  } catch (err) {
    throw new UsageError(
      `--png needs the native package @napi-rs/canvas, which could not be loaded (${
        String((err as Error)?.message ?? err).split('\n')[0]
      }). Install it next to memscore (npm install @napi-rs/canvas) or leave out --png.`,
    );
  }
  const chartjs = await import('chart.js');
  chartjs.Chart.register(...chartjs.registerables);
  return {
    createCanvas: (w, h) => canvas.createCanvas(w, h) as NativeCanvas,
    Chart: chartjs.Chart as unknown as Lib['Chart'],
  };
}

async function library(): Promise<Lib> {
  loaded ??= load();
  try {
    return await loaded;
  } catch (err) {
    loaded = undefined;
    throw err;
  }
}

/** Loads the native canvas package now (a UsageError naming it if it is missing), to fail before long work. */
export async function ensureCanvas(): Promise<void> {
  await library();
}

/** Draws `config` at FIGURE size and pixel ratio (animation off, white background) and returns the PNG bytes. */
export async function renderChartPng(
  config: ChartConfiguration,
  size: { width: number; height: number } = FIGURE,
): Promise<Buffer> {
  const lib = await library();
  const canvas = lib.createCanvas(size.width, size.height);
  const chart = new lib.Chart(canvas, {
    ...config,
    options: {
      ...config.options,
      animation: false,
      responsive: false,
      devicePixelRatio: FIGURE.devicePixelRatio,
    },
  } as ChartConfiguration);
  try {
    return canvas.toBuffer('image/png');
  } finally {
    chart.destroy();
  }
}
