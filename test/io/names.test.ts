// names.test.ts: name tables. Synthetic state dicts are generated the way each library builds its
// modules (LDM's openaimodel loops with running block indices; diffusers' nested blocks), so the
// converted name set is checked against an independent construction; spot checks come from
// diffusers' conversion script; unknown names are reported, never dropped.
import { describe, expect, it } from 'vitest';

import { tensor } from '../../src/index.js';
import {
  diffusersToLdm, hfBlipToBlip, imageRewardToNative, blipToNative, aestheticToNative, inferLdmUNetLayout, ldmToDiffusers, requireAllKnown,
  textEncoderLdmToDiffusers, unetDiffusersToLdm, unetLdmToDiffusers, vaeDiffusersToLdm, vaeLdmToDiffusers, NameTable,
} from '../../src/io/names/index.js';

/** A stand-in tensor: a shape, and reshape() returning a new stand-in. */
class Fake {
  constructor(readonly shape: number[], readonly id = '') {}
  reshape(shape: number[]): Fake {
    return new Fake(shape, this.id);
  }
}
const dict = (names: string[], shape = (_n: string) => [1]) => new Map(names.map((n) => [n, new Fake(shape(n), n)]));
const wb = (p: string) => [`${p}.weight`, `${p}.bias`];

// ---- LDM's UNetModel (openaimodel.py), SD 1.x: channel_mult (1, 2, 4, 4), 2 res blocks, attention at ds 1, 2, 4 ----
function ldmUNet(mult = [1, 2, 4, 4], N = 2, attnDs = [1, 2, 4]): string[] {
  const names: string[] = [...wb('time_embed.0'), ...wb('time_embed.2'), ...wb('input_blocks.0.0')];
  const res = (p: string, cin: number, cout: number) => [
    ...wb(`${p}.in_layers.0`), ...wb(`${p}.in_layers.2`), ...wb(`${p}.emb_layers.1`), ...wb(`${p}.out_layers.0`), ...wb(`${p}.out_layers.3`),
    ...(cin !== cout ? wb(`${p}.skip_connection`) : []),
  ];
  const spatial = (p: string) => [
    ...wb(`${p}.norm`), ...wb(`${p}.proj_in`), ...wb(`${p}.proj_out`),
    ...['attn1', 'attn2'].flatMap((a) => [`${p}.transformer_blocks.0.${a}.to_q.weight`, `${p}.transformer_blocks.0.${a}.to_k.weight`, `${p}.transformer_blocks.0.${a}.to_v.weight`, ...wb(`${p}.transformer_blocks.0.${a}.to_out.0`)]),
    ...wb(`${p}.transformer_blocks.0.ff.net.0.proj`), ...wb(`${p}.transformer_blocks.0.ff.net.2`),
    ...wb(`${p}.transformer_blocks.0.norm1`), ...wb(`${p}.transformer_blocks.0.norm2`), ...wb(`${p}.transformer_blocks.0.norm3`),
  ];
  const skips = [1];
  let ch = 1, ds = 1, k = 1;
  for (let level = 0; level < mult.length; level++) {
    for (let j = 0; j < N; j++) {
      names.push(...res(`input_blocks.${k}.0`, ch, mult[level]));
      ch = mult[level];
      if (attnDs.includes(ds)) names.push(...spatial(`input_blocks.${k}.1`));
      skips.push(ch);
      k++;
    }
    if (level !== mult.length - 1) {
      names.push(...wb(`input_blocks.${k}.0.op`));
      skips.push(ch);
      k++;
      ds *= 2;
    }
  }
  names.push(...res('middle_block.0', ch, ch), ...spatial('middle_block.1'), ...res('middle_block.2', ch, ch));
  let o = 0;
  for (let level = mult.length - 1; level >= 0; level--) {
    for (let i = 0; i <= N; i++) {
      const skip = skips.pop()!;
      names.push(...res(`output_blocks.${o}.0`, ch + skip, mult[level]));
      ch = mult[level];
      let part = 1;
      if (attnDs.includes(ds)) names.push(...spatial(`output_blocks.${o}.${part++}`));
      if (level && i === N) {
        names.push(...wb(`output_blocks.${o}.${part}.conv`));
        ds /= 2;
      }
      o++;
    }
  }
  names.push(...wb('out.0'), ...wb('out.2'));
  return names;
}

