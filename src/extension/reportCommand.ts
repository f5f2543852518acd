/**
 * `memorization.runExperiments`: asks for the removal experiment's test file (or a held-out split), a grouping
 * field for the typicality table and, optionally, a JSON file of known flipped ids for the label-noise check; runs
 * the experiments in the worker with a cancellable progress notification, and shows the Memorization report panel.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseFlippedIds } from '../engine/experiments/flippedIds';
import { type Deps, reportError, requireScorable, saveIfDirty, target } from './commands';
import { jobOptions, readSettings } from './config';
import { ProgressTracker } from './progress';
import { pickOne } from './quickPick';
import { ReportPanel } from './reportPanel';
import { SCORABLE_EXTENSIONS } from './scorable';
import {
  EXPERIMENT_STAGES,
  type ExperimentSettings,
  flippedFileCandidates,
  groupFieldCandidates,
  normalizeExperimentSettings,
  suiteOptions,
  testFileCandidates,
} from './reportModel';

export function readExperimentSettings(): ExperimentSettings {
  const c = vscode.workspace.getConfiguration('memorization.experiments');
  return normalizeExperimentSettings({
    fractions: c.get('fractions'),
    seeds: c.get('seeds'),
    holdout: c.get('holdout'),
    reductionTop: c.get('reductionTop'),
    reductionKs: c.get('reductionKs'),
    stabilityRuns: c.get('stabilityRuns'),
    stabilitySubsample: c.get('stabilitySubsample'),
    retrainings: c.get('retrainings'),
    subset: c.get('subset'),
  });
}

type TestChoice = { test?: string } | undefined;

/** The files of the folder of `uri` (none when it cannot be read: that only means no suggestions). */
async function siblingFiles(uri: vscode.Uri): Promise<string[]> {
  const dir = path.dirname(uri.fsPath);
  try {
    const entries = await vscode.workspace.fs.readDirectory(vscode.Uri.file(dir));
    return entries.filter(([, t]) => t === vscode.FileType.File).map(([n]) => path.join(dir, n));
  } catch {
    return [];
  }
}

/** Quick pick of the test file: held-out split, a file of the same folder (test-like names first), or browse. */
async function pickTestFile(uri: vscode.Uri, holdout: number, siblings: string[]): Promise<TestChoice> {
  const dir = path.dirname(uri.fsPath);
  type Item = vscode.QuickPickItem & { file?: string; browse?: boolean };
  const items: Item[] = [
    ...testFileCandidates(uri.fsPath, siblings)
      .slice(0, 20)
      .map((f) => ({ label: `$(file) ${path.basename(f)}`, description: 'test file', file: f })),
    {
      label: `$(split-horizontal) No test file`,
      description: `hold out a random ${Math.round(100 * holdout)}% of ${path.basename(uri.fsPath)}`,
    },
    { label: '$(folder-opened) Choose a test file…', browse: true },
  ];
  const picked = await pickOne(items, {
    title: `Memorization experiments: test set for the removal experiment (1/3)`,
    placeHolder: 'Test accuracy after removing memorized vs random training rows is measured on this set',
    ignoreFocusOut: true,
  });
  if (!picked) return undefined;
  if (picked.browse) {
    const files = await vscode.window.showOpenDialog({
      defaultUri: vscode.Uri.file(dir),
      canSelectMany: false,
      filters: { Datasets: [...SCORABLE_EXTENSIONS] },
      title: 'Test file for the removal experiment',
    });
    return files?.[0] ? { test: files[0].fsPath } : undefined;
  }
  return { test: picked.file };
}

/** Quick pick of the field that groups rows for the typicality table; '' = none; undefined = dismissed. */
async function pickGroupField(
  names: string[],
  used: (string | undefined)[],
  name: string,
): Promise<string | undefined> {
  const candidates = groupFieldCandidates(names, used);
  if (!candidates.length) return '';
  type Item = vscode.QuickPickItem & { field: string };
  const items: Item[] = [
    ...candidates.map((c) => ({
      label: c.name,
      description: c.groupLike ? 'looks like a group field' : undefined,
      field: c.name,
    })),
    { label: 'No typicality table', field: '' },
  ];
  if (!candidates[0].groupLike) items.unshift(items.pop()!);
  const picked = await pickOne(items, {
    title: `${name}: group rows by which field for the typicality table? (2/3)`,
    placeHolder:
      'Mean memorization percentile per value of a field the model never sees (e.g. a sub-population)',
    ignoreFocusOut: true,
  });
  return picked?.field;
}

type FlippedChoice = { flipped?: { ids: string[]; file: string } } | undefined;

/**
 * Quick pick of a JSON file of known flipped ids for the label-noise check: none (the default: the report then shows
 * the likely-mislabeled summary only), a JSON file of the same folder (flip/noise-like names first), or browse.
 * The file is read and checked here, before the long job.
 */
