// prompts.ts: what an evaluation generates from. The fixed fine-grained benchmark (the world's 100
// prompts per dimension, src/world/benchmark-prompts.json, never used for training), or a user's own
// prompt file: JSONL lines {"prompt": "...", "dimension": "lighting"} (dimension optional) or plain
// text, one prompt per line ('#' starts a comment line). Every bad line is reported with its number.
import { readFileSync } from 'node:fs';

import { DIMENSIONS, type Dimension } from '../api/interfaces.js';
import { BENCHMARK_PER_DIMENSION, loadBenchmark } from '../world/benchmark.js';

export interface EvalPrompt {
  prompt: string;
  /** The dimension the prompt stresses; null for a prompt that stresses none (counted in the overall figures only). */
  dimension: Dimension | null;
}

/** The first `perDimension` benchmark prompts of each dimension, dimension by dimension (at most 100 each). */
export function benchmarkPrompts(perDimension = 20): EvalPrompt[] {
  if (!Number.isInteger(perDimension) || perDimension < 1 || perDimension > BENCHMARK_PER_DIMENSION) {
    throw new Error(`Expected an integer in [1, ${BENCHMARK_PER_DIMENSION}] for perDimension but received ${perDimension}`);
  }
  const b = loadBenchmark();
  return DIMENSIONS.flatMap((dimension) => b.prompts[dimension].slice(0, perDimension).map((prompt) => ({ prompt, dimension })));
}

const KEYS = ['prompt', 'dimension'];

function parseJsonLine(text: string): EvalPrompt | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return `Expected a JSON object {"prompt": ..., "dimension": ...} but received invalid JSON ${clip(text)}`;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return `Expected a JSON object {"prompt": ..., "dimension": ...} but received ${clip(JSON.stringify(value))}`;
  const o = value as Record<string, unknown>;
  const extra = Object.keys(o).filter((k) => !KEYS.includes(k));
  if (extra.length) return `Expected only the keys prompt, dimension but received ${extra.map((k) => JSON.stringify(k)).join(', ')}`;
  if (typeof o.prompt !== 'string' || o.prompt.trim() === '') return `Expected a non-empty string for prompt but received ${clip(JSON.stringify(o.prompt) ?? 'nothing')}`;
  const d = o.dimension;
  if (d !== undefined && d !== null && !(typeof d === 'string' && (DIMENSIONS as readonly string[]).includes(d))) {
    return `Expected one of ${DIMENSIONS.join(', ')} (or no dimension) for dimension but received ${clip(JSON.stringify(d))}`;
  }
  return { prompt: o.prompt.trim(), dimension: (d ?? null) as Dimension | null };
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/**
 * Parses a prompt file's text. The format is decided by the first prompt line: JSONL when it starts
 * with '{', plain text otherwise. Blank lines are skipped, and in plain text lines starting with '#'.
 * Throws one error naming every bad line ("FILE line N: Expected ... but received ...").
 */
export function parsePromptFile(text: string, file = 'prompts'): EvalPrompt[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const first = lines.find((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  const jsonl = first?.trim().startsWith('{') ?? false;
  const out: EvalPrompt[] = [];
  const errors: string[] = [];
  const seen = new Map<string, number>();
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || (!jsonl && line.startsWith('#'))) return;
    let parsed: EvalPrompt | string;
    if (jsonl) parsed = parseJsonLine(line);
    else if (line.startsWith('{')) parsed = 'Expected a plain-text prompt (the file is plain text: its first prompt line is not JSON) but received a JSON object';
    else parsed = { prompt: line.replace(/\s+/g, ' '), dimension: null };
    if (typeof parsed !== 'string') {
      const key = `${parsed.dimension ?? ''}\u0000${parsed.prompt}`;
      if (seen.has(key)) parsed = `Expected each prompt once but received a repeat of line ${seen.get(key)}`;
      else seen.set(key, i + 1);
    }
    if (typeof parsed === 'string') errors.push(`${file} line ${i + 1}: ${parsed}`);
    else out.push(parsed);
  });
  if (errors.length) {
    const shown = errors.slice(0, 10).join('\n');
    throw new Error(errors.length > 10 ? `${shown}\n... and ${errors.length - 10} more bad lines` : shown);
  }
  if (out.length === 0) throw new Error(`Expected at least one prompt in ${file} but received none`);
  return out;
}

export function loadPromptFile(path: string): EvalPrompt[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`Expected a readable prompt file at ${path} but ${(e as Error).message}`);
  }
  return parsePromptFile(text, path);
}
