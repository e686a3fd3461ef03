// lora.ts: LoRA (Hu et al. 2021) on the UNet's transformer projections. The adapters live in the
// native model (src/models/unet.ts with options.lora: y = W x + b + (alpha / r) B (A x)), so they train
// through autograd like any weight while W stays frozen. Here: attaching adapters to a trained UNet,
// listing them, merging them into plain weights (W' = W + (alpha / r) B A) and exporting either.
import { noGrad } from '../api/autograd.js';
import { tidy } from '../api/scope.js';
import type { Tensor } from '../api/tensor.js';
import { writeSafetensors } from '../io/safetensors.js';
import { UNet, type LoraOptions } from '../models/unet.js';
import { TreeRewardError } from '../native/errors.js';

/** Whether a UNet parameter name belongs to a LoRA adapter. */
export function isLoraParameter(name: string): boolean {
  return /\.lora_[AB]\.weight$/.test(name);
}

/**
 * A new UNet with adapters, holding `base`'s weights (copied; `base` is left as it was). The
 * adapters start as the identity (B = 0), so it computes what `base` computes.
 */
export function attachLora(base: UNet, lora: LoraOptions, seed = 0): UNet {
  if (!(base instanceof UNet)) throw new TreeRewardError('NOT_SUPPORTED', 'Expected a native UNet to attach LoRA adapters to but received another noise predictor');
  if (base.lora) throw new TreeRewardError('INVALID_ARGUMENT', 'Expected a UNet without LoRA adapters for base but received one that has them (merge them first)');
  const adapted = new UNet(base.config, seed, { lora });
  const report = adapted.loadStateDict(base.parameters(), { strict: false });
  const notAdapters = report.missing.filter((n) => !isLoraParameter(n));
  if (notAdapters.length || report.unexpected.length || report.mismatched.length) {
    adapted.dispose();
    throw new TreeRewardError('INTERNAL', `Expected the adapted UNet to hold every base weight but found missing ${notAdapters.slice(0, 5).join(', ')}, unexpected ${report.unexpected.slice(0, 5).join(', ')}`);
  }
  // built on the host: it goes where the base is, adapters and all
  return base.device === 'cpu' ? adapted : adapted.to(base.device);
}

/** The adapters' parameters by name ("<...>.to_q.lora_A.weight" (r, in), "<...>.to_q.lora_B.weight" (out, r)). */
export function loraParameters(unet: UNet): Map<string, Tensor> {
  return new Map([...unet.parameters()].filter(([name]) => isLoraParameter(name)));
}

/** The base weights (everything but the adapters) by name. */
export function baseParameters(unet: UNet): Map<string, Tensor> {
  return new Map([...unet.parameters()].filter(([name]) => !isLoraParameter(name)));
}

/**
 * The plain UNet's weights with every adapter merged: W' = W + (alpha / r) B A for each adapted
 * projection, the other weights as they are (new tensors; the caller disposes them).
 */
export function mergedWeights(unet: UNet): Map<string, Tensor> {
  if (!unet.lora) throw new TreeRewardError('INVALID_ARGUMENT', 'Expected a UNet with LoRA adapters to merge but received one without');
  const scale = unet.lora.alpha / unet.lora.rank;
  const params = unet.parameters();
  return noGrad(() => {
    const out = new Map<string, Tensor>();
    for (const [name, w] of params) {
      if (isLoraParameter(name)) continue;
      const stem = name.replace(/\.weight$/, '');
      const A = params.get(`${stem}.lora_A.weight`), B = params.get(`${stem}.lora_B.weight`);
      out.set(name, A && B ? tidy(() => w.add(B.matmul(A).mul(scale))) : w.clone());
    }
    return out;
  });
}

/** A plain UNet (no adapters) with the merged weights. */
export function mergeLora(unet: UNet): UNet {
  const merged = mergedWeights(unet);
  const plain = new UNet(unet.config);
  try {
    plain.loadStateDict(merged);
  } catch (err) {
    plain.dispose();
    throw err;
  } finally {
    for (const t of merged.values()) t.dispose();
  }
  return plain;
}

/**
 * Writes the adapters as safetensors in diffusers' / peft's layout ("unet.<...>.to_q.lora_A.weight"),
 * with rank, alpha and targets in the metadata.
 */
export function saveLora(path: string, unet: UNet, metadata: Record<string, string> = {}): void {
  if (!unet.lora) throw new TreeRewardError('INVALID_ARGUMENT', 'Expected a UNet with LoRA adapters to save but received one without');
  const named = new Map([...loraParameters(unet)].map(([n, t]) => [`unet.${n}`, t]));
  writeSafetensors(path, named, {
    ...metadata, format: 'treereward-lora', rank: String(unet.lora.rank), alpha: String(unet.lora.alpha), targets: unet.lora.targets.join(','),
  });
}
