// data-options.ts: what the `treereward data ...` commands share: the `data` command group, option
// checks with the house error form, opening an existing store, and progress bars on stderr.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { DATABASE_FILE, FeedbackStore } from '../data/store/feedback-store.js';

/** The `data` command group; each data-*.ts file adds its subcommand to it. */
export function dataCommand(program: Command): Command {
  return program.commands.find((c) => c.name() === 'data')
    ?? program.command('data').description('the feedback store: import, inspect, export and show pairs');
}

export function positiveInt(value: string | undefined, name: string): number {
  const n = Number(value);
  if (value === undefined || !/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new Error(`Expected a positive integer for ${name} but received ${JSON.stringify(value)}`);
  }
  return n;
}

export function integer(value: string | undefined, name: string): number {
  const n = Number(value);
  if (value === undefined || !/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw new Error(`Expected an integer for ${name} but received ${JSON.stringify(value)}`);
  }
  return n;
}

export function oneOf<T extends string>(value: string | undefined, choices: readonly T[], name: string): T {
  if (value === undefined || !(choices as readonly string[]).includes(value)) {
    throw new Error(`Expected one of ${choices.join(', ')} for ${name} but received ${JSON.stringify(value)}`);
  }
  return value as T;
}

export function nonEmpty(value: string | undefined, name: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new Error(`Expected a non-empty value for ${name} but received ${JSON.stringify(value)}`);
  return value;
}

/** Opens a store that must already exist (for commands that read). */
export function openExistingStore(dir: string | undefined): FeedbackStore {
  const path = nonEmpty(dir, '--store');
  if (!existsSync(join(path, DATABASE_FILE))) {
    throw new Error(`Expected a feedback store directory for --store but received ${JSON.stringify(path)} (no ${DATABASE_FILE} in it)`);
  }
  return FeedbackStore.open(path);
}

export interface Progress {
  update(value: number, total?: number): void;
  stop(): void;
}

/** A progress bar on stderr, drawn only when stderr is a terminal; `total` may be unknown. */
export function progressBar(label: string, total?: number): Progress {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  const known = total !== undefined && total > 0;
  const bar = new cliProgress.SingleBar({
    format: known ? `${label} [{bar}] {percentage}% | {value}/{total} | {eta_formatted} left` : `${label} {value} done | {duration_formatted}`,
    stream: process.stderr,
    hideCursor: true,
    clearOnComplete: false,
  }, cliProgress.Presets.shades_classic);
  bar.start(known ? total : 0, 0);
  return {
    update(value: number, newTotal?: number) {
      if (newTotal !== undefined && newTotal !== total) bar.setTotal(newTotal);
      bar.update(value);
    },
    stop() {
      bar.stop();
    },
  };
}

export function percent(x: number | null): string {
  return x === null ? 'n/a' : `${(100 * x).toFixed(1)}%`;
}
