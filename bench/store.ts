// bench/store.ts: builds a feedback store of N pair rows (image references, no image files: the
// paper's 2.2 million by default) and measures the build and the training sampler.
//   npx tsx bench/store.ts [--rows 2200000] [--json] [--dir DIR] [--keep] [--repeats 3]
// Sampling is measured against a peer in the same run on the same store: the obvious SQL query
// (`ORDER BY random() LIMIT n` per batch), whose pairs are checked to be the same kind of rows.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Command } from 'commander';
import { DIMENSIONS } from '../src/api/interfaces.js';
import { FeedbackStore } from '../src/data/store/feedback-store.js';
import type { PairInput } from '../src/data/types.js';

interface BenchOptions {
  rows: number;
  json: boolean;
  dir?: string;
  keep: boolean;
  repeats: number;
  batch: number;
  draws: number;
}

/** Dimension shares of the synthetic store: uneven, so the default mixture is not uniform. */
const SHARES = [0.3, 0.2, 0.15, 0.15, 0.1, 0.1];

/** The i-th synthetic record: deterministic, every 10th prompt shared by 10 pairs, 2% ties. */
export function syntheticRecord(i: number): PairInput {
  let u = ((i * 2654435761) >>> 0) / 2 ** 32;
  let d = 0;
  while (d < SHARES.length - 1 && u >= SHARES[d]) u -= SHARES[d++];
  const prompt = `prompt ${Math.floor(i / 10)}: a red star and a blue ring, striped style, warm palette`;
  return {
    dimension: DIMENSIONS[d],
    preferred: { prompt, image: { path: `/refs/${i}-a.png`, width: 64, height: 64 } },
    rejected: { prompt, image: { path: `/refs/${i}-b.png`, width: 64, height: 64 } },
    strategy: i % 3 === 0 ? 'style-substitution' : 'weak-generator',
    annotator: 'rule',
    tie: i % 50 === 0,
    seed: i,
  };
}

