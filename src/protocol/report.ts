/** Messages between the memorization report webview and the extension host. Pure types, shared by both bundles. */
import type { ReportData } from '../report/types';

/** The figures the report draws, each savable as a PNG. */
export const REPORT_CHARTS = [
  'memorization',
  'removal',
  'reduction',
  'stability',
  'typicality',
  'noise',
  'reasons',
  'groups',
] as const;
export type ReportChart = (typeof REPORT_CHARTS)[number];

/** What "Save PNG" can save: one figure, or the whole report drawn as one image ('report'). */
export const REPORT_PNGS = [...REPORT_CHARTS, 'report'] as const;
export type ReportPng = (typeof REPORT_PNGS)[number];

export type ToReport =
  { type: 'report'; fileName: string; report: ReportData } | { type: 'empty'; message: string };

export type FromReport =
  | { type: 'ready' }
  /** A canvas as `data:image/png;base64,...` (HTMLCanvasElement.toDataURL) for the host to save. */
  | { type: 'savePng'; chart: ReportPng; dataUrl: string }
  | { type: 'saveJson' };
