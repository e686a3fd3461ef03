// clip.test.ts: the CLIP text encoder (HF CLIPTextModel) and vision tower (HF CLIPVisionModel), which
// have no PyTorch peer: HF's parameter names, shapes, causality and padding, EOS pooling, a float64
// reference composed here from the tested ops (F.*) against the native float32 forward and gradients,
// central finite differences of the reference in float64, checkpointing, strict loads of synthetic
// checkpoints in HF's key layout, and CLIP score.
import { describe, expect, it } from 'vitest';

import { F, Rng, tensor, Tensor, tidy } from '../../src/index.js';
import { ClipModel, ClipTextEncoder, ClipVisionEncoder } from '../../src/models/clip.js';
import { CLIP_TEXT_PRESETS, parseClipTextConfig, type ClipTextConfig, type ClipVisionConfig } from '../../src/models/clip-configs.js';
import { expectClose } from '../helpers/gradcheck.js';

type Params = Map<string, Tensor>;

// ---- the float64 reference: HF modeling_clip written out with F.* ----

function refLayer(p: Params, pre: string, x: Tensor, mask: Tensor | null, heads: number, act: string, eps: number): Tensor {
  const [B, N, D] = x.shape, d = D / heads;
  const w = (n: string): Tensor => p.get(pre + n)!;
  const split = (t: Tensor): Tensor => t.reshape([B, N, heads, d]).permute([0, 2, 1, 3]);
  let h = F.layerNorm(x, [D], w('layer_norm1.weight'), w('layer_norm1.bias'), eps);
  const q = split(F.linear(h, w('self_attn.q_proj.weight'), w('self_attn.q_proj.bias')));
  const k = split(F.linear(h, w('self_attn.k_proj.weight'), w('self_attn.k_proj.bias')));
  const v = split(F.linear(h, w('self_attn.v_proj.weight'), w('self_attn.v_proj.bias')));
  const a = F.attention(q, k, v, { mask }).permute([0, 2, 1, 3]).reshape([B, N, D]);
  const x1 = x.add(F.linear(a, w('self_attn.out_proj.weight'), w('self_attn.out_proj.bias')));
  h = F.linear(F.layerNorm(x1, [D], w('layer_norm2.weight'), w('layer_norm2.bias'), eps), w('mlp.fc1.weight'), w('mlp.fc1.bias'));
  h = act === 'quick_gelu' ? h.mul(h.mul(1.702).sigmoid()) : h.gelu();
  return x1.add(F.linear(h, w('mlp.fc2.weight'), w('mlp.fc2.bias')));
}

function refText(p: Params, c: ClipTextConfig, ids: Tensor, padding: number[] | null): { hidden: Tensor; pooled: Tensor } {
  const [B, T] = ids.shape, D = c.hidden_size;
  let x = F.embedding(p.get('text_model.embeddings.token_embedding.weight')!, ids)
    .add(p.get('text_model.embeddings.position_embedding.weight')!.slice(0, 0, T));
  const m = new Float64Array(B * T * T);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < T; i++)
      for (let j = 0; j < T; j++) m[(b * T + i) * T + j] = (j > i ? -1e9 : 0) + (padding && padding[b * T + j] === 0 ? -1e9 : 0);
  const mask = tensor(m, [B, 1, T, T], { dtype: 'float64' });
  for (let l = 0; l < c.num_hidden_layers; l++) x = refLayer(p, `text_model.encoder.layers.${l}.`, x, mask, c.num_attention_heads, c.hidden_act, c.layer_norm_eps);
  const hidden = F.layerNorm(x, [D], p.get('text_model.final_layer_norm.weight'), p.get('text_model.final_layer_norm.bias'), c.layer_norm_eps);
  const v = ids.toArray(), rows: Tensor[] = [];
  for (let b = 0; b < B; b++) {
    let at = 0;
    for (let t = 1; t < T; t++) if (v[b * T + t] > v[b * T + at]) at = t;
    rows.push(hidden.slice(0, b, b + 1).slice(1, at, at + 1).reshape([1, D]));
  }
  return { hidden, pooled: F.concat(rows, 0) };
}