// ---- diffusers' UNet2DConditionModel with the same configuration ----
function diffusersUNet(mult = [1, 2, 4, 4], N = 2, attn = [true, true, true, false]): string[] {
  const names = [...wb('time_embedding.linear_1'), ...wb('time_embedding.linear_2'), ...wb('conv_in')];
  const res = (p: string, cin: number, cout: number) => [
    ...wb(`${p}.norm1`), ...wb(`${p}.conv1`), ...wb(`${p}.time_emb_proj`), ...wb(`${p}.norm2`), ...wb(`${p}.conv2`), ...(cin !== cout ? wb(`${p}.conv_shortcut`) : []),
  ];
  const t2d = (p: string) => [
    ...wb(`${p}.norm`), ...wb(`${p}.proj_in`), ...wb(`${p}.proj_out`),
    ...['attn1', 'attn2'].flatMap((a) => [`${p}.transformer_blocks.0.${a}.to_q.weight`, `${p}.transformer_blocks.0.${a}.to_k.weight`, `${p}.transformer_blocks.0.${a}.to_v.weight`, ...wb(`${p}.transformer_blocks.0.${a}.to_out.0`)]),
    ...wb(`${p}.transformer_blocks.0.ff.net.0.proj`), ...wb(`${p}.transformer_blocks.0.ff.net.2`),
    ...wb(`${p}.transformer_blocks.0.norm1`), ...wb(`${p}.transformer_blocks.0.norm2`), ...wb(`${p}.transformer_blocks.0.norm3`),
  ];
  const L = mult.length;
  const skipCh: number[] = [1];
  let ch = 1;
  mult.forEach((m, b) => {
    for (let j = 0; j < N; j++) {
      names.push(...res(`down_blocks.${b}.resnets.${j}`, j === 0 ? ch : m, m));
      if (attn[b]) names.push(...t2d(`down_blocks.${b}.attentions.${j}`));
      skipCh.push(m);
    }
    ch = m;
    if (b < L - 1) {
      names.push(...wb(`down_blocks.${b}.downsamplers.0.conv`));
      skipCh.push(m);
    }
  });
  names.push(...res('mid_block.resnets.0', ch, ch), ...t2d('mid_block.attentions.0'), ...res('mid_block.resnets.1', ch, ch));
  const rev = [...mult].reverse(), revAttn = [...attn].reverse();
  rev.forEach((m, b) => {
    for (let j = 0; j <= N; j++) {
      const skip = skipCh.pop()!;
      names.push(...res(`up_blocks.${b}.resnets.${j}`, (j === 0 ? ch : m) + skip, m));
      if (revAttn[b]) names.push(...t2d(`up_blocks.${b}.attentions.${j}`));
    }
    ch = m;
    if (b < L - 1) names.push(...wb(`up_blocks.${b}.upsamplers.0.conv`));
  });
  names.push(...wb('conv_norm_out'), ...wb('conv_out'));
  return names;
}

