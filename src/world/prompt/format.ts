// format.ts: requirements -> prompt text, in the world's grammar:
//   "a red star and a blue ring without a cross, striped style, warm palette, side lighting,
//    rule-of-thirds layout, intricate detail, highly detailed"
// The object clause comes first; every other clause is optional and comes in this fixed order.
import { vocabulary } from '../vocabulary/index.js';
import type { ObjectRequirement, PromptRequirements } from './requirements.js';

export function article(word: string): string {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}

export function formatObject(o: ObjectRequirement): string {
  const words = o.color ? `${o.color} ${o.shape}` : o.shape;
  return `${article(words)} ${words}`;
}

export function formatObjectClause(objects: readonly ObjectRequirement[], excluded: readonly string[]): string {
  let text = objects.map(formatObject).join(' and ');
  for (const shape of excluded) text += ` without ${article(shape)} ${shape}`;
  return text;
}

export function formatPrompt(req: Omit<PromptRequirements, 'unknown'> & { unknown?: string[] }): string {
  if (req.objects.length === 0) throw new Error('Expected at least one object for formatPrompt but received none');
  const clauses = [formatObjectClause(req.objects, req.excluded)];
  if (req.style !== undefined) clauses.push(`${req.style} style`);
  if (req.palette !== undefined) clauses.push(`${req.palette} palette`);
  if (req.lighting !== undefined) clauses.push(req.lighting);
  if (req.layout !== undefined) clauses.push(`${req.layout} layout`);
  if (req.detail !== undefined) clauses.push(`${req.detail} detail`);
  for (const dim of req.triggers) {
    const trigger = vocabulary().triggers.find((t) => t.dimension === dim);
    if (!trigger) throw new Error(`Expected a dimension with a trigger phrase for formatPrompt but received ${dim}`);
    clauses.push(trigger.phrase);
  }
  for (const u of req.unknown ?? []) clauses.push(u);
  return clauses.join(', ');
}
