// index.ts: the six world judges, (image pixels, prompt) -> [0, 1], one per dimension. They read
// pixels and the prompt only: no scene, no renderer (test/world/judge-imports.test.ts checks).
import type { Dimension, Judge } from '../../api/interfaces.js';
import { contentJudge } from './content.js';
import { styleJudge } from './style.js';
import { colorJudge } from './color.js';
import { lightingJudge } from './lighting.js';
import { layoutJudge } from './layout.js';
import { detailJudge } from './detail.js';

export const WORLD_JUDGES: Readonly<Record<Dimension, Judge>> = {
  content: contentJudge,
  style: styleJudge,
  color: colorJudge,
  lighting: lightingJudge,
  layout: layoutJudge,
  detail: detailJudge,
};

export { contentJudge, detectObjects } from './content.js';
export { styleJudge, classifyStyle, readStyle } from './style.js';
export { colorJudge, classifyPalette, paletteDistance, colorQuality } from './color.js';
export { lightingJudge, classifyLighting, lightingError, lightingQuality } from './lighting.js';
export { layoutJudge, classifyLayout, layoutDistance, layoutQuality } from './layout.js';
export { detailJudge, classifyDetail, readDetail, detailQuality } from './detail.js';
export { analyzeImage } from './image-analysis.js';
