// readme.test.ts: the README's TypeScript examples run as written (so the README cannot drift).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function examples(): string[] {
  const md = readFileSync(path.join(root, 'README.md'), 'utf8');
  return [...md.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
}

describe('README', () => {
  it('has TypeScript examples, and each runs as written', () => {
    const blocks = examples();
    expect(blocks.length).toBeGreaterThanOrEqual(1);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'readme-'));
    try {
      blocks.forEach((code, i) => {
        const file = path.join(dir, `example-${i}.mts`);
        const src = (sub: string) => `from '${path.join(root, 'src', sub, 'index.ts')}'`;
        writeFileSync(file, code.replaceAll("from 'treereward/data'", src('data')).replaceAll("from 'treereward/eval'", src('eval')).replaceAll("from 'treereward'", src('')));
        execFileSync(process.execPath, ['--import', 'tsx', file], { cwd: root, stdio: 'pipe' });
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