function refVision(p: Params, c: ClipVisionConfig, image: Tensor): { hidden: Tensor; pooled: Tensor } {
  const B = image.shape[0], D = c.hidden_size, e = 'vision_model.embeddings.';
  const patches = F.conv2d(image, p.get(e + 'patch_embedding.weight')!, null, { stride: c.patch_size }).reshape([B, D, -1]).transpose(1, 2);
  const cls = p.get(e + 'class_embedding')!.reshape([1, 1, D]).expand([B, 1, D]);
  let x = F.concat([cls, patches], 1).add(p.get(e + 'position_embedding.weight')!);
  x = F.layerNorm(x, [D], p.get('vision_model.pre_layrnorm.weight'), p.get('vision_model.pre_layrnorm.bias'), c.layer_norm_eps);
  for (let l = 0; l < c.num_hidden_layers; l++) x = refLayer(p, `vision_model.encoder.layers.${l}.`, x, null, c.num_attention_heads, c.hidden_act, c.layer_norm_eps);
  const pooled = F.layerNorm(x.slice(1, 0, 1).reshape([B, D]), [D], p.get('vision_model.post_layernorm.weight'), p.get('vision_model.post_layernorm.bias'), c.layer_norm_eps);
  return { hidden: x, pooled };
}

/** float64 copies of a model's parameters that require grad, with non-trivial norm scales and biases. */
function float64Params(params: Params): Params {
  return new Map([...params].map(([k, v]) => [k, v.detach().to('float64').requiresGrad_()]));
}

// ---- inputs ----

const TEXT = parseClipTextConfig('tiny');
const ids = (): Tensor => tensor(new Int32Array([49, 7, 301, 999, 0, 0, 0, 0, 49, 12, 13, 14, 15, 999, 0, 0]), [2, 8], { dtype: 'int32' });
const idsMask = [1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0];

/** The model's weights with every 1-D parameter (norm scales, biases) drawn around its default, as the peer does, so a mis-wired norm or bias cannot hide. */
function randomWeights(params: Params, seed: number): Map<string, Tensor> {
  const rng = new Rng(seed);
  return new Map([...params].map(([k, v]) => [k, v.rank === 1 && !k.endsWith('class_embedding') ? rng.randn(v.shape).mul(0.1).add(k.includes('norm') && k.endsWith('weight') ? 1 : 0) : v.detach().clone()]));
}

