// elementwise.cuh: the launch pattern of the elementwise kernels: out (contiguous) = f(inputs) over
// views with any strides (broadcast dims have stride 0); dims that are contiguous in every operand
// are merged first, so a contiguous or a row-broadcast operand costs one or two divisions per element.
#pragma once
#include <vector>

#include "cuda/cuda_types.cuh"

namespace tr {

// Maps of `views` (all of shape `shape`) with the dims merged that every view walks contiguously.
inline std::vector<StridedMap> merged_maps(const Shape& shape, const std::vector<Shape>& strides) {
  Shape sh;
  std::vector<Shape> st(strides.size());
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;  // a size-1 dim moves no operand
    bool merge = !sh.empty();
    for (size_t k = 0; k < strides.size() && merge; ++k) merge = st[k].back() == strides[k][d] * shape[d];
    if (merge) {
      sh.back() *= shape[d];
      for (size_t k = 0; k < strides.size(); ++k) st[k].back() = strides[k][d];
    } else {
      sh.push_back(shape[d]);
      for (size_t k = 0; k < strides.size(); ++k) st[k].push_back(strides[k][d]);
    }
  }
  std::vector<StridedMap> maps(strides.size());
  for (size_t k = 0; k < strides.size(); ++k) {
    maps[k].rank = static_cast<int>(sh.size());
    for (size_t d = 0; d < sh.size(); ++d) {
      maps[k].shape[d] = sh[d];
      maps[k].strides[d] = st[k][d];
    }
  }
  return maps;
}

// Strides of t broadcast to `shape` (0 on broadcast dims).
inline Shape broadcast_strides(const Tensor& t, const Shape& shape) {
  int r = static_cast<int>(shape.size());
  Shape st(r, 0);
  for (int i = 0; i < r; ++i) {
    int j = i - (r - t.rank());
    if (j >= 0 && t.shape()[j] == shape[i]) st[i] = t.strides()[j];
  }
  return st;
}

#define TR_GRID_STRIDE(i, n) \
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); i += static_cast<int64_t>(gridDim.x) * blockDim.x)

}  // namespace tr