// ---- the VAE: LDM's Encoder/Decoder (model.py) and diffusers' AutoencoderKL, channels (1, 2, 4, 4) ----
function ldmVae(mult = [1, 2, 4, 4], N = 2): string[] {
  const res = (p: string, cin: number, cout: number) => [...wb(`${p}.norm1`), ...wb(`${p}.conv1`), ...wb(`${p}.norm2`), ...wb(`${p}.conv2`), ...(cin !== cout ? wb(`${p}.nin_shortcut`) : [])];
  const mid = (p: string, c: number) => [...res(`${p}.mid.block_1`, c, c), ...['norm', 'q', 'k', 'v', 'proj_out'].flatMap((x) => wb(`${p}.mid.attn_1.${x}`)), ...res(`${p}.mid.block_2`, c, c)];
  const names = [...wb('encoder.conv_in')];
  let ch = mult[0];
  mult.forEach((m, i) => {
    for (let j = 0; j < N; j++) {
      names.push(...res(`encoder.down.${i}.block.${j}`, ch, m));
      ch = m;
    }
    if (i !== mult.length - 1) names.push(...wb(`encoder.down.${i}.downsample.conv`));
  });
  names.push(...mid('encoder', ch), ...wb('encoder.norm_out'), ...wb('encoder.conv_out'), ...wb('quant_conv'), ...wb('post_quant_conv'));
  names.push(...wb('decoder.conv_in'), ...mid('decoder', ch));
  for (let i = mult.length - 1; i >= 0; i--) {
    for (let j = 0; j <= N; j++) {
      names.push(...res(`decoder.up.${i}.block.${j}`, ch, mult[i]));
      ch = mult[i];
    }
    if (i !== 0) names.push(...wb(`decoder.up.${i}.upsample.conv`));
  }
  names.push(...wb('decoder.norm_out'), ...wb('decoder.conv_out'));
  return names;
}
function diffusersVae(mult = [1, 2, 4, 4], N = 2): string[] {
  const res = (p: string, cin: number, cout: number) => [...wb(`${p}.norm1`), ...wb(`${p}.conv1`), ...wb(`${p}.norm2`), ...wb(`${p}.conv2`), ...(cin !== cout ? wb(`${p}.conv_shortcut`) : [])];
  const mid = (p: string, c: number) => [...res(`${p}.mid_block.resnets.0`, c, c), ...['group_norm', 'to_q', 'to_k', 'to_v', 'to_out.0'].flatMap((x) => wb(`${p}.mid_block.attentions.0.${x}`)), ...res(`${p}.mid_block.resnets.1`, c, c)];
  const names = [...wb('encoder.conv_in')];
  let ch = mult[0];
  mult.forEach((m, i) => {
    for (let j = 0; j < N; j++) names.push(...res(`encoder.down_blocks.${i}.resnets.${j}`, j === 0 ? ch : m, m));
    ch = m;
    if (i < mult.length - 1) names.push(...wb(`encoder.down_blocks.${i}.downsamplers.0.conv`));
  });
  names.push(...mid('encoder', ch), ...wb('encoder.conv_norm_out'), ...wb('encoder.conv_out'), ...wb('quant_conv'), ...wb('post_quant_conv'));
  names.push(...wb('decoder.conv_in'), ...mid('decoder', ch));
  [...mult].reverse().forEach((m, i) => {
    for (let j = 0; j <= N; j++) names.push(...res(`decoder.up_blocks.${i}.resnets.${j}`, j === 0 ? ch : m, m));
    ch = m;
    if (i < mult.length - 1) names.push(...wb(`decoder.up_blocks.${i}.upsamplers.0.conv`));
  });
  names.push(...wb('decoder.conv_norm_out'), ...wb('decoder.conv_out'));
  return names;
}

