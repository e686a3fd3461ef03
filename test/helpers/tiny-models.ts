// tiny-models.ts: a tiny UNet, VAE, CLIP text encoder and BLIP backbone (the presets the model tests use),
// each run forward and backward on a device from seeded inputs made on the host: the values that come
// back (outputs, the differentiable inputs' gradients, every parameter's gradient) are gathered on the
// host by name, so runs on two devices, or before and after a move, compare name by name. Token ids and
// masks stay on the host (the wrappers take them to the model's device); images, latents and text
// states are moved by the run, as a user would.
import {
  AutoencoderKL, BlipBackbone, ClipTextEncoder, Rng, tensor, tidy, UNet, type Device, type Tensor,
} from '../../src/index.js';

/** What the device tests need of a model or a wrapper of one. */
export interface Movable {
  to(device: Device): unknown;
  readonly device: Device;
  parameters(): Map<string, Tensor>;
  dispose(): void;
}

export type Values = Record<string, Float32Array>;

export interface TinyCase {
  name: string;
  make(seed: number): Movable;
  /** Forward and backward of sum(output * w) on `device`; leaves the parameters' gradients set. */
  run(model: Movable, device: Device): Values;
}

function host(t: Tensor): Float32Array {
  const c = t.device === 'cpu' ? t : t.to('cpu');
  return Float32Array.from(c.toArray() as ArrayLike<number>);
}

/** A leaf copy of x on device, requiring a gradient. */
function leaf(x: Tensor, device: Device): Tensor {
  return x.to(device).detach().requiresGrad_();
}

/**
 * Backward of sum_k sum(outputs[k] * w_k) with seeded w_k, then every value by name: `output.<k>`,
 * `grad.<input>` for each leaf input, `grad.<parameter>` for each parameter with a gradient.
 */
function backwardAndGather(model: Movable, rng: Rng, outputs: Record<string, Tensor>, leaves: Record<string, Tensor>, device: Device): Values {
  let loss: Tensor | null = null;
  for (const out of Object.values(outputs)) {
    const term = out.mul(rng.randn(out.shape).to(device)).sum();
    loss = loss ? loss.add(term) : term;
  }
  loss!.backward();
  const v: Values = {};
  for (const [k, t] of Object.entries(outputs)) v[`output.${k}`] = host(t);
  for (const [k, t] of Object.entries(leaves)) v[`grad.${k}`] = host(t.grad!);
  for (const [k, p] of model.parameters()) {
    const g = p.grad;
    if (g) v[`grad.${k}`] = host(g);
  }
  return v;
}

/** Clears every parameter's gradient. */
export function zeroGrads(model: Movable): void {
  for (const p of model.parameters().values()) p.grad = null;
}

export const TINY_CASES: TinyCase[] = [
  {
    name: 'unet',
    make: (seed) => UNet.fromConfig('tiny', seed),
    run: (model, device) => tidy(() => {
      const unet = model as UNet, rng = new Rng(41);
      const sample = leaf(rng.randn([2, 4, 8, 8]), device), ctx = leaf(rng.randn([2, 8, 32]), device);
      const noise = unet.forward(sample, 500, ctx);  // the wrapper makes the timestep on the model's device
      return backwardAndGather(model, rng, { noise }, { sample, ctx }, device);
    }),
  },
  {
    name: 'vae',
    make: (seed) => AutoencoderKL.fromConfig('tiny', seed),
    run: (model, device) => tidy(() => {
      const vae = model as AutoencoderKL, rng = new Rng(42);
      const image = leaf(rng.randn([2, 3, 16, 16]), device);
      const moments = vae.encode(image);
      const image2 = vae.decode(vae.sample(moments, new Rng(7)));  // the posterior's noise drawn on the model's device
      return backwardAndGather(model, rng, { moments, image2 }, { image }, device);
    }),
  },
  {
    name: 'clip_text',
    make: (seed) => new ClipTextEncoder('tiny', seed),
    run: (model, device) => tidy(() => {
      const clip = model as ClipTextEncoder, rng = new Rng(43);
      const ids = tensor([[5, 17, 999, 3, 8, 9, 2, 4], [12, 998, 6, 0, 0, 0, 0, 0]], undefined, { dtype: 'int32' });
      const mask = tensor([[1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0, 0, 0]], undefined, { dtype: 'int32' });
      const out = clip.forward(ids, { mask });
      return backwardAndGather(model, rng, { hidden: out.lastHiddenState, pooled: out.pooled }, {}, device);
    }),
  },
  {
    name: 'blip',
    make: (seed) => new BlipBackbone('tiny', seed),
    run: (model, device) => tidy(() => {
      const blip = model as BlipBackbone, rng = new Rng(44);
      const image = leaf(rng.randn([2, 3, 32, 32]), device);
      // [PAD] (0) ends the second row: its embedding row gets no gradient (the host-made keep mask)
      const ids = tensor([[101, 7, 300, 42, 9, 102], [101, 55, 102, 0, 0, 0]], undefined, { dtype: 'int32' });
      const mask = tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]], undefined, { dtype: 'int32' });
      const feature = blip.forward(image, ids, mask);
      return backwardAndGather(model, rng, { feature }, { image }, device);
    }),
  },
];

/** The names where a and b differ at all (bit-for-bit), with the first differing index. */
export function differences(a: Values, b: Values): string[] {
  const out: string[] = [];
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = a[k], y = b[k];
    if (!x || !y) out.push(`${k}: only on one side`);
    else if (x.length !== y.length) out.push(`${k}: lengths ${x.length} and ${y.length}`);
    else {
      const i = x.findIndex((v, j) => !Object.is(v, y[j]));
      if (i >= 0) out.push(`${k}[${i}]: ${x[i]} vs ${y[i]}`);
    }
  }
  return out;
}
