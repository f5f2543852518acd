/**
 * What the end-to-end scripts (run.mjs, report.mjs, onnx.mjs, large.mjs) share: the paths, the set-up (chromium,
 * code-server, a private .vsix), the temp workspace and its settings, code-server and the browser, the named checks
 * with their timings and the final count and exit code, the cleanup, and the workbench moves every script makes
 * (the retried explorer context menu, the command palette, Quick Open, status bar and notification waits, the
 * ranking view's frame, the cursor position in the status bar).
 *
 * A script does:
 *   const h = new Harness({ tag: 'onnx', tmpPrefix: 'memorization-e2e-onnx-', failureShot: 'onnx-failure.png' });
 *   await h.run(async () => { const setup = await h.setup(); ...; const page = await h.launch(setup); ...checks });
 * `run` never returns: it prints the timings and "e2e onnx: N passed, M failed" and exits 0 or 1.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startCodeServer, stopProcessGroup } from './codeServer.mjs';
import { ensureChromium, ensureCodeServer, packageExtension } from './setup.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CACHE = path.join(ROOT, '.e2e-cache');
export const ARTIFACTS = path.join(ROOT, '.e2e-artifacts');
/** The shared evaluation data (spam train/test files); scripts that need it skip without it. */
export const DATA = path.resolve(ROOT, '..', 'shared', 'data');
export const CLI = path.join(ROOT, 'dist', 'cli.js');

export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const sec = (ms) => `${(ms / 1000).toFixed(1)} s`;
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits on state, never on time: polls `fn` until it returns a truthy value, and returns that value. `timeout` is
 * only how long to wait before giving up (a failure, with `what` in the message); no step relies on a fixed delay,
 * so a busy machine makes the suite slower, not red. `fn` may throw while the state is not reached (a detached
 * element): that counts as not yet.
 */
export async function until(fn, { timeout = 30_000, what = 'the expected state' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      if (err instanceof StopWaiting) throw new Error(err.message);
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `${what}: not reached within ${sec(timeout)}${last ? ` (last error: ${last.message})` : ''}`,
      );
    await sleep(100);
  }
}

/** Thrown by an `until` condition: the state will never come (an error notification); stop waiting at once. */
export class StopWaiting extends Error {}

/** Two animation frames in a page or frame: what was changed before is laid out and painted (for screenshots). */
export async function painted(target) {
  await target.evaluate(
    () =>
      new Promise((r) => globalThis.requestAnimationFrame(() => globalThis.requestAnimationFrame(() => r()))),
  );
}

/** Exits 0 with a message when `file` is absent (the shared data is optional). */
export function skipUnlessExists(file, tag) {
  if (existsSync(file)) return;
  console.log(`[e2e ${tag}] skipped: ${path.dirname(file)} is absent`);
  process.exit(0);
}

