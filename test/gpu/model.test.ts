// model.test.ts: a tiny UNet, forward and backward, on cpu and on cuda from the same weights and inputs:
// the outputs, the input gradient and every weight gradient agree. The UNet is composed here from the
// ops the models use (SD1.5's topology at toy size, as the 'tiny' preset: channels [16, 32], groups 4,
// resnets with a time embedding, a transformer with self and cross attention at each level, a strided
// conv down, nearest upsampling up, skip concatenation), so it runs the whole op mix of a UNet step on
// the GPU with its parameters created on either device. Skipped where no GPU is visible.
import { describe, it } from 'vitest';

import { F, hasCuda, Rng, tidy, type Tensor } from '../../src/index.js';
import { expectNear, host, leaf } from './helpers.js';

const C0 = 16, C1 = 32, G = 4, HEADS = 2, CTX = 24, TEMB = 32;

/** Parameter shapes by name (diffusers-like names). */
function shapes(): Record<string, number[]> {
  const s: Record<string, number[]> = {};
  const conv = (n: string, cin: number, cout: number, k = 3) => {
    s[`${n}.weight`] = [cout, cin, k, k];
    s[`${n}.bias`] = [cout];
  };
  const lin = (n: string, cin: number, cout: number, bias = true) => {
    s[`${n}.weight`] = [cout, cin];
    if (bias) s[`${n}.bias`] = [cout];
  };
  const norm = (n: string, c: number) => {
    s[`${n}.weight`] = [c];
    s[`${n}.bias`] = [c];
  };
  const resnet = (n: string, cin: number, cout: number) => {
    norm(`${n}.norm1`, cin);
    conv(`${n}.conv1`, cin, cout);
    lin(`${n}.time_emb_proj`, TEMB, cout);
    norm(`${n}.norm2`, cout);
    conv(`${n}.conv2`, cout, cout);
    if (cin !== cout) conv(`${n}.conv_shortcut`, cin, cout, 1);
  };
  const transformer = (n: string, c: number) => {
    norm(`${n}.norm`, c);
    lin(`${n}.proj_in`, c, c);
    for (const a of ['attn1', 'attn2']) {
      norm(`${n}.${a}.norm`, c);
      lin(`${n}.${a}.to_q`, c, c, false);
      lin(`${n}.${a}.to_k`, a === 'attn1' ? c : CTX, c, false);
      lin(`${n}.${a}.to_v`, a === 'attn1' ? c : CTX, c, false);
      lin(`${n}.${a}.to_out`, c, c);
    }
    norm(`${n}.norm3`, c);
    lin(`${n}.ff.proj`, c, 8 * c);
    lin(`${n}.ff.out`, 4 * c, c);
    lin(`${n}.proj_out`, c, c);
  };
  conv('conv_in', 4, C0);
  resnet('down0.resnet', C0, C0);
  transformer('down0.attn', C0);
  conv('down0.downsample', C0, C0);
  resnet('down1.resnet', C0, C1);
  transformer('down1.attn', C1);
  resnet('mid.resnet', C1, C1);
  resnet('up0.resnet', C1 + C1, C1);
  transformer('up0.attn', C1);
  conv('up0.upsample', C1, C1);
  resnet('up1.resnet', C1 + C0, C0);
  transformer('up1.attn', C0);
  norm('norm_out', C0);
  conv('conv_out', C0, 4);
  return s;
}

