// The page in real headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core): log in with
// a token, label pairs with the mouse and the keys 1, 2, 3 and space, and check the store holds exactly
// those labels, mapped back through the side each image was shown on. Screenshots at 1440 and 1280 px go
// to $ANNOTATE_SCREENSHOTS (default: a temporary folder) for a person to look at.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAbSet } from '../../src/annotate/ab-sets.js';
import { startAnnotationServer, type RunningServer } from '../../src/annotate/run-server.js';
import { queuedStore, removeTempDirs, sceneImage, tempDir, users } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`[annotate browser test] skipped: ${CHROMIUM} is absent (apt-get install -y chromium, as scripts/setup.sh does)`);

let server: RunningServer;
let browser: Browser;
let tokens: Record<string, string>;
let shots: string;

beforeAll(async () => {
  if (!hasChromium) return;
  const { dir, store } = await queuedStore({ pairs: 8, pixels: true });
  tokens = users(store, ['alice', 'bob']);
  // a content pair as re-captioning makes it: one image, two captions
  await store.enqueuePairs([{
    dimension: 'content', strategy: 'recaption', key: 'recaption-0',
    left: { prompt: 'a red star and a blue ring, striped style', image: sceneImage(70) },
    right: { prompt: 'a yellow disc on a blue ground, plain style', image: sceneImage(70) },
  }]);
  await addAbSet(store, {
    name: 'tree-vs-sd15', modelA: 'tree', modelB: 'sd15',
    items: [0, 1].map((i) => ({ prompt: `a green circle on a grey ground, soft lighting, variant ${i}`, dimension: 'lighting', a: sceneImage(50 + i), b: sceneImage(60 + i) })),
  });
  store.close();
  server = await startAnnotationServer({ storeDir: dir });
  shots = process.env.ANNOTATE_SCREENSHOTS ?? tempDir('treereward-annotate-shots-');
  mkdirSync(shots, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  removeTempDirs();
});

/** The id of the lease on screen, once its images are shown and the buttons enabled. */
async function shownLease(page: Page): Promise<string> {
  await page.waitForSelector('#work:not([hidden]) .choice:not([disabled])');
  return page.locator('.work').getAttribute('data-lease') as Promise<string>;
}

/** Waits until the page shows a lease other than `id` (or the done card). */
async function nextAfter(page: Page, id: string): Promise<void> {
  await page.waitForFunction((old) => {
    const work = document.getElementById('work')!;
    const done = document.getElementById('done')!;
    return !done.hidden || (!work.hidden && work.dataset.lease !== old && !document.querySelector('.choice[disabled]'));
  }, id);
}

describe.skipIf(!hasChromium)('the annotation page in Chromium', () => {
  it('logs in, labels with mouse and keyboard, and the store holds exactly those labels', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const consoleErrors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    await page.goto(server.url);
    await page.waitForSelector('#login:not([hidden])');
    await page.screenshot({ path: join(shots, 'login-1440.png') });

    // a wrong token is refused on the page and nothing happens
    await page.fill('#token', 'trw_not-a-token');
    await page.press('#token', 'Enter');
    await expect.poll(() => page.textContent('#login-error')).toBe('Your token was not accepted. Sign in again.');

    await page.fill('#token', tokens.alice);
    await page.click('button[type=submit]');
    consoleErrors.length = 0; // the refused token's 401 was expected
    const actions: { lease: string; shown: string }[] = [];
    let lease = await shownLease(page);
    expect(await page.textContent('#user-name')).toBe('alice');
    expect(await page.textContent('#task-guide')).toMatch(/\?$/);
    // the 64 px images are scaled by whole multiples, with pixelated rendering
    const img = await page.locator('#img-left').evaluate((el: HTMLImageElement) => ({ w: el.getBoundingClientRect().width, natural: el.naturalWidth, rendering: getComputedStyle(el).imageRendering }));
    expect(img.natural).toBe(64);
    expect(img.w % 64).toBe(0);
    expect(img.w).toBeGreaterThanOrEqual(448);
    expect(img.rendering).toBe('pixelated');
    await page.screenshot({ path: join(shots, 'pair-1440.png') });

    const act = async (how: () => Promise<void>, shown: string): Promise<void> => {
      actions.push({ lease, shown });
      await how();
      await nextAfter(page, lease);
      lease = (await page.locator('.work').getAttribute('data-lease')) ?? '';
    };
    await act(() => page.click('.choice[data-choice=left]'), 'left');
    await act(() => page.keyboard.press('2'), 'right');
    await act(() => page.keyboard.press('3'), 'tie');
    await act(() => page.keyboard.press('Space'), 'skip');
    await act(() => page.click('.choice[data-choice=right]'), 'right');
    await act(() => page.keyboard.press('1'), 'left');
    await expect.poll(() => page.getAttribute('#progress', 'data-labelled')).toBe('5');
    expect(await page.textContent('#progress')).toBe('5 labelled · 1 skipped · 3 left for you');

    // the store: exactly these six labels, each the side shown there, mapped to the stored side
    const db = server.store.db;
    const rows = db.prepare(`SELECT a.pair_id, a.choice, a.time_spent_ms, l.id AS lease, l.left_image_id, p.preferred_image_id
      FROM annotations a JOIN annotate_leases l ON l.target_id = a.pair_id AND l.annotator = a.annotator AND l.done_at IS NOT NULL
      JOIN pairs p ON p.id = a.pair_id WHERE a.annotator = 'alice' ORDER BY a.id`).all() as { pair_id: number; choice: string; time_spent_ms: number; lease: string; left_image_id: number; preferred_image_id: number }[];
    const expected = actions.map(({ lease: id, shown }) => {
      const l = db.prepare('SELECT target_id, left_image_id FROM annotate_leases WHERE id = ?').get(id) as { target_id: number; left_image_id: number };
      const pair = server.store.getPair(l.target_id)!;
      const leftIsStoredLeft = l.left_image_id === pair.preferred.image.id;
      const stored = shown === 'left' ? (leftIsStoredLeft ? 'left' : 'right') : shown === 'right' ? (leftIsStoredLeft ? 'right' : 'left') : shown;
      return { lease: id, pair: l.target_id, choice: stored };
    });
    expect(rows.map((r) => ({ lease: r.lease, pair: r.pair_id, choice: r.choice }))).toEqual(expected);
    expect(rows.every((r) => r.time_spent_ms > 0 && r.time_spent_ms < 60_000)).toBe(true);
    expect(db.prepare(`SELECT count(*) FROM annotations WHERE annotator != 'alice'`).pluck().get()).toBe(0);
    expect(db.prepare(`SELECT shown_choice FROM annotate_leases WHERE annotator = 'alice' AND done_at IS NOT NULL ORDER BY done_at, rowid`).pluck().all()).toEqual(actions.map((a) => a.shown));

    // the A/B mode on the same page
    await page.selectOption('#task-select', 'ab:tree-vs-sd15');
    await page.waitForFunction(() => document.getElementById('task-dimension')!.textContent === 'lighting' && !document.querySelector('.choice[disabled]'));
    lease = await shownLease(page);
    expect(await page.isHidden('#dimension-field')).toBe(true);
    expect(await page.textContent('#prompt-shared')).toMatch(/^a green circle on a grey ground/);
    await page.screenshot({ path: join(shots, 'ab-1440.png') });
    const abLease = lease;
    await page.keyboard.press('1');
    await nextAfter(page, abLease);
    const ab = db.prepare(`SELECT x.outcome, x.a_shown_left FROM ab_labels x WHERE x.lease_id = ?`).get(abLease) as { outcome: string; a_shown_left: number };
    expect(ab.outcome).toBe(ab.a_shown_left ? 'a' : 'b');
    expect(consoleErrors).toEqual([]);
    await page.close();
  });

  it('fits a laptop (1280 x 800) and a desktop (1440 x 900): both images and all buttons in view, no horizontal scroll', async () => {
    for (const [width, height] of [[1280, 800], [1440, 900]]) {
      const page = await browser.newPage({ viewport: { width, height } });
      await page.goto(server.url);
      await page.fill('#token', tokens.bob);
      await page.press('#token', 'Enter');
      await shownLease(page);
      const box = await page.evaluate(() => {
        const r = (sel: string) => document.querySelector(sel)!.getBoundingClientRect();
        return { scrollWidth: document.documentElement.scrollWidth, left: r('#img-left'), right: r('#img-right'), buttons: r('.actions'), prompt: r('#prompt-shared') };
      });
      expect(box.scrollWidth).toBeLessThanOrEqual(width);
      expect(box.left.right).toBeLessThanOrEqual(box.right.left); // side by side
      expect(box.right.right).toBeLessThanOrEqual(width);
      expect(box.buttons.bottom).toBeLessThanOrEqual(height);
      expect(box.left.width).toBeGreaterThanOrEqual(384); // at least 6x the 64 px image
      await page.screenshot({ path: join(shots, `pair-${width}.png`) });
      await page.click('#logout');
      await page.waitForSelector('#login:not([hidden])');
      await page.close();
    }
    console.log(`[annotate browser test] screenshots in ${shots}`);
  });

  it("shows each side's prompt when the two differ (a re-captioned content pair)", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(server.url);
    await page.fill('#token', tokens.bob);
    await page.press('#token', 'Enter');
    await shownLease(page);
    await page.selectOption('#dimension-select', 'content');
    await page.waitForFunction(() => document.getElementById('task-dimension')!.textContent === 'content' && !document.querySelector('.choice[disabled]'));
    expect(await page.isHidden('#prompt-shared')).toBe(true);
    const prompts = [await page.textContent('#prompt-left'), await page.textContent('#prompt-right')].sort();
    expect(prompts).toEqual(['a red star and a blue ring, striped style', 'a yellow disc on a blue ground, plain style']);
    const box = await page.evaluate(() => ({ bottom: document.querySelector('.actions')!.getBoundingClientRect().bottom, scrollWidth: document.documentElement.scrollWidth }));
    expect(box.bottom).toBeLessThanOrEqual(800);
    expect(box.scrollWidth).toBeLessThanOrEqual(1280);
    await page.screenshot({ path: join(shots, 'content-captions-1280.png') });
    await page.close();
  });
});
