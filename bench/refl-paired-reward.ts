// refl-paired-reward.ts: two ReFL runs of the same seed (the same prompts, noise and stop steps step
// for step, e.g. an experiment and its lambda-0 control): the mean difference of the logged reward R,
// per block of steps.
//   npx tsx bench/refl-paired-reward.ts RUN_A RUN_B [--every 25]
//   (RUN = a folder with log.jsonl, e.g. runs/refl-weighting-v/tree/seed-0 runs/refl-control-v/tree-lambda-0/seed-0)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { every: { type: 'string', default: '25' } } });
if (positionals.length !== 2) throw new Error(`Expected two run folders but received ${positionals.length}`);
const rewards = (dir: string) => readFileSync(join(dir, 'log.jsonl'), 'utf8').split('\n').filter(Boolean)
  .map((l) => JSON.parse(l) as { reward?: number }).filter((r) => r.reward !== undefined).map((r) => r.reward!);
const [a, b] = positionals.map(rewards);
const n = Math.min(a.length, b.length), every = Number(values.every);
const blocks: string[] = [];
for (let at = 0; at < n; at += every) {
  const d = a.slice(at, Math.min(n, at + every)).map((v, i) => v - b[at + i]);
  blocks.push(`steps ${at + 1}-${at + d.length}: ${(d.reduce((s, v) => s + v, 0) / d.length >= 0 ? '+' : '')}${(d.reduce((s, v) => s + v, 0) / d.length).toFixed(4)}`);
}
console.log(`R(${positionals[0]}) - R(${positionals[1]}), mean per block: ${blocks.join(', ')}`);
