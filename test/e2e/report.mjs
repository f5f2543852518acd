/**
 * End-to-end check of "Run memorization experiments" in a real VS Code (code-server) driven by chromium, offline:
 * run `node test/e2e/report.mjs` after `npm run compile` (and once `npm run test:e2e`, which installs code-server
 * into .e2e-cache/). Needs ../shared/data (the spam train/test files); skips without it.
 *
 * Steps: right-click spam.train.jsonl in the explorer, "Run memorization experiments"; pick spam.test.jsonl as the
 * test file, 'group' for typicality and no flipped ids; check the progress notification, then the report panel
 * (five charts drawn: the retraining check, removal, reduction, stability, typicality with hard_ham first; the "Label noise" section with
 * the likely-mislabeled counts and why loss ranks them, no noise curve); "Save PNG" on the removal chart through the
 * save dialog. Then the same on spam-noisy10.train.jsonl with spam-noisy10.flipped.json as the flipped ids: six
 * charts, the found-vs-checked curve, and "Save report as PNG" (one image of the whole report). Last, run again and
 * press Cancel on the notification, which must answer "cancelled".
 * Every step waits on state (a pick with its title and rows read in one go, a file written whole, a drawn frame),
 * never on a fixed delay: a busy machine makes the run slower, not red.
 * Artifacts in .e2e-artifacts/: report.png (the report, editor group maximized), report-noise.png (the Label noise
 * section with the curve), report-full.png (the saved whole-report image).
 */
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  ARTIFACTS,
  DATA,
  Harness,
  openQuickInput,
  painted,
  palette as runPalette,
  runContextMenu,
  skipUnlessExists,
  treeItem,
  until,
} from './harness.mjs';

const TRAIN = 'spam.train.jsonl';
const TEST = 'spam.test.jsonl';
const NOISY = 'spam-noisy10.train.jsonl';
const FLIPPED = 'spam-noisy10.flipped.json';

skipUnlessExists(path.join(DATA, TRAIN), 'report');

const harness = new Harness({
  tag: 'report',
  tmpPrefix: 'memorization-e2e-report-',
  failureShot: 'report-failure.png',
});
const check = (name, fn) => harness.check(name, fn);

