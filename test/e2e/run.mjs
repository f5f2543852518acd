/**
 * End-to-end test: the packaged extension in a real VS Code (code-server), driven by Debian's chromium via
 * playwright-core, fully offline. Run with `npm run test:e2e` (compiles first).
 *
 * Steps: score media/example/reviews.jsonl (a temp copy) from the explorer context menu, check the editor
 * decorations, hover a coloured token, open the ranking view and click rank 1, check the cursor moved there.
 * Screenshots go to .e2e-artifacts/.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startCodeServer, stopProcessGroup } from './codeServer.mjs';
import { ensureChromium, ensureCodeServer, packageExtension } from './setup.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CACHE = path.join(ROOT, '.e2e-cache');
const ARTIFACTS = path.join(ROOT, '.e2e-artifacts');
const EXAMPLE = path.join(ROOT, 'media', 'example', 'reviews.jsonl');
const FILE = 'reviews.jsonl';
const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const t0 = Date.now();
const timings = {};
const results = [];
const sec = (ms) => `${(ms / 1000).toFixed(1)} s`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function timed(name, fn) {
  const s = Date.now();
  try {
    return await fn();
  } finally {
    timings[name] = Date.now() - s;
  }
}

/** A named check: records pass/fail; a failure stops the run (later steps depend on earlier ones). */
async function check(name, fn) {
  const s = Date.now();
  try {
    const detail = await fn();
    results.push({ name, ok: true });
    console.log(`  ✔ ${name} (${sec(Date.now() - s)})${detail ? ` — ${detail}` : ''}`);
    return detail;
  } catch (err) {
    results.push({ name, ok: false });
    console.log(`  ✘ ${name} (${sec(Date.now() - s)})`);
    throw new Error(`${name}: ${err instanceof Error ? err.message : err}`);
  }
}

function independentRank1(file) {
  const out = path.join(path.dirname(file), '..', 'cli-scores.jsonl');
  execFileSync(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'score', file, '--out', out], {
    stdio: ['ignore', 'ignore', 'pipe'], // progress goes to stderr; shown only in the error if it fails
  });
  const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const r1 = rows.find((r) => r.rank === 1);
  if (!r1) throw new Error('CLI output has no rank-1 row');
  return r1.line;
}

