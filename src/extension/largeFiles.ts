/** Files VS Code will not hand to extensions. Pure (unit-tested without VS Code). */

/** VS Code does not synchronize documents above 50 MB to extensions: no decorations or hovers can exist there. */
export const EDITOR_SYNC_LIMIT_BYTES = 50 * 1024 * 1024;

export function isTooLargeForEditor(bytes: number): boolean {
  return bytes > EDITOR_SYNC_LIMIT_BYTES;
}

/** The message shown after scoring such a file: why the editor stays plain, and where the results are. */
export function largeFileNotice(name: string, bytes: number, rows: number): string {
  const mb = (bytes / (1024 * 1024)).toFixed(0);
  return (
    `${name} is ${mb} MB: VS Code does not give extensions files above 50 MB, so the editor cannot show ` +
    `colors or hovers for it. All ${rows.toLocaleString('en-US')} scored rows are in the ranking panel, ` +
    `and “Export scores” writes them to a file.`
  );
}
