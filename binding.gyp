{
  "targets": [
    {
      "target_name": "treereward",
      "sources": ["<!@(node scripts/native-sources.cjs sources)"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native",
        "<!@(node scripts/native-sources.cjs blas-include)"
      ],
      "defines": ["TR_HAVE_OPENMP=1", "NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED", "<!@(node scripts/native-sources.cjs blas-defines)", "<!@(node scripts/native-sources.cjs dnnl-defines)"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-march=native", "-fno-math-errno", "-fexceptions", "-fopenmp"],
      "libraries": ["<!@(node scripts/native-sources.cjs blas-libs)", "<!@(node scripts/native-sources.cjs dnnl-libs)", "-lpthread", "-fopenmp"]
    }
  ]
}