async function main() {
  // ---- setup (cached) ----
  const setup = await timed('setup', async () => {
    await timed('apt (chromium, libkrb5-dev)', async () => ensureChromium());
    const cs = await timed('code-server install', async () => ensureCodeServer(CACHE));
    const vsix = await timed('vsce package', async () => packageExtension(ROOT, CACHE));
    return { ...cs, vsix };
  });
  console.log(`[e2e] setup done in ${sec(timings.setup)} (code-server ${setup.installed ? 'installed' : 'cached'})`);

  const tmp = mkdtempSync(path.join(os.tmpdir(), 'memorization-e2e-'));
  const workspace = path.join(tmp, 'workspace');
  mkdirSync(workspace);
  const file = path.join(workspace, FILE);
  copyFileSync(EXAMPLE, file);
  mkdirSync(ARTIFACTS, { recursive: true });
  rmSync(path.join(ARTIFACTS, 'failure.png'), { force: true });

  const cliRank1 = await timed('cli score', async () => independentRank1(file));

  let server;
  let context;
  const consoleErrors = [];
  try {
    server = await timed('code-server start', () =>
      startCodeServer({ node: setup.node, entry: setup.entry, vsix: setup.vsix, tmp, workspace }),
    );
    console.log(`[e2e] code-server at ${server.url} (log ${server.logFile})`);

    context = await chromium.launchPersistentContext(path.join(tmp, 'chromium-profile'), {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1400, height: 900 },
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`);

    const treeItem = page.getByRole('treeitem', { name: FILE }).first();
    await check('workbench opens with the workspace file in the explorer', async () => {
      await treeItem.waitFor({ state: 'visible', timeout: 60_000 });
    });

    await check('explorer context menu offers "Score memorization" and runs it', async () => {
      const item = page.getByRole('menuitem', { name: 'Score memorization', exact: true });
      const deadline = Date.now() + 60_000;
      let tries = 0;
      for (;;) {
        tries++;
        await treeItem.click({ button: 'right' });
        try {
          await item.waitFor({ state: 'visible', timeout: 2500 });
          break;
        } catch {
          await page.keyboard.press('Escape');
          if (Date.now() > deadline) throw new Error(`menu item did not appear after ${tries} tries`);
          await sleep(1000);
        }
      }
      // VS Code menus act on mouse-up of a hovered item; if the click did not register, Enter runs the
      // highlighted item.
      await item.hover();
      await sleep(200);
      await item.click();
      await sleep(1000);
      if (await item.isVisible()) {
        await item.focus();
        await page.keyboard.press('Enter');
        await item.waitFor({ state: 'hidden', timeout: 5000 });
      }
      return `${tries} right-click(s)`;
    });

    const openFile = async () => {
      if (await treeItem.isVisible()) await treeItem.dblclick();
      else {
        await page.keyboard.press('Control+P');
        await page.keyboard.type(FILE);
        await sleep(500);
        await page.keyboard.press('Enter');
      }
      await page.locator('.tab.active', { hasText: FILE }).waitFor({ timeout: 15_000 });
    };

    await check('scoring completes (status bar "N rows scored")', async () => {
      await openFile();
      const status = page.locator('.statusbar-item', { hasText: /Memorization: \d+ rows scored/ });
      await status.first().waitFor({ timeout: 120_000 });
      return (await status.first().innerText()).trim();
    });

    const editor = page.locator('.editor-group-container .monaco-editor').first();
    const overlayDecos = editor.locator('.view-overlays [class*="ced-"]');
    const inlineDecos = editor.locator('.view-line span[class*="ced-"]');
    await check('editor shows memorization decorations', async () => {
      const deadline = Date.now() + 20_000;
      let n = 0;
      for (;;) {
        n = (await overlayDecos.count()) + (await inlineDecos.count());
        if (n > 0 || Date.now() > deadline) break;
        await sleep(250);
      }
      if (n === 0) throw new Error('no ced-* decoration elements in the editor');
      await editor.screenshot({ path: path.join(ARTIFACTS, 'editor.png') });
      return `${n} decorated elements`;
    });

    await check('hovering a coloured token shows its attribution', async () => {
      const edBox = await editor.boundingBox();
      // Token highlights are narrow; whole-line row tiers span the editor width.
      const boxes = [];
      for (const loc of await overlayDecos.all()) {
        const b = await loc.boundingBox();
        if (b && b.width > 4 && b.width < edBox.width * 0.5 && b.y > edBox.y && b.y + b.height < edBox.y + edBox.height)
          boxes.push(b);
      }
      for (const loc of await inlineDecos.all()) {
        const b = await loc.boundingBox();
        if (b && b.width > 4 && b.y > edBox.y && b.y + b.height < edBox.y + edBox.height) boxes.push(b);
      }
      if (!boxes.length) throw new Error('no token-sized decoration found in the viewport');
      boxes.sort((a, b) => a.y - b.y || a.x - b.x);
      const hover = page.locator('.monaco-hover', { hasText: 'attribution' });
      for (const b of boxes.slice(0, 5)) {
        const x = b.x + b.width / 2;
        const y = b.y + b.height / 2;
        await page.mouse.move(x - 2, y);
        await page.mouse.move(x, y, { steps: 3 });
        try {
          await hover.first().waitFor({ state: 'visible', timeout: 5000 });
          const text = (await hover.first().innerText()).replace(/\s+/g, ' ').trim();
          await page.screenshot({ path: path.join(ARTIFACTS, 'hover.png') });
          if (!/attribution -?[\d.e+-]+/.test(text)) throw new Error(`hover lacks a value: ${text}`);
          return text.slice(0, 120);
        } catch (e) {
          if (e instanceof Error && e.message.startsWith('hover lacks')) throw e;
          await page.mouse.move(edBox.x + 5, edBox.y + edBox.height - 5);
          await sleep(300);
        }
      }
      await page.screenshot({ path: path.join(ARTIFACTS, 'hover.png') });
      throw new Error('no .monaco-hover with "attribution" appeared');
    });
    await page.keyboard.press('Escape');
    await page.mouse.move(5, 5);

    const panelFrame = page
      .locator('iframe.webview.ready')
      .first()
      .contentFrame()
      .locator('#active-frame')
      .contentFrame();
    const firstRow = panelFrame.locator('tr.row').first();

    const panelRow = await check('ranking view renders the ranked rows', async () => {
      try {
        await firstRow.waitFor({ state: 'visible', timeout: 5000 });
      } catch {
        await page.keyboard.press('F1');
        await page.keyboard.type('Memorization: Show ranking');
        await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Show ranking' }).first().waitFor();
        await page.keyboard.press('Enter');
        await firstRow.waitFor({ state: 'visible', timeout: 30_000 });
      }
      const rank = Number((await firstRow.locator('td').first().innerText()).trim());
      const line = Number(await firstRow.getAttribute('data-line'));
      const count = await panelFrame.locator('tr.row').count();
      if (rank !== 1) throw new Error(`first row has rank ${rank}, expected 1`);
      if (!(line > 0)) throw new Error(`first row has no data-line`);
      return { rank, line, count, toString: () => `rank 1 at line ${line}, ${count} rows rendered` };
    });

    await check('rank 1 matches an independent CLI run', async () => {
      if (panelRow.line !== cliRank1) throw new Error(`panel says line ${panelRow.line}, CLI says ${cliRank1}`);
      return `line ${cliRank1}`;
    });

    await check('clicking rank 1 moves the editor cursor to its line', async () => {
      await firstRow.click();
      const sel = page.locator('.statusbar-item', { hasText: new RegExp(`Ln ${panelRow.line},`) });
      await sel.first().waitFor({ timeout: 15_000 });
      const text = (await sel.first().innerText()).trim();
      await page.screenshot({ path: path.join(ARTIFACTS, 'panel.png') });
      return text;
    });
  } catch (err) {
    if (context) {
      const page = context.pages()[0];
      if (page) await page.screenshot({ path: path.join(ARTIFACTS, 'failure.png') }).catch(() => {});
    }
    if (consoleErrors.length) console.log(`[e2e] page console errors:\n  ${consoleErrors.slice(-10).join('\n  ')}`);
    if (server) console.log(`[e2e] code-server logs: ${server.logFile}, ${server.userData}/logs`);
    throw err;
  } finally {
    if (context) await Promise.race([context.close().catch(() => {}), sleep(10_000)]);
    if (server) await stopProcessGroup(server.proc);
    if (!process.env.E2E_KEEP_TMP && !results.some((r) => !r.ok)) rmSync(tmp, { recursive: true, force: true });
  }
}

let failed = false;
try {
  await main();
} catch (err) {
  failed = true;
  console.error(`\n[e2e] FAILED: ${err instanceof Error ? err.message : err}`);
}
console.log(
  `[e2e] timings: ${Object.entries(timings)
    .map(([k, v]) => `${k} ${sec(v)}`)
    .join(', ')}, total ${sec(Date.now() - t0)}`,
);
const passed = results.filter((r) => r.ok).length;
const nFailed = results.length - passed + (failed && results.every((r) => r.ok) ? 1 : 0);
console.log(`e2e: ${passed} passed, ${nFailed} failed`);
process.exit(failed ? 1 : 0);
