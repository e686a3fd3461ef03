// checkpoint.ts: a reward model on disk: weights.safetensors (every parameter by its full name) and
// reward.json (the kind, the tree, the backbone config, the tokenizer's vocabulary, the score
// normalisation), so `loadRewardModel(dir)` rebuilds exactly what was saved.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { native } from '../native/addon.js';
import { TreeRewardError } from '../native/errors.js';
import { readSafetensors, writeSafetensors } from '../io/safetensors.js';
import { BlipBackbone } from '../models/blip.js';
import type { BlipConfig } from '../models/blip-configs.js';
import { WordTokenizer } from '../tokenizers/word.js';
import { DecoupledReward } from './decouple.js';
import type { RewardModel } from './reward-model.js';
import { SingleHeadReward } from './single-head.js';
import { TreeReward } from './tree-reward.js';
import { resolveTree, type TreeSpec } from './tree-spec.js';

interface SavedSingle {
  name: string;
  backbone: BlipConfig;
  hidden: number[];
  act: 'gelu' | 'none';
  normalisation: { mean: number; std: number };
}

export interface RewardJson {
  format: 'treereward-reward/1';
  kind: 'tree' | 'single' | 'decouple';
  tokenizer: { kind: 'word'; vocab: string[]; maxLength: number };
  tree?: { spec: TreeSpec; backbone: BlipConfig; normalisation: Record<string, { mean: number; std: number }> };
  single?: SavedSingle;
  members?: Record<string, SavedSingle>;
  /** Free-form facts: training command, steps, seed, metrics. */
  info?: Record<string, unknown>;
}

function tokenizerJson(t: unknown): RewardJson['tokenizer'] {
  if (!(t instanceof WordTokenizer)) throw new TreeRewardError('NOT_SUPPORTED', 'Expected a WordTokenizer to save with the reward model (other tokenizers are referenced by path: not built yet)');
  return { kind: 'word', vocab: t.vocab.slice(4), maxLength: t.maxLength };
}

function singleJson(m: SingleHeadReward): SavedSingle {
  const dims = m.head.parameters();
  const hidden = [...dims.keys()].filter((k) => k.endsWith('.weight')).map((k) => dims.get(k)!.shape[0]).slice(0, -1);
  return { name: m.name, backbone: m.backbone.config, hidden, act: m.actName, normalisation: m.normalisation };
}

export function saveRewardModel(dir: string, model: RewardModel, info: Record<string, unknown> = {}): void {
  mkdirSync(dir, { recursive: true });
  let json: RewardJson;
  if (model instanceof TreeReward) {
    json = {
      format: 'treereward-reward/1', kind: 'tree', tokenizer: tokenizerJson(model.tokenizer),
      tree: { spec: model.tree.spec, backbone: model.backbone.config, normalisation: Object.fromEntries(model.heads.normalisation) },
      info,
    };
  } else if (model instanceof SingleHeadReward) {
    json = { format: 'treereward-reward/1', kind: 'single', tokenizer: tokenizerJson(model.tokenizer), single: singleJson(model), info };
  } else if (model instanceof DecoupledReward) {
    const first = [...model.members.values()][0];
    json = {
      format: 'treereward-reward/1', kind: 'decouple', tokenizer: tokenizerJson(first.tokenizer),
      members: Object.fromEntries([...model.members].map(([d, m]) => [d, singleJson(m)])), info,
    };
  } else {
    throw new TreeRewardError('NOT_SUPPORTED', `Expected a tree, one-head or decoupled reward model to save but received "${model.name}"`);
  }
  writeSafetensors(path.join(dir, 'weights.safetensors'), model.parameters());
  writeFileSync(path.join(dir, 'reward.json'), JSON.stringify(json, null, 1));
}

export function loadRewardModel(dir: string): RewardModel {
  let json: RewardJson;
  try {
    json = JSON.parse(readFileSync(path.join(dir, 'reward.json'), 'utf8'));
  } catch (e) {
    throw new TreeRewardError('IO', `Expected a reward model directory with reward.json at ${dir} but ${(e as Error).message}`);
  }
  if (json.format !== 'treereward-reward/1') throw new TreeRewardError('CORRUPT_FILE', `Expected format treereward-reward/1 in ${dir}/reward.json but received ${String(json.format)}`);
  const tokenizer = WordTokenizer.fromWords(json.tokenizer.vocab, { maxLength: json.tokenizer.maxLength });
  let model: RewardModel;
  const single = (s: SavedSingle) => {
    const m = new SingleHeadReward({ name: s.name, backbone: new BlipBackbone(s.backbone), tokenizer, hidden: s.hidden, act: s.act });
    m.normalisation = s.normalisation;
    return m;
  };
  if (json.kind === 'tree' && json.tree) {
    const t = new TreeReward({ backbone: new BlipBackbone(json.tree.backbone), tree: resolveTree(json.tree.spec), tokenizer });
    for (const [leaf, n] of Object.entries(json.tree.normalisation)) t.heads.normalisation.set(leaf, n);
    model = t;
  } else if (json.kind === 'single' && json.single) {
    model = single(json.single);
  } else if (json.kind === 'decouple' && json.members) {
    model = new DecoupledReward(new Map(Object.entries(json.members).map(([d, s]) => [d, single(s)])));
  } else {
    throw new TreeRewardError('CORRUPT_FILE', `Expected a tree, single or decouple model in ${dir}/reward.json but received kind ${String(json.kind)}`);
  }
  const { tensors } = readSafetensors(path.join(dir, 'weights.safetensors'));
  const params = model.parameters();
  const missing = [...params.keys()].filter((k) => !tensors.has(k));
  const unexpected = [...tensors.keys()].filter((k) => !params.has(k));
  if (missing.length || unexpected.length) {
    throw new TreeRewardError('CORRUPT_FILE', `Expected weights matching reward.json in ${dir} but found missing [${missing.slice(0, 5).join(', ')}] and unexpected [${unexpected.slice(0, 5).join(', ')}]`);
  }
  for (const [k, p] of params) native().copyInto(p.handle, tensors.get(k)!.handle);
  return model;
}
