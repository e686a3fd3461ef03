#!/usr/bin/env node
// The CLI runs the TypeScript sources through tsx (a dependency), so no build step is needed.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../src/cli/main.ts');
try {
  await main(process.argv);
} catch (err) {
  const code = err && err.code ? `[${err.code}] ` : '';
  console.error(`treereward: ${code}${err && err.message ? err.message : err}`);
  process.exitCode = 1;
}
