// registry.ts: the vocabulary in use. It starts as DEFAULT_VOCABULARY; `extendVocabulary` adds
// words (a new shape, style, palette...) for the renderer, prompt grammar and judges alike.
// `vocabularyVersion` changes on every extension, so caches keyed on it stay correct.
import { DEFAULT_VOCABULARY } from './data.js';
import type { PaletteWord, Vocabulary } from './types.js';

let current: Vocabulary = cloneVocabulary(DEFAULT_VOCABULARY);
let version = 0;

function cloneVocabulary(v: Vocabulary): Vocabulary {
  return JSON.parse(JSON.stringify(v)) as Vocabulary;
}

export function vocabulary(): Vocabulary {
  return current;
}

export function vocabularyVersion(): number {
  return version;
}

/**
 * Palette tones must all have the vocabulary's background luminance: a palette owns chroma only, and
 * the lighting judge reads the background's luminance as the lighting.
 */
function checkPaletteLuminance(p: PaletteWord, target: number): void {
  for (const [r, g, b] of p.tones) {
    const y = 0.299 * r + 0.587 * g + 0.114 * b;
    if (Math.abs(y - target) > 2) {
      throw new Error(`Expected palette tones of luminance ${target} (0.299 R + 0.587 G + 0.114 B) for palette ${JSON.stringify(p.name)} but received [${r}, ${g}, ${b}] (luminance ${y.toFixed(1)})`);
    }
  }
}

type WordLists = Pick<Vocabulary, 'colors' | 'shapes' | 'styles' | 'palettes' | 'lightings' | 'layouts' | 'details' | 'triggers'>;

function wordKey(list: keyof WordLists, word: object): string {
  return list === 'lightings' || list === 'triggers' ? (word as { phrase: string }).phrase : (word as { name: string }).name;
}

/**
 * Adds words to the vocabulary in use. A word whose name (or phrase) is already there is rejected:
 * redefining a word would silently change every dataset and benchmark built on it.
 */
export function extendVocabulary(extra: Partial<WordLists>): void {
  const next = cloneVocabulary(current);
  for (const list of Object.keys(extra) as (keyof WordLists)[]) {
    const words = extra[list];
    if (!words) continue;
    const target = next[list] as object[];
    const taken = new Set(target.map((w) => wordKey(list, w)));
    for (const word of words as object[]) {
      const key = wordKey(list, word);
      if (!key || /[,]/.test(key)) throw new Error(`Expected a non-empty word without commas for ${list} but received ${JSON.stringify(key)}`);
      if (taken.has(key)) throw new Error(`Expected a new word for ${list} but received ${JSON.stringify(key)}, which is already defined`);
      if (list === 'palettes') checkPaletteLuminance(word as PaletteWord, next.backgroundLuminance);
      taken.add(key);
      target.push(JSON.parse(JSON.stringify(word)) as object);
    }
  }
  current = next;
  version++;
}

/** Restores the default vocabulary (for tests that extend it). */
export function resetVocabulary(): void {
  current = cloneVocabulary(DEFAULT_VOCABULARY);
  version++;
}

function find<T>(items: readonly T[], key: (t: T) => string, name: string, what: string): T {
  const hit = items.find((t) => key(t) === name);
  if (!hit) throw new Error(`Expected a known ${what} but received ${JSON.stringify(name)} (known: ${items.map(key).join(', ')})`);
  return hit;
}

export const colorWord = (name: string) => find(current.colors, (w) => w.name, name, 'color');
export const shapeWord = (name: string) => find(current.shapes, (w) => w.name, name, 'shape');
export const styleWord = (name: string) => find(current.styles, (w) => w.name, name, 'style');
export const paletteWord = (name: string) => find(current.palettes, (w) => w.name, name, 'palette');
export const lightingWord = (phrase: string) => find(current.lightings, (w) => w.phrase, phrase, 'lighting');
export const layoutWord = (name: string) => find(current.layouts, (w) => w.name, name, 'layout');
export const detailWord = (name: string) => find(current.details, (w) => w.name, name, 'detail level');
