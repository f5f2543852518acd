/**
 * A single-choice quick pick that answers only once the widget is hidden, so the caller's next pick never opens
 * while this one is still closing (a pick shown during the previous one's close could be closed with it; seen in
 * code-server when an item is accepted with the mouse). Waits on the widget's own hide event, not on time.
 */
import * as vscode from 'vscode';

export function pickOne<T extends vscode.QuickPickItem>(
  items: readonly T[],
  options: { title: string; placeHolder?: string; ignoreFocusOut?: boolean },
): Promise<T | undefined> {
  return new Promise((resolve) => {
    const qp = vscode.window.createQuickPick<T>();
    qp.items = items;
    qp.title = options.title;
    qp.placeholder = options.placeHolder;
    qp.ignoreFocusOut = options.ignoreFocusOut ?? false;
    let chosen: T | undefined;
    qp.onDidAccept(() => {
      chosen = qp.selectedItems[0] ?? qp.activeItems[0];
      qp.hide();
    });
    qp.onDidHide(() => {
      qp.dispose();
      resolve(chosen);
    });
    qp.show();
  });
}
