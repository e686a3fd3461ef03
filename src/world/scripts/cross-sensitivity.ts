// cross-sensitivity.ts: prints the judges' 6x6 cross-sensitivity matrix (see ../cross-sensitivity.ts).
//   npx tsx src/world/scripts/cross-sensitivity.ts --n 1000 [--seed 0] [--size 64] [--json]
import { crossSensitivity, formatMatrix } from '../cross-sensitivity.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const n = Number(arg('n', '1000'));
const seed = Number(arg('seed', '0'));
const size = Number(arg('size', '64'));
const json = process.argv.includes('--json');
const t0 = Date.now();
const result = crossSensitivity({
  n,
  seed,
  size,
  onProgress: (done, total) => {
    if (!json && done % 100 === 0) process.stderr.write(`\r${done}/${total}`);
  },
});
const seconds = (Date.now() - t0) / 1000;
if (json) console.log(JSON.stringify({ ...result, seed, seconds }, null, 2));
else {
  process.stderr.write('\n');
  console.log(formatMatrix(result));
  console.log(`worst off-diagonal per row: ${result.worstOffDiagonal.map((v) => v.toFixed(4)).join(' ')}`);
  console.log(`max single change:\n${result.maxChange.map((r) => r.map((v) => v.toFixed(3)).join(' ')).join('\n')}`);
  console.log(`n=${n} per dimension, size ${size}, ${seconds.toFixed(1)} s`);
}
