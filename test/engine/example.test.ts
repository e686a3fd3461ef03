// example.test.ts: the README's quick-start training (`treereward example`) learns its task.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { runExample } from '../../src/cli/example.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('treereward example', () => {
  it('an MLP separates the two spirals (train accuracy >= 95%)', () => {
    const r = runExample({ steps: 400, seed: 1 });
    expect(r.trainAccuracy).toBeGreaterThanOrEqual(0.95);
    expect(r.finalLoss).toBeLessThan(0.2);
  });

  it('the command prints one JSON document with --json', () => {
    const out = execFileSync(process.execPath, [path.join(root, 'bin', 'treereward.js'), 'example', '--steps', '50', '--json'], { cwd: root }).toString();
    const doc = JSON.parse(out);
    expect(doc.steps).toBe(50);
    expect(typeof doc.finalLoss).toBe('number');
  });
});
