// Builds the native addon on `npm install`: cmake-js with CUDA when nvcc is found,
// and, if that fails, again CPU-only, so a failed optional part never fails the CPU install.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const cmakeJs = path.join(root, 'node_modules', 'cmake-js', 'bin', 'cmake-js');
if (process.env.TREEREWARD_SKIP_NATIVE === '1') process.exit(0);

function build(extra) {
  const args = [cmakeJs, 'compile', '--out', 'build', ...extra];
  console.log(`[treereward] building native addon: cmake-js ${args.slice(1).join(' ')}`);
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  return r.status === 0;
}

const wantCuda = process.env.TREEREWARD_CUDA !== '0';
if (build(wantCuda ? [] : ['--CDTREEREWARD_CUDA=OFF'])) process.exit(0);
if (wantCuda) {
  console.warn('[treereward] the build with CUDA failed; building the CPU path alone');
  if (build(['--CDTREEREWARD_CUDA=OFF'])) process.exit(0);
}
console.error('[treereward] the native build failed; see the messages above');
process.exit(existsSync(path.join(root, 'build', 'Release', 'treereward.node')) ? 0 : 1);
