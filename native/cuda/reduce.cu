// reduce.cu: sums over contiguous rows (a block or a warp per row; few long rows, as a whole-tensor sum,
// split over many blocks whose double partials a second kernel adds in a fixed order) or over the leading
// dimension (a thread per output column, chunked), max with its first argmax, the max gradient's scatter and
// the float64 sum of squares. Sums accumulate in double, as reduce.cpp does.
#include <vector>

#include "cuda/cuda_ops.h"
#include "cuda/elementwise.cuh"
#include "cuda/reduce_util.cuh"

namespace tr {

namespace {

// One warp per row (rows of fewer than 1024 values) or one block per row.
template <typename S>
__global__ void sum_rows_warp_kernel(S* out, const S* in, int64_t rows, int64_t cols, double scale) {
  int64_t row = static_cast<int64_t>(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
  if (row >= rows) return;
  int lane = threadIdx.x & 31;
  const S* r = in + row * cols;
  double acc = 0;
  for (int64_t j = lane; j < cols; j += 32) acc += static_cast<double>(load(r[j]));
  acc = warp_sum(acc);
  if (lane == 0) out[row] = store<S>(static_cast<acc_t<S>>(acc * scale));
}

template <typename S>
__global__ void sum_rows_block_kernel(S* out, const S* in, int64_t cols, double scale) {
  __shared__ double sh[32];
  const S* r = in + static_cast<int64_t>(blockIdx.x) * cols;
  double acc = 0;
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) acc += static_cast<double>(load(r[j]));
  acc = block_sum(acc, sh);
  if (threadIdx.x == 0) out[blockIdx.x] = store<S>(static_cast<acc_t<S>>(acc * scale));
}

// Rows too few to give the GPU a block each (a whole-tensor sum is one row of every value): each row is cut
// into ranges of `per` values, one block per range (blockIdx.y the row) writes the range's sum in double to
// partial[row][range], and sum_partials_kernel adds a row's partials, one block per row. The ranges, each
// thread's stride through its range and the block_sum tree are fixed by the shape, so every run adds the
// same values in the same order: the result is deterministic.
template <typename S>
__global__ void sum_rows_split_kernel(double* partial, const S* in, int64_t cols, int64_t per) {
  __shared__ double sh[32];
  const int64_t row = blockIdx.y, j0 = static_cast<int64_t>(blockIdx.x) * per, j1 = min(cols, j0 + per);
  const S* r = in + row * cols;
  double acc = 0;
  for (int64_t j = j0 + threadIdx.x; j < j1; j += blockDim.x) acc += static_cast<double>(load(r[j]));
  acc = block_sum(acc, sh);
  if (threadIdx.x == 0) partial[row * gridDim.x + blockIdx.x] = acc;
}

// out[row] = scale * the sum of partial[row][0 .. ranges), one block per row.
template <typename S>
__global__ void sum_partials_kernel(S* out, const double* partial, int64_t ranges, double scale) {
  __shared__ double sh[32];
  const double* p = partial + static_cast<int64_t>(blockIdx.x) * ranges;
  double acc = 0;
  for (int64_t c = threadIdx.x; c < ranges; c += blockDim.x) acc += p[c];
  acc = block_sum(acc, sh);
  if (threadIdx.x == 0) out[blockIdx.x] = store<S>(static_cast<acc_t<S>>(acc * scale));
}

// in (cols, rows): partial[chunk][j] = sum over the chunk's leading indices of in[i][j].
template <typename S>
__global__ void sum_cols_partial_kernel(double* partial, const S* in, int64_t rows, int64_t cols, int64_t per_chunk) {
  int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j >= rows) return;
  int64_t i0 = static_cast<int64_t>(blockIdx.y) * per_chunk, i1 = min(cols, i0 + per_chunk);
  double acc = 0;
  for (int64_t i = i0; i < i1; ++i) acc += static_cast<double>(load(in[i * rows + j]));
  partial[static_cast<int64_t>(blockIdx.y) * rows + j] = acc;
}

template <typename S>
__global__ void sum_cols_finish_kernel(S* out, const double* partial, int64_t rows, int64_t chunks, double scale) {
  TR_GRID_STRIDE(j, rows) {
    double acc = 0;
    for (int64_t c = 0; c < chunks; ++c) acc += partial[c * rows + j];
    out[j] = store<S>(static_cast<acc_t<S>>(acc * scale));
  }
}

// (value, index) of the first maximum; a NaN beats every number, the earlier index wins ties.
template <typename C>
__device__ __forceinline__ void max_combine(C& v, int& i, C v2, int i2) {
  bool n1 = isnan(v), n2 = isnan(v2);
  bool take = (n2 && !n1) || (n1 == n2 && !n1 && (v2 > v || (v2 == v && i2 < i))) || (n1 && n2 && i2 < i);
  if (take) {
    v = v2;
    i = i2;
  }
}

template <typename S>
__global__ void max_rows_kernel(S* out, int32_t* argmax, const S* in, int64_t cols) {
  using C = acc_t<S>;
  __shared__ C sv[32];
  __shared__ int si[32];
  const S* r = in + static_cast<int64_t>(blockIdx.x) * cols;
  C v = load(r[0]);
  int idx = 0;
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) max_combine(v, idx, load(r[j]), static_cast<int>(j));
  for (int o = 16; o > 0; o >>= 1) {
    C v2 = __shfl_down_sync(0xffffffffu, v, o);
    int i2 = __shfl_down_sync(0xffffffffu, idx, o);
    max_combine(v, idx, v2, i2);
  }
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  if (lane == 0) {
    sv[warp] = v;
    si[warp] = idx;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    for (int w = 1; w < warps; ++w) max_combine(v, idx, sv[w], si[w]);
    out[blockIdx.x] = store<S>(v);
    argmax[blockIdx.x] = idx;
  }
}

