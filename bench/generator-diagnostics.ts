// generator-diagnostics.ts: how much a diffusion model directory reads its prompt, the figures in
// assets/README.md ("why the base generator misses"):
//   npx tsx bench/generator-diagnostics.ts [--model assets/world-generator] [--guidance 1,2,3] [--per-dim 6] [--clip X]
// 1. the UNet's noise prediction for one noisy latent under two different prompts: relative L2 change
//    at t = 900, 500, 100; 2. the spread of sampled latents (guidance 1, 50 DDIM steps) against the
//    VAE's latents of training renders (an epsilon UNet whose high-noise error blows up its x0
//    estimate samples latents several times too spread, see generatorScheduler); 3. the mean RGB of a sample (guidance 1) per palette word and the empty
//    prompt, two seeds; 4. the acceptance ratios per dimension at each guidance scale (with --clip, the
//    sampler clamps its x0 estimate to [-X, X], diffusers' clip_sample).
import { parseArgs } from 'node:util';

import { noGrad, Rng, tensor, tidy } from '../src/index.js';
import { measureAcceptance } from '../src/assets/generator-acceptance.js';
import { loadDiffusionModel } from '../src/diffusion/pipeline/model-dir.js';
import { pretrainExample } from '../src/assets/generator-data.js';
import { imagesToPixels } from '../src/diffusion/pipeline/rgb-images.js';
import { sampleLatents } from '../src/diffusion/sampling/sample-latents.js';
import { createScheduler } from '../src/diffusion/schedulers/index.js';
import { sampleStd } from '../src/eval/stats.js';

const { values } = parseArgs({ options: { model: { type: 'string', default: 'assets/world-generator' }, guidance: { type: 'string', default: '1,2,3' }, 'per-dim': { type: 'string', default: '6' }, clip: { type: 'string' } } });
const clipSample = values.clip === undefined ? null : Number(values.clip);
const model = loadDiffusionModel(values.model!);
const { unet, textEncoder, tokenizer } = model.models;

const states = noGrad(() => textEncoder.encode(tokenizer.tokenize(['a red star, warm palette', 'a blue circle, monochrome palette'])));
const x = new Rng(3).randn([1, 4, 16, 16]);
for (const t of [900, 500, 100]) {
  const change = noGrad(() => tidy(() => {
    const at = tensor(new Float32Array([t]), [1]);
    const a = unet.forward(x, at, states.slice(0, 0, 1)), b = unet.forward(x, at, states.slice(0, 1, 2));
    return Math.sqrt(a.sub(b).pow(2).sum().item() / a.pow(2).sum().item());
  }));
  console.log(`t ${t}: noise prediction changes by ${(100 * change).toFixed(1)}% between the two prompts`);
}

const pipeline = model.pipeline();
const spread = (t: { toArray(): ArrayLike<number> }) => sampleStd(Array.from(t.toArray()))!;
const renders = Array.from({ length: 16 }, (_, i) => pretrainExample(777, i, pipeline.size));
const pixels = imagesToPixels(renders.map((e) => e.image));
const encoded = pipeline.encodePixels(pixels);
const cond = noGrad(() => textEncoder.encode(tokenizer.tokenize(renders.map((e) => e.prompt))));
const sampled = await sampleLatents({
  unet, scheduler: createScheduler(model.spec.scheduler), cond, guidanceScale: 1, seeds: renders.map((_, i) => i + 1),
  latentShape: [encoded.shape[1], encoded.shape[2], encoded.shape[3]], steps: 50,
});
console.log(`latent std: VAE of training renders ${spread(encoded).toFixed(3)}, sampled (${model.spec.scheduler.predictionType}) ${spread(sampled).toFixed(3)}`);
for (const t of [pixels, encoded, cond, sampled]) t.dispose();
const prompts = ['a red star, warm palette', 'a red star, cool palette', 'a blue circle, monochrome palette', 'a green square, pastel palette', ''];
const images = await pipeline.generate(prompts.flatMap((p) => [p, p]), prompts.flatMap(() => [1, 2]), { guidanceScale: 1 });
images.forEach((im, i) => {
  const m = [0, 0, 0];
  for (let p = 0; p < im.width * im.height; p++) for (let c = 0; c < 3; c++) m[c] += im.data[3 * p + c] / (im.width * im.height);
  console.log(`${JSON.stringify(prompts[i >> 1])} seed ${1 + (i & 1)}: mean rgb ${m.map((v) => v.toFixed(0)).join(',')}`);
});

for (const g of values.guidance!.split(',').map(Number)) {
  const { report } = await measureAcceptance(pipeline, { perDimension: Number(values['per-dim']), heldOut: 0, generate: { guidanceScale: g, steps: 20, scheduler: { clipSample } } });
  console.log(`guidance ${g}${clipSample === null ? '' : `, x0 clamped to +-${clipSample}`}: ${report.dimensions.map((d) => `${d.dimension} ${(100 * d.ratio).toFixed(1)}%`).join(', ')}`);
}
model.dispose();
