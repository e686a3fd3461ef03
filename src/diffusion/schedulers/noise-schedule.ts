// noise-schedule.ts: the forward process's betas and alphas_cumprod (abar_t), computed as PyTorch
// computes them, and the inference timesteps for a number of steps ('leading', 'trailing',
// 'linspace' spacing, as diffusers). SD1.5: scaled_linear betas 0.00085..0.012 over 1000 steps,
// 'leading' spacing with steps_offset 1 (10 steps: 901, 801, ..., 1).
import { expected } from '../../native/errors.js';

export type BetaSchedule = 'scaled_linear' | 'linear';
export type TimestepSpacing = 'leading' | 'trailing' | 'linspace';

const f32 = Math.fround;

/**
 * torch.linspace(start, end, n, dtype=float32) bit for bit. PyTorch's CPU kernel computes
 * `start + step * i` for the first half and `end - step * (n - 1 - i)` for the second, in float32;
 * its AVX2 and AVX-512 builds contract each into one fused multiply-add (`fma: true`, the default,
 * what x86 machines run), the portable build does not (`fma: false`, ATEN_CPU_CAPABILITY=default).
 */
export function torchLinspaceF32(start: number, end: number, n: number, options: { fma?: boolean } = {}): Float64Array {
  const fma = options.fma ?? true;
  const s = f32(start), e = f32(end);
  const out = new Float64Array(n);
  if (n === 1) {
    out[0] = s;
    return out;
  }
  const step = f32(f32(e - s) / (n - 1));
  const half = Math.floor(n / 2);
  for (let i = 0; i < n; i++) {
    if (i < half) out[i] = fma ? fmaF32(step, i, s) : f32(s + f32(step * i));
    else out[i] = fma ? fmaF32(-step, n - 1 - i, e) : f32(e - f32(step * (n - 1 - i)));
  }
  return out;
}

/**
 * round_f32(a * b + c) with one rounding, for float32 a and c and an integer b below 2^24: a * b is
 * exact in float64; the float64 sum's rounding error is recovered (TwoSum), and where that sum lies
 * exactly halfway between two float32 values the error's sign decides, as one rounding would.
 */
function fmaF32(a: number, b: number, c: number): number {
  const p = a * b;
  const sum = p + c;
  const bp = sum - c;
  const err = (p - bp) + (c - (sum - bp));
  const r = f32(sum);
  if (err === 0 || r === sum) return r;
  const other = r > sum ? stepF32(r, -1) : stepF32(r, 1);
  if ((r + other) / 2 !== sum) return r;
  return err > 0 ? Math.max(r, other) : Math.min(r, other);
}

/** The float32 next to x toward +infinity (dir 1) or -infinity (dir -1). */
function stepF32(x: number, dir: 1 | -1): number {
  const b = new Float32Array([x]), u = new Int32Array(b.buffer);
  if (x === 0) return dir * 2 ** -149;
  u[0] += (x > 0) === (dir > 0) ? 1 : -1;
  return b[0];
}

/** The betas as float32 values: scaled_linear is linspace(sqrt(start), sqrt(end), T) ** 2. */
export function betas(schedule: BetaSchedule, start: number, end: number, trainSteps: number): Float64Array {
  if (schedule === 'linear') return torchLinspaceF32(start, end, trainSteps);
  if (schedule === 'scaled_linear') return torchLinspaceF32(Math.sqrt(start), Math.sqrt(end), trainSteps).map((b) => f32(b * b));
  throw expected('"scaled_linear" or "linear"', 'betaSchedule', schedule);
}

/** abar_t = prod_{s <= t} (1 - beta_s): torch.cumprod on float32, which multiplies in float64 and stores float32. */
export function alphasCumprod(betaValues: Float64Array): Float64Array {
  const out = new Float64Array(betaValues.length);
  let acc = 1;
  for (let i = 0; i < betaValues.length; i++) {
    acc *= f32(1 - betaValues[i]);
    out[i] = f32(acc);
  }
  return out;
}

/** numpy's round (half to even). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The timesteps to visit, from noisiest to cleanest, for `steps` inference steps (diffusers' set_timesteps). */
export function inferenceTimesteps(steps: number, trainSteps: number, spacing: TimestepSpacing, stepsOffset: number): number[] {
  if (!Number.isInteger(steps) || steps < 1 || steps > trainSteps) throw expected(`an integer in [1, ${trainSteps}]`, 'steps', steps);
  const out: number[] = [];
  if (spacing === 'leading') {
    const ratio = Math.floor(trainSteps / steps);
    for (let i = steps - 1; i >= 0; i--) out.push(i * ratio + stepsOffset);
  } else if (spacing === 'trailing') {
    const ratio = trainSteps / steps;
    for (let i = 0; i < steps; i++) out.push(roundHalfEven(trainSteps - i * ratio) - 1);
  } else if (spacing === 'linspace') {
    const delta = steps === 1 ? 0 : (trainSteps - 1) / (steps - 1);
    for (let i = steps - 1; i >= 0; i--) out.push(roundHalfEven(i === steps - 1 ? trainSteps - 1 : i * delta));
  } else {
    throw expected('"leading", "trailing" or "linspace"', 'timestepSpacing', spacing);
  }
  const bad = out.find((t) => t < 0 || t >= trainSteps);
  if (bad !== undefined) throw expected(`timesteps in [0, ${trainSteps - 1}] (check stepsOffset)`, 'stepsOffset', stepsOffset);
  return out;
}