template <typename S>
__global__ void scatter_rows_kernel(S* g, const S* dout, const int32_t* argmax, int64_t rows, int64_t cols) {
  TR_GRID_STRIDE(i, rows) g[i * cols + argmax[i]] = dout[i];
}

template <typename S>
__global__ void sum_squares_kernel(double* partial, const S* a, int64_t n) {
  __shared__ double sh[32];
  double acc = 0;
  TR_GRID_STRIDE(i, n) {
    double v = static_cast<double>(load(a[i]));
    acc += v * v;
  }
  acc = block_sum(acc, sh);
  if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

// The split of sum_rows_split_kernel: ranges of at least kSplitMin values (16 a thread), about kSplitBlocks
// blocks in all. Rows split in 2 or more only when there are at most kSplitBlocks / 2 of them: more rows
// fill the GPU with a block (or warp) each.
constexpr int64_t kSplitMin = 4096, kSplitBlocks = 1024;
int64_t split_ranges(int64_t rows, int64_t cols) {
  return std::min<int64_t>((cols + kSplitMin - 1) / kSplitMin, std::max<int64_t>(1, kSplitBlocks / rows));
}

}  // namespace

void cuda_sum_rows(const Tensor& out, const Tensor& in, int64_t rows, int64_t cols, double scale) {
  if (rows == 0) return;
  cudaStream_t st = cuda_stream();
  TR_CUDA_FLOAT_DISPATCH(in.dtype(), "sum", S, {
    int64_t ranges = split_ranges(rows, cols);
    if (cols == 0) {
      cuda_fill(out, 0.0);
    } else if (ranges > 1) {  // rows <= kSplitBlocks / 2, ranges <= kSplitBlocks: within the grid's limits
      int64_t per = (cols + ranges - 1) / ranges;
      ranges = (cols + per - 1) / per;
      Tensor partial = empty({rows, ranges}, DType::F64, Device::CUDA);
      sum_rows_split_kernel<S><<<dim3(static_cast<unsigned int>(ranges), static_cast<unsigned int>(rows)), 256, 0, st>>>(
          ptr<double>(partial), ptr<S>(in), cols, per);
      TR_CUDA_LAUNCHED("sum");
      sum_partials_kernel<S><<<static_cast<unsigned int>(rows), 256, 0, st>>>(ptr<S>(out), ptr<double>(partial), ranges, scale);
    } else if (cols < 1024 || rows > (int64_t{1} << 31) - 1) {
      int64_t blocks = (rows + 7) / 8;
      check(blocks <= (int64_t{1} << 31) - 1, ErrorCode::NOT_SUPPORTED, "sum on cuda of more than 2^34 rows");
      sum_rows_warp_kernel<S><<<static_cast<unsigned int>(blocks), 256, 0, st>>>(ptr<S>(out), ptr<S>(in), rows, cols, scale);
    } else {
      sum_rows_block_kernel<S><<<static_cast<unsigned int>(rows), 256, 0, st>>>(ptr<S>(out), ptr<S>(in), cols, scale);
    }
  });
  TR_CUDA_LAUNCHED("sum");
}

