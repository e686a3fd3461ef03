// ab-sets.ts: A/B comparison sets for the paper's user study (its Fig. 7): for each prompt, the image of
// model A and the image of model B. Images are copied into the store (content-addressed), so a set
// outlives the folders it came from. Adding items to an existing set is idempotent by item key.
import type { FeedbackStore } from '../data/store/feedback-store.js';
import type { ImageSource } from '../data/types.js';
import { ensureAnnotateSchema } from './schema.js';

export interface AbItemInput {
  prompt: string;
  /** The dimension people judge; none: overall preference. */
  dimension?: string | null;
  /** Identifies the item within its set. Defaults to the dimension and prompt. */
  key?: string;
  a: ImageSource;
  b: ImageSource;
}

export interface AbSetInput {
  name: string;
  modelA: string;
  modelB: string;
  /** Labels wanted per item from different annotators; undefined or null: every annotator labels every item. */
  labelsPerItem?: number | null;
  items: readonly AbItemInput[];
}

export interface AbSetInfo {
  name: string;
  modelA: string;
  modelB: string;
  labelsPerItem: number | null;
  items: number;
  labels: number;
  createdAt: number;
}

export function abItemKey(item: Pick<AbItemInput, 'prompt' | 'dimension' | 'key'>): string {
  return item.key ?? `${item.dimension ?? ''}\u0000${item.prompt}`;
}

const nonEmpty = (value: unknown, name: string): string => {
  if (typeof value !== 'string' || value.trim() === '') throw new Error(`Expected a non-empty string for ${name} but received ${JSON.stringify(value)}`);
  return value;
};

/** Creates the set (or adds to it: its models must match) and stores its items; returns how many were new. */
export async function addAbSet(store: FeedbackStore, input: AbSetInput, now = Date.now()): Promise<{ set: AbSetInfo; inserted: number; duplicates: number }> {
  ensureAnnotateSchema(store.db);
  const name = nonEmpty(input.name, 'name');
  const modelA = nonEmpty(input.modelA, 'modelA');
  const modelB = nonEmpty(input.modelB, 'modelB');
  const quota = input.labelsPerItem ?? null;
  if (quota !== null && (!Number.isSafeInteger(quota) || quota < 1)) throw new Error(`Expected a positive integer or null for labelsPerItem but received ${quota}`);
  const keys = new Set<string>();
  input.items.forEach((item, i) => {
    nonEmpty(item.prompt, `items[${i}].prompt`);
    if (item.dimension != null) nonEmpty(item.dimension, `items[${i}].dimension`);
    const key = abItemKey(item);
    if (keys.has(key)) throw new Error(`Expected one item per key in set ${JSON.stringify(name)} but items[${i}] repeats ${JSON.stringify(key.replace('\u0000', ' / '))}`);
    keys.add(key);
  });
  const existing = store.db.prepare('SELECT model_a, model_b FROM ab_sets WHERE name = ?').get(name) as { model_a: string; model_b: string } | undefined;
  if (existing && (existing.model_a !== modelA || existing.model_b !== modelB)) {
    throw new Error(`Expected models ${existing.model_a} and ${existing.model_b} for set ${JSON.stringify(name)} (it exists) but received ${modelA} and ${modelB}`);
  }
  // images first (async, outside the transaction): an image without an item is harmless
  const images: [number, number][] = [];
  for (const [i, item] of input.items.entries()) {
    const a = await store.addImage(item.a, `items[${i}].a`);
    const b = await store.addImage(item.b, `items[${i}].b`);
    images.push([a.id, b.id]);
  }
  const db = store.db;
  let inserted = 0;
  db.transaction(() => {
    db.prepare('INSERT INTO ab_sets (name, model_a, model_b, labels_per_item, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING')
      .run(name, modelA, modelB, quota, now);
    if (existing) db.prepare('UPDATE ab_sets SET labels_per_item = ? WHERE name = ?').run(quota, name);
    const setId = db.prepare('SELECT id FROM ab_sets WHERE name = ?').pluck().get(name) as number;
    const add = db.prepare(`INSERT INTO ab_items (set_id, key, prompt, dimension, a_image_id, b_image_id) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (set_id, key) DO NOTHING`);
    input.items.forEach((item, i) => {
      inserted += add.run(setId, abItemKey(item), item.prompt, item.dimension ?? null, images[i][0], images[i][1]).changes;
    });
  }).immediate();
  return { set: abSetInfo(store, name)!, inserted, duplicates: input.items.length - inserted };
}

export function abSetInfo(store: FeedbackStore, name: string): AbSetInfo | undefined {
  return listAbSets(store).find((s) => s.name === name);
}

export function listAbSets(store: FeedbackStore): AbSetInfo[] {
  ensureAnnotateSchema(store.db);
  return (store.db.prepare(`SELECT s.name, s.model_a, s.model_b, s.labels_per_item, s.created_at,
      (SELECT count(*) FROM ab_items i WHERE i.set_id = s.id) AS items,
      (SELECT count(*) FROM ab_labels x JOIN ab_items i ON i.id = x.item_id WHERE i.set_id = s.id AND x.outcome != 'skip') AS labels
    FROM ab_sets s ORDER BY s.name`).all() as { name: string; model_a: string; model_b: string; labels_per_item: number | null; created_at: number; items: number; labels: number }[])
    .map((r) => ({ name: r.name, modelA: r.model_a, modelB: r.model_b, labelsPerItem: r.labels_per_item, items: r.items, labels: r.labels, createdAt: r.created_at }));
}