function unet(P: Record<string, Tensor>, x: Tensor, temb: Tensor, ctx: Tensor): Tensor {
  const conv = (n: string, h: Tensor, stride = 1) => F.conv2d(h, P[`${n}.weight`], P[`${n}.bias`], { stride, padding: P[`${n}.weight`].shape[2] === 3 ? 1 : 0 });
  const lin = (n: string, h: Tensor) => F.linear(h, P[`${n}.weight`], P[`${n}.bias`] ?? null);
  const resnet = (n: string, h: Tensor) => {
    const B = h.shape[0];
    let r = conv(`${n}.conv1`, F.groupNormSilu(h, G, P[`${n}.norm1.weight`], P[`${n}.norm1.bias`]));
    r = r.add(lin(`${n}.time_emb_proj`, temb.silu()).reshape([B, r.shape[1], 1, 1]));
    r = conv(`${n}.conv2`, F.groupNorm(r, G, P[`${n}.norm2.weight`], P[`${n}.norm2.bias`]).silu());
    return (P[`${n}.conv_shortcut.weight`] ? conv(`${n}.conv_shortcut`, h) : h).add(r);
  };
  const attend = (n: string, h: Tensor, context: Tensor | null) => {  // h (B, N, C)
    const [B, N, C] = h.shape, d = C / HEADS;
    const split = (t: Tensor) => t.reshape([B, t.shape[1], HEADS, d]).permute([0, 2, 1, 3]);
    const y = F.layerNorm(h, [C], P[`${n}.norm.weight`], P[`${n}.norm.bias`]);
    const kv = context ?? y;
    const o = F.attention(split(lin(`${n}.to_q`, y)), split(lin(`${n}.to_k`, kv)), split(lin(`${n}.to_v`, kv)));
    return h.add(lin(`${n}.to_out`, o.permute([0, 2, 1, 3]).reshape([B, N, C])));
  };
  const transformer = (n: string, h: Tensor) => {
    const [B, C, H, W] = h.shape;
    let t = F.groupNorm(h, G, P[`${n}.norm.weight`], P[`${n}.norm.bias`]).reshape([B, C, H * W]).permute([0, 2, 1]);
    t = lin(`${n}.proj_in`, t);
    t = attend(`${n}.attn1`, t, null);
    t = attend(`${n}.attn2`, t, ctx);
    t = t.add(lin(`${n}.ff.out`, lin(`${n}.ff.proj`, F.layerNorm(t, [C], P[`${n}.norm3.weight`], P[`${n}.norm3.bias`])).geglu()));
    return h.add(lin(`${n}.proj_out`, t).permute([0, 2, 1]).reshape([B, C, H, W]));
  };
  // 1. in, 2. down, 3. mid, 4. up (skip concatenation), 5. out
  const h0 = conv('conv_in', x);
  const d0 = transformer('down0.attn', resnet('down0.resnet', h0));
  const d1 = transformer('down1.attn', resnet('down1.resnet', conv('down0.downsample', d0, 2)));
  const m = resnet('mid.resnet', d1);
  let u = transformer('up0.attn', resnet('up0.resnet', F.concat([m, d1], 1)));
  u = conv('up0.upsample', F.upsampleNearest2x(u));
  u = transformer('up1.attn', resnet('up1.resnet', F.concat([u, d0], 1)));
  return conv('conv_out', F.groupNorm(u, G, P['norm_out.weight'], P['norm_out.bias']).silu());
}

describe.skipIf(!hasCuda())('a tiny UNet on cuda', () => {
  it('forward and backward agree with the CPU: output, input gradient, every weight gradient', () => {
    tidy(() => {
      const rng = new Rng(600);
      const init: Record<string, Tensor> = {};
      for (const [name, s] of Object.entries(shapes())) init[name] = rng.randn(s).mul(s.length === 1 ? 0.1 : 1 / Math.sqrt(s.slice(1).reduce((a, b) => a * b, 1)));
      const x = rng.randn([2, 4, 8, 8]), temb = rng.randn([2, TEMB]), ctx = rng.randn([2, 7, CTX]), w = rng.randn([2, 4, 8, 8]);
      const run = (device: 'cpu' | 'cuda') => {
        const P: Record<string, Tensor> = {};
        for (const [name, t] of Object.entries(init)) P[name] = leaf(t, 'float32', device);
        const xd = leaf(x, 'float32', device);
        const out = unet(P, xd, temb.to(device), ctx.to(device));
        out.backward(w.to(device));
        const grads: Record<string, Float32Array> = { output: host(out), 'grad.x': host(xd.grad!) };
        for (const [name, p] of Object.entries(P)) grads[`grad.${name}`] = host(p.grad!);
        return grads;
      };
      const want = run('cpu'), got = run('cuda');
      for (const name of Object.keys(want)) expectNear(got[name], want[name], 1e-3, name);
    });
  });
});