/** Runs the CLI (`node dist/cli.js ARGS`); its progress (stderr) shows only in the error if it fails. Returns ms. */
export function runCli(args) {
  const s = Date.now();
  execFileSync(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  return Date.now() - s;
}

export function readJsonl(file) {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

/** Resident memory of a process group's members (from /proc, Linux): current and peak (VmHWM), in MB. */
export function processMemory(pgid) {
  const out = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Field 5 (pgrp) comes after "pid (comm) state ppid"; comm may hold spaces, so split after the last ')'.
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      if (pgrp !== pgid) continue;
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
      out.push({ pid: Number(pid), cmd, rssMB: kb('VmRSS') / 1024, peakMB: kb('VmHWM') / 1024 });
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

export class Harness {
  /**
   * @param {object} o
   * @param {string} [o.tag] '' for run.mjs, else 'onnx', 'report', 'large': names the log prefix "[e2e TAG]" and the
   *   final line "e2e TAG: N passed, M failed".
   * @param {string} o.tmpPrefix prefix of the temp folder (workspace, code-server's dirs, the .vsix, the profile).
   * @param {string} o.failureShot screenshot file in .e2e-artifacts/ taken when the run fails.
   */
  constructor({ tag = '', tmpPrefix, failureShot }) {
    this.name = tag ? `e2e ${tag}` : 'e2e';
    this.prefix = `[${this.name}]`;
    this.tmpPrefix = tmpPrefix;
    this.failureShot = path.join(ARTIFACTS, failureShot);
    this.t0 = Date.now();
    this.timings = {};
    this.results = [];
    /** alert/confirm/prompt seen in any frame (recorded and dismissed). */
    this.dialogs = [];
    this.consoleErrors = [];
    this.server = undefined;
    this.context = undefined;
    this.page = undefined;
  }

  log(msg) {
    console.log(`${this.prefix} ${msg}`);
  }

  async timed(name, fn) {
    const s = Date.now();
    try {
      return await fn();
    } finally {
      this.timings[name] = Date.now() - s;
    }
  }

  /** A named check: records pass/fail; a failure stops the run (later steps depend on earlier ones). */
  async check(name, fn) {
    const s = Date.now();
    try {
      const detail = await fn();
      this.results.push({ name, ok: true });
      console.log(`  ✔ ${name} (${sec(Date.now() - s)})${detail ? ` — ${detail}` : ''}`);
      return detail;
    } catch (err) {
      this.results.push({ name, ok: false });
      console.log(`  ✘ ${name} (${sec(Date.now() - s)})`);
      throw new Error(`${name}: ${err instanceof Error ? err.message : err}`);
    }
  }

  /** User settings of the code-server instance (tmp/user-data/User/settings.json); call before launch. */
  userSettings(settings) {
    const dir = path.join(this.tmp, 'user-data', 'User');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'settings.json'), JSON.stringify(settings));
  }

  /** Workspace settings (workspace/.vscode/settings.json). */
  workspaceSettings(settings) {
    const dir = path.join(this.workspace, '.vscode');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'settings.json'), JSON.stringify(settings, null, 2));
  }

  /**
   * Cached set-up: Debian chromium (+ libkrb5-dev), code-server with its Node 24, and a private .vsix in the temp
   * folder (another e2e run may be packaging at the same time). Returns { node, entry, installed, vsix }.
   */
  async setup() {
    const setup = await this.timed('setup', async () => {
      await this.timed('apt (chromium, libkrb5-dev)', async () => ensureChromium());
      const cs = await this.timed('code-server install', async () => ensureCodeServer(CACHE));
      const vsix = await this.timed('package (platform vsix)', async () => packageExtension(ROOT, this.tmp));
      return { ...cs, vsix };
    });
    this.log(
      `setup done in ${sec(this.timings.setup)} (code-server ${setup.installed ? 'installed' : 'cached'})`,
    );
    return setup;
  }

  /** Starts code-server on the workspace, opens it in chromium; returns the page. */
  async launch(setup, { viewport = { width: 1400, height: 900 } } = {}) {
    const { node, entry, vsix } = setup;
    this.server = await this.timed('code-server start', () =>
      startCodeServer({ node, entry, vsix, tmp: this.tmp, workspace: this.workspace }),
    );
    this.log(`code-server at ${this.server.url} (log ${this.server.logFile})`);
    this.context = await chromium.launchPersistentContext(path.join(this.tmp, 'chromium-profile'), {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport,
    });
    const page = this.context.pages()[0] ?? (await this.context.newPage());
    this.page = page;
    page.on('console', (m) => {
      if (m.type() === 'error') this.consoleErrors.push(m.text());
    });
    // Any alert/confirm/prompt from any frame (webviews are cross-origin iframes) is recorded and dismissed.
    const onDialog = (d) => {
      this.dialogs.push(`${d.type()}: ${d.message()}`);
      d.dismiss().catch(() => {});
    };
    page.on('dialog', onDialog);
    page.on('popup', (p) => p.on('dialog', onDialog));
    if (typeof this.context.on === 'function')
      this.context.on('dialog', (d) => (d.page() === page ? undefined : onDialog(d)));
    await page.goto(`${this.server.url}/?folder=${encodeURIComponent(this.workspace)}`);
    return page;
  }

  /**
   * Runs `main` in a fresh temp folder with an empty `workspace/` in it, then cleans up (browser, code-server, the
   * temp folder unless the run failed or E2E_KEEP_TMP is set), prints the timings and the count, and exits.
   */
  async run(main) {
    let failed = false;
    this.tmp = mkdtempSync(path.join(os.tmpdir(), this.tmpPrefix));
    this.workspace = path.join(this.tmp, 'workspace');
    mkdirSync(this.workspace);
    mkdirSync(ARTIFACTS, { recursive: true });
    rmSync(this.failureShot, { force: true });
    try {
      await main();
    } catch (err) {
      failed = true;
      if (this.page) await this.page.screenshot({ path: this.failureShot }).catch(() => {});
      if (this.consoleErrors.length)
        this.log(`page console errors:\n  ${this.consoleErrors.slice(-10).join('\n  ')}`);
      if (this.server) this.log(`code-server logs: ${this.server.logFile}, ${this.server.userData}/logs`);
      console.error(`\n${this.prefix} FAILED: ${err instanceof Error ? err.message : err}`);
    } finally {
      if (this.context) await Promise.race([this.context.close().catch(() => {}), sleep(10_000)]);
      if (this.server) await stopProcessGroup(this.server.proc);
      if (!failed && !process.env.E2E_KEEP_TMP) rmSync(this.tmp, { recursive: true, force: true });
      else this.log(`temp folder kept: ${this.tmp}`);
    }
    this.log(
      `timings: ${Object.entries(this.timings)
        .map(([k, v]) => `${k} ${sec(v)}`)
        .join(', ')}, total ${sec(Date.now() - this.t0)}`,
    );
    const passed = this.results.filter((r) => r.ok).length;
    // A failure outside any check (set-up, a final assertion) counts as one failed.
    const nFailed = this.results.length - passed + (failed && this.results.every((r) => r.ok) ? 1 : 0);
    console.log(`${this.name}: ${passed} passed, ${nFailed} failed`);
    process.exit(failed ? 1 : 0);
  }
}

