// style-substitution.ts: the paper's style strategy. Render a prompt, and the same prompt with its
// style word replaced by another, from the same seed: the image of the original prompt wins, both
// judged against the original prompt. Prompts that name no style are skipped.
import type { GenerateOptions, Generator } from '../../api/interfaces.js';
import { parsePrompt } from '../../world/prompt/index.js';
import { vocabulary } from '../../world/vocabulary/index.js';
import { Rng, deriveSeed } from '../../world/random.js';
import type { PairVerifier, StrategyOutput } from './types.js';
import { checkBatch, ruleDecided } from './labelling.js';

export const STYLE_SUBSTITUTION = 'style-substitution';

export interface StyleSubstitutionOptions {
  generator: Generator;
  prompts: readonly string[];
  seeds: readonly number[];
  /** Options for both renders. Defaults to the generator's defaults. */
  generate?: GenerateOptions;
  /** Style words to substitute from. Defaults to the vocabulary's. */
  styles?: readonly string[];
  verifier?: PairVerifier;
}

/** The prompt with its "<style> style" clause changed to `replacement`, the rest of the text kept. */
export function substituteStyle(prompt: string, style: string, replacement: string): string {
  const escaped = style.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`(^|,\\s*)${escaped}(\\s+style\\s*(?:,|$))`, 'i');
  if (!re.test(prompt)) throw new Error(`Expected a "${style} style" clause in prompt but received ${JSON.stringify(prompt)}`);
  return prompt.replace(re, `$1${replacement}$2`);
}

export async function styleSubstitutionPairs(options: StyleSubstitutionOptions): Promise<StrategyOutput> {
  const { generator, prompts, seeds } = options;
  checkBatch(prompts, seeds, 'styleSubstitutionPairs');
  const styles = options.styles ?? vocabulary().styles.map((s) => s.name);
  const items: { prompt: string; replaced: string; seed: number }[] = [];
  prompts.forEach((prompt, i) => {
    const style = parsePrompt(prompt).style;
    if (style === undefined) return;
    const seed = seeds[i]!;
    const other = new Rng(deriveSeed(seed, STYLE_SUBSTITUTION)).pickOther(styles, style);
    items.push({ prompt, replaced: substituteStyle(prompt, style, other), seed });
  });
  if (items.length === 0) return { pairs: [], queued: [] };
  const images = await generator.generate(
    [...items.map((t) => t.prompt), ...items.map((t) => t.replaced)],
    [...items.map((t) => t.seed), ...items.map((t) => t.seed)],
    options.generate,
  );
  const pairs = items.map((t, k) =>
    ruleDecided('style', { prompt: t.prompt, image: images[k]! }, { prompt: t.prompt, image: images[items.length + k]! }, STYLE_SUBSTITUTION, t.seed, options.verifier),
  );
  return { pairs, queued: [] };
}
