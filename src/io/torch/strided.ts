// strided.ts: the bytes a strided tensor view needs from its storage, and gathering them into a
// contiguous row-major buffer (PyTorch saves views as (storage, offset, size, stride)).

/** The element span [first, last + 1) of storage a view touches (0 elements when it is empty). */
export function viewSpan(offset: number, shape: number[], stride: number[]): [number, number] {
  if (shape.some((d) => d === 0)) return [offset, offset];
  return [offset, offset + 1 + shape.reduce((s, d, i) => s + (d - 1) * stride[i], 0)];
}

export function isRowMajor(shape: number[], stride: number[]): boolean {
  let want = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && stride[i] !== want) return false;
    want *= shape[i];
  }
  return true;
}

/**
 * The view's elements in row-major order. `src` holds the storage's elements from `base` on
 * (`offset` is in the storage's elements); es is the element size in bytes.
 */
export function gather(src: Uint8Array, base: number, es: number, offset: number, shape: number[], stride: number[]): Uint8Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const start = (offset - base) * es;
  if (isRowMajor(shape, stride)) return src.slice(start, start + n * es);
  const out = new Uint8Array(n * es);
  if (n === 0) return out;
  // Copy runs of the innermost dimension when it is contiguous, else single elements.
  const rank = shape.length;
  const run = stride[rank - 1] === 1 ? shape[rank - 1] : 1;
  const outer = run > 1 ? rank - 1 : rank;
  const idx = new Array<number>(outer).fill(0);
  const runBytes = run * es;
  let pos = start; // byte position in src of the current run
  for (let at = 0; at < out.length; at += runBytes) {
    out.set(src.subarray(pos, pos + runBytes), at);
    // odometer over the outer dimensions
    for (let d = outer - 1; d >= 0; d--) {
      idx[d]++;
      pos += stride[d] * es;
      if (idx[d] < shape[d]) break;
      pos -= stride[d] * es * shape[d];
      idx[d] = 0;
    }
  }
  return out;
}