export async function buildSyntheticStore(store: FeedbackStore, rows: number, batch: number, onBatch?: (done: number) => void): Promise<void> {
  for (let start = 0; start < rows; start += batch) {
    const records: PairInput[] = [];
    for (let i = start; i < Math.min(rows, start + batch); i++) records.push(syntheticRecord(i));
    await store.insertPairs(records);
    onBatch?.(Math.min(rows, start + batch));
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function run(opts: BenchOptions): Promise<void> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'treereward-bench-store-'));
  const log = (msg: string): void => {
    if (!opts.json) console.log(msg);
  };
  const store = FeedbackStore.open(dir);
  try {
    if (store.countPairs() !== 0) throw new Error(`Expected an empty store for --dir but received one with ${store.countPairs()} pairs`);
    // 1. build
    let t0 = performance.now();
    await buildSyntheticStore(store, opts.rows, opts.batch, (done) => {
      if (!opts.json && process.stdout.isTTY) process.stdout.write(`\rbuilding: ${done}/${opts.rows}`);
    });
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    const buildS = (performance.now() - t0) / 1000;
    if (!opts.json && process.stdout.isTTY) process.stdout.write('\n');
    log(`build: ${opts.rows} pairs in ${buildS.toFixed(1)} s (${Math.round(opts.rows / buildS)} pairs/s)`);

    // 2. sampler set-up: load the ids of the train split
    t0 = performance.now();
    const sampler = store.sampler({ seed: 1 });
    const setupS = (performance.now() - t0) / 1000;
    const eligible = Object.values(sampler.counts).reduce((a, b) => a + b, 0);
    log(`sampler set-up: ${eligible} train pairs loaded in ${setupS.toFixed(2)} s`);

    // 3. draws, interleaved with the peer, repeated
    const peer = store.db.prepare(`SELECT p.id, p.dimension, p.tie, pp.text, rp.text, pi.path, pi.stored, ri.path, ri.stored
      FROM pairs p JOIN prompts pp ON pp.id = p.preferred_prompt_id JOIN prompts rp ON rp.id = p.rejected_prompt_id
      JOIN images pi ON pi.id = p.preferred_image_id JOIN images ri ON ri.id = p.rejected_image_id
      WHERE p.labelled = 1 AND p.split = 'train' AND p.tie = 0 ORDER BY random() LIMIT ?`).raw();
    const ours: number[] = [];
    const oursIds: number[] = [];
    const peers: number[] = [];
    const peerBatch = 1000;
    for (let r = 0; r < opts.repeats; r++) {
      t0 = performance.now();
      let drawn = 0;
      while (drawn < opts.draws) {
        const batch = sampler.sample(1000);
        drawn += batch.length;
        if (r === 0 && drawn === 1000 && (batch[0].preferred.prompt.length === 0 || batch[0].tie)) throw new Error('sampler returned a bad row');
      }
      ours.push(drawn / ((performance.now() - t0) / 1000));
      t0 = performance.now();
      const ids = sampler.sampleIds(opts.draws);
      oursIds.push(ids.ids.length / ((performance.now() - t0) / 1000));
      t0 = performance.now();
      const rowsOut = peer.all(peerBatch) as unknown[][];
      if (rowsOut.length !== Math.min(peerBatch, eligible) || rowsOut[0][2] !== 0) throw new Error('peer returned a bad row');
      peers.push(rowsOut.length / ((performance.now() - t0) / 1000));
    }
    const result = {
      rows: opts.rows,
      buildSeconds: buildS,
      buildPairsPerSecond: opts.rows / buildS,
      samplerSetupSeconds: setupS,
      trainPairs: eligible,
      samplePairsPerSecond: { median: median(ours), min: Math.min(...ours), max: Math.max(...ours), runs: ours },
      sampleIdsPerSecond: { median: median(oursIds), min: Math.min(...oursIds), max: Math.max(...oursIds) },
      peerOrderByRandomPairsPerSecond: { median: median(peers), min: Math.min(...peers), max: Math.max(...peers) },
      ratioToPeer: median(ours) / median(peers),
      repeats: opts.repeats,
      drawsPerRepeat: opts.draws,
    };
    if (opts.json) {
      console.log(JSON.stringify(result, null, 2));
    } else {
      const f = (x: number): string => Math.round(x).toLocaleString('en-US');
      log(`sample (pairs with prompts and image paths): median ${f(result.samplePairsPerSecond.median)} pairs/s (range ${f(result.samplePairsPerSecond.min)}..${f(result.samplePairsPerSecond.max)}, ${opts.repeats} runs of ${opts.draws})`);
      log(`sampleIds (ids only): median ${f(result.sampleIdsPerSecond.median)} ids/s`);
      log(`peer, ORDER BY random() LIMIT ${peerBatch}: median ${f(result.peerOrderByRandomPairsPerSecond.median)} pairs/s (range ${f(result.peerOrderByRandomPairsPerSecond.min)}..${f(result.peerOrderByRandomPairsPerSecond.max)})`);
      log(`ratio sample / peer: ${result.ratioToPeer.toFixed(1)}x`);
    }
  } finally {
    store.close();
    if (!opts.keep && opts.dir === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`Expected a positive integer for ${name} but received ${JSON.stringify(value)}`);
    return n;
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const program = new Command()
    .name('bench/store.ts')
    .option('--rows <n>', 'pair rows to build', positiveInt('--rows'), 2_200_000)
    .option('--json', 'print one JSON document', false)
    .option('--dir <dir>', 'build here (must be empty) instead of a temporary directory')
    .option('--keep', 'keep the temporary store', false)
    .option('--repeats <n>', 'repetitions of the sampling measurement', positiveInt('--repeats'), 3)
    .option('--batch <n>', 'records per insert transaction', positiveInt('--batch'), 100_000)
    .option('--draws <n>', 'pairs drawn per repetition', positiveInt('--draws'), 200_000);
  program.parse(process.argv);
  await run(program.opts<BenchOptions>());
}
