// world-text.ts: the words the world's pretrained encoders read. The tokenizer over the world's whole
// vocabulary, a scene's caption in the prompt grammar (all of it, or the objects and some clauses:
// real prompts name only some attributes), and an edited caption that is wrong in exactly one
// attribute (another color, shape, style, palette, lighting, layout or detail word): the hard
// negatives that make image-text matching see the fine-grained attributes the reward needs.
import { DIMENSIONS, type Dimension } from '../api/interfaces.js';
import { WordTokenizer, wordsOf } from '../tokenizers/word.js';
import { changeFactor } from '../world/scene-edits.js';
import { describeScene, type Scene } from '../world/scene.js';
import { formatPrompt, type PromptRequirements } from '../world/prompt/index.js';
import { vocabulary } from '../world/vocabulary/index.js';
import type { Rng } from '../world/random.js';

/** Tokens per caption, [CLS] and [SEP] included: the longest world prompt (3 objects, an exclusion, every clause) fits. */
export const WORLD_TEXT_LENGTH = 48;

/** Every word the world's prompts can use: the vocabulary's names and phrases and the grammar's own words. */
export function worldWords(): string[] {
  const v = vocabulary();
  return wordsOf([
    'a an and without ,',
    ...v.colors.map((c) => c.name),
    ...v.shapes.map((s) => s.name),
    ...v.styles.map((s) => `${s.name} style`),
    ...v.palettes.map((p) => `${p.name} palette`),
    ...v.lightings.map((l) => l.phrase),
    ...v.layouts.map((l) => `${l.name} layout`),
    ...v.details.map((d) => `${d.name} detail`),
    ...v.triggers.map((t) => t.phrase),
  ]);
}

/** The word tokenizer of the world's encoders ([CLS] ... [SEP], padded per batch). */
export function worldTokenizer(): WordTokenizer {
  return WordTokenizer.fromWords(worldWords(), { maxLength: WORLD_TEXT_LENGTH });
}

/** The prompt naming everything in the scene. */
export function fullCaption(scene: Scene): string {
  return formatPrompt(describeScene(scene));
}

/** The objects, and each other clause with probability `keep`: a prompt of the kind users write. */
export function partialCaption(scene: Scene, rng: Rng, keep = 0.5): string {
  const all = describeScene(scene);
  const req: PromptRequirements = { objects: all.objects, excluded: all.excluded, triggers: [], unknown: [] };
  for (const key of ['style', 'palette', 'lighting', 'layout', 'detail'] as const) if (rng.chance(keep)) req[key] = all[key];
  return formatPrompt(req);
}

/**
 * The scene's full caption with dimension `dim`'s attribute replaced (content: one object's color
 * or shape): a caption that is right about everything but one thing.
 */
export function editedCaption(scene: Scene, dim: Dimension, rng: Rng): string {
  return fullCaption(changeFactor(scene, dim, rng));
}

/** An edited caption in a dimension drawn uniformly. */
export function randomEditedCaption(scene: Scene, rng: Rng): { caption: string; dimension: Dimension } {
  const dimension = rng.pick(DIMENSIONS);
  return { caption: editedCaption(scene, dimension, rng), dimension };
}
