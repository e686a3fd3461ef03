// scene-edits.ts: a scene with exactly one dimension's factor changed, everything else kept (the
// same objects in the same places, the same background, the same micro-texture seed). The judges'
// cross-sensitivity check and the tests use these to see which judge moves when one factor moves.
import type { Dimension } from '../api/interfaces.js';
import { lightingVariants, lightingWord, vocabulary } from './vocabulary/index.js';
import type { Scene } from './scene.js';
import { placeObjects, layoutSlots } from './scene.js';
import { Rng } from './random.js';

function clone(scene: Scene): Scene {
  return { ...scene, objects: scene.objects.map((o) => ({ ...o })), excluded: scene.excluded.slice(), background: { ...scene.background } };
}

/** The scene with dimension `dim`'s factor replaced by a different value drawn from `rng`. */
export function changeFactor(scene: Scene, dim: Dimension, rng: Rng): Scene {
  const v = vocabulary();
  const out = clone(scene);
  switch (dim) {
    case 'content': {
      // One object gets another color or another shape (never an excluded one).
      const o = out.objects[rng.int(0, out.objects.length)]!;
      if (rng.chance(0.5)) o.color = rng.pickOther(v.colors.map((c) => c.name), o.color);
      else o.shape = rng.pick(v.shapes.map((s) => s.name).filter((s) => s !== o.shape && !out.excluded.includes(s)));
      break;
    }
    case 'style':
      out.style = rng.pickOther(v.styles.map((s) => s.name), scene.style);
      break;
    case 'color':
      out.palette = rng.pickOther(v.palettes.map((p) => p.name), scene.palette);
      break;
    case 'lighting':
      out.lighting = rng.pickOther(v.lightings.map((l) => l.phrase), scene.lighting);
      out.lightingVariant = rng.int(0, lightingVariants(lightingWord(out.lighting).field));
      break;
    case 'layout': {
      out.layout = rng.pickOther(v.layouts.map((l) => l.name), scene.layout);
      out.layoutVariant = rng.int(0, layoutSlots(out.layout, out.objects.length).length);
      const positions = placeObjects(out.layout, out.layoutVariant, out.objects.length, rng);
      out.objects.forEach((o, i) => ((o.x = positions[i]![0]), (o.y = positions[i]![1])));
      break;
    }
    case 'detail':
      out.detail = rng.pickOther(v.details.map((d) => d.name), scene.detail);
      break;
  }
  return out;
}
