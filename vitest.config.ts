import { configDefaults, defineConfig } from 'vitest/config';

// `npm test` leaves the GPU tests out (they need a GPU); `npm run test:gpu` sets TREEREWARD_GPU_TESTS
// and runs only them.
const gpu = process.env.TREEREWARD_GPU_TESTS === '1';

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
    include: ['test/**/*.test.ts'],
    exclude: gpu ? configDefaults.exclude : [...configDefaults.exclude, 'test/gpu/**'],
  },
});
