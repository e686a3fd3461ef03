// image-files.ts: content-addressed image files. Pixels and encoded bytes become PNG (sharp), named by
// the sha256 of the PNG bytes: DIR/images/ab/abcdef....png. Writing the same image twice is a no-op.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import type { RgbImage } from '../../api/interfaces.js';
import type { EncodedImage, ImageReference, ImageSource } from '../types.js';

export interface EncodedPng {
  sha256: string;
  png: Buffer;
  width: number;
  height: number;
}

export function isImageReference(image: ImageSource): image is ImageReference {
  return typeof (image as ImageReference).path === 'string';
}

export function isEncodedImage(image: ImageSource): image is EncodedImage {
  return (image as EncodedImage).bytes instanceof Uint8Array;
}

export function checkRgbImage(image: RgbImage, name: string): void {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || width <= 0 || !Number.isInteger(height) || height <= 0) {
    throw new Error(`Expected positive integer width and height for ${name} but received ${width}x${height}`);
  }
  if (!(data instanceof Uint8Array) || data.length !== width * height * 3) {
    const got = data instanceof Uint8Array ? `${data.length} bytes` : typeof data;
    throw new Error(`Expected ${width * height * 3} bytes of RGB data for ${name} but received ${got}`);
  }
}

/** The path of a stored image relative to the store directory. */
export function storedImagePath(sha256: string): string {
  return join('images', sha256.slice(0, 2), `${sha256}.png`);
}

/** Encodes pixels, or re-encodes image bytes, as PNG and hashes the PNG bytes. */
export async function encodePng(image: RgbImage | EncodedImage, name: string): Promise<EncodedPng> {
  let pipeline: sharp.Sharp;
  if (isEncodedImage(image) && isPng(image.bytes)) {
    // An 8-bit RGB PNG is stored byte for byte (an exported store's images keep their hash).
    const meta = await sharp(image.bytes).metadata().catch(() => undefined);
    if (meta && meta.channels === 3 && meta.depth === 'uchar' && !meta.hasAlpha && meta.width && meta.height) {
      const png = Buffer.from(image.bytes.buffer, image.bytes.byteOffset, image.bytes.length);
      return { sha256: sha256Hex(png), png, width: meta.width, height: meta.height };
    }
  }
  if (isEncodedImage(image)) {
    pipeline = sharp(image.bytes).removeAlpha().toColourspace('srgb');
  } else {
    checkRgbImage(image, name);
    pipeline = sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } });
  }
  let out: { data: Buffer; info: sharp.OutputInfo };
  try {
    out = await pipeline.png({ compressionLevel: 6 }).toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new Error(`Expected a decodable image for ${name} but received bytes sharp cannot read (${(err as Error).message})`);
  }
  const sha256 = createHash('sha256').update(out.data).digest('hex');
  return { sha256, png: out.data, width: out.info.width, height: out.info.height };
}

/** Writes the PNG under `dir` unless it is already there (same hash, same bytes). */
export async function writeStoredImage(dir: string, encoded: EncodedPng): Promise<string> {
  const rel = storedImagePath(encoded.sha256);
  const abs = join(dir, rel);
  if (existsSync(abs)) return rel;
  await mkdir(dirname(abs), { recursive: true });
  const tmp = `${abs}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(tmp, encoded.png);
  await rename(tmp, abs); // atomic: a reader never sees half a file
  return rel;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function isPng(bytes: Uint8Array): boolean {
  return bytes.length > 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

/** sha256 of a buffer, hex. */
export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}
