// silu.test.ts: float32 SiLU's vectorised path (16 lanes, masked tail) against the float64 op on
// the same inputs, forward and backward, at sizes that are not multiples of 16 and wide ranges.
import { describe, expect, it } from 'vitest';

import { Rng } from '../../src/index.js';

describe('float32 silu', () => {
  for (const n of [1, 15, 17, 1037, 65_541]) {
    it(`matches float64 forward and backward on ${n} values in [-30, 30]`, () => {
      const x64 = new Rng(n).rand([n], { dtype: 'float64' }).mul(60).add(-30);
      const g64 = new Rng(n + 1).randn([n], { dtype: 'float64' });
      const x32 = x64.to('float32').requiresGrad_();
      const y32 = x32.silu();
      y32.backward(g64.to('float32'));
      const xr = x32.to('float64').detach().requiresGrad_(); // the same (rounded) inputs in float64
      const yr = xr.silu();
      yr.backward(g64);
      const [a, b] = [y32.toArray(), yr.toArray()];
      const [da, db] = [x32.grad!.toArray(), xr.grad!.toArray()];
      for (let i = 0; i < n; i++) {
        expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(2e-6 * Math.max(1, Math.abs(b[i])));
        expect(Math.abs(da[i] - db[i])).toBeLessThanOrEqual(2e-6 * Math.max(1, Math.abs(db[i])));
      }
    });
  }
});
