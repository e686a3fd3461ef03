// providers.ts: the inputs of the demo that other work makes, each either available or missing
// with the reason (what is missing and which issue makes it). The demo reads only these, so each
// input is wired in one place:
//   rewardBackbone  the world BLIP (assets/world-blip/, world-assets issue); until it is shipped a
//                   tiny BLIP, randomly initialised (and then trained whole)
//   clip            the world CLIP and its aesthetic head (assets/world-clip/): CLIP and aesthetic scores
//   baseGenerator   the world base generator, a diffusion model directory (assets/world-generator/)
//   refl            ReFL (src/refl) through refl-runner.ts
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { disposeAll } from '../../assets/linear-params.js';
import { loadWorldBlip, loadWorldClip } from '../../assets/load-assets.js';
import { BlipBackbone } from '../../models/blip.js';
import type { Tokenizer } from '../../tokenizers/types.js';
import type { AestheticPredictor } from '../metrics/aesthetic.js';
import type { ImageTextEncoder } from '../metrics/clip-score.js';
import { WorldClipEncoder } from '../metrics/world-clip-encoder.js';
import { reflRunner } from './refl-runner.js';
import type { ReflRunner } from './refl-seam.js';

export interface Missing {
  missing: string;
}

export function isMissing<T>(x: T | Missing): x is Missing {
  return typeof x === 'object' && x !== null && 'missing' in x;
}

export interface RewardBackbone {
  backbone: BlipBackbone;
  /** The backbone's own tokenizer; undefined: a word tokenizer over the run's prompts. */
  tokenizer?: Tokenizer;
  /** Whether the backbone was pretrained (its lower layers are then frozen, as ImageReward does). */
  pretrained: boolean;
  /** Said in the report: where the backbone came from. */
  source: string;
}

export interface ClipProvision {
  encoder: ImageTextEncoder;
  aesthetic?: AestheticPredictor;
  source: string;
  dispose(): void;
}

export interface DemoProviders {
  /** A fresh backbone for one reward model (seeded). */
  rewardBackbone(seed: number): RewardBackbone;
  clip(): ClipProvision | Missing;
  baseGenerator(): { spec: string; source: string } | Missing;
  refl: ReflRunner | Missing;
}

/** The shipped assets: the package's assets/ folder. */
export const ASSETS_DIR = fileURLToPath(new URL('../../../assets/', import.meta.url));

/** Where each asset is looked for under assets/ (the folder `treereward pretrain ship --name` writes). */
export const ASSET_FOLDERS = {
  worldBlip: { folder: 'world-blip', file: 'blip.json' },
  worldClip: { folder: 'world-clip', file: 'clip.json' },
  baseGenerator: { folder: 'world-generator', file: 'model_index.json' },
} as const;

export const MISSING = {
  worldClip: 'the world CLIP and its aesthetic head (issue 7: `treereward pretrain clip`, shipped to assets/world-clip/) are not shipped yet',
  baseGenerator: 'the world base generator (issue 7: `treereward pretrain generator`, shipped to assets/world-generator/) is not shipped yet',
} as const;

function assetDir(assets: string, which: keyof typeof ASSET_FOLDERS): string | null {
  const { folder, file } = ASSET_FOLDERS[which];
  const dir = join(assets, folder);
  return existsSync(join(dir, file)) ? dir : null;
}

/** What exists: the shipped world assets where they are, ReFL from src/refl. */
export function defaultProviders(assets = ASSETS_DIR): DemoProviders {
  const blipDir = assetDir(assets, 'worldBlip');
  return {
    rewardBackbone: (seed) => {
      if (blipDir) {
        const loaded = loadWorldBlip(blipDir);
        disposeAll(loaded.model.heads); // the reward models use the backbone alone
        return { backbone: loaded.model.backbone, tokenizer: loaded.tokenizer, pretrained: true, source: `the world BLIP (${blipDir}${loaded.verified ? ', hash checked against assets/manifest.json' : ''})` };
      }
      return {
        backbone: new BlipBackbone('tiny', seed),
        pretrained: false,
        source: 'tiny BLIP (ViT 2 x 64, BERT 2 x 64), randomly initialised and trained whole: the world BLIP (issue 7, assets/world-blip/) is not shipped yet',
      };
    },
    clip: () => {
      const dir = assetDir(assets, 'worldClip');
      if (!dir) return { missing: MISSING.worldClip };
      const loaded = loadWorldClip(dir);
      const encoder = new WorldClipEncoder(loaded.model, loaded.tokenizer);
      return { encoder, aesthetic: encoder.aestheticPredictor(), source: `the world CLIP and its aesthetic head (${dir})`, dispose: () => loaded.model.dispose() };
    },
    baseGenerator: () => {
      const dir = assetDir(assets, 'baseGenerator');
      return dir ? { spec: dir, source: `the world base generator (${dir})` } : { missing: MISSING.baseGenerator };
    },
    refl: reflRunner(),
  };
}