describe('CLIP text encoder', () => {
  it("names its parameters as HF's CLIPTextModel", () => {
    const m = new ClipTextEncoder('tiny', 0);
    const names = [...m.parameters().keys()];
    for (const n of ['text_model.embeddings.token_embedding.weight', 'text_model.embeddings.position_embedding.weight',
      'text_model.encoder.layers.1.self_attn.q_proj.weight', 'text_model.encoder.layers.1.self_attn.out_proj.bias',
      'text_model.encoder.layers.0.layer_norm1.weight', 'text_model.encoder.layers.0.mlp.fc2.weight', 'text_model.final_layer_norm.bias']) {
      expect(names).toContain(n);
    }
    expect(names.length).toBe(2 + 2 * 16 + 2);
    expect(names.some((n) => n.startsWith('text_projection'))).toBe(false);
    const sd15 = parseClipTextConfig('sd15');
    expect(sd15).toMatchObject({ vocab_size: 49408, max_position_embeddings: 77, hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, hidden_act: 'quick_gelu' });
    m.dispose();
  });

  it('returns last_hidden_state (B, T, D) and the EOS row as pooled', () => {
    const m = new ClipTextEncoder('tiny', 0);
    tidy(() => {
      const out = m.forward(ids());
      expect(out.lastHiddenState.shape).toEqual([2, 8, 32]);
      expect(out.pooled.shape).toEqual([2, 32]);
      expect(out.textEmbeds).toBeNull();
      // argmax of the ids: 999 at positions 3 and 5
      expect(Array.from(out.pooled.slice(0, 0, 1).toArray())).toEqual(Array.from(out.lastHiddenState.slice(0, 0, 1).slice(1, 3, 4).contiguous().toArray()));
      expect(Array.from(out.pooled.slice(0, 1, 2).toArray())).toEqual(Array.from(out.lastHiddenState.slice(0, 1, 2).slice(1, 5, 6).contiguous().toArray()));
    });
    const eos = new ClipTextEncoder({ ...CLIP_TEXT_PRESETS.tiny, eos_token_id: 0 }, 0);
    tidy(() => {
      const out = eos.forward(ids());  // the first 0: positions 4 and 6
      expect(Array.from(out.pooled.slice(0, 1, 2).toArray())).toEqual(Array.from(out.lastHiddenState.slice(0, 1, 2).slice(1, 6, 7).contiguous().toArray()));
      expect(() => eos.forward(tensor(new Int32Array([1, 2, 3]), [1, 3], { dtype: 'int32' }))).toThrow(
        'Expected the eos token 0 in every row for ids but received none in row 0',
      );
    });
    m.dispose();
    eos.dispose();
  });

  it('is causal: a later token never changes an earlier output', () => {
    const m = new ClipTextEncoder('tiny', 0);
    tidy(() => {
      const a = m.forward(ids()).lastHiddenState.toArray();
      const changed = ids().toArray() as Int32Array;
      changed[5] = 500;  // row 0, position 5
      const b = m.forward(tensor(changed, [2, 8], { dtype: 'int32' })).lastHiddenState.toArray();
      const D = 32, T = 8;
      for (let t = 0; t < T; t++) {
        const same = a.slice(t * D, (t + 1) * D).every((v, i) => v === b[t * D + i]);
        expect(same, `row 0, position ${t}`).toBe(t < 5);
      }
      expect(Array.from(a.slice(T * D))).toEqual(Array.from(b.slice(T * D)));  // row 1 untouched
    });
    m.dispose();
  });

  it('masks padding: a padded token changes no other position', () => {
    const m = new ClipTextEncoder('tiny', 0);
    const mask = tensor(idsMask, [2, 8]);
    tidy(() => {
      const a = m.forward(ids(), { mask }).lastHiddenState.toArray();
      const changed = ids().toArray() as Int32Array;
      changed[8 + 6] = 777;  // row 1, position 6: padding
      const b = m.forward(tensor(changed, [2, 8], { dtype: 'int32' }), { mask }).lastHiddenState.toArray();
      for (let t = 0; t < 8; t++) {
        const at = (8 + t) * 32;
        const same = a.slice(at, at + 32).every((v, i) => v === b[at + i]);
        expect(same, `row 1, position ${t}`).toBe(t !== 6);
      }
    });
    m.dispose();
  });

  it('matches a float64 reference in forward and gradients; the reference matches finite differences', () => {
    const m = new ClipTextEncoder('tiny', 0);
    m.loadStateDict(randomWeights(m.parameters(), 21));
    const ref = float64Params(m.parameters());
    const mask = tensor(idsMask, [2, 8]);
    const rng = new Rng(5);
    const W = rng.randn([2, 8, 32], { dtype: 'float64' }), W2 = rng.randn([2, 32], { dtype: 'float64' });
    // L = sum(hidden * W) + sum(pooled * W2)
    const loss = (h: Tensor, p: Tensor): Tensor => h.mul(W.to(h.dtype)).sum().add(p.mul(W2.to(p.dtype)).sum());
    tidy(() => {
      const out = m.forward(ids(), { mask });
      const want = refText(ref, TEXT, ids(), idsMask);
      expectClose(out.lastHiddenState.toArray(), want.hidden.toArray(), 1e-4, 1e-5, 'last_hidden_state vs float64');
      expectClose(out.pooled.toArray(), want.pooled.toArray(), 1e-4, 1e-5, 'pooled vs float64');
      loss(out.lastHiddenState, out.pooled).backward();
      loss(want.hidden, want.pooled).backward();
    });
    const checked = ['text_model.embeddings.token_embedding.weight', 'text_model.embeddings.position_embedding.weight',
      'text_model.encoder.layers.0.self_attn.q_proj.weight', 'text_model.encoder.layers.0.self_attn.v_proj.bias',
      'text_model.encoder.layers.1.mlp.fc1.weight', 'text_model.encoder.layers.1.layer_norm2.weight', 'text_model.final_layer_norm.bias'];
    for (const name of checked) {
      const g = ref.get(name)!.grad!.toArray(), scale = Math.max(...Array.from(g, Math.abs));
      expectClose(m.parameters().get(name)!.grad!.toArray(), g, 1e-3, 1e-4 * scale, `${name} gradient vs float64`);
    }
    // central differences of the float64 reference, a few elements per parameter
    const h = 1e-5;
    for (const name of checked.slice(2)) {
      const p = ref.get(name)!, g = p.grad!.toArray();
      for (const i of [0, 7, Math.floor(p.numel / 2)]) {
        const at = (delta: number): number => tidy(() => {
          const v = p.detach().toArray() as Float64Array;
          v[i] += delta;
          const q = new Map(ref);
          q.set(name, tensor(v, p.shape, { dtype: 'float64' }));
          const o = refText(q, TEXT, ids(), idsMask);
          return loss(o.hidden, o.pooled).item();
        });
        const fd = (at(h) - at(-h)) / (2 * h);
        expect(Math.abs(fd - g[i]), `${name}[${i}]: finite difference ${fd}, autograd ${g[i]}`).toBeLessThan(1e-6 + 1e-5 * Math.abs(fd));
      }
    }
    m.dispose();
  });

  it('checkpointing gives the same outputs and gradients', () => {
    const m = new ClipTextEncoder('tiny', 0);
    const mask = tensor(idsMask, [2, 8]);
    const run = (checkpointing: boolean): number[][] => {
      for (const p of m.parameters().values()) p.grad = null;
      tidy(() => {
        const o = m.forward(ids(), { mask, checkpointing });
        o.lastHiddenState.sum().add(o.pooled.sum()).backward();
      });
      return [...m.parameters().values()].map((p) => Array.from(p.grad!.toArray()));
    };
    const plain = run(false), ckpt = run(true);
    plain.forEach((g, i) => expectClose(ckpt[i], g, 1e-6, 1e-7, `parameter ${i}`));
    m.dispose();
  });

  it('loads a synthetic checkpoint in the HF key layout strictly', () => {
    const source = new ClipTextEncoder('tiny', 3);
    const ckpt = new Map([...source.parameters()].map(([k, v]) => [k, v.detach().clone()]));
    ckpt.set('text_model.embeddings.position_ids', tensor(new Int32Array(16).map((_, i) => i), [1, 16], { dtype: 'int32' }));
    const m = new ClipTextEncoder('tiny', 0);
    expect(m.loadStateDict(ckpt)).toMatchObject({ missing: [], unexpected: [], mismatched: [], loaded: ckpt.size - 1 });
    tidy(() => {
      expect(Array.from(m.forward(ids()).pooled.toArray())).toEqual(Array.from(source.forward(ids()).pooled.toArray()));
    });
    const nested = new Map([...ckpt].map(([k, v]) => [`text_encoder.${k}`, v]));
    expect(m.loadStateDict(nested, { prefix: 'text_encoder.' }).loaded).toBe(ckpt.size - 1);
    ckpt.delete('text_model.final_layer_norm.bias');
    expect(() => m.loadStateDict(ckpt)).toThrow("Expected weights matching the clip_text model's parameters but found: missing 1 (text_model.final_layer_norm.bias)");
    m.dispose();
    source.dispose();
  });

  it('checks its config and inputs', () => {
    expect(() => new ClipTextEncoder({ ...CLIP_TEXT_PRESETS.tiny, num_attention_heads: 5 })).toThrow(
      'Expected a multiple of config.num_attention_heads (5) for config.hidden_size but received 32',
    );
    expect(() => new ClipTextEncoder({ ...CLIP_TEXT_PRESETS.tiny, hidden_act: 'relu' } as never)).toThrow(
      'Expected one of "quick_gelu", "gelu" for config.hidden_act but received "relu"',
    );
    const m = new ClipTextEncoder('tiny', 0);
    expect(() => m.forward(tensor(new Int32Array(17), [1, 17], { dtype: 'int32' }))).toThrow(
      'Expected a tensor of shape [B, T] with 1 <= T <= 16 for ids but received [1, 17]',
    );
    expect(() => m.forward(tensor(new Int32Array([5, 1000]), [1, 2], { dtype: 'int32' }))).toThrow('Expected token ids in [0, 1000) for ids[0][1] but received 1000');
    m.dispose();
  });
});

