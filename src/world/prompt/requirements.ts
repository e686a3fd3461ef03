// requirements.ts: what a prompt asks for. Every attribute the prompt does not name is undefined;
// the judges then score general quality in that dimension and the generator fills it from the seed.
import type { Dimension } from '../../api/interfaces.js';

export interface ObjectRequirement {
  shape: string;
  /** Undefined when the prompt names the shape without a color ("a star"). */
  color?: string;
}

export interface PromptRequirements {
  objects: ObjectRequirement[];
  /** Shapes the prompt excludes ("a star without a ring"). */
  excluded: string[];
  style?: string;
  palette?: string;
  /** A lighting phrase, e.g. "side lighting", "spotlight". */
  lighting?: string;
  layout?: string;
  detail?: string;
  /** Aesthetic trigger phrases' dimensions, in prompt order ("highly detailed" -> 'detail'). */
  triggers: Dimension[];
  /** Clauses the grammar did not recognise, kept verbatim (empty for the world's own prompts). */
  unknown: string[];
}

export function emptyRequirements(): PromptRequirements {
  return { objects: [], excluded: [], triggers: [], unknown: [] };
}
