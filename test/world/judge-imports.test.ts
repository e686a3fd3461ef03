// The judges read pixels and the prompt only: nothing under src/world/judges/ may import (directly or
// through another module) the renderer, the scenes, the generator or anything else that knows what a
// render was made from. Allowed: the judges themselves, the vocabulary (what words mean), the prompt
// grammar, pixel utilities and the shared interfaces.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ALLOWED = ['src/world/judges/', 'src/world/vocabulary/', 'src/world/prompt/', 'src/world/pixels/', 'src/api/interfaces.ts'];

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:import|export)\s[^'";]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2]!);
  return specs.filter((s) => s.startsWith('.')).map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts')));
}

function closure(entries: string[]): Map<string, string> {
  const seen = new Map<string, string>(); // file -> who imported it
  const stack: [string, string][] = entries.map((e) => [e, '(entry)']);
  while (stack.length) {
    const [file, from] = stack.pop()!;
    if (seen.has(file)) continue;
    seen.set(file, from);
    for (const dep of importsOf(file)) stack.push([dep, file]);
  }
  return seen;
}

describe('judge import graph', () => {
  it('reaches only the vocabulary, the prompt grammar, pixel utilities and interfaces', () => {
    const dir = join(root, 'src/world/judges');
    const entries = readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => join(dir, f));
    expect(entries.length).toBeGreaterThanOrEqual(7);
    const reached = closure(entries);
    const bad = [...reached].map(([file, from]) => [relative(root, file), relative(root, from)] as const).filter(([file]) => !ALLOWED.some((a) => file.startsWith(a)));
    expect(bad).toEqual([]);
    const files = [...reached.keys()].map((f) => relative(root, f));
    for (const forbidden of ['src/world/render/render-scene.ts', 'src/world/scene.ts', 'src/world/world-generator.ts', 'src/world/captioner.ts']) expect(files).not.toContain(forbidden);
  });

  it('has one judge file per dimension', () => {
    const names = readdirSync(join(root, 'src/world/judges'));
    for (const d of ['content', 'style', 'color', 'lighting', 'layout', 'detail']) expect(names).toContain(`${d}.ts`);
  });
});
