// captioner.ts: image pixels -> the prompt that describes what is actually there, read with the
// judges' detectors (objects by blob, shape and hue; style, palette, lighting, layout and detail by
// the classifier of each judge). It needs no scene, so it captions generated images too.
import type { Dimension, RgbImage } from '../api/interfaces.js';
import type { PromptRequirements } from './prompt/index.js';
import { formatPrompt, parsePrompt } from './prompt/index.js';
import { classifyDetail, classifyLayout, classifyLighting, classifyPalette, classifyStyle, detectObjects } from './judges/index.js';

export interface Caption {
  requirements: PromptRequirements;
  prompt: string;
}

export interface CaptionOptions {
  /** Dimensions to describe. Defaults to all six (content is always described). */
  include?: readonly Dimension[];
  /** At most this many objects, the largest first, listed left to right. Defaults to 3. */
  maxObjects?: number;
}

export function captionImage(image: RgbImage, options: CaptionOptions = {}): Caption {
  const include = new Set<Dimension>(options.include ?? ['content', 'style', 'color', 'lighting', 'layout', 'detail']);
  const objects = detectObjects(image)
    .sort((a, b) => b.area - a.area)
    .slice(0, options.maxObjects ?? 3)
    .sort((a, b) => a.x - b.x || a.y - b.y);
  const requirements: PromptRequirements = {
    objects: objects.map((o) => ({ shape: o.shape, color: o.color })),
    excluded: [],
    triggers: [],
    unknown: [],
  };
  if (objects.length > 0) {
    if (include.has('style')) requirements.style = classifyStyle(image);
    if (include.has('layout')) requirements.layout = classifyLayout(image);
    if (include.has('detail')) requirements.detail = classifyDetail(image);
  }
  if (include.has('color')) requirements.palette = classifyPalette(image);
  if (include.has('lighting')) requirements.lighting = classifyLighting(image);
  return { requirements, prompt: objects.length > 0 ? formatPrompt(requirements) : '' };
}

/**
 * The prompt with its object clause replaced by what the image shows, everything else kept: the
 * accurate caption for content re-captioning. Empty when no object is seen.
 */
export function recaptionContent(image: RgbImage, prompt: string): string {
  const seen = captionImage(image, { include: ['content'] }).requirements.objects;
  if (seen.length === 0) return '';
  const req = parsePrompt(prompt);
  return formatPrompt({ ...req, objects: seen, excluded: [] });
}
