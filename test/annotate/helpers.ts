// helpers.ts: stores with queued pairs, servers (in this process or a child process), an HTTP client.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import sharp from 'sharp';
import { FeedbackStore } from '../../src/data/store/feedback-store.js';
import { addUser } from '../../src/annotate/users.js';

export const BIN = join(import.meta.dirname, '../../bin/treereward.js');

const dirs: string[] = [];

export function tempDir(prefix = 'treereward-annotate-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** A 64 px scene-like image: a background gradient and a disc whose color and brightness follow `seed`. */
export function sceneImage(seed: number, size = 64): { width: number; height: number; data: Uint8Array } {
  const data = new Uint8Array(size * size * 3);
  const cx = size * (0.3 + 0.4 * ((seed * 37) % 10) / 10);
  const cy = size * (0.35 + 0.3 * ((seed * 53) % 10) / 10);
  const r = size * 0.18;
  const light = 0.55 + 0.45 * (((seed * 29) % 7) / 7);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = 3 * (y * size + x);
      const inDisc = (x - cx) ** 2 + (y - cy) ** 2 < r * r;
      const base = inDisc ? [220, 60 + (seed * 41) % 150, 40] : [40 + y, 70 + x / 2, 110 + ((seed * 13) % 90)];
      const shade = light * (1 - 0.35 * (x / size));
      for (let c = 0; c < 3; c++) data[i + c] = Math.max(0, Math.min(255, Math.round(base[c] * shade + ((x + y + seed) % 5))));
    }
  }
  return { width: size, height: size, data };
}

/** Writes `count` PNG files and returns their paths (for stores of image references, which need no encoding). */
export async function pngFiles(dir: string, count: number): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  return Promise.all(Array.from({ length: count }, async (_, i) => {
    const img = sceneImage(i);
    const path = join(dir, `img-${i}.png`);
    await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).png().toFile(path);
    return path;
  }));
}

export const DIMS = ['lighting', 'color', 'detail', 'layout', 'style', 'content'] as const;

/**
 * A store with `pairs` queued pairs. With `pixels`, each pair's images are stored (distinct scenes);
 * otherwise the pairs reference a few PNG files (fast for thousands of pairs).
 */
export async function queuedStore(options: { pairs: number; pixels?: boolean; dir?: string }): Promise<{ dir: string; store: FeedbackStore }> {
  const dir = options.dir ?? join(tempDir(), 'store');
  const store = FeedbackStore.open(dir);
  const files = options.pixels ? [] : await pngFiles(join(dir, '..', 'png'), 8);
  const records = Array.from({ length: options.pairs }, (_, i) => {
    const prompt = `a red star and a blue ring, warm palette, side lighting, variant ${i}`;
    const image = (k: number) => (options.pixels ? sceneImage(k) : { path: files[k % files.length] });
    return { dimension: DIMS[i % DIMS.length], left: { prompt, image: image(2 * i) }, right: { prompt, image: image(2 * i + 1) }, strategy: 'undecided', key: `q${i}` };
  });
  for (let i = 0; i < records.length; i += 5000) await store.enqueuePairs(records.slice(i, i + 5000));
  return { dir, store };
}

/** Adds users to an open store; returns name -> token. */
export function users(store: FeedbackStore, names: string[], admins: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of names) out[n] = addUser(store.db, n).token;
  for (const n of admins) out[n] = addUser(store.db, n, { admin: true }).token;
  return out;
}

export interface Reply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  headers: Headers;
}

/** One JSON request. `body` undefined: none; a string is sent as-is (for malformed bodies). */
export async function call(base: string, method: string, path: string, token?: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const h: Record<string, string> = { ...headers };
  if (token !== undefined) h.authorization = `Bearer ${token}`;
  if (body !== undefined && !('content-type' in h)) h['content-type'] = 'application/json';
  const res = await fetch(new URL(path, base), { method, headers: h, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

export interface ChildServer {
  url: string;
  pid: number;
  proc: ChildProcess;
  /** Resolves with the exit code and signal, and everything printed. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** `treereward annotate --store DIR --port 0 --json ...` in a child process, once it prints its address. */
export function childServer(storeDir: string, args: string[] = []): Promise<ChildServer> {
  const proc = spawn(process.execPath, [BIN, 'annotate', '--store', storeDir, '--port', '0', '--host', '127.0.0.1', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
    proc.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: proc.stdout! });
    let started = false;
    lines.on('line', (line) => {
      stdout += `${line}\n`;
      if (started) return;
      started = true;
      try {
        const info = JSON.parse(line) as { url: string; pid: number };
        resolve({ url: info.url, pid: info.pid, proc, exited });
      } catch {
        reject(new Error(`the server printed ${line} (stderr: ${stderr})`));
      }
    });
    void exited.then((e) => {
      if (!started) reject(new Error(`the server exited (${e.code ?? e.signal}) before it started: ${stderr}`));
    });
  });
}
