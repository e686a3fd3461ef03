// index.ts: the prompt grammar: requirements <-> text.
export * from './requirements.js';
export { article, formatObject, formatObjectClause, formatPrompt } from './format.js';
export { parsePrompt, parsePromptStrict } from './parse.js';