async function pickFlippedIds(uri: vscode.Uri, siblings: string[], name: string): Promise<FlippedChoice> {
  type Item = vscode.QuickPickItem & { file?: string; browse?: boolean };
  const items: Item[] = [
    {
      label: '$(circle-slash) No flipped ids',
      description: 'show the likely-mislabeled summary (rows ranked by training loss)',
    },
    ...flippedFileCandidates(uri.fsPath, siblings)
      .slice(0, 20)
      .map((f) => ({ label: `$(json) ${path.basename(f)}`, description: 'flipped ids', file: f })),
    { label: '$(folder-opened) Choose a JSON file of flipped ids…', browse: true },
  ];
  const picked = await pickOne(items, {
    title: `${name}: known flipped labels for the label-noise check? (3/3)`,
    placeHolder:
      'Optional: a JSON array of the ids of rows whose label is known to be wrong, to measure how well each ranking finds them',
    ignoreFocusOut: true,
  });
  if (!picked) return undefined;
  let file = picked.file;
  if (picked.browse) {
    const files = await vscode.window.showOpenDialog({
      defaultUri: vscode.Uri.file(path.dirname(uri.fsPath)),
      canSelectMany: false,
      filters: { JSON: ['json'] },
      title: 'JSON array of the ids of rows with flipped labels',
    });
    if (!files?.[0]) return undefined;
    file = files[0].fsPath;
  }
  if (!file) return {};
  const text = Buffer.from(await vscode.workspace.fs.readFile(vscode.Uri.file(file))).toString('utf8');
  return { flipped: { ids: parseFlippedIds(text, file), file } };
}

export function registerReportCommand(context: vscode.ExtensionContext, deps: Deps): ReportPanel {
  const panel = new ReportPanel(context.extensionUri, deps.output);
  context.subscriptions.push(panel);
  context.subscriptions.push(
    vscode.commands.registerCommand('memorization.runExperiments', async (arg: unknown) => {
      const uri = target(arg);
      if (!requireScorable(uri)) return;
      const name = path.basename(uri.fsPath);
      await saveIfDirty(uri);
      const settings = readExperimentSettings();
      let fields;
      let names: string[];
      let inferred;
      try {
        // One inspection serves the field choice and the group-field pick.
        const inspection = await deps.worker.inspect(uri.fsPath);
        fields = await deps.fields.resolve(uri, false, inspection);
        if (!fields) return;
        names = inspection.names;
        inferred = inspection.inferred;
      } catch (err) {
        reportError(deps, 'Memorization experiments', err);
        return;
      }
      const siblings = await siblingFiles(uri);
      const test = await pickTestFile(uri, settings.holdout, siblings);
      if (!test) return;
      const used = [fields.label ?? inferred?.label, ...(fields.text ?? inferred?.text ?? []), inferred?.id];
      const groupField = await pickGroupField(names, used, name);
      if (groupField === undefined) return;
      let flipped: FlippedChoice;
      try {
        flipped = await pickFlippedIds(uri, siblings, name);
      } catch (err) {
        reportError(deps, 'Memorization experiments', err);
        return;
      }
      if (!flipped) return;
      let pipeline;
      try {
        // The same fields, featurizer, head and solver as scoring.
        pipeline = jobOptions(readSettings(), fields);
      } catch (err) {
        reportError(deps, 'Memorization experiments', err);
        return;
      }
      const options = suiteOptions(settings, pipeline, {
        test: test.test,
        groupField: groupField || undefined,
        flipped: flipped.flipped,
      });
      await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: `Memorization experiments on ${name}`,
          cancellable: true,
        },
        async (progress, token) => {
          const tracker = new ProgressTracker(EXPERIMENT_STAGES);
          deps.status.setJob(`experiments ${name}…`);
          const t0 = Date.now();
          try {
            const res = await deps.worker.experiments(uri.fsPath, options, token, (p) => {
              const step = tracker.next(p);
              progress.report({ message: step.message, increment: step.increment });
              deps.status.setJob(`${p.stage} ${step.percent}%`);
            });
            deps.output.appendLine(
              `[experiments] ${name}: ${res.report.rows} rows in ${((Date.now() - t0) / 1000).toFixed(1)} s (${Object.entries(
                res.report.seconds,
              )
                .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
                .join(', ')})`,
            );
            panel.show(uri, res.report);
            // The ranking panel gets an "estimate (retraining)" per row when these results are the file's scores.
            if (res.report.memorization && deps.store.get(uri) && !deps.store.get(uri)!.stale)
              deps.store.setEstimates(uri, res.report.memorization.rows);
          } catch (err) {
            reportError(deps, 'Memorization experiments', err);
          } finally {
            deps.status.setJob(undefined);
          }
        },
      );
    }),
  );
  return panel;
}
