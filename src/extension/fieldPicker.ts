/**
 * Which text and label fields to score. Inference is silent when it is clear-cut; when it is a guess (no field
 * named label, or a second free-text field nearly as long as the chosen one) we ask once with quick picks and
 * remember the answer per file in the workspace state.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { FieldInspection } from '../protocol/messages';
import { pickOne } from './quickPick';
import { type FieldChoice, validChoice } from './fieldChoice';
import type { WorkerClient } from './workerClient';

const KEY = 'memorization.fields';

type Saved = Record<string, FieldChoice>;

export class FieldPicker {
  constructor(
    private readonly state: vscode.Memento,
    private readonly worker: WorkerClient,
  ) {}

  saved(uri: vscode.Uri): FieldChoice | undefined {
    return this.state.get<Saved>(KEY, {})[uri.toString()];
  }

  private async save(uri: vscode.Uri, choice: FieldChoice): Promise<void> {
    await this.state.update(KEY, { ...this.state.get<Saved>(KEY, {}), [uri.toString()]: choice });
  }

  /**
   * The fields for a scoring job: {} to let the engine infer them, a remembered or freshly picked choice, or
   * undefined when the user dismissed the pick (the job is not started). `inspection`: the worker's answer for this
   * file when the caller already has it.
   */
  async resolve(
    uri: vscode.Uri,
    force = false,
    inspection?: FieldInspection,
  ): Promise<FieldChoice | undefined> {
    inspection ??= await this.worker.inspect(uri.fsPath);
    const saved = this.saved(uri);
    if (!force && saved && validChoice(saved, inspection.names)) return saved;
    if (!force && inspection.inferred && inspection.ambiguities.length === 0) return {};
    const picked = await pickFields(uri, inspection);
    if (picked) await this.save(uri, picked);
    return picked;
  }
}

async function pickFields(uri: vscode.Uri, info: FieldInspection): Promise<FieldChoice | undefined> {
  const name = path.basename(uri.fsPath);
  const why = info.ambiguities.join(' · ');
  const label = await pickOne(
    orderFirst(info.names, info.inferred?.label).map((f) => ({
      label: f,
      description: f === info.inferred?.label ? 'inferred' : undefined,
    })),
    {
      title: `${name}: which field is the label? (1/2)`,
      placeHolder: why || 'The class each row is labeled with',
      ignoreFocusOut: true,
    },
  );
  if (!label) return undefined;
  const inferredText = info.inferred?.tabular ? [] : (info.inferred?.text ?? []);
  const text = await vscode.window.showQuickPick(
    info.names
      .filter((f) => f !== label.label)
      .map((f) => ({
        label: f,
        picked: inferredText.includes(f),
        description: inferredText.includes(f) ? 'inferred' : undefined,
      })),
    {
      title: `${name}: which fields hold the text to score? (2/2)`,
      placeHolder: 'Several fields are joined in this order; the answer is remembered for this file',
      canPickMany: true,
      ignoreFocusOut: true,
    },
  );
  if (!text || text.length === 0) return undefined;
  return { label: label.label, text: text.map((t) => t.label) };
}

function orderFirst(names: string[], first: string | undefined): string[] {
  return first && names.includes(first) ? [first, ...names.filter((n) => n !== first)] : names;
}