// ---- workbench moves ----

export const treeItem = (page, name) => page.getByRole('treeitem', { name, exact: true }).first();

/**
 * Right-clicks `target` (an explorer tree item) until the context menu offers `name` (an extension's menu items
 * appear only once the extension host has scanned the extensions: retry, Escape between tries), then runs it.
 * Returns { tries, clickedAt } (clickedAt: Date.now() at the click, to time the command).
 */
export async function runContextMenu(page, target, name, { timeout = 60_000 } = {}) {
  const item = page.getByRole('menuitem', { name, exact: true });
  const menu = page.getByRole('menu').first();
  const wanted = await target.getAttribute('aria-label', { timeout: 30_000 });
  const deadline = Date.now() + timeout;
  let tries = 0;
  for (;;) {
    tries++;
    await target.click({ button: 'right' });
    try {
      // The menu opens at once; whether it holds the extension's item depends on the extension host's scan.
      await menu.waitFor({ state: 'visible', timeout: 10_000 });
      // The menu is for the row the right-click focused: the target, unless the tree moved under the pointer
      // (rows appearing, the explorer coming back): then it is another file's menu, and we try again.
      const focused = await target.evaluate(
        (e) =>
          e.closest('[role="tree"]')?.querySelector('[role="treeitem"].focused')?.getAttribute('aria-label'),
        undefined,
        { timeout: 10_000 },
      );
      if (focused !== wanted) throw new Error(`the right-click landed on ${focused}, not ${wanted}`);
      await item.waitFor({ state: 'visible', timeout: 2500 });
      break;
    } catch (err) {
      await page.keyboard.press('Escape');
      await menu.waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => {});
      if (Date.now() > deadline)
        throw new Error(
          `menu item "${name}" did not appear after ${tries} tries (last: ${err.message.split('\n')[0]})`,
        );
      // A pause between tries: the extension host registers its menus meanwhile (no state to wait on).
      await sleep(1000);
    }
  }
  // VS Code menus act on mouse-up of the focused item: hover until the item has the focus, then click.
  await item.hover();
  await until(() => item.evaluate((e) => e.matches(':focus') || !!e.closest('.focused')), {
    timeout: 10_000,
    what: `menu item "${name}" focused by the hover`,
  }).catch(() => item.focus());
  const clickedAt = Date.now();
  await item.click();
  // The menu closes when the command runs. If the click did not register, Enter runs the focused item.
  const closed = await menu.waitFor({ state: 'hidden', timeout: 15_000 }).then(
    () => true,
    () => false,
  );
  if (!closed && (await item.isVisible())) {
    await item.focus();
    await page.keyboard.press('Enter');
    await menu.waitFor({ state: 'hidden', timeout: 15_000 });
  }
  return { tries, clickedAt };
}

/**
 * The open quick input, read in one go (title, the visible rows' labels, which row has the focus, the input's
 * value), so that a title is never paired with another pick's rows or visibility. Undefined when none is open (a
 * closed pick keeps its last title in the hidden widget).
 */
