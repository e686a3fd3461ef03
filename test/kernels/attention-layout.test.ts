// attention-layout.test.ts: the fused attention reads q, k, v (and dO) in place with any strides for
// batch, head and row, and writes its output in the layout of q (dq, dk, dv contiguous: the autograd
// engine would copy a gradient in another layout; the models' attention_heads writes them as tokens).
// On the models' head split, (B, S, H, D) buffers seen as (B, H, S, D), results are bit-identical to
// those on contiguous copies (float32 fast path, bf16 path, float64 plain loops; self and cross, with a
// mask, odd sizes), the output's permute back to (B, S, H, D) is contiguous (so the merge of the heads
// is a view), and memory stays linear. (attention_heads itself: the model tests against PyTorch.)
import { describe, expect, it } from 'vitest';

import { F, memoryStats, resetPeakMemory, Rng, tidy, type Tensor } from '../../src/index.js';

type DType = 'float32' | 'bfloat16' | 'float64';
const toHeads = [0, 2, 1, 3]; // (B, S, H, D) <-> (B, H, S, D)
// bf16 forced through the float32 op (on contiguous float32 copies) gives a contiguous output.
const bf16ViaF32 = process.env.TREEREWARD_ATTENTION === 'plain';

function expectSame(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  let bad = -1;
  for (let i = 0; i < want.length && bad < 0; i++) if (!Object.is(got[i], want[i])) bad = i;
  expect(bad < 0 ? 'identical' : `differs at ${bad}: ${got[bad]} vs ${want[bad]}`, what).toBe('identical');
}

// `view` makes a (B, H, S, D) input from a (B, S, H, D) leaf.
interface Layout {
  name: string;
  view: (x: Tensor) => Tensor;
  permuted: boolean; // whether the output is expected in (B, S, H, D) layout
}
const layouts: Layout[] = [
  { name: 'head split (permuted view)', view: (x) => x.permute(toHeads), permuted: true },
  // a slice of a wider row, as of a packed projection: row stride 2 H D
  {
    name: 'slice of a packed row',
    view: (x) => {
      const [B, S, H, D] = x.shape;
      return x.unsqueeze(3).expand([B, S, H, 2, D]).reshape([B, S, H, 2 * D]).slice(3, 0, D).permute(toHeads);
    },
    permuted: true,
  },
  // D not contiguous: read through a contiguous copy
  { name: 'transposed rows (D strided)', view: (x) => x.permute([0, 2, 3, 1]).contiguous().permute([0, 1, 3, 2]), permuted: false },
];

function compare(B: number, H: number, Sq: number, Skv: number, D: number, masked: boolean, dtype: DType, layout: Layout, seed: number): void {
  tidy(() => {
    const rng = new Rng(seed);
    const base = [[B, Sq, H, D], [B, Skv, H, D], [B, Skv, H, D]].map((s) => rng.randn(s).to(dtype));
    const mask = masked ? rng.randn([B, 1, Sq, Skv]).mul(2).to(dtype) : null;
    const w = rng.randn([B, Sq, H, D]).to(dtype); // the output's gradient, read in (B, S, H, D) layout on the views
    const tag = `${dtype} ${layout.name} B${B} H${H} Sq${Sq} Skv${Skv} D${D}${masked ? ' masked' : ''}`;
    // on the views: leaves (B, S, H, D); on the copies: leaves (B, H, S, D)
    const leaves = base.map((t) => t.detach().requiresGrad_());
    const views = leaves.map((t) => layout.view(t));
    const o = F.attention(views[0], views[1], views[2], { mask });
    if (layout.permuted && !(dtype === 'bfloat16' && bf16ViaF32)) {
      expect(o.isContiguous, `${tag}: output not contiguous (B, H, S, D)`).toBe(false);
      expect(o.permute(toHeads).isContiguous, `${tag}: output in (B, S, H, D) layout`).toBe(true);
    } else if (!layout.permuted) {
      expect(o.isContiguous, `${tag}: output contiguous`).toBe(true);
    }
    o.backward(w.permute(toHeads));
    const copies = base.map((t) => t.permute(toHeads).contiguous().detach().requiresGrad_());
    const oc = F.attention(copies[0], copies[1], copies[2], { mask });
    expect(oc.isContiguous).toBe(true);
    oc.backward(w.permute(toHeads).contiguous());
    expectSame(o.toArray() as ArrayLike<number>, oc.toArray() as ArrayLike<number>, `${tag}: output`);
    ['dq', 'dk', 'dv'].forEach((name, i) =>
      expectSame(leaves[i].grad!.permute(toHeads).toArray() as ArrayLike<number>, copies[i].grad!.toArray() as ArrayLike<number>, `${tag}: ${name}`));
  });
}

describe('fused attention on strided views', () => {
  for (const dtype of ['float32', 'bfloat16', 'float64'] as const)
    it(`${dtype}: bit-identical to contiguous copies (self and cross, masks, odd sizes)`, () => {
      for (const layout of layouts) {
        compare(2, 3, 77, 77, 40, false, dtype, layout, 1);
        compare(1, 2, 197, 77, 33, true, dtype, layout, 2);
        compare(2, 2, 77, 197, 40, true, dtype, layout, 3);
      }
    });

  it('the gradient of a (B, S, H, D) leaf through the head split stays in (B, S, H, D) layout', () => {
    tidy(() => {
      const rng = new Rng(4);
      const x = rng.randn([2, 77, 2, 40]).requiresGrad_();
      const q = x.permute(toHeads);
      const o = F.attention(q, q, q);
      o.permute(toHeads).reshape([2, 77, 80]).sum().backward();
      expect(x.grad!.isContiguous).toBe(true);
      expect(x.grad!.shape).toEqual([2, 77, 2, 40]);
    });
  });

  it('keeps memory linear on views: at 4096 tokens and 2 heads forward+backward needs < 16 MB beyond inputs, outputs and gradients (float32 and bf16)', () => {
    for (const dtype of ['float32', 'bfloat16'] as const)
      tidy(() => {
        const S = 4096, H = 2, D = 40, rng = new Rng(9);
        const make = () => rng.randn([1, S, H, D]).to(dtype).requiresGrad_();
        const q = make(), k = make(), v = make();
        const g = rng.randn([1, H, S, D]).to(dtype);
        const base = memoryStats().liveBytes;
        resetPeakMemory();
        const o = F.attention(q.permute(toHeads), k.permute(toHeads), v.permute(toHeads));
        o.backward(g);
        const peak = memoryStats().peakBytes - base;
        const io = 4 * (H * S * D * (dtype === 'float32' ? 4 : 2)); // output + dq + dk + dv
        expect((peak - io) / (1024 * 1024), `extra MB, ${dtype}`).toBeLessThan(16);
      });
  });
});
