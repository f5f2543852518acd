/**
 * End-to-end check of "Run memorization experiments" in a real VS Code (code-server) driven by chromium, offline:
 * run `node test/e2e/report.mjs` after `npm run compile` (and once `npm run test:e2e`, which installs code-server
 * into .e2e-cache/). Needs ../shared/data (the spam train/test files); skips without it.
 *
 * Steps: right-click spam.train.jsonl in the explorer, "Run memorization experiments"; pick spam.test.jsonl as the
 * test file, 'group' for typicality and no flipped ids; check the progress notification, then the report panel
 * (four charts drawn: removal, reduction, stability, typicality with hard_ham first; the "Label noise" section with
 * the likely-mislabeled counts and why loss ranks them, no noise curve); "Save PNG" on the removal chart through the
 * save dialog. Then the same on spam-noisy10.train.jsonl with spam-noisy10.flipped.json as the flipped ids: five
 * charts, the found-vs-checked curve, and "Save report as PNG" (one image of the whole report). Last, run again and
 * press Cancel on the notification, which must answer "cancelled".
 * Artifacts in .e2e-artifacts/: report.png (the report, editor group maximized), report-noise.png (the Label noise
 * section with the curve), report-full.png (the saved whole-report image).
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
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
const NOISY = 'spam-noisy10.train.jsonl';
const FLIPPED = 'spam-noisy10.flipped.json';
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
for (const f of [TRAIN, TEST, NOISY, FLIPPED]) copyFileSync(path.join(DATA, f), path.join(workspace, f));
mkdirSync(ARTIFACTS, { recursive: true });
// A plain workbench for the screenshots: no welcome page, no chat side bar.
mkdirSync(path.join(tmp, 'user-data', 'User'), { recursive: true });
writeFileSync(
  path.join(tmp, 'user-data', 'User', 'settings.json'),
  JSON.stringify({
    'workbench.startupEditor': 'none',
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'chat.disableAIFeatures': true,
    'workbench.tips.enabled': false,
  }),
);

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
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
    ],
    viewport: { width: 1500, height: 1000 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const dialogs = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`);
  const treeItemOf = (name) => page.getByRole('treeitem', { name, exact: true }).first();
  await treeItemOf(TRAIN).waitFor({ state: 'visible', timeout: 60_000 });

  const quickInput = page.locator('.quick-input-widget');
  /** Runs a command from the command palette (F1), by its title as typed. */
  const palette = async (title) => {
    await page.keyboard.press('F1');
    const input = quickInput.locator('input').first();
    await input.waitFor({ timeout: 10_000 });
    // fill, not typing: keys typed while a webview has the focus would go to the webview.
    await input.fill(`>${title}`);
    await quickInput.locator('.monaco-list-row', { hasText: title }).first().waitFor({ timeout: 10_000 });
    await input.press('Enter');
    await sleep(1000);
  };
  const runFromMenu = async (file = TRAIN) => {
    const treeItem = treeItemOf(file);
    if (!(await treeItem.isVisible())) await palette('View: Show Explorer');
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
  /** Waits for a quick pick whose title matches. */
  const waitPick = async (title) => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const t = (
        await quickInput
          .locator('.quick-input-title')
          .innerText()
          .catch(() => '')
      ).trim();
      if (title.test(t)) return;
      // The field pick asks first only when inference is a guess: accept what it proposes.
      if (/which field/.test(t)) await page.keyboard.press('Enter');
      if (Date.now() > deadline) throw new Error(`no quick pick titled ${title} (last: ${t})`);
      await sleep(250);
    }
  };
  /** Picks the row matching `rowText` of the quick pick titled `title`. */
  const choose = async (title, rowText) => {
    await waitPick(title);
    const row = quickInput.locator('.monaco-list-row', { hasText: rowText }).first();
    await row.waitFor({ timeout: 10_000 });
    const text = (await row.innerText()).replace(/\s+/g, ' ').trim();
    await row.click();
    return text;
  };
  /** Waits for a quick pick whose title matches, checks its first row, accepts it. */
  const accept = async (title, firstRow) => {
    await waitPick(title);
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
  await check('flipped-ids pick offers "No flipped ids" first', async () =>
    accept(/known flipped labels/, /^No flipped ids/),
  );

  const toast = page.locator('.notifications-toasts', { hasText: 'Memorization experiments on' });
  await check('a progress notification with Cancel appears', async () => {
    await toast.first().waitFor({ timeout: 15_000 });
    return (await toast.first().innerText()).replace(/\s+/g, ' ').slice(0, 100);
  });

  /** Pixels of a canvas near a colour class ('red': the memorized/loss curves, 'blue': bars and random curves). */
  const colored = (locator, kind) =>
    locator.evaluate((c, k) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) {
        const red = d[i] > 150 && d[i + 1] < 80 && d[i + 2] < 80;
        const blue = d[i] < 80 && d[i + 1] > 90 && d[i + 1] < 150 && d[i + 2] > 150;
        if (k === 'red' ? red : blue) n++;
      }
      return n;
    }, kind);
  const waitForReport = async (file) => {
    const tab = page.locator('.tab', { hasText: `Memorization report: ${file}` });
    await tab.first().waitFor({ timeout: 180_000 });
    const deadline = Date.now() + 30_000;
    for (;;) {
      for (const f of page.frames()) {
        const h1 = f.locator('h1', { hasText: `Memorization report: ${file}` });
        if ((await h1.count().catch(() => 0)) > 0) return f;
      }
      if (Date.now() > deadline) throw new Error(`no webview frame with the report heading of ${file}`);
      await sleep(300);
    }
  };
  const canvasIds = (frame) =>
    frame.locator('section:has(canvas)').evaluateAll((ss) => ss.map((x) => x.id).join(','));

  let frame;
  await check(
    'the report panel: four charts, typicality chart and table, the label-noise summary',
    async () => {
      frame = await waitForReport(TRAIN);
      const ids = await canvasIds(frame);
      if (ids !== 'removal,reduction,stability,typicality') throw new Error(`charts of sections ${ids}`);
      const size = await frame
        .locator('canvas')
        .first()
        .evaluate((c) => `${c.width}x${c.height}`);
      if (size !== '1600x1000') throw new Error(`canvas backing store ${size}`);
      const red = await colored(frame.locator('#removal canvas'), 'red');
      if (red < 500) throw new Error(`removal chart has ${red} red pixels`);
      const bars = await colored(frame.locator('#typicality canvas'), 'blue');
      if (bars < 20_000) throw new Error(`typicality chart has ${bars} blue pixels`);
      const note = (await frame.locator('.note').first().innerText()).trim();
      if (!/test file spam\.test\.jsonl/.test(note)) throw new Error(`note: ${note}`);
      const firstGroup = (await frame.locator('#typicality tbody tr td').first().innerText()).trim();
      if (firstGroup !== 'hard_ham') throw new Error(`typicality first row ${firstGroup}`);
      const noise = (await frame.locator('#noise').innerText()).replace(/\s+/g, ' ');
      const m = /(\d+) likely mislabeled .* training loss above log 2/.exec(noise);
      if (!m) throw new Error(`label noise section: ${noise.slice(0, 200)}`);
      if (!/AUROC 0\.977 for the loss vs 0\.976 .* 0\.951 for self-influence/.test(noise))
        throw new Error('no measured AUROCs in the label noise section');
      if ((await frame.locator('#noise canvas').count()) !== 0)
        throw new Error('a noise curve without flipped ids');
      const topRows = await frame.locator('#noise table').last().locator('tbody tr').count();
      if (topRows !== 10) throw new Error(`${topRows} rows with the largest loss`);
      // Screenshot with the report's editor group maximized (side bars hidden).
      await page
        .locator('.tab', { hasText: `Memorization report: ${TRAIN}` })
        .first()
        .click();
      await palette('Maximize Editor Group and Hide Side Bars');
      await sleep(500);
      await page.screenshot({ path: path.join(ARTIFACTS, 'report.png') });
      return `${m[1]} likely mislabeled, ${red} red pixels, typicality ${bars} blue pixels`;
    },
  );

  /** Clicks a Save button of the report, accepts the save dialog's proposal, returns the PNG written. */
  const savePng = async (buttonName, file) => {
    await frame.getByRole('button', { name: buttonName, exact: true }).first().click();
    await quickInput.locator('input').first().waitFor({ timeout: 15_000 });
    const value = await quickInput.locator('input').first().inputValue();
    await page.keyboard.press('Enter');
    const out = path.join(workspace, file);
    const deadline = Date.now() + 15_000;
    while (!existsSync(out) && Date.now() < deadline) await sleep(250);
    if (!existsSync(out)) throw new Error(`no ${out} (dialog said ${value})`);
    await sleep(300);
    const png = readFileSync(out);
    if (png.toString('latin1', 1, 4) !== 'PNG') throw new Error(`${file} is not a PNG`);
    return { out, png, w: png.readUInt32BE(16), h: png.readUInt32BE(20) };
  };

  await check('Save PNG writes the removal chart through the save dialog', async () => {
    const { png, w, h } = await savePng('Save PNG', 'spam.train.removal.png');
    if (w !== 1600 || h !== 1000) throw new Error(`bad PNG ${w}x${h}`);
    return `${png.length} bytes, ${w}x${h}`;
  });

  await check('with flipped ids: five charts and the found-vs-checked curve', async () => {
    await runFromMenu(NOISY);
    await accept(/test set for the removal/, /spam\.test\.jsonl/);
    await accept(/typicality/, /^group/);
    const picked = await choose(/known flipped labels/, FLIPPED);
    frame = await waitForReport(NOISY);
    const ids = await canvasIds(frame);
    if (ids !== 'removal,reduction,stability,typicality,noise') throw new Error(`charts of sections ${ids}`);
    const red = await colored(frame.locator('#noise canvas'), 'red');
    if (red < 2000) throw new Error(`noise chart has ${red} red pixels`);
    const noise = (await frame.locator('#noise').innerText()).replace(/\s+/g, ' ');
    if (!/400 of the 400 flipped ids in spam-noisy10\.flipped\.json are rows of this file/.test(noise))
      throw new Error(`label noise section: ${noise.slice(0, 300)}`);
    const auroc = /AUROC (0\.\d+) 0\.\d+ 0\.\d+ 0\.\d+/.exec(noise);
    if (!auroc || !(Number(auroc[1]) > 0.95)) throw new Error(`loss AUROC row: ${auroc?.[0]}`);
    await frame.locator('#noise').evaluate((e) => e.scrollIntoView({ block: 'start' }));
    await sleep(300);
    await page.screenshot({ path: path.join(ARTIFACTS, 'report-noise.png') });
    return `picked "${picked}", ${auroc[0]}, ${red} red pixels`;
  });

  await check('Save report as PNG writes one image of the whole report', async () => {
    const { out, png, w, h } = await savePng('Save report as PNG', 'spam-noisy10.train.report.png');
    // Two columns of 1600 x 1000 charts with 48 px margins; three rows of charts plus the title.
    if (w !== 48 + 2 * (1600 + 48) || h < 3 * 1048) throw new Error(`bad PNG ${w}x${h}`);
    copyFileSync(out, path.join(ARTIFACTS, 'report-full.png'));
    return `${png.length} bytes, ${w}x${h}`;
  });

  await check('Cancel on the notification stops the job ("cancelled")', async () => {
    await runFromMenu();
    await accept(/test set for the removal/, /spam\.test\.jsonl/);
    await accept(/typicality/, /^group/);
    await accept(/known flipped labels/, /^No flipped ids/);
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
console.log(
  `e2e report: ${results.filter(Boolean).length} passed, ${results.filter((r) => !r).length} failed`,
);
process.exit(failed ? 1 : 0);