export async function openQuickInput(page) {
  return page.evaluate(() => {
    const shown = (e) =>
      !!e && e.getClientRects().length > 0 && globalThis.getComputedStyle(e).visibility !== 'hidden';
    const w = [...globalThis.document.querySelectorAll('.quick-input-widget')].find(shown);
    if (!w) return undefined;
    const rows = [...w.querySelectorAll('.monaco-list-row')].filter(shown);
    const label = (r) => (r.querySelector('.label-name') ?? r).textContent.replace(/\s+/g, ' ').trim();
    return {
      title: (w.querySelector('.quick-input-title')?.textContent ?? '').trim(),
      value: w.querySelector('input')?.value ?? '',
      rows: rows.map(label),
      texts: rows.map((r) => r.textContent.replace(/\s+/g, ' ').trim()),
      focused: rows.findIndex((r) => r.classList.contains('focused')),
    };
  });
}

/**
 * Runs a command from the command palette (F1), by its title as shown. The title is filled in, not typed: keys
 * typed while a webview has the focus would go to the webview. Returns once the palette has closed (or turned into
 * the next quick input the command opened).
 */
export async function palette(page, title) {
  const quickInput = page.locator('.quick-input-widget');
  const input = quickInput.locator('input').first();
  const query = `>${title}`;
  // The palette can close before it takes the query: a webview that finishes loading takes the focus, and the
  // palette closes on blur (seen once in a busy run: "element is inert", then "not visible"). Open it again then.
  let tries = 0;
  await until(
    async () => {
      if (tries++ === 0 || !(await input.isVisible())) await page.keyboard.press('F1');
      try {
        await input.fill(query, { timeout: 5_000 });
        return (await input.inputValue()) === query;
      } catch {
        return false;
      }
    },
    { timeout: 60_000, what: `the command palette open with "${query}"` },
  );
  // Enter runs the focused row: wait until that is the command (the list filters as the query arrives).
  await until(
    async () => {
      const q = await openQuickInput(page);
      return q && q.value === query && q.focused >= 0 && q.texts[q.focused].includes(title);
    },
    { what: `the command palette offering "${title}"` },
  );
  await input.press('Enter');
  await until(async () => (await openQuickInput(page))?.value !== query, {
    what: `the command palette closing after "${title}"`,
  });
}

/** Opens a workspace file with Quick Open (Ctrl+P) and waits for its tab to be active. */
export async function quickOpen(page, name) {
  await page.keyboard.press('Control+P');
  await page.keyboard.type(name);
  // Enter opens the focused row: wait until the results have arrived and that row is the file.
  await until(
    async () => {
      const q = await openQuickInput(page);
      return q && q.value === name && q.focused >= 0 && q.rows[q.focused] === name;
    },
    { what: `Quick Open offering ${name}` },
  );
  await page.keyboard.press('Enter');
  await page.locator('.tab.active', { hasText: name }).waitFor({ timeout: 30_000 });
}

/**
 * When the fields are a guess the extension asks once ("which field…" quick pick): accepts what it proposes (the CLI's
 * inference). Does not wait: safe to call on every poll.
 */
export async function acceptFieldPick(page) {
  const title = page.locator('.quick-input-widget .quick-input-title').first();
  if (!(await title.isVisible())) return;
  const t = (await title.innerText({ timeout: 1000 }).catch(() => '')).trim();
  if (/which field/i.test(t)) await page.keyboard.press('Enter');
}

/** Error notifications (the extension's showErrorMessage toasts). */
export const errorToast = (page) =>
  page.locator('.notifications-toasts .notification-toast', { hasText: 'Error' }).first();

/**
 * Waits until a status bar item matches `text` (a RegExp); an error notification fails at once. `onTick` runs each
 * poll (e.g. to accept a quick pick). Returns the item's text, whitespace collapsed.
 */
export async function waitStatus(page, text, timeout, { onTick } = {}) {
  const status = page.locator('.statusbar-item', { hasText: text }).first();
  const err = errorToast(page);
  await until(
    async () => {
      if (await status.isVisible()) return true;
      if (await err.isVisible()) throw new StopWaiting((await err.innerText()).replace(/\s+/g, ' '));
      if (onTick) await onTick();
      return false;
    },
    { timeout, what: `${text} in the status bar` },
  );
  return (await status.innerText()).replace(/\s+/g, ' ').trim();
}

/** The ranking view's content frame (the first ready webview of the workbench: the side bar's view). */
export const rankingFrame = (page) =>
  page.locator('iframe.webview.ready').first().contentFrame().locator('#active-frame').contentFrame();

/** Waits for the status bar's cursor position "Ln N," and returns the item's text. */
export async function cursorAt(page, line, timeout = 15_000) {
  const sel = page.locator('.statusbar-item', { hasText: new RegExp(`Ln ${line},`) }).first();
  await sel.waitFor({ timeout });
  return (await sel.innerText()).trim();
}
