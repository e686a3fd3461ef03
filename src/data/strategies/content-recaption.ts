// content-recaption.ts: the paper's content strategy. Generate images for prompts (a weak generator
// gets things wrong), find the misaligned image-caption pairs with a text-image agreement score
// below a threshold (the content judge here, CLIP score in the paper), caption those images from
// their pixels, and record that the accurate caption beats the original one for the same image.
// Scorer and captioner are pluggable.
import type { GenerateOptions, Generator, RgbImage } from '../../api/interfaces.js';
import { contentJudge } from '../../world/judges/index.js';
import { recaptionContent } from '../../world/captioner.js';
import type { PairVerifier, StrategyOutput } from './types.js';
import { checkBatch, ruleDecided } from './labelling.js';

export const CONTENT_RECAPTION = 'content-recaption';

export type AlignmentScorer = (image: RgbImage, prompt: string) => number;
/** The accurate caption of an image given the prompt it was made from ('' when it has none). */
export type Captioner = (image: RgbImage, prompt: string) => string;

export interface ContentRecaptionOptions {
  generator: Generator;
  prompts: readonly string[];
  seeds: readonly number[];
  /** Options for the renders (a weaker generator misaligns more). */
  generate?: GenerateOptions;
  /** Text-image agreement in [0, 1]. Defaults to the world's content judge. */
  scorer?: AlignmentScorer;
  /** Defaults to the world captioner's object clause in place of the prompt's. */
  captioner?: Captioner;
  /** Pairs scoring below this are misaligned. Defaults to 0.6. */
  threshold?: number;
  verifier?: PairVerifier;
}

export interface RecaptionOutput extends StrategyOutput {
  /** How many images were scored, and how many of them were misaligned. */
  scored: number;
  misaligned: number;
}

export async function contentRecaptionPairs(options: ContentRecaptionOptions): Promise<RecaptionOutput> {
  const { generator, prompts, seeds } = options;
  checkBatch(prompts, seeds, 'contentRecaptionPairs');
  const scorer = options.scorer ?? ((image, prompt) => contentJudge.score(image, prompt));
  const captioner = options.captioner ?? recaptionContent;
  const threshold = options.threshold ?? 0.6;
  const images = await generator.generate([...prompts], [...seeds], options.generate);
  const out: RecaptionOutput = { pairs: [], queued: [], scored: images.length, misaligned: 0 };
  images.forEach((image, i) => {
    const prompt = prompts[i]!;
    if (scorer(image, prompt) >= threshold) return;
    out.misaligned++;
    const caption = captioner(image, prompt);
    if (caption === '' || caption === prompt) return;
    out.pairs.push(ruleDecided('content', { prompt: caption, image }, { prompt, image }, CONTENT_RECAPTION, seeds[i]!, options.verifier));
  });
  return out;
}
