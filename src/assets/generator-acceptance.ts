// generator-acceptance.ts: how close a generator comes to the world's renderer, judge by judge. On
// the fixed benchmark's prompts for each dimension (the first `perDimension` of its 100), that
// dimension's judge scores the generator's images and the renderer's (quality 1) for the same prompts
// and seeds; the ratio of the means is the figure (issue 7 asks 30% to 85% of the renderer for the
// base generator: imperfect in every dimension, but drawing the scenes). Content is also measured on
// prompts naming object-color combinations held out of training, beside control prompts that differ
// only in that object's color.
import { DIMENSIONS, type Dimension, type GenerateOptions, type Generator, type RgbImage } from '../api/interfaces.js';
import { loadBenchmark } from '../world/benchmark.js';
import { WORLD_JUDGES } from '../world/judges/index.js';
import { deriveSeed } from '../world/random.js';
import { WorldGenerator } from '../world/world-generator.js';
import { heldOutContentPrompts } from './generator-data.js';

/** The band the base generator's ratios should fall in (issue 7). */
export const ACCEPTANCE_TARGET: readonly [number, number] = [0.3, 0.85];

export interface ScorePair {
  /** Mean judge score of the generator's images. */
  generator: number;
  /** Mean judge score of the renderer's images of the same prompts and seeds. */
  renderer: number;
  /** generator / renderer (0 when the renderer scores 0). */
  ratio: number;
}

export interface DimensionAcceptance extends ScorePair {
  dimension: Dimension;
  prompts: number;
  inTarget: boolean;
}

export interface AcceptanceReport {
  format: 'treereward-generator-acceptance/1';
  generator: string;
  /** Benchmark prompts per dimension, and images per prompt. */
  perDimension: number;
  seedsPerPrompt: number;
  /** The seed of the images and held-out prompts, and the generator's options (steps, guidance). */
  seed: number;
  generate: Record<string, unknown>;
  target: readonly [number, number];
  dimensions: DimensionAcceptance[];
  /** The content judge on prompts naming a held-out combination, and on their controls. */
  content: { n: number; heldOut: ScorePair; control: ScorePair };
  allInTarget: boolean;
  seconds: number;
}

export interface AcceptanceSample {
  dimension: Dimension | 'held-out';
  prompt: string;
  generated: RgbImage;
  rendered: RgbImage;
}

export interface AcceptanceOptions {
  /** Benchmark prompts per dimension (at most 100). Defaults to 20. */
  perDimension?: number;
  /** Images per prompt. Defaults to 1. */
  seedsPerPrompt?: number;
  /** Held-out-combination prompts (and as many controls). Defaults to 24. */
  heldOut?: number;
  /** Seeds the images and the held-out prompts. Defaults to 0. */
  seed?: number;
  /** Image size, for the renderer too. Defaults to 64. */
  size?: number;
  /** Options of the generator's calls (denoising steps, guidance). */
  generate?: GenerateOptions & Record<string, unknown>;
  /** The reference. Defaults to the world renderer at quality 1. */
  reference?: { generator: Generator; options?: GenerateOptions };
  /** Keep this many (generated, rendered) pairs per dimension for a contact sheet. Defaults to 0. */
  keepSamples?: number;
  signal?: AbortSignal;
  /** After each batch of prompts: images generated so far, of how many. */
  onProgress?: (done: number, total: number) => void;
}

function ratio(generator: number, renderer: number): ScorePair {
  return { generator, renderer, ratio: renderer > 0 ? generator / renderer : 0 };
}

const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

