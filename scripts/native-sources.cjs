// Prints what binding.gyp needs, found the same way CMakeLists.txt finds it:
//   sources: the CPU sources (native/{core,cpu,io,models,binding}/*.cpp, as CMake's globs)
//   blas-defines / blas-include / blas-libs: Debian's OpenBLAS when present, else nothing.
//   dnnl-defines / dnnl-libs: oneDNN's headers (libdnnl-dev) when present, else nothing; the library
//     itself is loaded at run time (native/cpu/dnnl_runtime.cpp), so only -ldl is linked.
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const DIRS = ['core', 'cpu', 'io', 'models', 'binding'];
const CBLAS_DIRS = ['/usr/include/x86_64-linux-gnu/openblas-pthread', '/usr/include/openblas', '/usr/include/x86_64-linux-gnu', '/usr/include'];
const LIB_DIRS = ['/usr/lib/x86_64-linux-gnu/openblas-pthread', '/usr/lib/x86_64-linux-gnu'];

function sources() {
  const out = [];
  for (const d of DIRS) {
    const dir = path.join(root, 'native', d);
    if (!fs.existsSync(dir)) continue;
    for (const f of fs.readdirSync(dir).sort()) if (f.endsWith('.cpp')) out.push(`native/${d}/${f}`);
  }
  return out;
}

function blas() {
  if (process.env.TREEREWARD_BLAS === '0') return null;
  const inc = CBLAS_DIRS.find((d) => fs.existsSync(path.join(d, 'cblas.h')));
  const lib = LIB_DIRS.find((d) => fs.existsSync(path.join(d, 'libopenblas.so')));
  return inc && lib ? { inc, lib } : null;
}

const DNNL_DIRS = ['/usr/include', '/usr/local/include'];
function dnnl() {
  if (process.env.TREEREWARD_DNNL === '0') return null;
  return DNNL_DIRS.find((d) => fs.existsSync(path.join(d, 'oneapi', 'dnnl', 'dnnl.h'))) ?? null;
}

const what = process.argv[2];
const b = blas();
if (what === 'sources') console.log(sources().join(' '));
else if (what === 'blas-defines') console.log(b ? 'TR_HAVE_CBLAS=1' : '');
else if (what === 'blas-include') console.log(b ? b.inc : '');
else if (what === 'blas-libs') console.log(b ? `-L${b.lib} -lopenblas` : '');
else if (what === 'dnnl-defines') console.log(dnnl() ? 'TR_HAVE_DNNL=1' : '');
else if (what === 'dnnl-libs') console.log(dnnl() ? '-ldl' : '');
else {
  console.error('usage: native-sources.cjs sources|blas-defines|blas-include|blas-libs|dnnl-defines|dnnl-libs');
  process.exit(2);
}
