// convert.ts: `treereward convert IN OUT.safetensors [--half | --bf16 | --dtype D] [--prefix-strip P]... [--allow-global G]... [--json]`
// IN is a PyTorch checkpoint (.pt, .pth, .bin, .ckpt: zip or legacy) or a safetensors file.
import type { Command } from 'commander';

import { CONVERT_DTYPES, convertToSafetensors, type ConvertDType, type ConvertReport } from '../io/convert.js';
import { expected } from '../native/errors.js';
import { progressBar } from './data-options.js';

interface ConvertCliOptions {
  half?: boolean;
  bf16?: boolean;
  dtype?: string;
  prefixStrip: string[];
  allowGlobal: string[];
  json?: boolean;
}

const collect = (v: string, all: string[]) => [...all, v];

function size(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

function summary(r: ConvertReport, strip: string[]): string {
  const dtypes = Object.entries(r.byDtype).map(([d, n]) => `${d} x ${n}`).join(', ') || 'none';
  const lines = [
    `converted ${r.tensors} tensors from ${r.input} (${r.format === 'safetensors' ? 'safetensors' : `${r.format} checkpoint`}) to ${r.output}`,
    `  ${size(r.bytesIn)} of tensor data -> ${size(r.bytesOut)} file; ${dtypes}; ${r.seconds.toFixed(1)} s`,
  ];
  if (strip.length) lines.push(`  stripped ${strip.map((p) => JSON.stringify(p)).join(' or ')} from ${r.stripped} names`);
  if (r.others.length) {
    const shown = r.others.slice(0, 10).map((o) => `${o.name} (${o.type})`).join(', ');
    lines.push(`  not tensors, not written: ${shown}${r.others.length > 10 ? `, and ${r.others.length - 10} more` : ''}`);
  }
  if (r.commonPrefix) lines.push(`  every name starts with "${r.commonPrefix}": pass --prefix-strip ${r.commonPrefix} to drop it`);
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('convert')
    .description('convert a PyTorch checkpoint (.pt, .pth, .bin, .ckpt) or a safetensors file to safetensors, reading only tensors and containers (no code runs)')
    .argument('<in>', 'the checkpoint to read')
    .argument('<out>', 'the .safetensors file to write')
    .option('--half', 'store float tensors as F16 (same as --dtype F16)')
    .option('--bf16', 'store float tensors as BF16 (same as --dtype BF16)')
    .option('--dtype <dtype>', `float tensors: ${CONVERT_DTYPES.join(', ')} (defaults to keep, as stored)`)
    .option('--prefix-strip <prefix>', 'remove this prefix from the names that start with it (repeatable)', collect, [])
    .option('--allow-global <module.name>', 'accept this pickled global as an inert record, never called (repeatable)', collect, [])
    .option('--json', 'print the report as one JSON document')
    .action(async (input: string, output: string, opts: ConvertCliOptions) => {
      const picked = [opts.half && 'F16', opts.bf16 && 'BF16', opts.dtype?.toUpperCase().replace('KEEP', 'keep')].filter(Boolean) as string[];
      if (new Set(picked).size > 1) throw expected('one of --half, --bf16 and --dtype', 'the precision', picked.join(' and '));
      const dtype = (picked[0] ?? 'keep') as ConvertDType;
      if (!CONVERT_DTYPES.includes(dtype)) throw expected(`one of ${CONVERT_DTYPES.join(', ')}`, '--dtype', opts.dtype);
      const bar = opts.json ? { update() {}, stop() {} } : progressBar('convert');
      try {
        const report = await convertToSafetensors(input, output, {
          dtype, prefixStrip: opts.prefixStrip, allowGlobals: opts.allowGlobal,
          onProgress: (p) => bar.update(p.done, p.total),
        });
        bar.stop();
        console.log(opts.json ? JSON.stringify(report, null, 2) : summary(report, opts.prefixStrip));
      } catch (e) {
        bar.stop();
        throw e;
      }
    });
}
