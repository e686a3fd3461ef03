// index.ts: evaluation for the package's users: generators (model directories or the world renderer) on
// the fine-grained benchmark or a prompt file, judged, scored and compared (src/eval/EVALUATION.md).
export { evaluate, type EvaluateOptions, type Evaluation, type EvaluationFile } from './evaluation.js';
export { evaluationTables, type EvaluationTables } from './tables.js';
export { formatEvaluation } from './format-text.js';
export { benchmarkPrompts, loadPromptFile, parsePromptFile, type EvalPrompt } from './prompts.js';
export type { GeneratorInfo } from './records.js';