describe('CLIP vision tower and CLIP score', () => {
  it("names its parameters as HF's CLIPVisionModel and matches a float64 reference", () => {
    const m = new ClipVisionEncoder('tiny', 0);
    const names = [...m.parameters().keys()];
    for (const n of ['vision_model.embeddings.class_embedding', 'vision_model.embeddings.patch_embedding.weight', 'vision_model.embeddings.position_embedding.weight',
      'vision_model.pre_layrnorm.weight', 'vision_model.encoder.layers.1.self_attn.v_proj.weight', 'vision_model.post_layernorm.bias']) {
      expect(names).toContain(n);
    }
    expect(names).not.toContain('vision_model.embeddings.patch_embedding.bias');
    m.loadStateDict(randomWeights(m.parameters(), 8));
    const ref = float64Params(m.parameters());
    const image = new Rng(2).randn([2, 3, 16, 16]);
    const W = new Rng(4).randn([2, 17, 32], { dtype: 'float64' });
    tidy(() => {
      const out = m.forward(image);
      expect(out.lastHiddenState.shape).toEqual([2, 17, 32]);
      expect(out.imageEmbeds).toBeNull();
      const want = refVision(ref, m.config, image.to('float64'));
      expectClose(out.lastHiddenState.toArray(), want.hidden.toArray(), 1e-4, 1e-5, 'vision last_hidden_state vs float64');
      expectClose(out.pooled.toArray(), want.pooled.toArray(), 1e-4, 1e-5, 'vision pooled vs float64');
      out.lastHiddenState.mul(W.to('float32')).sum().add(out.pooled.sum()).backward();
      want.hidden.mul(W).sum().add(want.pooled.sum()).backward();
    });
    for (const name of ['vision_model.embeddings.class_embedding', 'vision_model.embeddings.patch_embedding.weight', 'vision_model.pre_layrnorm.bias',
      'vision_model.encoder.layers.0.mlp.fc2.weight', 'vision_model.post_layernorm.weight']) {
      const g = ref.get(name)!.grad!.toArray(), scale = Math.max(...Array.from(g, Math.abs));
      expectClose(m.parameters().get(name)!.grad!.toArray(), g, 1e-3, 1e-4 * scale, `${name} gradient vs float64`);
    }
    m.dispose();
  });

  it('loads an HF CLIPModel state dict and computes CLIP score = max(100 cos, 0)', () => {
    const source = new ClipModel('tiny', 5);
    const ckpt = new Map<string, Tensor>();
    for (const part of [source.text, source.vision]) for (const [k, v] of part.parameters()) ckpt.set(k, v.detach().clone());
    ckpt.set('logit_scale', tensor([2.5], []));
    ckpt.set('text_model.embeddings.position_ids', tensor(new Int32Array(16), [1, 16], { dtype: 'int32' }));
    ckpt.set('vision_model.embeddings.position_ids', tensor(new Int32Array(17), [1, 17], { dtype: 'int32' }));
    const clip = new ClipModel('tiny', 0);
    const report = clip.loadStateDict(ckpt);
    expect(report.unexpected).toEqual([]);
    expect(report.text).toMatchObject({ missing: [], unexpected: [], mismatched: [] });
    expect(report.vision).toMatchObject({ missing: [], unexpected: [], mismatched: [] });
    expect(clip.text.parameters().has('text_projection.weight')).toBe(true);
    expect(clip.vision.parameters().has('visual_projection.weight')).toBe(true);
    expect(clip.logitScale).toBe(2.5);
    const pixels = new Rng(9).randn([2, 3, 16, 16]).requiresGrad_();
    tidy(() => {
      const score = clip.clipScore(pixels, ids());
      expect(score.shape).toEqual([2]);
      const img = clip.vision.forward(pixels).imageEmbeds!.toArray(), txt = clip.text.forward(ids()).textEmbeds!.toArray();
      const want = [0, 1].map((b) => {
        let dot = 0, ni = 0, nt = 0;
        for (let j = 0; j < 16; j++) {
          dot += img[b * 16 + j] * txt[b * 16 + j];
          ni += img[b * 16 + j] ** 2;
          nt += txt[b * 16 + j] ** 2;
        }
        return Math.max(100 * dot / Math.sqrt(ni * nt), 0);
      });
      expectClose(score.toArray(), want, 1e-5, 1e-5, 'CLIP score');
      clip.clipScore(pixels, ids()).sum().backward();
    });
    const g = pixels.grad!.toArray();
    expect(g.every(Number.isFinite)).toBe(true);
    ckpt.set('extra.weight', tensor([1], [1]));
    expect(() => clip.loadStateDict(ckpt)).toThrow("Expected a CLIPModel state dict ('text_model.*', 'vision_model.*', projections, logit_scale) but found 1 other entries (extra.weight)");
    clip.dispose();
    source.dispose();
  });
});