describe('Stable Diffusion 1.x: LDM <-> diffusers', () => {
  it('the UNet: every LDM name lands on the diffusers name set, and back', () => {
    const ldm = ldmUNet();
    expect(ldm.length).toBe(686); // SD 1.x's UNet has 686 entries
    const r = unetLdmToDiffusers(dict(ldm));
    expect(r.unknown).toEqual([]);
    expect([...r.map.keys()].sort()).toEqual(diffusersUNet().sort());
    const spot: [string, string][] = [
      ['time_embed.2.bias', 'time_embedding.linear_2.bias'], ['out.2.weight', 'conv_out.weight'],
      ['input_blocks.1.0.in_layers.0.weight', 'down_blocks.0.resnets.0.norm1.weight'],
      ['input_blocks.2.1.proj_in.weight', 'down_blocks.0.attentions.1.proj_in.weight'],
      ['input_blocks.3.0.op.weight', 'down_blocks.0.downsamplers.0.conv.weight'],
      ['input_blocks.4.0.skip_connection.weight', 'down_blocks.1.resnets.0.conv_shortcut.weight'],
      ['input_blocks.11.0.out_layers.3.bias', 'down_blocks.3.resnets.1.conv2.bias'],
      ['middle_block.1.transformer_blocks.0.attn2.to_k.weight', 'mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight'],
      ['middle_block.2.emb_layers.1.weight', 'mid_block.resnets.1.time_emb_proj.weight'],
      ['output_blocks.2.1.conv.weight', 'up_blocks.0.upsamplers.0.conv.weight'],
      ['output_blocks.5.2.conv.bias', 'up_blocks.1.upsamplers.0.conv.bias'],
      ['output_blocks.8.2.conv.weight', 'up_blocks.2.upsamplers.0.conv.weight'],
      ['output_blocks.3.1.norm.weight', 'up_blocks.1.attentions.0.norm.weight'],
      ['output_blocks.11.1.proj_out.weight', 'up_blocks.3.attentions.2.proj_out.weight'],
    ];
    for (const [a, b] of spot) expect(r.map.get(b)?.id, a).toBe(a);
    const back = unetDiffusersToLdm(r.map);
    expect(back.unknown).toEqual([]);
    expect([...back.map.keys()].sort()).toEqual([...ldm].sort());
    for (const [n, v] of back.map) expect(v.id).toBe(n);
  });

  it('other UNet layouts: the tables follow levels, layersPerBlock and attentionLevels, which names imply', () => {
    const ldm = ldmUNet([1, 2], 1, [2]); // two levels, one resnet per block, attention only at the deeper level
    const layout = inferLdmUNetLayout(ldm);
    expect(layout).toEqual({ levels: 2, layersPerBlock: 1, attentionLevels: [1] });
    const r = unetLdmToDiffusers(dict(ldm), layout!);
    expect(r.unknown).toEqual([]);
    expect([...r.map.keys()].sort()).toEqual(diffusersUNet([1, 2], 1, [false, true]).sort());
    expect(inferLdmUNetLayout(ldmUNet().map((n) => `model.diffusion_model.${n}`))).toEqual({ levels: 4, layersPerBlock: 2, attentionLevels: [0, 1, 2] });
    // the SD 1.x default on this small UNet leaves names it cannot place, and says which
    const wrong = unetLdmToDiffusers(dict(ldm));
    expect(wrong.unknown.length).toBeGreaterThan(0);
    expect(wrong.unknown).toContain('input_blocks.2.0.op.weight');
    expect(() => unetLdmToDiffusers(dict(ldm), { levels: 2, attentionLevels: [2] })).toThrow('Expected levels between 0 and 1 for attentionLevels but received [2]');
  });

  it('the VAE: blocks, reversed decoder levels, attention 1x1 convs <-> linear weights', () => {
    const ldm = ldmVae();
    const shape = (n: string) => (/mid\.attn_1\.(q|k|v|proj_out)\.weight$/.test(n) ? [8, 8, 1, 1] : [8]);
    const r = vaeLdmToDiffusers(dict(ldm, shape));
    expect(r.unknown).toEqual([]);
    expect([...r.map.keys()].sort()).toEqual(diffusersVae().sort());
    expect(r.map.get('decoder.up_blocks.0.resnets.2.conv1.weight')!.id).toBe('decoder.up.3.block.2.conv1.weight');
    expect(r.map.get('decoder.up_blocks.2.upsamplers.0.conv.bias')!.id).toBe('decoder.up.1.upsample.conv.bias');
    expect(r.map.get('encoder.down_blocks.1.resnets.0.conv_shortcut.weight')!.id).toBe('encoder.down.1.block.0.nin_shortcut.weight');
    expect(r.map.get('decoder.up_blocks.2.resnets.0.conv_shortcut.weight')!.id).toBe('decoder.up.1.block.0.nin_shortcut.weight');
    expect(r.map.get('encoder.mid_block.attentions.0.group_norm.bias')!.id).toBe('encoder.mid.attn_1.norm.bias');
    const q = r.map.get('encoder.mid_block.attentions.0.to_q.weight')!;
    expect([q.id, q.shape]).toEqual(['encoder.mid.attn_1.q.weight', [8, 8]]);
    expect(r.map.get('decoder.mid_block.attentions.0.to_out.0.weight')!.shape).toEqual([8, 8]);
    expect(r.map.get('decoder.mid_block.attentions.0.to_out.0.bias')!.shape).toEqual([8]);
    const back = vaeDiffusersToLdm(r.map);
    expect(back.unknown).toEqual([]);
    expect([...back.map.keys()].sort()).toEqual([...ldm].sort());
    expect(back.map.get('decoder.mid.attn_1.proj_out.weight')!.shape).toEqual([8, 8, 1, 1]);
    // older diffusers files spell the attention query/key/value/proj_attn
    const old = vaeDiffusersToLdm(dict(['encoder.mid_block.attentions.0.query.weight', 'encoder.mid_block.attentions.0.proj_attn.bias'], () => [4, 4]));
    expect([...old.map.keys()]).toEqual(['encoder.mid.attn_1.q.weight', 'encoder.mid.attn_1.proj_out.bias']);
    expect(old.map.get('encoder.mid.attn_1.q.weight')!.shape).toEqual([4, 4, 1, 1]);
  });

  it('reshapes real tensors', () => {
    const w = tensor(Float32Array.from([1, 2, 3, 4]), [2, 2, 1, 1]);
    const r = vaeLdmToDiffusers(new Map([['encoder.mid.attn_1.k.weight', w]]));
    const k = r.map.get('encoder.mid_block.attentions.0.to_k.weight')!;
    expect(k.shape).toEqual([2, 2]);
    expect(Array.from(k.toArray())).toEqual([1, 2, 3, 4]);
    k.dispose();
    w.dispose();
  });

  it('the text encoder, and a whole checkpoint split into three models with unknown and ignored names reported', () => {
    const t = textEncoderLdmToDiffusers(dict(['transformer.text_model.encoder.layers.0.self_attn.q_proj.weight', 'transformer.embeddings.token_embedding.weight', 'model.text_projection']));
    expect([...t.map.keys()]).toEqual(['text_model.encoder.layers.0.self_attn.q_proj.weight', 'text_model.embeddings.token_embedding.weight']);
    expect(t.unknown).toEqual(['model.text_projection']);

    const full = dict([
      ...ldmUNet().map((n) => `model.diffusion_model.${n}`),
      ...ldmVae().map((n) => `first_stage_model.${n}`),
      'cond_stage_model.transformer.text_model.final_layer_norm.weight',
      'model_ema.decay', 'model_ema.diffusion_modelinput_blocks00weight', 'betas', 'alphas_cumprod', 'first_stage_model.loss.logvar',
      'model.diffusion_model.label_emb.0.0.weight', 'control_model.zero_convs.0.0.weight',
    ]);
    const split = ldmToDiffusers(full);
    expect(split.unet.size).toBe(686);
    expect(split.vae.size).toBe(ldmVae().length);
    expect([...split.textEncoder.keys()]).toEqual(['text_model.final_layer_norm.weight']);
    expect(split.unknown).toEqual(['control_model.zero_convs.0.0.weight', 'model.diffusion_model.label_emb.0.0.weight']);
    expect(split.ignored).toEqual(['model_ema.decay', 'model_ema.diffusion_modelinput_blocks00weight', 'betas', 'alphas_cumprod', 'first_stage_model.loss.logvar']);
    expect(() => requireAllKnown('Stable Diffusion', split)).toThrow('Expected only names the Stable Diffusion table knows but found 2 unknown: "control_model.zero_convs.0.0.weight", "model.diffusion_model.label_emb.0.0.weight"');

    const joined = diffusersToLdm({ unet: split.unet, vae: split.vae, textEncoder: split.textEncoder });
    expect(joined.unknown).toEqual([]);
    expect(joined.map.size).toBe(686 + ldmVae().length + 1);
    expect(joined.map.has('cond_stage_model.transformer.text_model.final_layer_norm.weight')).toBe(true);
    expect(joined.map.has('model.diffusion_model.output_blocks.8.2.conv.weight')).toBe(true);
  });

  it('names that would collide are an error, not a silent overwrite', () => {
    const table = new NameTable([{ a: 'x', b: 'y' }, { a: 'z', b: 'y' }]);
    expect(() => table.apply(dict(['x.w', 'z.w']), 'aToB')).toThrow('Expected distinct names after renaming but "x.w" and "z.w" both become "y.w"');
    // segment boundaries: input_blocks.1 does not match input_blocks.10
    expect(unetLdmToDiffusers(dict(['input_blocks.10.0.in_layers.0.weight'])).map.has('down_blocks.3.resnets.0.norm1.weight')).toBe(true);
  });
});

