// model.ts: NativeModel, a typed handle to a model built in native/models (UNet, VAE, text and
// image encoders, MLP heads): its named parameters, its methods, and loading weights by name with
// a report of missing, unexpected and mis-shaped keys.
import { native, type NativeModelHandle } from '../native/addon.js';
import { callNative, expected, TreeRewardError } from '../native/errors.js';
import type { Device } from './dtype.js';
import { keep } from './scope.js';
import { Tensor } from './tensor.js';
import { checkDevice, checkInt, fmtShape } from './validate.js';

export interface LoadReport {
  /** Parameters of the model that the weights did not have. */
  missing: string[];
  /** Weights that are not parameters of the model. */
  unexpected: string[];
  /** Names present on both sides with different shapes. */
  mismatched: { name: string; expected: number[]; received: number[] }[];
  loaded: number;
}

export interface LoadOptions {
  /** Fail on any missing, unexpected or mis-shaped key. Defaults to true. */
  strict?: boolean;
}

export class NativeModel {
  readonly kind: string;
  #h: NativeModelHandle | null;
  #params: Map<string, Tensor> | undefined;
  #device: Device = 'cpu';

  constructor(kind: string, config: object, seed = 0) {
    checkInt(seed, 'seed', 0);
    this.kind = kind;
    this.#h = callNative(() => native().modelCreate(kind, config, seed));
  }

  get handle(): NativeModelHandle {
    if (!this.#h) throw new TreeRewardError('DISPOSED', `Expected a live ${this.kind} model but received one that was disposed`);
    return this.#h;
  }

  /** The live parameters by name (diffusers / BLIP naming), shared with the model: optimizers update them in place. */
  parameters(): Map<string, Tensor> {
    if (!this.#params) {
      this.#params = new Map();
      for (const [name, h] of callNative(() => native().modelParameters(this.handle))) this.#params.set(name, keep(new Tensor(h)));
    }
    return this.#params;
  }

  /** Where the parameters live: 'cpu' until to() moves them. */
  get device(): Device {
    return this.#device;
  }

  /**
   * Moves every parameter (and its gradient) to `device` in place and returns this model: the tensors
   * from parameters() stay valid and live there now; parameters that shared memory still share it.
   * When the move fails (CUDA_UNAVAILABLE, OUT_OF_MEMORY) nothing has moved. Move before making an
   * optimizer (its state is made on the parameters' device) and between steps, not between a forward
   * and its backward.
   */
  to(device: Device): this {
    const d = checkDevice(device);
    const h = this.handle;
    callNative(() => native().modelTo(h, d));
    this.#device = d;
    return this;
  }

  numParameters(): number {
    let n = 0;
    for (const t of this.parameters().values()) n += t.numel;
    return n;
  }

  /** Calls a model method ("forward", "encode", "decode", ...). */
  call(method: string, inputs: (Tensor | null)[], options: { checkpointing?: boolean } = {}): Tensor[] {
    const hs = inputs.map((t, i) => {
      if (t === null) return null;
      if (!(t instanceof Tensor)) throw expected('a Tensor or null', `inputs[${i}]`, t);
      return t.handle;
    });
    const outs = callNative(() => native().modelCall(this.handle, method, hs, options));
    return outs.map((h) => (h ? new Tensor(h) : (null as unknown as Tensor)));
  }

  /** Sets every parameter's requiresGrad (freezing or unfreezing the whole model). */
  setRequiresGrad(on: boolean, filter: (name: string) => boolean = () => true): void {
    for (const [name, p] of this.parameters()) if (filter(name)) p.requiresGrad = on;
  }

  /**
   * Copies weights into the parameters by name (converting dtype). Reports missing, unexpected and
   * mis-shaped keys by name; with strict (the default) any of them is an error and nothing is copied.
   */
  loadStateDict(weights: Map<string, Tensor> | Record<string, Tensor>, options: LoadOptions = {}): LoadReport {
    const strict = options.strict ?? true;
    const w = weights instanceof Map ? weights : new Map(Object.entries(weights));
    const params = this.parameters();
    const report: LoadReport = { missing: [], unexpected: [], mismatched: [], loaded: 0 };
    for (const name of params.keys()) if (!w.has(name)) report.missing.push(name);
    for (const [name, t] of w) {
      const p = params.get(name);
      if (!p) report.unexpected.push(name);
      else if (fmtShape(p.shape) !== fmtShape(t.shape)) report.mismatched.push({ name, expected: p.shape, received: t.shape });
    }
    if (strict && (report.missing.length || report.unexpected.length || report.mismatched.length)) {
      const parts: string[] = [];
      if (report.missing.length) parts.push(`missing ${report.missing.length} (${report.missing.slice(0, 5).join(', ')}${report.missing.length > 5 ? ', ...' : ''})`);
      if (report.unexpected.length) parts.push(`unexpected ${report.unexpected.length} (${report.unexpected.slice(0, 5).join(', ')}${report.unexpected.length > 5 ? ', ...' : ''})`);
      for (const m of report.mismatched.slice(0, 5)) parts.push(`${m.name}: expected shape ${fmtShape(m.expected)} but received ${fmtShape(m.received)}`);
      throw new TreeRewardError('SHAPE_MISMATCH', `Expected weights matching the ${this.kind} model's parameters but found: ${parts.join('; ')}`);
    }
    for (const [name, t] of w) {
      const p = params.get(name);
      if (!p || fmtShape(p.shape) !== fmtShape(t.shape)) continue;
      callNative(() => native().copyInto(p.handle, t.handle));
      report.loaded++;
    }
    return report;
  }

  dispose(): void {
    if (this.#params) for (const t of this.#params.values()) t.dispose();
    this.#params = undefined;
    if (this.#h) native().modelDispose(this.#h);
    this.#h = null;
  }
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/**
 * Moves several models to `device` as one (a model made of native parts: CLIP's towers, a backbone and
 * its head): when one part fails to move, the parts already moved go back where they were.
 */
export function moveModels(models: readonly NativeModel[], device: Device): void {
  const d = checkDevice(device);
  const done: { model: NativeModel; from: Device }[] = [];
  try {
    for (const model of models) {
      const from = model.device;
      model.to(d);
      done.push({ model, from });
    }
  } catch (e) {
    for (const { model, from } of done.reverse()) model.to(from);
    throw e;
  }
}
