// index.ts: the synthetic world: vocabulary, scenes, renderer, prompt grammar, judges, captioner,
// simulated experts, prompt sets and the fixed benchmark.
export * from './vocabulary/index.js';
export * from './prompt/index.js';
export { Rng, deriveSeed, hashString } from './random.js';
export { sampleScene, sceneFromRequirements, describeScene, type Scene, type SceneObject, type SampleOptions } from './scene.js';
export { changeFactor } from './scene-edits.js';
export { renderScene, renderSpec, DEFAULT_SIZE } from './render/render-scene.js';
export { resolveScene, type RenderSpec } from './render/render-spec.js';
export { degradeSpec, type Severity } from './render/degrade.js';
export { WorldGenerator, type WorldGeneratorOptions, type WorldRender } from './world-generator.js';
export * from './judges/index.js';
export { captionImage, recaptionContent, type Caption, type CaptionOptions } from './captioner.js';
export { SimulatedExpert, type ExpertChoice, type ExpertOptions, type ExpertSide, type ExpertVerdict } from './expert.js';
export { stressPrompt, stressRequirements } from './prompt-sets.js';
export { loadBenchmark, isBenchmarkPrompt, trainingPrompt, generateBenchmark, type BenchmarkFile } from './benchmark.js';
export { crossSensitivity, formatMatrix, type CrossSensitivityResult } from './cross-sensitivity.js';