void cuda_sum_cols(const Tensor& out, const Tensor& in, int64_t rows, int64_t cols, double scale) {
  if (rows == 0) return;
  if (cols == 0) {
    cuda_fill(out, 0.0);
    return;
  }
  // One output (a sum over every value of a contiguous tensor): (cols, 1) is one row of cols values, which
  // cuda_sum_rows splits over many blocks (here each block would have one thread working).
  if (rows == 1) {
    cuda_sum_rows(out, in, 1, cols, scale);
    return;
  }
  cudaStream_t st = cuda_stream();
  // Enough chunks of the leading dim to give the GPU a few thousand blocks' worth of threads.
  int64_t col_blocks = (rows + 255) / 256;
  int64_t chunks = std::min<int64_t>(std::max<int64_t>(1, 1024 / col_blocks), std::max<int64_t>(1, cols / 16));
  chunks = std::min<int64_t>(chunks, 65535);
  int64_t per = (cols + chunks - 1) / chunks;
  chunks = (cols + per - 1) / per;
  check(col_blocks <= (int64_t{1} << 31) - 1, ErrorCode::NOT_SUPPORTED, "sum on cuda of more than 2^39 columns");
  Tensor partial = empty({chunks, rows}, DType::F64, Device::CUDA);
  TR_CUDA_FLOAT_DISPATCH(in.dtype(), "sum", S, {
    sum_cols_partial_kernel<S><<<dim3(static_cast<unsigned int>(col_blocks), static_cast<unsigned int>(chunks)), 256, 0, st>>>(
        ptr<double>(partial), ptr<S>(in), rows, cols, per);
    TR_CUDA_LAUNCHED("sum");
    sum_cols_finish_kernel<S><<<grid_for(rows), kThreads, 0, st>>>(ptr<S>(out), ptr<double>(partial), rows, chunks, scale);
  });
  TR_CUDA_LAUNCHED("sum");
}

void cuda_max_rows(const Tensor& out, const Tensor& argmax, const Tensor& in, int64_t rows, int64_t cols) {
  if (rows == 0) return;
  check(cols <= (int64_t{1} << 31) - 1, ErrorCode::NOT_SUPPORTED, "max on cuda over more than 2^31 - 1 values per output");
  check(rows <= (int64_t{1} << 31) - 1, ErrorCode::NOT_SUPPORTED, "max on cuda with more than 2^31 - 1 outputs");
  TR_CUDA_FLOAT_DISPATCH(in.dtype(), "max", S, {
    max_rows_kernel<S><<<static_cast<unsigned int>(rows), cols < 256 ? 32 : 256, 0, cuda_stream()>>>(ptr<S>(out), ptr<int32_t>(argmax),
                                                                                                     ptr<S>(in), cols);
  });
  TR_CUDA_LAUNCHED("max");
}

void cuda_scatter_rows(const Tensor& g, const Tensor& dout, const Tensor& argmax, int64_t rows, int64_t cols) {
  if (rows == 0) return;
  TR_CUDA_FLOAT_DISPATCH(g.dtype(), "max", S, {
    scatter_rows_kernel<S><<<grid_for(rows), kThreads, 0, cuda_stream()>>>(ptr<S>(g), ptr<S>(dout), ptr<int32_t>(argmax), rows, cols);
  });
  TR_CUDA_LAUNCHED("max backward");
}

double cuda_sum_of_squares(const Tensor& a) {
  int64_t n = a.numel();
  if (n == 0) return 0.0;
  unsigned int blocks = std::min<unsigned int>(grid_for(n), 1024);
  Tensor partial = empty({static_cast<int64_t>(blocks)}, DType::F64, Device::CUDA);
  TR_CUDA_FLOAT_DISPATCH(a.dtype(), "sumOfSquares", S, {
    sum_squares_kernel<S><<<blocks, kThreads, 0, cuda_stream()>>>(ptr<double>(partial), ptr<S>(a), n);
  });
  TR_CUDA_LAUNCHED("sumOfSquares");
  std::vector<double> host(blocks);
  TR_CUDA_CHECK(cudaMemcpyAsync(host.data(), partial.raw(), blocks * sizeof(double), cudaMemcpyDeviceToHost, cuda_stream()));
  cuda_sync("sumOfSquares");
  double total = 0;
  for (double v : host) total += v;
  return total;
}

}  // namespace tr
