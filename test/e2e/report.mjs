/**
 * End-to-end check of "Run memorization experiments" in a real VS Code (code-server) driven by chromium, offline:
 * run `node test/e2e/report.mjs` after `npm run compile` (and once `npm run test:e2e`, which installs code-server
 * into .e2e-cache/). Needs ../shared/data (the spam train/test files); skips without it.
 *
 * Steps: right-click spam.train.jsonl in the explorer, "Run memorization experiments"; pick spam.test.jsonl as the
 * test file and 'group' for typicality; check the progress notification, then the report panel (three charts drawn,
 * the typicality table with hard_ham first); "Save PNG" on the removal chart through the save dialog; run again
 * and press Cancel on the notification, which must answer "cancelled". Screenshot: .e2e-artifacts/report.png.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startCodeServer, stopProcessGroup } from './codeServer.mjs';
import { ensureCodeServer, packageExtension } from './setup.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CACHE = path.join(ROOT, '.e2e-cache');
const ARTIFACTS = path.join(ROOT, '.e2e-artifacts');
const DATA = path.resolve(ROOT, '..', 'shared', 'data');
const TRAIN = 'spam.train.jsonl';
const TEST = 'spam.test.jsonl';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (!existsSync(path.join(DATA, TRAIN))) {
  console.log(`[e2e report] skipped: ${DATA} is absent`);
  process.exit(0);
}

const results = [];
async function check(name, fn) {
  const s = Date.now();
  try {
    const detail = await fn();
    results.push(true);
    console.log(`  ✔ ${name} (${((Date.now() - s) / 1000).toFixed(1)} s)${detail ? ` — ${detail}` : ''}`);
  } catch (err) {
    results.push(false);
    console.log(`  ✘ ${name} (${((Date.now() - s) / 1000).toFixed(1)} s)`);
    throw new Error(`${name}: ${err instanceof Error ? err.message : err}`);
  }
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'memorization-e2e-report-'));
const workspace = path.join(tmp, 'workspace');
mkdirSync(workspace);
for (const f of [TRAIN, TEST]) copyFileSync(path.join(DATA, f), path.join(workspace, f));
mkdirSync(ARTIFACTS, { recursive: true });

const cs = ensureCodeServer(CACHE);
// A private .vsix: another e2e run may be packaging .e2e-cache/ext.vsix at the same time.
const vsix = packageExtension(ROOT, tmp);
let server;
let context;
let failed = false;
try {
  server = await startCodeServer({ node: cs.node, entry: cs.entry, vsix, tmp, workspace });
  context = await chromium.launchPersistentContext(path.join(tmp, 'chromium-profile'), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking'],
    viewport: { width: 1500, height: 1000 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const dialogs = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`);
  const treeItem = page.getByRole('treeitem', { name: TRAIN }).first();
  await treeItem.waitFor({ state: 'visible', timeout: 60_000 });

  const runFromMenu = async () => {
    const item = page.getByRole('menuitem', { name: 'Run memorization experiments', exact: true });
    const deadline = Date.now() + 60_000;
    for (;;) {
      await treeItem.click({ button: 'right' });
      try {
        await item.waitFor({ state: 'visible', timeout: 2500 });
        break;
      } catch {
        await page.keyboard.press('Escape');
        if (Date.now() > deadline) throw new Error('menu item did not appear');
        await sleep(1000);
      }
    }
    await item.hover();
    await sleep(200);
    await item.click();
    await sleep(800);
    if (await item.isVisible()) {
      await item.focus();
      await page.keyboard.press('Enter');
    }
  };
  const quickInput = page.locator('.quick-input-widget');
  /** Waits for a quick pick whose title matches, checks its first row, accepts it. */
  const accept = async (title, firstRow) => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const t = (await quickInput.locator('.quick-input-title').innerText().catch(() => '')).trim();
      if (title.test(t)) break;
      // The field pick asks first only when inference is a guess: accept what it proposes.
      if (/which field/.test(t)) await page.keyboard.press('Enter');
      if (Date.now() > deadline) throw new Error(`no quick pick titled ${title} (last: ${t})`);
      await sleep(250);
    }
    const row = quickInput.locator('.monaco-list-row').first();
    await row.waitFor({ timeout: 10_000 });
    const text = (await row.innerText()).replace(/\s+/g, ' ').trim();
    if (!firstRow.test(text)) throw new Error(`first item is "${text}"`);
    await page.keyboard.press('Enter');
    return text;
  };

  await check('context menu → test file pick offers spam.test.jsonl first', async () => {
    await runFromMenu();
    return accept(/test set for the removal/, /spam\.test\.jsonl/);
  });
  await check('group pick offers the group field first', async () => accept(/typicality/, /^group/));

  const toast = page.locator('.notifications-toasts', { hasText: 'Memorization experiments on' });
  await check('a progress notification with Cancel appears', async () => {
    await toast.first().waitFor({ timeout: 15_000 });
    return (await toast.first().innerText()).replace(/\s+/g, ' ').slice(0, 100);
  });

  let frame;
  await check('the report panel opens with three charts and the typicality table', async () => {
    const tab = page.locator('.tab', { hasText: `Memorization report: ${TRAIN}` });
    await tab.first().waitFor({ timeout: 180_000 });
    const deadline = Date.now() + 30_000;
    while (!frame && Date.now() < deadline) {
      for (const f of page.frames()) {
        if ((await f.locator('h1', { hasText: 'Memorization report' }).count().catch(() => 0)) > 0) frame = f;
      }
      if (!frame) await sleep(300);
    }
    if (!frame) throw new Error('no webview frame with the report heading');
    const canvases = await frame.locator('canvas').count();
    if (canvases !== 3) throw new Error(`${canvases} canvases, expected 3`);
    const size = await frame.locator('canvas').first().evaluate((c) => `${c.width}x${c.height}`);
    if (size !== '1600x1000') throw new Error(`canvas backing store ${size}`);
    const blank = await frame
      .locator('canvas')
      .first()
      .evaluate((c) => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let colored = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i] > 150 && d[i + 1] < 80 && d[i + 2] < 80) colored++;
        return colored;
      });
    if (blank < 500) throw new Error(`removal chart has ${blank} red pixels`);
    const note = (await frame.locator('.note').innerText()).trim();
    if (!/test file spam\.test\.jsonl/.test(note)) throw new Error(`note: ${note}`);
    const firstGroup = (await frame.locator('section').last().locator('tbody tr td').first().innerText()).trim();
    if (firstGroup !== 'hard_ham') throw new Error(`typicality first row ${firstGroup}`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'report.png') });
    return `note "${note.slice(0, 60)}…", ${blank} red pixels`;
  });

  await check('Save PNG writes the removal chart through the save dialog', async () => {
    await frame.getByRole('button', { name: 'Save PNG' }).first().click();
    await quickInput.locator('input').first().waitFor({ timeout: 15_000 });
    const value = await quickInput.locator('input').first().inputValue();
    await page.keyboard.press('Enter');
    const out = path.join(workspace, 'spam.train.removal.png');
    const deadline = Date.now() + 15_000;
    while (!existsSync(out) && Date.now() < deadline) await sleep(250);
    if (!existsSync(out)) throw new Error(`no ${out} (dialog said ${value})`);
    const png = readFileSync(out);
    const w = png.readUInt32BE(16);
    const h = png.readUInt32BE(20);
    if (png.toString('latin1', 1, 4) !== 'PNG' || w !== 1600 || h !== 1000)
      throw new Error(`bad PNG ${w}x${h}`);
    return `${png.length} bytes, ${w}x${h}`;
  });

  await check('Cancel on the notification stops the job ("cancelled")', async () => {
    await runFromMenu();
    await accept(/test set for the removal/, /spam\.test\.jsonl/);
    await accept(/typicality/, /^group/);
    await toast.first().waitFor({ timeout: 15_000 });
    await sleep(1500);
    await toast.first().getByRole('button', { name: 'Cancel' }).click();
    const msg = page.locator('.notifications-toasts', { hasText: 'Memorization experiments cancelled' });
    await msg.first().waitFor({ timeout: 15_000 });
    return 'cancelled message shown';
  });
  if (dialogs.length) throw new Error(`dialogs fired: ${dialogs.join('; ')}`);
} catch (err) {
  failed = true;
  console.error(`[e2e report] FAILED: ${err instanceof Error ? err.message : err}`);
  const page = context?.pages()[0];
  if (page) await page.screenshot({ path: path.join(ARTIFACTS, 'report-failure.png') }).catch(() => {});
  if (server) console.error(`[e2e report] code-server log: ${server.logFile}`);
} finally {
  if (context) await Promise.race([context.close().catch(() => {}), sleep(10_000)]);
  if (server) await stopProcessGroup(server.proc);
  if (!failed && !process.env.E2E_KEEP_TMP) rmSync(tmp, { recursive: true, force: true });
}
console.log(`e2e report: ${results.filter(Boolean).length} passed, ${results.filter((r) => !r).length} failed`);
process.exit(failed ? 1 : 0);