describe('BLIP, ImageReward and the aesthetic predictor', () => {
  it('ImageReward: backbone and head split, projections ignored, strangers reported', () => {
    const r = imageRewardToNative(dict([
      'blip.visual_encoder.blocks.0.attn.qkv.weight', 'blip.visual_encoder.cls_token', 'blip.text_encoder.encoder.layer.0.crossattention.self.key.weight',
      'blip.text_encoder.embeddings.position_ids', 'blip.vision_proj.weight', 'blip.text_proj.bias',
      ...[0, 2, 4, 6, 7].flatMap((i) => wb(`mlp.layers.${i}`)), 'mlp.layers.1.weight', 'mean',
    ]));
    expect([...r.blip.keys()]).toEqual(['visual_encoder.blocks.0.attn.qkv.weight', 'visual_encoder.cls_token', 'text_encoder.encoder.layer.0.crossattention.self.key.weight']);
    expect([...r.head.keys()]).toEqual([0, 2, 4, 6, 8].flatMap((i) => wb(`layers.${i}`)));
    expect(r.head.get('layers.8.weight')!.id).toBe('mlp.layers.7.weight');
    expect(r.ignored).toEqual(['blip.text_encoder.embeddings.position_ids', 'blip.vision_proj.weight', 'blip.text_proj.bias']);
    expect(r.unknown).toEqual(['mlp.layers.1.weight', 'mean']);
  });

  it('a BLIP pretraining checkpoint keeps its encoders and ignores the rest', () => {
    const r = blipToNative(dict(['visual_encoder.norm.weight', 'text_encoder.embeddings.word_embeddings.weight', 'visual_encoder_m.norm.weight', 'text_decoder.cls.predictions.bias', 'image_queue', 'temp', 'itm_head.weight', 'optimizer']));
    expect([...r.map.keys()]).toEqual(['visual_encoder.norm.weight', 'text_encoder.embeddings.word_embeddings.weight']);
    expect(r.ignored).toEqual(['visual_encoder_m.norm.weight', 'text_decoder.cls.predictions.bias', 'image_queue', 'temp', 'itm_head.weight']);
    expect(r.unknown).toEqual(['optimizer']);
  });

  it("transformers' BLIP names become BLIP's", () => {
    const r = hfBlipToBlip(dict([
      'vision_model.embeddings.class_embedding', 'vision_model.embeddings.patch_embedding.weight', 'vision_model.encoder.layers.23.self_attn.qkv.weight',
      'vision_model.encoder.layers.0.self_attn.projection.bias', 'vision_model.encoder.layers.0.layer_norm2.weight', 'vision_model.post_layernorm.bias',
      'text_encoder.encoder.layer.0.attention.self.query.weight', 'vision_model.encoder.layers.0.unknown.weight',
    ]));
    expect([...r.map.keys()]).toEqual([
      'visual_encoder.cls_token', 'visual_encoder.patch_embed.proj.weight', 'visual_encoder.blocks.23.attn.qkv.weight', 'visual_encoder.blocks.0.attn.proj.bias',
      'visual_encoder.blocks.0.norm2.weight', 'visual_encoder.norm.bias', 'text_encoder.encoder.layer.0.attention.self.query.weight',
    ]);
    expect(r.unknown).toEqual(['vision_model.encoder.layers.0.unknown.weight']);
  });

  it('the LAION aesthetic MLP', () => {
    const r = aestheticToNative(dict([0, 2, 4, 6, 7].flatMap((i) => wb(`layers.${i}`))));
    expect([...r.map.keys()]).toEqual([0, 2, 4, 6, 8].flatMap((i) => wb(`layers.${i}`)));
  });
});
