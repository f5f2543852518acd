/** Paths in settings (pure, no vscode import): `~` is the home folder, a relative path is taken from the workspace. */
import { isAbsolute, join, resolve } from 'node:path';

export function settingPath(p: string, workspaceFolder: string | undefined, home: string): string {
  let dir = p;
  if (dir === '~' || dir.startsWith('~/')) dir = join(home, dir.slice(1));
  return isAbsolute(dir) ? dir : resolve(workspaceFolder ?? home, dir);
}
