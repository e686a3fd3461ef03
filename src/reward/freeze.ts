// freeze.ts: freezing the lower layers of a BLIP backbone (ImageReward freezes 70%): the embeddings
// and the first floor(fraction * depth) layers of each encoder stop receiving gradient.
import type { BlipBackbone } from '../models/blip.js';

export function freezeBlip(backbone: BlipBackbone, fraction: number): { frozen: number; trainable: number } {
  const vitCut = Math.floor(fraction * backbone.config.vit.depth), bertCut = Math.floor(fraction * backbone.config.bert.depth);
  let frozen = 0, trainable = 0;
  for (const [name, p] of backbone.parameters()) {
    const vit = /^visual_encoder\.blocks\.(\d+)\./.exec(name);
    const bert = /^text_encoder\.encoder\.layer\.(\d+)\./.exec(name);
    let freeze: boolean;
    if (vit) freeze = Number(vit[1]) < vitCut;
    else if (bert) freeze = Number(bert[1]) < bertCut;
    else freeze = fraction > 0 && /embed|cls_token|pos_embed|patch_embed/.test(name);
    p.requiresGrad = !freeze;
    if (freeze) frozen += p.numel;
    else trainable += p.numel;
  }
  return { frozen, trainable };
}
