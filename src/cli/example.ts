// example.ts: `treereward example`: a small training run that exercises the engine end to end
// (an MLP learns two interleaved spirals with AdamW and a cosine schedule), with progress and --json.
import { Command } from 'commander';
import cliProgress from 'cli-progress';

import { AdamW, cosineSchedule, F, Rng, tensor, tidy, type Tensor } from '../index.js';

export interface ExampleResult {
  steps: number;
  finalLoss: number;
  trainAccuracy: number;
  seconds: number;
}

function spirals(n: number, rng: Rng): { x: Float32Array; y: Int32Array } {
  const x = new Float32Array(2 * n), y = new Int32Array(n);
  const u = rng.rand([n], { dtype: 'float64' }).toArray();
  const noise = rng.randn([2 * n], { dtype: 'float64' }).toArray();
  for (let i = 0; i < n; i++) {
    const cls = i % 2, r = u[i] * 3 + 0.2, t = r * 2.5 + cls * Math.PI;
    x[2 * i] = r * Math.cos(t) + 0.05 * noise[2 * i];
    x[2 * i + 1] = r * Math.sin(t) + 0.05 * noise[2 * i + 1];
    y[i] = cls;
  }
  return { x, y };
}

export function runExample(options: { steps: number; seed: number; onStep?: (step: number, loss: number) => void }): ExampleResult {
  const t0 = performance.now();
  const rng = new Rng(options.seed);
  const { x, y } = spirals(512, rng);
  const X = tensor(x, [512, 2]), Y = tensor(y, [512], { dtype: 'int32' });
  const sizes = [2, 64, 64, 2];
  const params: Tensor[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    params.push(rng.randn([sizes[i + 1], sizes[i]]).mul(Math.sqrt(2 / sizes[i])).requiresGrad_());
    params.push(tensor(new Float32Array(sizes[i + 1]), [sizes[i + 1]], { requiresGrad: true }));
  }
  const forward = (inp: Tensor) => {
    let h = inp;
    for (let i = 0; i < params.length; i += 2) {
      h = F.linear(h, params[i], params[i + 1]);
      if (i + 2 < params.length) h = h.silu();
    }
    return h;
  };
  const opt = new AdamW(params, { lr: 0.01, weightDecay: 1e-4 });
  const schedule = cosineSchedule({ warmupSteps: 20, totalSteps: options.steps, minFactor: 0.05 });
  let loss = NaN;
  for (let step = 0; step < options.steps; step++) {
    loss = tidy(() => {
      opt.setLrFactor(schedule(step));
      opt.zeroGrad();
      const l = F.crossEntropy(forward(X), Y);
      l.backward();
      opt.step();
      return l.item();
    });
    options.onStep?.(step + 1, loss);
  }
  const accuracy = tidy(() => {
    const logits = forward(X).toArray();
    let right = 0;
    for (let i = 0; i < 512; i++) if ((logits[2 * i + 1] > logits[2 * i] ? 1 : 0) === y[i]) right++;
    return right / 512;
  });
  return { steps: options.steps, finalLoss: loss, trainAccuracy: accuracy, seconds: (performance.now() - t0) / 1000 };
}

export function register(program: Command): void {
  program
    .command('example')
    .description('train a small MLP on two spirals: a quick check that the engine works on this machine')
    .option('--steps <n>', 'training steps', (v) => Number.parseInt(v, 10), 600)
    .option('--seed <n>', 'random seed', (v) => Number.parseInt(v, 10), 0)
    .option('--json', 'print the result as one JSON document')
    .action((opts: { steps: number; seed: number; json?: boolean }) => {
      if (!Number.isInteger(opts.steps) || opts.steps < 1) throw new Error(`Expected a positive integer for --steps but received ${opts.steps}`);
      const bar = opts.json ? null : new cliProgress.SingleBar({ format: 'training [{bar}] {value}/{total} steps | loss {loss}' }, cliProgress.Presets.shades_classic);
      bar?.start(opts.steps, 0, { loss: '-' });
      const result = runExample({ steps: opts.steps, seed: opts.seed, onStep: (s, l) => bar?.update(s, { loss: l.toFixed(4) }) });
      bar?.stop();
      if (opts.json) console.log(JSON.stringify(result));
      else console.log(`spirals: loss ${result.finalLoss.toFixed(4)}, train accuracy ${(100 * result.trainAccuracy).toFixed(1)}% after ${result.steps} steps in ${result.seconds.toFixed(1)} s`);
    });
}
