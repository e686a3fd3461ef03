// parse.ts: prompt text -> requirements, the inverse of format.ts. Lenient: clauses it does not
// recognise are kept in `unknown` (a prompt from elsewhere still parses); `parsePromptStrict` throws.
import { vocabulary } from '../vocabulary/index.js';
import type { ObjectRequirement, PromptRequirements } from './requirements.js';
import { emptyRequirements } from './requirements.js';

function stripArticle(text: string): string | undefined {
  const m = /^(?:an?|the|one)\s+(.+)$/.exec(text);
  return m ? m[1]!.trim() : undefined;
}

/** "red star" / "star" -> {shape, color}; undefined when it is not a known (color) shape. */
function parseObject(words: string): ObjectRequirement | undefined {
  const v = vocabulary();
  const body = stripArticle(words) ?? words;
  if (v.shapes.some((s) => s.name === body)) return { shape: body };
  for (const c of v.colors) {
    if (body.startsWith(`${c.name} `)) {
      const shape = body.slice(c.name.length + 1).trim();
      if (v.shapes.some((s) => s.name === shape)) return { shape, color: c.name };
    }
  }
  return undefined;
}

/** The object clause: "a red star and a ring without a cross". Undefined when it does not parse. */
function parseObjectClause(clause: string): { objects: ObjectRequirement[]; excluded: string[] } | undefined {
  const [head, ...withouts] = clause.split(/\s+without\s+/);
  const objects: ObjectRequirement[] = [];
  for (const part of head!.split(/\s+and\s+/)) {
    const o = parseObject(part.trim());
    if (!o) return undefined;
    objects.push(o);
  }
  const excluded: string[] = [];
  for (const w of withouts) {
    const o = parseObject(w.trim());
    if (!o || o.color) return undefined;
    excluded.push(o.shape);
  }
  return { objects, excluded };
}

function suffixed(clause: string, suffix: string, names: readonly string[]): string | undefined {
  if (!clause.endsWith(` ${suffix}`)) return undefined;
  const name = clause.slice(0, -suffix.length - 1).trim();
  return names.includes(name) ? name : undefined;
}

export function parsePrompt(text: string): PromptRequirements {
  const v = vocabulary();
  const req = emptyRequirements();
  const clauses = text
    .toLowerCase()
    .split(',')
    .map((c) => c.trim().replace(/\s+/g, ' ').replace(/\.$/, ''))
    .filter((c) => c.length > 0);
  let sawObjects = false;
  for (const clause of clauses) {
    if (!sawObjects) {
      const objects = parseObjectClause(clause);
      if (objects) {
        req.objects = objects.objects;
        req.excluded = objects.excluded;
        sawObjects = true;
        continue;
      }
    }
    const trigger = v.triggers.find((t) => t.phrase === clause);
    if (trigger) {
      req.triggers.push(trigger.dimension);
      continue;
    }
    const lighting = v.lightings.find((l) => l.phrase === clause);
    if (lighting) {
      req.lighting = lighting.phrase;
      continue;
    }
    const style = suffixed(clause, 'style', v.styles.map((s) => s.name));
    if (style !== undefined) {
      req.style = style;
      continue;
    }
    const palette = suffixed(clause, 'palette', v.palettes.map((p) => p.name));
    if (palette !== undefined) {
      req.palette = palette;
      continue;
    }
    const layout = suffixed(clause, 'layout', v.layouts.map((l) => l.name));
    if (layout !== undefined) {
      req.layout = layout;
      continue;
    }
    const detail = suffixed(clause, 'detail', v.details.map((d) => d.name));
    if (detail !== undefined) {
      req.detail = detail;
      continue;
    }
    req.unknown.push(clause);
  }
  return req;
}

/** Like parsePrompt, but throws when a clause is not in the grammar or no object is named. */
export function parsePromptStrict(text: string): PromptRequirements {
  const req = parsePrompt(text);
  if (req.objects.length === 0) throw new Error(`Expected a prompt that names at least one object but received ${JSON.stringify(text)}`);
  if (req.unknown.length > 0) throw new Error(`Expected a prompt in the world's grammar but received unknown clauses ${JSON.stringify(req.unknown)} in ${JSON.stringify(text)}`);
  return req;
}
