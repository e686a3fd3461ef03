// guides.ts: the one-line question an annotator answers for each dimension, shown above the images.
import { DIMENSIONS } from '../api/interfaces.js';

export const DIMENSION_GUIDES: Readonly<Record<(typeof DIMENSIONS)[number], string>> = {
  content: 'Does the image show exactly the objects the prompt names, in the named colors, and none that it excludes?',
  style: 'Are the objects drawn in the style the prompt names (its pattern and texture), cleanly and consistently?',
  color: 'Is the palette the one the prompt asks for, and are the colors harmonious, neither washed out nor oversaturated?',
  lighting: 'Is the light as the prompt asks, and is the image well exposed, without clipped highlights or crushed shadows?',
  layout: 'Are the objects placed as the prompt asks, balanced in the frame, with nothing cut off by the border?',
  detail: 'Are the edges sharp and the fine textures present, without blur, smearing or noise?',
};

export const OVERALL_GUIDE = 'Which image is better for this prompt, all things considered: what it shows and how good it looks?';

/** The guide for a dimension; dimensions outside the six (and none) get the overall question. */
export function guideOf(dimension: string | null | undefined): string {
  return dimension && Object.hasOwn(DIMENSION_GUIDES, dimension) ? DIMENSION_GUIDES[dimension as keyof typeof DIMENSION_GUIDES] : OVERALL_GUIDE;
}
