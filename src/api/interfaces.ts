// interfaces.ts: the interfaces every part meets at (see DESIGN.md): images, generators, judges,
// reward models. The world renderer and the diffusion pipeline are Generators; data strategies and
// evaluation only see these types.

/** The six fine-grained dimensions of the paper, in tree order. */
export const DIMENSIONS = ['content', 'style', 'color', 'lighting', 'layout', 'detail'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** An 8-bit RGB image, row-major, interleaved (height * width * 3 bytes). */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface GenerateOptions {
  /** Denoising steps for diffusion generators; a quality knob for the renderer (fewer = worse). */
  steps?: number;
  /** 0..1: how strong the generator is (the renderer degrades its output below 1). Defaults to 1. */
  quality?: number;
  /** Output size in pixels. Defaults to the generator's native size (64 for the world). */
  size?: number;
  /**
   * The dimensions a quality below 1 (or fewer steps) degrades, for generators that can degrade one
   * dimension at a time (the world renderer); others ignore it. Defaults to all six.
   */
  degrade?: readonly Dimension[];
  signal?: AbortSignal;
}

/** (prompts, seeds, options) -> images. Deterministic for a seed. */
export interface Generator {
  readonly name: string;
  generate(prompts: string[], seeds: number[], options?: GenerateOptions): Promise<RgbImage[]>;
}

/** (image pixels, prompt) -> score in [0, 1] for one dimension. Only data strategies' simulated experts and evaluation use judges. */
export interface Judge {
  readonly dimension: Dimension;
  score(image: RgbImage, prompt: string): number;
}
