// generator-acceptance.test.ts: the generator's data and its acceptance measurement, on stand-in
// generators (the world renderer at quality 1 and 0.5): ratios are judge means over the renderer's,
// the degraded renderer scores lower in every dimension; the training data never holds a held-out
// object-color combination or a benchmark prompt; curated examples are the candidates' best; configs.
import { describe, expect, it } from 'vitest';

import { DIMENSIONS, type GenerateOptions, type Generator } from '../../src/api/interfaces.js';
import { compareAcceptance, measureAcceptance } from '../../src/assets/generator-acceptance.js';
import { generatorSpec, resolveGeneratorConfig } from '../../src/assets/generator-configs.js';
import { curatedExample, HELD_OUT_COMBOS, heldOutContentPrompts, isHeldOutCombo, pretrainExample } from '../../src/assets/generator-data.js';
import { isBenchmarkPrompt, loadBenchmark } from '../../src/world/benchmark.js';
import { WORLD_JUDGES } from '../../src/world/judges/index.js';
import { parsePrompt } from '../../src/world/prompt/index.js';
import { WorldGenerator } from '../../src/world/world-generator.js';

/** The world renderer at a fixed quality, as a Generator. */
function renderer(quality: number): Generator {
  const world = new WorldGenerator({ size: 64 });
  return { name: `world@${quality}`, generate: (p: string[], s: number[], o: GenerateOptions = {}) => world.generate(p, s, { ...o, quality }) };
}

describe('measureAcceptance', () => {
  it('the renderer itself scores 1 in every dimension; at quality 0.5 lower in each, ratios in [0, 1]', async () => {
    const opts = { perDimension: 6, heldOut: 8, seed: 3 };
    const same = (await measureAcceptance(renderer(1), opts)).report;
    expect(same.dimensions.map((d) => d.dimension)).toEqual([...DIMENSIONS]);
    for (const d of same.dimensions) {
      expect(d.generator).toBe(d.renderer);
      expect(d.ratio).toBe(1);
      expect(d.inTarget).toBe(false);
    }
    expect(same.content.heldOut.ratio).toBe(1);
    expect(same.content.control.ratio).toBe(1);
    const { report: weak, samples } = await measureAcceptance(renderer(0.5), { ...opts, keepSamples: 2 });
    expect(samples).toHaveLength(2 * 6 + 2 * 2);
    for (const d of weak.dimensions) {
      expect(d.renderer).toBe(same.dimensions.find((x) => x.dimension === d.dimension)!.renderer);
      expect(d.ratio).toBeGreaterThanOrEqual(0);
      expect(d.ratio, d.dimension).toBeLessThan(1);
      expect(d.ratio).toBeCloseTo(d.generator / d.renderer, 12);
      expect(d.inTarget).toBe(d.ratio >= 0.3 && d.ratio <= 0.85);
    }
    expect(weak.content.heldOut.ratio).toBeLessThan(1);
    expect(weak.allInTarget).toBe(weak.dimensions.every((d) => d.inTarget));
    expect(weak).toMatchObject({ format: 'treereward-generator-acceptance/1', perDimension: 6, seedsPerPrompt: 1, seed: 3, target: [0.3, 0.85] });

    // the arithmetic: the mean of the dimension's judge over its first benchmark prompts, same seeds for both
    const change = compareAcceptance(same, weak);
    expect(change.map((c) => c.dimension)).toEqual([...DIMENSIONS, 'held-out content']);
    for (const c of change) expect(c.change).toBeCloseTo(c.tuned - c.base, 12);
    expect(change.every((c) => c.change < 0)).toBe(true);
  });

  it("is each judge's mean on the benchmark prompts, recomputed by hand", async () => {
    const prompts = loadBenchmark().prompts.lighting.slice(0, 3);
    const seen: { prompts: string[]; seeds: number[] }[] = [];
    const recording: Generator = {
      name: 'recording',
      generate: async (p, s, o) => {
        seen.push({ prompts: p, seeds: s });
        return renderer(0.3).generate(p, s, o);
      },
    };
    const { report } = await measureAcceptance(recording, { perDimension: 3, heldOut: 0 });
    const lighting = seen[3];
    expect(lighting.prompts).toEqual(prompts);
    const images = await renderer(0.3).generate(lighting.prompts, lighting.seeds);
    const reference = await new WorldGenerator({ size: 64 }).generate(lighting.prompts, lighting.seeds);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const g = mean(images.map((img, i) => WORLD_JUDGES.lighting.score(img, prompts[i])));
    const r = mean(reference.map((img, i) => WORLD_JUDGES.lighting.score(img, prompts[i])));
    expect(report.dimensions[3]).toMatchObject({ dimension: 'lighting', prompts: 3, generator: g, renderer: r, ratio: g / r });
    expect(report.content.n).toBe(0);
    await expect(measureAcceptance(recording, { perDimension: 101 })).rejects.toThrow('Expected an integer in [1, 100] for perDimension but received 101');
  });
});

