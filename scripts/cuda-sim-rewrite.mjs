// cuda-sim-rewrite.mjs: turns a .cu file into C++ for the CUDA simulator (native/cuda/sim/trsim.h):
//   kernel<T><<<grid, block, stream>>>(args)  ->  ::trsim::Launcher(::trsim::Config(grid, block, 0, stream, "kernel<T>"),
//                                                   [&](auto&&... a) { kernel<T>(a...); })(args)
//   and, with dynamic shared memory (a third configuration argument other than 0), where the kernel
//   must be named in full so the simulator can check its cudaFuncSetAttribute opt-in:
//   kernel<T><<<grid, block, shared, stream>>>(args)  ->  kernel<T> & ::trsim::Config(grid, block, shared, stream, "kernel<T>")(args)
//   extern __shared__ __align__(n) T name[];          ->  T* name = static_cast<T*>(::trsim::dynamic_shared());
// Lines are kept where they were (a #line directive names the .cu file), so compiler messages point
// at the CUDA source. Usage: node scripts/cuda-sim-rewrite.mjs in.cu out.cc
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

// The comma-separated arguments of a launch configuration, commas inside brackets not splitting.
function topLevelArgs(text) {
  const args = [];
  let depth = 0, start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (c === ',' && depth === 0) { args.push(text.slice(start, i)); start = i + 1; }
  }
  args.push(text.slice(start));
  return args;
}

function rewrite(src) {
  let out = '';
  let at = 0;
  for (;;) {
    const open = src.indexOf('<<<', at);
    if (open < 0) break;
    const close = src.indexOf('>>>', open);
    if (close < 0) throw new Error(`unterminated <<< at offset ${open}`);
    // The kernel expression: scan back over an identifier path and balanced template arguments.
    let k = open;
    for (;;) {
      while (k > 0 && /\s/.test(src[k - 1])) k--;
      if (src[k - 1] === '>') {
        let depth = 0;
        do {
          k--;
          if (src[k] === '>') depth++;
          else if (src[k] === '<') depth--;
        } while (depth > 0 && k > 0);
        continue;
      }
      const m = /[A-Za-z_][A-Za-z0-9_]*(::[A-Za-z_][A-Za-z0-9_]*)*$/.exec(src.slice(Math.max(0, k - 200), k));
      if (!m) throw new Error(`no kernel name before <<< at offset ${open}`);
      k -= m[0].length;
      if (src.slice(k - 2, k) === '::') { k -= 2; continue; }
      break;
    }
    const kernel = src.slice(k, open).trim();
    // grid, block[, shared[, stream]]: the defaults made explicit, so the kernel's name comes fifth.
    const parts = topLevelArgs(src.slice(open + 3, close));
    if (parts.length < 2 || parts.length > 4) throw new Error(`a launch needs 2 to 4 configuration arguments at offset ${open}`);
    const config = [...parts, ...['0', 'nullptr'].slice(parts.length - 2)].join(',');
    const name = JSON.stringify(kernel.replace(/\s+/g, ' '));
    if (parts.length > 2 && parts[2].trim() !== '0') {
      out += src.slice(at, open) + ` & ::trsim::Config(${config}, ${name})`;
    } else {
      out += src.slice(at, k) + `::trsim::Launcher(::trsim::Config(${config}, ${name}), [&](auto&&... trsim_a) { ${kernel}(trsim_a...); })`;
    }
    at = close + 3;
  }
  out += src.slice(at);
  return out.replace(/extern\s+__shared__\s+(?:__align__\(\s*\d+\s*\)\s+)?([A-Za-z_][\w:\s]*?)\s+([A-Za-z_]\w*)\s*\[\s*\]\s*;/g,
    (_m, type, name) => `${type}* ${name} = static_cast<${type}*>(::trsim::dynamic_shared());`);
}

const [inFile, outFile] = process.argv.slice(2);
if (!inFile || !outFile) {
  console.error('usage: node scripts/cuda-sim-rewrite.mjs in.cu out.cc');
  process.exit(2);
}
const text = rewrite(readFileSync(inFile, 'utf8'));
mkdirSync(path.dirname(outFile), { recursive: true });
writeFileSync(outFile, `#line 1 "${path.resolve(inFile)}"\n${text}`);
