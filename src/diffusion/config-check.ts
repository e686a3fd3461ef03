// config-check.ts: zod schemas' failures as the house message (src/api/zod-errors.ts), for the
// diffusion configs.
export { parseWithSchema as parseWith } from '../api/zod-errors.js';
