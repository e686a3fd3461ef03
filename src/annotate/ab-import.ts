// ab-import.ts: reads A/B comparison items from files.
// - Two folders, one per model, each with a prompts.jsonl: one line per image,
//   {"prompt": "...", "image": "relative/or/absolute.png", "dimension"?: "lighting", "key"?: "..."}.
//   Lines of A and B are matched by key (default: dimension and prompt).
// - One JSONL file: {"prompt": "...", "a": "a.png", "b": "b.png", "dimension"?: "...", "key"?: "..."},
//   image paths relative to the file.
// Errors name the file and line.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { AbItemInput } from './ab-sets.js';
import { abItemKey } from './ab-sets.js';

export const AB_LIST_FILE = 'prompts.jsonl';

interface Line {
  number: number;
  value: Record<string, unknown>;
}

function jsonLines(file: string): Line[] {
  if (!existsSync(file)) throw new Error(`Expected a JSONL file at ${JSON.stringify(file)} but received a path that does not exist`);
  const out: Line[] = [];
  readFileSync(file, 'utf8').split(/\r?\n/).forEach((text, i) => {
    if (text.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new Error(`${file} line ${i + 1}: Expected a JSON object for the line but received invalid JSON`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${file} line ${i + 1}: Expected a JSON object for the line but received ${JSON.stringify(value)}`);
    out.push({ number: i + 1, value: value as Record<string, unknown> });
  });
  return out;
}

function field(line: Line, file: string, name: string, optional = false): string | undefined {
  const v = line.value[name];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || v.trim() === '') throw new Error(`${file} line ${line.number}: Expected a non-empty string for ${name} but received ${JSON.stringify(v)}`);
  return v;
}

function imageAt(base: string, path: string, file: string, line: number): { bytes: Uint8Array } {
  const abs = isAbsolute(path) ? path : resolve(base, path);
  if (!existsSync(abs)) throw new Error(`${file} line ${line}: Expected an image file for ${JSON.stringify(path)} but received a path that does not exist (${abs})`);
  return { bytes: readFileSync(abs) };
}

export interface AbImport {
  items: AbItemInput[];
  /** Keys found in one list only (not imported). */
  onlyInA: string[];
  onlyInB: string[];
}

/** Items from two model folders, matched by key. */
export function readAbFolders(dirA: string, dirB: string): AbImport {
  const read = (dir: string): Map<string, { prompt: string; dimension?: string; key?: string; image: string; line: number; file: string }> => {
    const file = join(dir, AB_LIST_FILE);
    const byKey = new Map<string, { prompt: string; dimension?: string; key?: string; image: string; line: number; file: string }>();
    for (const line of jsonLines(file)) {
      const entry = { prompt: field(line, file, 'prompt')!, dimension: field(line, file, 'dimension', true), key: field(line, file, 'key', true), image: field(line, file, 'image')!, line: line.number, file };
      const key = abItemKey(entry);
      if (byKey.has(key)) throw new Error(`${file} line ${line.number}: Expected one line per key but received a repeat of line ${byKey.get(key)!.line} (give the lines distinct "key"s)`);
      byKey.set(key, entry);
    }
    return byKey;
  };
  const a = read(dirA);
  const b = read(dirB);
  const items: AbItemInput[] = [];
  for (const [key, ea] of a) {
    const eb = b.get(key);
    if (!eb) continue;
    items.push({
      prompt: ea.prompt, dimension: ea.dimension ?? null, key: ea.key,
      a: imageAt(dirA, ea.image, ea.file, ea.line), b: imageAt(dirB, eb.image, eb.file, eb.line),
    });
  }
  const show = (k: string): string => k.replace('\u0000', ' / ');
  return { items, onlyInA: [...a.keys()].filter((k) => !b.has(k)).map(show), onlyInB: [...b.keys()].filter((k) => !a.has(k)).map(show) };
}

/** Items from one JSONL file of {prompt, a, b}. */
export function readAbJsonl(file: string): AbImport {
  const base = dirname(resolve(file));
  const seen = new Map<string, number>();
  const items = jsonLines(file).map((line): AbItemInput => {
    const item = { prompt: field(line, file, 'prompt')!, dimension: field(line, file, 'dimension', true) ?? null, key: field(line, file, 'key', true) };
    const key = abItemKey(item);
    if (seen.has(key)) throw new Error(`${file} line ${line.number}: Expected one line per key but received a repeat of line ${seen.get(key)} (give the lines distinct "key"s)`);
    seen.set(key, line.number);
    return { ...item, a: imageAt(base, field(line, file, 'a')!, file, line.number), b: imageAt(base, field(line, file, 'b')!, file, line.number) };
  });
  return { items, onlyInA: [], onlyInB: [] };
}
