// contrastive.ts: what the world's BLIP and CLIP pretraining share: the symmetric in-batch
// contrastive loss (InfoNCE over image->text and text->image, as CLIP and BLIP's ITC), picking rows
// of a batch, hard negatives drawn from the similarities (BLIP's ITM mining), and retrieval R@1.
import { F, tensor, type Tensor } from '../api/index.js';
import type { Rng } from '../world/random.js';

/**
 * logits (B, B): row i image i against every text, already scaled. Loss = (CE(logits, i) +
 * CE(logits^T, i)) / 2 with targets on the diagonal.
 */
export function symmetricContrastiveLoss(logits: Tensor): Tensor {
  const B = logits.shape[0];
  const targets = tensor(Int32Array.from({ length: B }, (_, i) => i), [B], { dtype: 'int32' });
  return F.crossEntropy(logits, targets).add(F.crossEntropy(logits.transpose(0, 1).contiguous(), targets)).mul(0.5);
}

/** Rows `index` of x (B, ...) -> (index.length, ...), differentiable. */
export function rowsOf(x: Tensor, index: readonly number[]): Tensor {
  return F.concat(index.map((i) => x.slice(0, i, i + 1)), 0);
}

/**
 * For each row i of a (B, B) similarity matrix (row-major values), a column j != i drawn with
 * probability softmax(sim[i, :]) among the allowed columns (BLIP's hard-negative mining: the most
 * similar wrong partners are drawn most often). -1 where no column is allowed.
 */
export function drawHardNegatives(sim: ArrayLike<number>, B: number, allowed: (i: number, j: number) => boolean, rng: Rng): number[] {
  const out: number[] = [];
  for (let i = 0; i < B; i++) {
    let max = -Infinity;
    for (let j = 0; j < B; j++) if (j !== i && allowed(i, j)) max = Math.max(max, sim[i * B + j]);
    if (max === -Infinity) {
      out.push(-1);
      continue;
    }
    const w = Array.from({ length: B }, (_, j) => (j !== i && allowed(i, j) ? Math.exp(sim[i * B + j] - max) : 0));
    let u = rng.next() * w.reduce((a, b) => a + b, 0);
    let pick = -1;
    for (let j = 0; j < B; j++) {
      if (w[j] === 0) continue;
      pick = j; // the last allowed column, should rounding leave u above 0
      u -= w[j];
      if (u <= 0) break;
    }
    out.push(pick);
  }
  return out;
}

/** The (B, B) transpose of row-major values. */
export function transposed(sim: ArrayLike<number>, B: number): Float64Array {
  const out = new Float64Array(B * B);
  for (let i = 0; i < B; i++) for (let j = 0; j < B; j++) out[j * B + i] = sim[i * B + j];
  return out;
}

export interface Retrieval {
  /** Pairs searched over. */
  n: number;
  /** Share of images whose most similar caption is their own. */
  imageToText: number;
  /** Share of captions whose most similar image is their own. */
  textToImage: number;
  /** R@1 by guessing: 1 / n. */
  chance: number;
}

/** R@1 both ways from an (n, n) image x text similarity matrix (row-major); ties count against. */
export function retrievalAt1(sim: ArrayLike<number>, n: number): Retrieval {
  let i2t = 0, t2i = 0;
  for (let i = 0; i < n; i++) {
    let bestRow = true, bestCol = true;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      if (sim[i * n + j] >= sim[i * n + i]) bestRow = false;
      if (sim[j * n + i] >= sim[i * n + i]) bestCol = false;
    }
    if (bestRow) i2t++;
    if (bestCol) t2i++;
  }
  return { n, imageToText: i2t / n, textToImage: t2i / n, chance: 1 / n };
}

/** Spearman rank correlation (average ranks for ties). */
export function spearman(a: readonly number[], b: readonly number[]): number {
  const ra = ranks(a), rb = ranks(b);
  const n = a.length;
  const ma = ra.reduce((s, x) => s + x, 0) / n, mb = rb.reduce((s, x) => s + x, 0) / n;
  let num = 0, da = 0, db = 0;
  for (let i = 0; i < n; i++) {
    num += (ra[i] - ma) * (rb[i] - mb);
    da += (ra[i] - ma) ** 2;
    db += (rb[i] - mb) ** 2;
  }
  return da > 0 && db > 0 ? num / Math.sqrt(da * db) : 0;
}

function ranks(x: readonly number[]): number[] {
  const order = x.map((v, i) => [v, i] as const).sort((p, q) => p[0] - q[0]);
  const r = new Array<number>(x.length);
  for (let k = 0; k < order.length; ) {
    let end = k;
    while (end + 1 < order.length && order[end + 1][0] === order[k][0]) end++;
    for (let m = k; m <= end; m++) r[order[m][1]] = (k + end) / 2;
    k = end + 1;
  }
  return r;
}