describe('generator data', () => {
  it('pretraining examples: deterministic, never a held-out combination or a benchmark prompt', () => {
    for (let i = 0; i < 150; i++) {
      const e = pretrainExample(7, i, 16);
      expect(parsePrompt(e.prompt).objects.some(isHeldOutCombo), e.prompt).toBe(false);
      expect(isBenchmarkPrompt(e.prompt)).toBe(false);
    }
    const a = pretrainExample(7, 3, 32), b = pretrainExample(7, 3, 32);
    expect(a.prompt).toBe(b.prompt);
    expect(a.image.data).toEqual(b.image.data);
    expect(a.image.width).toBe(32);
  });

  it('held-out prompts name one held-out combination; their controls differ only in its color and hold none', () => {
    const held = heldOutContentPrompts(0, 16);
    expect(held.map((h) => h.combo)).toEqual([...HELD_OUT_COMBOS, ...HELD_OUT_COMBOS]);
    for (const h of held) {
      const p = parsePrompt(h.heldOut), c = parsePrompt(h.control);
      expect(p.objects[0]).toEqual(h.combo);
      expect(p.objects.filter(isHeldOutCombo)).toHaveLength(1);
      expect(c.objects.some(isHeldOutCombo)).toBe(false);
      expect(c.objects[0].shape).toBe(h.combo.shape);
      expect(c.objects[0].color).not.toBe(h.combo.color);
      expect({ ...c, objects: c.objects.slice(1) }).toEqual({ ...p, objects: p.objects.slice(1) });
    }
  });

  it("curated examples are the candidates' best by mean judge score", () => {
    for (let i = 0; i < 4; i++) {
      const e = curatedExample(1, i, 64, { candidates: 3 });
      expect(e.score).toBeGreaterThanOrEqual(e.candidatesMean);
      expect(parsePrompt(e.prompt).objects.some(isHeldOutCombo)).toBe(false);
      expect(isBenchmarkPrompt(e.prompt)).toBe(false);
    }
  });
});

describe('generator configs', () => {
  it('names and custom JSON over a base; errors say what was expected', () => {
    expect(resolveGeneratorConfig('tiny').config.size).toBe(16);
    const custom = resolveGeneratorConfig('{"base": "bench", "size": 32, "unet": {"layers_per_block": 1}}');
    expect(custom.name).toBe('custom');
    expect(custom.config.size).toBe(32);
    expect(custom.config.unet.layers_per_block).toBe(1);
    expect(custom.config.unet.block_out_channels).toEqual([64, 128, 128]);
    expect(() => resolveGeneratorConfig('huge')).toThrow('Expected tiny, world, bench, a JSON object or a JSON file for --config but received "huge"');
    expect(() => resolveGeneratorConfig('{"unets": {}}')).toThrow('Expected only base, size, unet, vae, text, steps and prediction in --config but received unets');
    const spec = generatorSpec(resolveGeneratorConfig('world').config, { scalingFactor: 0.5 });
    expect(spec.unet.config!.cross_attention_dim).toBe(64);
    expect(spec.vae.config!.scaling_factor).toBe(0.5);
    expect((spec.textEncoder.config as { vocab_size: number }).vocab_size).toBe((spec.tokenizer.config as { words: string[] }).words.length + 4);
  });

  it('the UNet predicts v unless a config says epsilon; the model directory carries the choice', () => {
    expect(generatorSpec(resolveGeneratorConfig('world').config).scheduler.predictionType).toBe('v_prediction');
    expect(generatorSpec(resolveGeneratorConfig('tiny').config).scheduler.predictionType).toBe('v_prediction');
    const eps = resolveGeneratorConfig('{"base": "tiny", "prediction": "epsilon"}').config;
    expect(eps.prediction).toBe('epsilon');
    expect(generatorSpec(eps).scheduler.predictionType).toBe('epsilon');
    expect(() => resolveGeneratorConfig('{"prediction": "noise"}')).toThrow('Expected one of v_prediction, epsilon for --config\'s prediction but received "noise"');
  });
});
