// decouple.ts: the `decouple` baseline: one separate reward model (backbone + head) per dimension,
// each trained on its own dimension's pairs, averaged at use.
import { F, type Device, type Tensor } from '../api/index.js';
import type { PairSource, TrainingPair } from './pair-source.js';
import type { RewardModel, RewardOutput } from './reward-model.js';
import { SingleHeadReward, trainSingleHead, type SingleHeadTrainOptions } from './single-head.js';

export class DecoupledReward implements RewardModel {
  readonly name = 'decouple';
  constructor(readonly members: Map<string, SingleHeadReward>) {}

  get imageSize(): number {
    return [...this.members.values()][0].imageSize;
  }

  score(prompts: string[], images: Tensor): RewardOutput {
    const dims = [...this.members.keys()];
    const cols = dims.map((d) => this.members.get(d)!.score(prompts, images).reward.unsqueeze(1));
    const leafScores = F.concat(cols, 1);
    return { reward: leafScores.mean(1), leafScores, leaves: dims };
  }

  parameters(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [d, m] of this.members) for (const [n, p] of m.parameters()) out.set(`${d}.${n}`, p);
    return out;
  }

  to(device: Device): this {
    for (const m of this.members.values()) m.to(device);
    return this;
  }

  dispose(): void {
    for (const m of this.members.values()) m.dispose();
  }
}

/** A source that keeps only one dimension's pairs (drawing until a batch is full). */
export function onlyDimension(source: PairSource, dimension: string): PairSource {
  return {
    async batch(index: number, size: number): Promise<TrainingPair[]> {
      const out: TrainingPair[] = [];
      for (let k = 0; out.length < size && k < 64; k++) {
        for (const p of await source.batch(index * 64 + k, size)) if (p.dimension === dimension && out.length < size) out.push(p);
      }
      return out;
    },
  };
}

/** Trains each member on its own dimension with the same per-model budget. */
export async function trainDecoupled(model: DecoupledReward, sourceOf: (dimension: string) => PairSource, options: SingleHeadTrainOptions) {
  const results: Record<string, number[]> = {};
  for (const [d, m] of model.members) {
    const r = await trainSingleHead(m, sourceOf(d), { ...options, checkpointDir: options.checkpointDir ? `${options.checkpointDir}/${d}` : undefined });
    results[d] = r.losses;
  }
  return results;
}
