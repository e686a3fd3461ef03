// data.ts: the default vocabulary of the synthetic world, as plain data (see types.ts for what each
// field means). Object colors are saturated (HSV S = 0.85, V = 0.82); palette tones are desaturated
// and all of luminance 130, so a palette changes chroma only and lighting owns luminance.
import type { Vocabulary } from './types.js';

const third = 1 / 3;
const twoThirds = 2 / 3;

export const DEFAULT_VOCABULARY: Vocabulary = {
  colors: [
    { name: 'red', rgb: [209, 31, 31] },
    { name: 'orange', rgb: [209, 114, 31] },
    { name: 'yellow', rgb: [209, 191, 31] },
    { name: 'lime', rgb: [120, 209, 31] },
    { name: 'green', rgb: [31, 209, 76] },
    { name: 'cyan', rgb: [31, 194, 209] },
    { name: 'blue', rgb: [31, 85, 209] },
    { name: 'purple', rgb: [126, 31, 209] },
    { name: 'magenta', rgb: [209, 31, 165] },
  ],
  shapes: [
    { name: 'circle', shape: { kind: 'circle', radius: 0.82 } },
    { name: 'square', shape: { kind: 'box', halfWidth: 0.72, halfHeight: 0.72 } },
    { name: 'triangle', shape: { kind: 'regular', sides: 3, radius: 1.05, rotationDeg: 0 } },
    { name: 'diamond', shape: { kind: 'polygon', points: [[0, -1], [0.72, 0], [0, 1], [-0.72, 0]] } },
    { name: 'star', shape: { kind: 'star', points: 5, outer: 1.05, inner: 0.48 } },
    { name: 'ring', shape: { kind: 'ring', outer: 0.92, inner: 0.5 } },
    { name: 'cross', shape: { kind: 'plus', arm: 0.92, thickness: 0.32 } },
    { name: 'heart', shape: { kind: 'heart', size: 0.95 } },
  ],
  styles: [
    { name: 'flat', pattern: { kind: 'flat' } },
    { name: 'striped', pattern: { kind: 'stripes', period: 8, angleDeg: 90, offset: [5, 2] } },
    { name: 'pinstriped', pattern: { kind: 'stripes', period: 7, angleDeg: 0, offset: [2, 0] } },
    { name: 'hatched', pattern: { kind: 'stripes', period: 8, angleDeg: 45, offset: [3, 6] } },
    { name: 'crosshatched', pattern: { kind: 'crosshatch', period: 9, sharpness: 3, offset: [7, 5] } },
    { name: 'checkered', pattern: { kind: 'checker', cell: 4.5, offset: [7, 7] } },
    { name: 'dotted', pattern: { kind: 'dots', period: 7, radius: 1.7, offset: [4, 0] } },
    { name: 'gridded', pattern: { kind: 'grid', period: 9, sharpness: 4, offset: [5, 2] } },
    { name: 'wavy', pattern: { kind: 'wavy', period: 8, amplitude: 2, wavelength: 14, offset: [7, 4] } },
    { name: 'zigzag', pattern: { kind: 'zigzag', period: 8, amplitude: 2.5, wavelength: 10 } },
    { name: 'concentric', pattern: { kind: 'concentric', period: 7.5 } },
    { name: 'brick', pattern: { kind: 'brick', rowHeight: 7, brickWidth: 14, sharpness: 4, offset: [1, 0] } },
  ],
  palettes: [
    { name: 'warm', tones: [[154, 123, 102], [164, 115, 123]] },
    { name: 'cool', tones: [[110, 134, 162], [101, 142, 144]] },
    { name: 'pastel', tones: [[140, 119, 157], [110, 141, 126]] },
    { name: 'earthy', tones: [[137, 135, 87], [115, 144, 100]] },
    { name: 'monochrome', tones: [[130, 130, 130], [128, 130, 134]] },
  ],
  lightings: [
    { phrase: 'soft lighting', field: { kind: 'uniform' }, low: 1.0, high: 1.0 },
    { phrase: 'side lighting', field: { kind: 'linear', directions: [[1, 0], [-1, 0]] }, low: 0.5, high: 1.1 },
    { phrase: 'top lighting', field: { kind: 'linear', directions: [[0, -1]] }, low: 0.5, high: 1.1 },
    { phrase: 'spotlight', field: { kind: 'radial', width: 0.28, centres: [[0.5, 0.5]] }, low: 0.42, high: 1.1 },
    { phrase: 'backlighting', field: { kind: 'rim', width: 0.3 }, low: 0.5, high: 1.1 },
    { phrase: 'low-key lighting', field: { kind: 'uniform' }, low: 0.55, high: 0.55 },
  ],
  layouts: [
    {
      name: 'centered',
      slots: {
        '1': [[[0.5, 0.5]]],
        '2': [[[0.33, 0.5], [0.67, 0.5]], [[0.5, 0.33], [0.5, 0.67]]],
        '3': [[[0.5, 0.33], [0.33, 0.63], [0.67, 0.63]], [[0.5, 0.67], [0.33, 0.37], [0.67, 0.37]]],
      },
    },
    {
      name: 'rule-of-thirds',
      slots: {
        '1': [[[third, third]], [[twoThirds, third]], [[third, twoThirds]], [[twoThirds, twoThirds]]],
        '2': [
          [[third, third], [twoThirds, twoThirds]],
          [[twoThirds, third], [third, twoThirds]],
          [[third, third], [twoThirds, third]],
          [[third, twoThirds], [twoThirds, twoThirds]],
          [[third, third], [third, twoThirds]],
          [[twoThirds, third], [twoThirds, twoThirds]],
        ],
        '3': [
          [[third, third], [twoThirds, third], [third, twoThirds]],
          [[third, third], [twoThirds, third], [twoThirds, twoThirds]],
          [[third, third], [third, twoThirds], [twoThirds, twoThirds]],
          [[twoThirds, third], [third, twoThirds], [twoThirds, twoThirds]],
        ],
      },
    },
    {
      name: 'diagonal',
      slots: {
        '1': [[[0.22, 0.22]], [[0.78, 0.78]], [[0.78, 0.22]], [[0.22, 0.78]]],
        '2': [[[0.2, 0.2], [0.8, 0.8]], [[0.8, 0.2], [0.2, 0.8]]],
        '3': [[[0.19, 0.19], [0.5, 0.5], [0.81, 0.81]], [[0.81, 0.19], [0.5, 0.5], [0.19, 0.81]]],
      },
    },
    {
      name: 'horizon',
      slots: {
        '1': [[[0.5, 0.77]]],
        '2': [[[0.25, 0.8], [0.75, 0.8]]],
        '3': [[[0.19, 0.8], [0.5, 0.8], [0.81, 0.8]]],
      },
    },
  ],
  details: [
    { name: 'minimal', blur: 0.8, texture: 0 },
    { name: 'moderate', blur: 0.4, texture: 0.025 },
    { name: 'intricate', blur: 0, texture: 0.05 },
  ],
  triggers: [
    { phrase: 'harmonious colors', dimension: 'color' },
    { phrase: 'cinematic lighting', dimension: 'lighting' },
    { phrase: 'balanced composition', dimension: 'layout' },
    { phrase: 'highly detailed', dimension: 'detail' },
  ],
  backgroundLuminance: 130,
  styleDepth: 0.42,
  objectRadius: { '1': [0.13, 0.17], '2': [0.1, 0.13], '3': [0.088, 0.112] },
};
