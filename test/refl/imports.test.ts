// imports.test.ts: ReFL learns only from the reward model: nothing under src/refl/ reaches the
// world's judges (directly or through another module), nor the renderer that knows what a render
// was made from.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:import|export)\s[^'";]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2]!);
  return specs.filter((s) => s.startsWith('.')).map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts')));
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('ReFL import graph', () => {
  it('never reaches src/world/judges or the renderer', () => {
    const entries = tsFiles(join(root, 'src/refl'));
    expect(entries.length).toBeGreaterThanOrEqual(10);
    const seen = new Map<string, string>();
    const stack: [string, string][] = entries.map((e) => [e, '(entry)']);
    while (stack.length) {
      const [file, from] = stack.pop()!;
      if (seen.has(file)) continue;
      seen.set(file, from);
      for (const dep of importsOf(file)) stack.push([dep, file]);
    }
    const bad = [...seen].map(([f, from]) => [relative(root, f), relative(root, from)] as const)
      .filter(([f]) => f.startsWith('src/world/judges/') || f.startsWith('src/world/render/') || f === 'src/world/index.ts');
    expect(bad).toEqual([]);
    expect(seen.size).toBeGreaterThan(entries.length); // it did follow the imports
  });
});
