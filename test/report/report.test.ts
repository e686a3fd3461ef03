// report.test.ts: the report of a small run (a real evaluation of the world renderer at two
// qualities, reward-stage records and training logs written here, ReFL waiting, an A/B set labelled
// by people) rendered in real headless Chromium (Debian's /usr/bin/chromium via playwright-core):
// every section is there with its charts and images, a section without inputs says why, nothing is
// fetched from the network, and the PNG figures are valid. A full-page screenshot goes to
// $REPORT_SCREENSHOTS (default: a temporary folder) for a person to look at.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DIMENSIONS } from '../../src/api/interfaces.js';
import { addAbSet } from '../../src/annotate/ab-sets.js';
import { FeedbackStore } from '../../src/data/store/feedback-store.js';
import { evaluate, EVALUATION_FILE } from '../../src/eval/evaluation.js';
import { benchmarkPrompts } from '../../src/eval/prompts.js';
import { openRun } from '../../src/eval/run/demo.js';
import { readManifest, writeManifest } from '../../src/eval/run/run-dir.js';
import type { RewardOutputs, RewardRun } from '../../src/eval/run/stages/reward-stage.js';
import { writeReport, type ReportResult } from '../../src/report/write-report.js';
import type { AccuracyReport } from '../../src/reward/evaluate.js';
import { WorldGenerator } from '../../src/world/world-generator.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`[report browser test] skipped: ${CHROMIUM} is absent (apt-get install -y chromium)`);

const dir = mkdtempSync(join(tmpdir(), 'treereward-report-'));
const runDir = join(dir, 'run');
let report: ReportResult;
let browser: Browser;

function accuracy(base: number): AccuracyReport {
  const perDimension = Object.fromEntries(DIMENSIONS.map((d, k) => [d, { accuracy: base + 0.02 * k, pairs: 10 }]));
  return { perDimension, mean: base + 0.05, overall: base + 0.05, pairs: 60 };
}

beforeAll(async () => {
  const m = openRun(runDir, 'quick', 0, { test: true }, 'treereward demo --quick');
  // a real evaluation of two stand-in generators, two prompts per dimension, two seeds
  await evaluate({
    runDir,
    generators: [
      { name: 'base', group: 'base', run: 0, spec: 'world:quality=0.4', label: 'base (world q0.4)', standIn: 'stand-in for the base generator' },
      { name: 'tuned', group: 'tuned', run: 0, spec: 'world:quality=0.8', label: 'tuned (world q0.8)', standIn: 'stand-in for a tuned generator' },
    ],
    comparisons: [['tuned', 'base']], base: 'base', prompts: benchmarkPrompts(2), promptSource: 'the benchmark, 2 per dimension', seeds: [0, 1],
    expert: { flipRate: 0.1, tieBand: 0.02, seed: 0 }, missing: { clip: 'the world CLIP is not shipped yet', aesthetic: 'the world CLIP is not shipped yet' }, gridColumns: 2,
  });
  // the reward stage's records and training logs
  const runs: RewardRun[] = (['data-scale', 'tree'] as const).map((variant, k) => {
    const rel = join('rewards', variant, 'seed-0');
    mkdirSync(join(runDir, rel), { recursive: true });
    const lines = Array.from({ length: 40 }, (_, i) => JSON.stringify({ step: i + 1, loss: (k + 1) * Math.exp(-i / 20) + 0.05 * Math.sin(i) }));
    writeFileSync(join(runDir, rel, 'train-log.jsonl'), lines.join('\n') + '\n');
    return { variant, seed: 0, model: join(rel, 'model'), log: join(rel, 'train-log.jsonl'), accuracy: { clean: accuracy(0.6 + 0.1 * k), noisy: accuracy(0.55 + 0.1 * k), ...(variant === 'tree' ? { routing: 0.9 } : {}) }, parameters: 400_000, seconds: 12 };
  });
  const rewards: RewardOutputs = { backbone: 'tiny BLIP, randomly initialised', pretrained: false, steps: 40, batchSize: 16, runs };
  const record = (name: string, title: string, status: 'done' | 'waiting' | 'pending', extra: object = {}) => ({ name, title, status, seconds: status === 'done' ? 10 : 0, sittings: 1, outputs: {}, ...extra });
  readManifest(runDir);
  m.stages = [
    record('data', 'feedback pairs', 'done', { summary: '360 pairs', outputs: { store: 'data', pairs: 360 } }),
    record('rewards', 'reward models', 'done', { summary: '2 reward models', outputs: rewards }),
    record('refl', 'ReFL fine-tuning', 'waiting', { reason: 'the world base generator is not shipped yet' }),
    record('evaluate', 'evaluation', 'done', { summary: '12 prompts', outputs: { evaluation: EVALUATION_FILE, standIn: true } }),
    record('report', 'report', 'pending'),
  ];
  writeManifest(runDir, m);
  // an A/B set labelled by two people
  const storeDir = join(dir, 'store');
  const store = FeedbackStore.open(storeDir);
  const world = new WorldGenerator();
  const prompts = ['a red star, warm palette', 'a blue ring, side lighting', 'a green square, intricate detail'];
  await addAbSet(store, {
    name: 'tuned-vs-base', modelA: 'tuned', modelB: 'base',
    items: prompts.map((prompt, i) => ({ prompt, dimension: (['color', 'lighting', 'detail'] as const)[i], a: world.render(prompt, i).image, b: world.render(prompt, i, { quality: 0.3 }).image })),
  });
  const items = store.db.prepare('SELECT id FROM ab_items ORDER BY id').pluck().all() as number[];
  const label = store.db.prepare('INSERT INTO ab_labels (item_id, annotator, outcome, a_shown_left, created_at, time_spent_ms) VALUES (?, ?, ?, 1, 0, 1000)');
  [['alice', 'a', 'a', 'tie'], ['bob', 'a', 'b', 'a']].forEach(([who, ...outcomes]) => outcomes.forEach((o, i) => label.run(items[i], who, o)));
  store.close();
  report = await writeReport(runDir, { ab: [{ store: storeDir, set: 'tuned-vs-base' }] });
  if (hasChromium) {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
  }
});

afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the report', () => {
  it('lists its sections, each shown or saying why not', () => {
    expect(report.sections.map((s) => [s.id, s.shown])).toEqual([
      ['summary', true], ['radar', true], ['improvement', true], ['win-tie-loss', true], ['metrics', true], ['rewards', true], ['curves', true], ['grids', true],
    ]);
  });

  it('writes the figures as PNG too', async () => {
    const names = report.figures.map((f) => f.split('/').pop());
    expect(names).toEqual([
      'fig1-radar.png', 'fig7-win-tie-loss.png', 'fig7-people-1.png', 'curves-reward-training.png',
      ...DIMENSIONS.map((d) => `fig5-grid-${d}.png`),
    ]);
    for (const f of report.figures) {
      const meta = await sharp(f).metadata();
      expect(meta.format).toBe('png');
      expect(meta.width).toBeGreaterThan(400);
    }
  });

  it.skipIf(!hasChromium)('renders in Chromium with its charts and images, and fetches nothing', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const fetched: string[] = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      fetched.push(url);
      return route.abort();
    });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`file://${report.html}`);
    for (const id of report.sections.map((s) => s.id)) expect(await page.locator(`section#${id}`).count(), id).toBe(1);
    // Fig. 1: one polygon per generator
    expect(await page.locator('#radar svg.chart polygon.series').count()).toBe(2);
    // Fig. 7: the experts' bars and the people's
    expect(await page.locator('#win-tie-loss svg.chart').count()).toBe(2);
    expect(await page.locator('#win-tie-loss rect.wtl-win').count()).toBeGreaterThan(3);
    // Tables 2 and 3, the reward table, the stage table
    expect(await page.locator('#table-improvement tbody tr').count()).toBe(1);
    expect(await page.locator('#table-metrics tbody tr').count()).toBe(2);
    expect(await page.locator('#table-rewards tbody tr').count()).toBe(2);
    expect(await page.locator('#table-stages tbody tr').count()).toBe(5);
    // curves: one line per reward model; ReFL's curves say why they are missing
    expect(await page.locator('#curves svg.chart path.series').count()).toBe(2);
    expect(await page.locator('#curves .missing').textContent()).toContain('ReFL reward and loss curves: not available. waiting: the world base generator is not shipped yet');
    expect(await page.locator('#metrics .missing').first().textContent()).toContain('the world CLIP is not shipped yet');
    expect(await page.locator('#stand-in-note').isVisible()).toBe(true);
    // Fig. 5: 6 dimensions x 2 prompts x 2 generators, every image decoded
    const images = await page.locator('#grids img.sample').evaluateAll((els) => els.map((e) => ({ w: (e as HTMLImageElement).naturalWidth, ok: (e as HTMLImageElement).complete, data: (e as HTMLImageElement).src.startsWith('data:image/png;base64,') })));
    expect(images).toHaveLength(24);
    expect(images.every((i) => i.ok && i.w === 64 && i.data)).toBe(true);
    // every chart is drawn with a size
    const boxes = await page.locator('svg.chart').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().width));
    expect(boxes.every((w) => w > 200)).toBe(true);
    // the page fits its width (no sideways scrolling)
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1280);
    expect(fetched).toEqual([]);
    expect(errors).toEqual([]);
    const shots = process.env.REPORT_SCREENSHOTS ?? join(dir, 'shots');
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: join(shots, 'report-1280.png'), fullPage: true });
    console.log(`report screenshot: ${join(shots, 'report-1280.png')}`);
    await page.close();
  });
});
