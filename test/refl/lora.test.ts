// lora.test.ts: LoRA adapters on the UNet's transformer projections: rank-r shapes and peft's names,
// base weights independent of the adapters, identity at attach (B = 0), a ReFL run that changes only
// the adapters, and merging (W' = W + (alpha / r) B A) that gives the same outputs; exported safetensors.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { full, noGrad, Rng } from '../../src/index.js';
import { loadDiffusionModel } from '../../src/diffusion/pipeline/model-dir.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { UNet } from '../../src/models/unet.js';
import { attachLora, isLoraParameter, loraParameters, mergedWeights, mergeLora } from '../../src/refl/lora.js';
import { pretrainFromList } from '../../src/refl/pretrain-data.js';
import { runRefl } from '../../src/refl/run-refl.js';
import { expectClose } from '../helpers/gradcheck.js';
import { PROMPTS, pretrainPairs, tempDir, tinyConfig, tinyModel, tinyTree } from './helpers.js';

const LORA = { rank: 2, alpha: 4, targets: ['to_q', 'to_k', 'to_v', 'to_out.0'] as const };

describe('LoRA on the UNet', () => {
  const model = tinyModel(7);
  const base = model.models.unet as UNet;
  const reward = tinyTree(8);
  afterAll(() => {
    model.dispose();
    reward.dispose();
  });
  const ctx = noGrad(() => model.models.textEncoder.encode(model.models.tokenizer.tokenize(PROMPTS.slice(0, 2))));
  const x = new Rng(3).randn([2, 4, 8, 8]);
  const predict = (u: UNet) => noGrad(() => u.forward(x, full([2], 501), ctx));

  it('puts rank-r adapters (A: r x in, B: out x r) on every targeted projection, apart from the base weights', () => {
    const plain = new UNet(base.config, 11), adapted = new UNet(base.config, 11, { lora: LORA });
    const names = [...adapted.parameters().keys()];
    const targeted = [...plain.parameters()].filter(([n]) => /\.attn[12]\.(to_q|to_k|to_v|to_out\.0)\.weight$/.test(n));
    expect(targeted.length).toBe(7 * 2 * 4); // 7 transformers (2 down, 1 mid, 4 up) x 2 attentions x 4 projections
    for (const [n, w] of targeted) {
      const stem = n.replace(/\.weight$/, '');
      const A = adapted.parameters().get(`${stem}.lora_A.weight`)!, B = adapted.parameters().get(`${stem}.lora_B.weight`)!;
      expect(A.shape).toEqual([2, w.shape[1]]);
      expect(B.shape).toEqual([w.shape[0], 2]);
      expect(Math.max(...Array.from(B.toArray()).map(Math.abs))).toBe(0);
    }
    expect(names.filter(isLoraParameter).length).toBe(2 * targeted.length);
    // the base weights of a seed are the same with or without adapters
    for (const [n, w] of plain.parameters()) expect(Array.from(adapted.parameters().get(n)!.toArray()), n).toEqual(Array.from(w.toArray()));
    plain.dispose();
    adapted.dispose();
  });

  it('rejects an unknown projection by name', () => {
    expect(() => new UNet(base.config, 0, { lora: { rank: 2, alpha: 2, targets: ['to_x' as never] } })).toThrow(
      'Expected one of to_q, to_k, to_v, to_out.0, ff.net.0.proj, ff.net.2 for options.lora.targets[0] but received "to_x"',
    );
    expect(() => new UNet(base.config, 0, { lora: { rank: 0, alpha: 2, targets: ['to_q'] } })).toThrow('Expected an integer >= 1 for options.lora.rank but received 0');
  });

  it('attached to a trained UNet, computes what it computes', () => {
    const adapted = attachLora(base, LORA, 1);
    expect(Array.from(predict(adapted).toArray())).toEqual(Array.from(predict(base).toArray()));
    adapted.dispose();
  });

  it('a ReFL run trains only the adapters, and the merged model gives the adapted outputs', async () => {
    const before = new Map([...base.parameters()].map(([n, p]) => [n, Float32Array.from(p.toArray())]));
    const out = tempDir('lora');
    const result = await runRefl(tinyConfig(out, { steps: 2, train: { target: 'lora', lora: { rank: 2, alpha: 4 }, learningRate: 5e-3 }, saveModel: true }), {
      model, reward, prompts: PROMPTS, pretrain: pretrainFromList(pretrainPairs()),
    });
    // the generator handed in is untouched (the adapters train on a copy)
    for (const [n, p] of base.parameters()) expect(Array.from(p.toArray()), n).toEqual(Array.from(before.get(n)!));
    // only adapters were trainable, checkpointed and exported
    const probe = attachLora(base, LORA);
    const adapterCount = [...loraParameters(probe)].reduce((n, [, p]) => n + p.numel, 0);
    probe.dispose();
    expect(result.trainableParameters).toBe(adapterCount);
    const ckpt = readSafetensors(join(result.lastCheckpoint!, 'weights.safetensors'));
    expect([...ckpt.tensors.keys()].every((n) => n.startsWith('unet.') && isLoraParameter(n))).toBe(true);
    const file = readSafetensors(result.loraFile!);
    expect(file.metadata).toMatchObject({ format: 'treereward-lora', rank: '2', alpha: '4', targets: 'to_q,to_k,to_v,to_out.0' });
    expect(file.tensors.size).toBe(2 * 56);
    const bMax = Math.max(...[...file.tensors].filter(([n]) => n.includes('lora_B')).map(([, t]) => Math.max(...Array.from(t.toArray()).map(Math.abs))));
    expect(bMax).toBeGreaterThan(0);
    // the base UNet + the exported adapters == the saved (merged) model, weight by weight and in outputs
    const rebuilt = attachLora(base, LORA);
    rebuilt.loadStateDict(new Map([...file.tensors].map(([n, t]) => [n.slice('unet.'.length), t])), { strict: false });
    const saved = loadDiffusionModel(result.modelDir!);
    const savedUnet = saved.models.unet as UNet;
    const merged = mergedWeights(rebuilt);
    for (const [n, w] of merged) expectClose(savedUnet.parameters().get(n)!.toArray(), w.toArray(), 1e-6, 1e-7, n);
    for (const t of merged.values()) t.dispose();
    const plain = mergeLora(rebuilt);
    const adaptedOut = predict(rebuilt).toArray();
    expectClose(predict(plain).toArray(), adaptedOut, 1e-4, 1e-5, 'merged vs adapted UNet');
    expectClose(predict(savedUnet).toArray(), adaptedOut, 1e-4, 1e-5, 'saved model vs adapted UNet');
    const baseOut = predict(base).toArray();
    expect(Math.max(...Array.from(adaptedOut, (v, i) => Math.abs(v - baseOut[i])))).toBeGreaterThan(1e-6); // the adapters did something
    plain.dispose();
    rebuilt.dispose();
    saved.dispose();
  });
});
