// world-clip-encoder.ts: the world CLIP (src/assets/world-clip.ts, the world-assets work) as an
// ImageTextEncoder, and its aesthetic head as the aesthetic predictor: the world's CLIP score and
// aesthetic score. Texts go through the world's word tokenizer, padded per batch, as in its training.
import type { Tensor } from '../../api/index.js';
import type { WorldClip } from '../../assets/world-clip.js';
import { normalise } from '../../reward/preprocess.js';
import { batchToTensors } from '../../tokenizers/tensors.js';
import type { Tokenizer } from '../../tokenizers/types.js';
import { AestheticPredictor } from './aesthetic.js';
import type { ImageTextEncoder } from './clip-score.js';

export class WorldClipEncoder implements ImageTextEncoder {
  readonly name = 'world CLIP';
  constructor(readonly model: WorldClip, readonly tokenizer: Tokenizer) {}

  get imageSize(): number {
    return this.model.config.vision_config.image_size;
  }

  embedImages(pixels: Tensor): Tensor {
    return this.model.imageEmbeds(normalise(pixels));
  }

  embedTexts(prompts: string[]): Tensor {
    const { ids, mask } = batchToTensors(this.tokenizer.encode(prompts, { padding: 'longest' }));
    return this.model.textEmbeds(ids, mask);
  }

  /** The world CLIP's aesthetic head (the LAION predictor's shape) over this encoder's embeddings. */
  aestheticPredictor(): AestheticPredictor {
    return new AestheticPredictor(this.model.config.projection_dim, { head: this.model.aesthetic });
  }
}
