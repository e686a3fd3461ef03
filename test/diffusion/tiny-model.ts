// tiny-model.ts: the smallest diffusion model for tests: the native UNet, VAE and CLIP text model at
// their 'tiny' sizes (latents 4x8x8, images 16x16, text states 8x32) with the world's word tokenizer.
import { CLIP_TEXT_PRESETS, DIFFUSION_PRESETS, wordsOf, type Tensor } from '../../src/index.js';
import type { DiffusionModelSpec } from '../../src/diffusion/pipeline/model-dir.js';
import type { NoisePredictor } from '../../src/diffusion/types.js';

const WORDS = wordsOf(['a red green blue yellow star ring square at top bottom left right']);

/** The same with the stand-in tokenizer and text encoder of src/diffusion/tiny. */
export function standInSpec(overrides: Partial<DiffusionModelSpec> = {}): DiffusionModelSpec {
  return tinySpec({
    tokenizer: { kind: 'word-hash', config: { vocabSize: 64, maxLength: 8 } },
    textEncoder: { kind: 'tiny-text', config: { vocabSize: 64, maxLength: 8, width: 32 } },
    ...overrides,
  });
}

export function tinySpec(overrides: Partial<DiffusionModelSpec> = {}): DiffusionModelSpec {
  return {
    name: 'tiny-test',
    tokenizer: { kind: 'word', config: { words: WORDS, maxLength: 8 } },
    textEncoder: { kind: 'clip-text', config: { ...CLIP_TEXT_PRESETS.tiny } },
    unet: { kind: 'unet2d-condition', config: { ...DIFFUSION_PRESETS.tiny.unet, block_out_channels: [...DIFFUSION_PRESETS.tiny.unet.block_out_channels], cross_attn: [...DIFFUSION_PRESETS.tiny.unet.cross_attn] } },
    vae: { kind: 'autoencoder-kl', config: { ...DIFFUSION_PRESETS.tiny.vae, block_out_channels: [...DIFFUSION_PRESETS.tiny.vae.block_out_channels] } },
    scheduler: { kind: 'ddim' },
    defaults: { size: 16, steps: 4, guidanceScale: 3 },
    ...overrides,
  };
}

/** A predictor that records the batch size and timesteps of every call. */
export function recording(unet: NoisePredictor): { predictor: NoisePredictor; calls: { batch: number; t: number[] }[] } {
  const calls: { batch: number; t: number[] }[] = [];
  return {
    calls,
    predictor: {
      downFactor: unet.downFactor,
      parameters: () => unet.parameters(),
      forward: (x: Tensor, t: Tensor, ctx: Tensor) => {
        calls.push({ batch: x.shape[0], t: Array.from(t.toArray()) });
        return unet.forward(x, t, ctx);
      },
    },
  };
}