await harness.run(async () => {
  const workspace = harness.workspace;
  for (const f of [TRAIN, TEST, NOISY, FLIPPED]) copyFileSync(path.join(DATA, f), path.join(workspace, f));
  // A plain workbench for the screenshots: no welcome page, no chat side bar.
  harness.userSettings({
    'workbench.startupEditor': 'none',
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'chat.disableAIFeatures': true,
    'workbench.tips.enabled': false,
  });

  const setup = await harness.setup();
  const page = await harness.launch(setup, { viewport: { width: 1500, height: 1000 } });
  const treeItemOf = (name) => treeItem(page, name);
  await treeItemOf(TRAIN).waitFor({ state: 'visible', timeout: 60_000 });

  const quickInput = page.locator('.quick-input-widget');
  /** Runs a command from the command palette (F1), by its title as typed. */
  const palette = (title) => runPalette(page, title);
  const runFromMenu = async (file = TRAIN) => {
    const item = treeItemOf(file);
    if (!(await item.isVisible())) await palette('View: Show Explorer');
    await runContextMenu(page, item, 'Run memorization experiments');
  };
  /**
   * Waits for an open quick pick whose title matches (title, rows and focus read in one go: never one pick's title
   * with another's rows) and returns it. The field pick that asks first when inference is a guess is accepted.
   */
  const waitPick = async (title) => {
    let last;
    return until(
      async () => {
        const q = (last = await openQuickInput(page));
        if (!q || !q.rows.length || q.focused < 0) return false;
        if (title.test(q.title)) return q;
        // Another pick first: the field pick (asked when inference is a guess) is accepted as proposed.
        if (/which field is the label|which fields hold the text/.test(q.title)) {
          await page.keyboard.press('Enter');
          await until(async () => (await openQuickInput(page))?.title !== q.title, {
            what: 'the field pick closing',
          });
        }
        return false;
      },
      { what: `a quick pick titled ${title}` },
    ).catch((err) => {
      throw new Error(
        `${err.message} (last: ${last ? `"${last.title}", rows ${last.rows.join(' | ')}` : 'no open quick input'})`,
      );
    });
  };
  /**
   * Accepts row `index` of the open pick `q` with the keyboard once it has the focus, and returns when that pick
   * is gone (closed, or replaced by the next one): the next step never reads this pick's title or rows. Keyboard,
   * not mouse: a click's mouse-up can land on the next pick, which opens under the pointer.
   */
  const acceptRow = async (q, index) => {
    const label = q.rows[index];
    if (index !== q.focused) {
      await quickInput.locator('input').first().fill(label);
      await until(
        async () => {
          const now = await openQuickInput(page);
          return now && now.title === q.title && now.rows[now.focused] === label;
        },
        { what: `"${label}" focused in the pick "${q.title}"` },
      );
    }
    await page.keyboard.press('Enter');
    await until(
      async () => {
        const now = await openQuickInput(page);
        return !now || now.title !== q.title;
      },
      { what: `the pick "${q.title}" closing` },
    );
  };
  /** Picks the row whose label matches `rowText` in the quick pick titled `title`. */
  const choose = async (title, rowText) => {
    const q = await waitPick(title);
    const index = q.rows.findIndex((r) => r.includes(rowText));
    if (index < 0) throw new Error(`no row "${rowText}" in the pick "${q.title}": ${q.rows.join(' | ')}`);
    const text = q.texts[index];
    await acceptRow(q, index);
    return text;
  };
  /** Waits for a quick pick whose title matches, checks its first (focused) row, accepts it. */
  const accept = async (title, firstRow) => {
    const q = await waitPick(title);
    const text = q.texts[0];
    if (!firstRow.test(text)) throw new Error(`first item is "${text}"`);
    if (q.focused !== 0) throw new Error(`the focused item is "${q.texts[q.focused]}", not the first`);
    await acceptRow(q, 0);
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
    await toast.first().waitFor({ timeout: 30_000 });
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
    await tab.first().waitFor({ timeout: 300_000 });
    return until(
      async () => {
        for (const f of page.frames()) {
          const h1 = f.locator('h1', { hasText: `Memorization report: ${file}` });
          if ((await h1.count().catch(() => 0)) > 0) return f;
        }
        return undefined;
      },
      { timeout: 60_000, what: `a webview frame with the report heading of ${file}` },
    );
  };
  const canvasIds = (frame) =>
    frame.locator('section:has(canvas)').evaluateAll((ss) => ss.map((x) => x.id).join(','));

  let frame;
  await check(
    'the report panel: seven charts (the retraining check first, reasons and groups after typicality), typicality chart and table, the label-noise summary',
    async () => {
      frame = await waitForReport(TRAIN);
      const ids = await canvasIds(frame);
      if (ids !== 'memorization,removal,reduction,stability,typicality,reasons,groups')
        throw new Error(`charts of sections ${ids}`);
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
      if (!/AUROC 0\.984 for the loss vs 0\.983 .* 0\.969 for self-influence/.test(noise))
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
      await page.locator('.part.sidebar').first().waitFor({ state: 'hidden', timeout: 30_000 });
      await painted(frame);
      await page.screenshot({ path: path.join(ARTIFACTS, 'report.png') });
      return `${m[1]} likely mislabeled, ${red} red pixels, typicality ${bars} blue pixels`;
    },
  );

  /** Clicks a Save button of the report, accepts the save dialog's proposal, returns the PNG written. */
  const savePng = async (buttonName, file, within = frame.locator('body')) => {
    await within.getByRole('button', { name: buttonName, exact: true }).first().click();
    // The save dialog is a quick input: Enter once it proposes the file name the report chose.
    const { value } = await until(
      async () => {
        const q = await openQuickInput(page);
        return q && q.value.endsWith(file) ? q : undefined;
      },
      { what: `the save dialog proposing ${file}` },
    );
    await page.keyboard.press('Enter');
    const out = path.join(workspace, file);
    // Written whole: the file ends with the PNG's IEND chunk (4 bytes of name, 4 of CRC).
    const png = await until(
      () => {
        const b = existsSync(out) ? readFileSync(out) : undefined;
        return b && b.length > 12 && b.toString('latin1', b.length - 8, b.length - 4) === 'IEND'
          ? b
          : undefined;
      },
      { timeout: 60_000, what: `a complete ${out} (dialog said ${value})` },
    );
    if (png.toString('latin1', 1, 4) !== 'PNG') throw new Error(`${file} is not a PNG`);
    return { out, png, w: png.readUInt32BE(16), h: png.readUInt32BE(20) };
  };

  await check('Save PNG writes the removal chart through the save dialog', async () => {
    const { png, w, h } = await savePng('Save PNG', 'spam.train.removal.png', frame.locator('#removal'));
    if (w !== 1600 || h !== 1000) throw new Error(`bad PNG ${w}x${h}`);
    return `${png.length} bytes, ${w}x${h}`;
  });

  await check('with flipped ids: six charts and the found-vs-checked curve', async () => {
    await runFromMenu(NOISY);
    await accept(/test set for the removal/, /spam\.test\.jsonl/);
    await accept(/typicality/, /^group/);
    const picked = await choose(/known flipped labels/, FLIPPED);
    frame = await waitForReport(NOISY);
    const ids = await canvasIds(frame);
    if (ids !== 'memorization,removal,reduction,stability,typicality,reasons,groups,noise')
      throw new Error(`charts of sections ${ids}`);
    const red = await colored(frame.locator('#noise canvas'), 'red');
    if (red < 2000) throw new Error(`noise chart has ${red} red pixels`);
    const noise = (await frame.locator('#noise').innerText()).replace(/\s+/g, ' ');
    if (!/400 of the 400 flipped ids in spam-noisy10\.flipped\.json are rows of this file/.test(noise))
      throw new Error(`label noise section: ${noise.slice(0, 300)}`);
    const auroc = /AUROC (0\.\d+) 0\.\d+ 0\.\d+ 0\.\d+/.exec(noise);
    if (!auroc || !(Number(auroc[1]) > 0.95)) throw new Error(`loss AUROC row: ${auroc?.[0]}`);
    await frame.locator('#noise').evaluate((e) => e.scrollIntoView({ block: 'start' }));
    await painted(frame);
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
    await toast.first().waitFor({ timeout: 30_000 });
    // Cancel once the job runs in the worker: its first progress report has reached the notification.
    await until(async () => /\b(reading|featurizing|pooling)\b/.test(await toast.first().innerText()), {
      timeout: 60_000,
      what: 'the first progress report of the experiments in the notification',
    });
    await toast.first().getByRole('button', { name: 'Cancel' }).click();
    const msg = page.locator('.notifications-toasts', { hasText: 'Memorization experiments cancelled' });
    await msg.first().waitFor({ timeout: 30_000 });
    return 'cancelled message shown';
  });
  if (harness.dialogs.length) throw new Error(`dialogs fired: ${harness.dialogs.join('; ')}`);
});