/** Scores a generator against the renderer on the benchmark (and the held-out combinations). */
export async function measureAcceptance(generator: Generator, options: AcceptanceOptions = {}): Promise<{ report: AcceptanceReport; samples: AcceptanceSample[] }> {
  const t0 = performance.now();
  const per = options.perDimension ?? 20, k = options.seedsPerPrompt ?? 1, seed = options.seed ?? 0, size = options.size ?? 64;
  const nHeld = options.heldOut ?? 24, keep = options.keepSamples ?? 0;
  if (!Number.isInteger(per) || per < 1 || per > 100) throw new Error(`Expected an integer in [1, 100] for perDimension but received ${per}`);
  if (!Number.isInteger(k) || k < 1) throw new Error(`Expected a positive integer for seedsPerPrompt but received ${k}`);
  if (!Number.isInteger(nHeld) || nHeld < 0) throw new Error(`Expected a non-negative integer for heldOut but received ${nHeld}`);
  const reference = options.reference ?? { generator: new WorldGenerator({ size }), options: { quality: 1 } };
  const benchmark = loadBenchmark();
  const held = heldOutContentPrompts(seed, nHeld);
  const total = (DIMENSIONS.length * per * k + 2 * nHeld) * 2;
  let done = 0;
  const samples: AcceptanceSample[] = [];

  /** Both generators' images of the prompts (each k times), scored by one judge. */
  const score = async (what: Dimension | 'held-out', prompts: string[], judge: Dimension): Promise<{ generated: number[]; rendered: number[] }> => {
    const all = prompts.flatMap((p) => Array.from({ length: k }, () => p));
    const seeds = all.map((_, i) => deriveSeed(seed, `acceptance:${what}:${judge}:${i}`) & 0x7fffffff);
    const generated = await generator.generate(all, seeds, { size, ...options.generate, signal: options.signal });
    options.onProgress?.((done += all.length), total);
    const rendered = await reference.generator.generate(all, seeds, { size, ...reference.options, signal: options.signal });
    options.onProgress?.((done += all.length), total);
    for (let i = 0; i < Math.min(keep, all.length); i++) samples.push({ dimension: what, prompt: all[i], generated: generated[i], rendered: rendered[i] });
    return {
      generated: generated.map((img, i) => WORLD_JUDGES[judge].score(img, all[i])),
      rendered: rendered.map((img, i) => WORLD_JUDGES[judge].score(img, all[i])),
    };
  };

  // 1. each dimension's judge on its benchmark prompts
  const dimensions: DimensionAcceptance[] = [];
  for (const dim of DIMENSIONS) {
    const prompts = benchmark.prompts[dim].slice(0, per);
    const s = await score(dim, prompts, dim);
    const r = ratio(mean(s.generated), mean(s.rendered));
    dimensions.push({ dimension: dim, prompts: prompts.length, ...r, inTarget: r.ratio >= ACCEPTANCE_TARGET[0] && r.ratio <= ACCEPTANCE_TARGET[1] });
  }

  // 2. content on held-out object-color combinations, and on the controls
  let content: AcceptanceReport['content'] = { n: 0, heldOut: ratio(0, 0), control: ratio(0, 0) };
  if (nHeld > 0) {
    const h = await score('held-out', held.map((p) => p.heldOut), 'content');
    const c = await score('held-out', held.map((p) => p.control), 'content');
    content = { n: nHeld, heldOut: ratio(mean(h.generated), mean(h.rendered)), control: ratio(mean(c.generated), mean(c.rendered)) };
  }
  const report: AcceptanceReport = {
    format: 'treereward-generator-acceptance/1', generator: generator.name, perDimension: per, seedsPerPrompt: k, seed,
    generate: Object.fromEntries(Object.entries(options.generate ?? {}).filter(([key]) => key !== 'signal')), target: ACCEPTANCE_TARGET,
    dimensions, content, allInTarget: dimensions.every((d) => d.inTarget), seconds: (performance.now() - t0) / 1000,
  };
  return { report, samples };
}

/** What the commands take: the measurement's size and the sampling options. */
export interface AcceptanceSettings {
  /** Benchmark prompts per dimension. */
  perDimension: number;
  /** Held-out-combination prompts. */
  heldOut: number;
  /** Denoising steps. Defaults to the model's (20). */
  steps?: number;
  /** Defaults to the model's. */
  guidanceScale?: number;
  /** The seed of the images (the same for every generator compared). Defaults to 0. */
  seed?: number;
}

/** measureAcceptance's options for these settings. */
export function acceptanceOptions(a: AcceptanceSettings) {
  return {
    perDimension: a.perDimension, heldOut: a.heldOut, seed: a.seed ?? 0,
    generate: { ...(a.steps ? { steps: a.steps } : {}), ...(a.guidanceScale !== undefined ? { guidanceScale: a.guidanceScale } : {}) },
  };
}

export interface AcceptanceChange {
  dimension: Dimension | 'held-out content';
  base: number;
  tuned: number;
  /** tuned - base, in judge score. */
  change: number;
}

/** Per dimension, how a fine-tune's judge scores differ from its base's (same prompts and seeds). */
export function compareAcceptance(base: AcceptanceReport, tuned: AcceptanceReport): AcceptanceChange[] {
  const out: AcceptanceChange[] = base.dimensions.map((b) => {
    const t = tuned.dimensions.find((d) => d.dimension === b.dimension);
    if (!t) throw new Error(`Expected the tuned report to have dimension ${b.dimension} but it does not`);
    return { dimension: b.dimension, base: b.generator, tuned: t.generator, change: t.generator - b.generator };
  });
  if (base.content.n > 0 && tuned.content.n > 0) {
    out.push({ dimension: 'held-out content', base: base.content.heldOut.generator, tuned: tuned.content.heldOut.generator, change: tuned.content.heldOut.generator - base.content.heldOut.generator });
  }
  return out;
}

/** The six figures and the held-out content as text lines. */
export function formatAcceptance(r: AcceptanceReport): string[] {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const lines = [`acceptance of ${r.generator} on ${r.perDimension} benchmark prompts per dimension (target ${pct(r.target[0])} to ${pct(r.target[1])} of the renderer):`];
  for (const d of r.dimensions) lines.push(`  ${d.dimension.padEnd(9)} ${pct(d.ratio).padStart(6)}  (judge ${d.generator.toFixed(3)} vs renderer ${d.renderer.toFixed(3)})${d.inTarget ? '' : '  outside the target'}`);
  if (r.content.n > 0) {
    lines.push(`  content on ${r.content.n} prompts naming held-out object-color combinations: ${pct(r.content.heldOut.ratio)} (judge ${r.content.heldOut.generator.toFixed(3)} vs ${r.content.heldOut.renderer.toFixed(3)}); on their seen-color controls: ${pct(r.content.control.ratio)} (${r.content.control.generator.toFixed(3)} vs ${r.content.control.renderer.toFixed(3)})`);
  }
  return lines;
}
