// selftest.cu: the CUDA simulator checked on kernels whose right answer (or whose fault) is known: block
// and warp primitives compute what CUDA defines, and each kind of mistake the simulator claims to catch is
// caught. Built as build-sim/Release/trsim-selftest in the sim build (rewritten like native/cuda/*.cu);
// test/gpu/sim.test.ts runs it. Prints one JSON object per check: {"name", "ok", "detail"}.
#include <mma.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "cuda_runtime.h"

namespace {

int failures = 0;

void report(const char* name, bool ok, const std::string& detail = "") {
  if (!ok) ++failures;
  std::string d;
  for (char c : detail) d += (c == '"' || c == '\\') ? ' ' : c;
  std::printf("{\"name\": \"%s\", \"ok\": %s, \"detail\": \"%s\"}\n", name, ok ? "true" : "false", d.c_str());
}

template <typename T>
T* device(size_t n) {
  void* p = nullptr;
  cudaMalloc(&p, n * sizeof(T));
  return static_cast<T*>(p);
}
template <typename T>
std::vector<T> host(const T* d, size_t n) {
  std::vector<T> h(n);
  cudaMemcpy(h.data(), d, n * sizeof(T), cudaMemcpyDeviceToHost);
  return h;
}
template <typename T>
void upload(T* d, const std::vector<T>& h) {
  cudaMemcpy(d, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice);
}
std::string error_text() {
  cudaError_t e = cudaGetLastError();
  return std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
}

// ---- kernels -----------------------------------------------------------------------------------

__global__ void block_sum_kernel(float* out, const float* in) {
  __shared__ float sh[256];
  sh[threadIdx.x] = in[blockIdx.x * blockDim.x + threadIdx.x];
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) sh[threadIdx.x] += sh[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) out[blockIdx.x] = sh[0];
}

__global__ void shuffle_kernel(int* out) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x / 32;
  int v = lane + 1, x = v;
  for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);   // every lane: 528
  int d = v;
  for (int o = 16; o > 0; o >>= 1) d += __shfl_down_sync(0xffffffffu, d, o);  // lane 0: 528
  int u = v;
  for (int o = 1; o < 32; o <<= 1) {  // inclusive prefix sum
    int t = __shfl_up_sync(0xffffffffu, u, o);
    if (lane >= o) u += t;
  }
  int b = __shfl_sync(0xffffffffu, v * 10, 7);  // lane 7's value: 80
  int* o = out + (warp * 32 + lane) * 4;
  o[0] = x, o[1] = d, o[2] = u, o[3] = b;
}

// Reads a neighbour's slot without the __syncthreads that should separate the write and the read.
__global__ void missing_sync_kernel(float* out) {
  extern __shared__ float slots[];
  slots[threadIdx.x] = static_cast<float>(threadIdx.x);
  out[threadIdx.x] = slots[(threadIdx.x + 1) % blockDim.x];
}

// Two block sums through one shared array, without the __syncthreads that keeps a fast warp from writing
// the second round's partials before a slow warp has read the first round's: only warp syncs between them.
__global__ void warp_race_kernel(int* out) {
  __shared__ int sh[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x / 32;
  int first = 0;
  for (int round = 0; round < 2; ++round) {
    int v = lane + 1 + 1000 * round;
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    if (lane == 0) sh[warp] = v;  // missing: a __syncthreads before this write
    __syncthreads();
    int t = sh[lane % (blockDim.x / 32)];
    for (int o = 16; o > 0; o >>= 1) t += __shfl_xor_sync(0xffffffffu, t, o);
    if (round == 0) first = t;
  }
  out[blockIdx.x * blockDim.x + threadIdx.x] = first;
}

// Half a warp waits at __syncthreads while the other half waits at __syncwarp: neither barrier completes.
__global__ void deadlock_kernel(int* out) {
  if (threadIdx.x < 16) __syncthreads();
  else __syncwarp();
  out[threadIdx.x] = 1;
}

__global__ void write_kernel(float* p, int n) {
  if (threadIdx.x == 0) p[n] = 1.f;  // n == the allocation's length: one past the end
}

__global__ void big_shared_kernel(float* out) {
  extern __shared__ float buf[];
  buf[threadIdx.x] = 1.f;
  __syncthreads();
  out[threadIdx.x] = buf[(threadIdx.x + 1) % blockDim.x];
}

__global__ void exited_lane_kernel(float* out) {
  if (threadIdx.x >= 16) return;
  out[threadIdx.x] = __shfl_down_sync(0xffffffffu, 1.f, 8);  // lanes 8..15 read lanes 16..23, gone
}

__global__ void atomic_kernel(unsigned long long* count, float* sum) {
  atomicAdd(count, 1ull);
  atomicAdd(sum, 1.f);
}

// C (32 x 32, float) = A (32 x 32, bf16, row-major) B (32 x 32, bf16, column-major), one 16x16 tile per warp.
__global__ void wmma_kernel(float* C, const __nv_bfloat16* A, const __nv_bfloat16* B, int offset) {
  namespace w = nvcuda::wmma;
  const int warp = threadIdx.x / 32, i = (warp / 2) * 16, j = (warp % 2) * 16;
  w::fragment<w::accumulator, 16, 16, 16, float> c;
  w::fill_fragment(c, 0.f);
  for (int k = 0; k < 32; k += 16) {
    w::fragment<w::matrix_a, 16, 16, 16, __nv_bfloat16, w::row_major> a;
    w::fragment<w::matrix_b, 16, 16, 16, __nv_bfloat16, w::col_major> b;
    w::load_matrix_sync(a, A + i * 32 + k + offset, 32);
    w::load_matrix_sync(b, B + j * 32 + k, 32);
    w::mma_sync(c, a, b, c);
  }
  w::store_matrix_sync(C + i * 32 + j, c, 32, w::mem_row_major);
}

}  // namespace

int main() {
  {  // a shared-memory tree reduction over 4 blocks of 256
    std::vector<float> in(1024);
    for (int i = 0; i < 1024; ++i) in[i] = static_cast<float>(i % 97);
    float *din = device<float>(1024), *dout = device<float>(4);
    upload(din, in);
    block_sum_kernel<<<4, 256>>>(dout, din);
    cudaError_t e = cudaGetLastError();
    auto out = host(dout, 4);
    bool ok = e == cudaSuccess;
    for (int b = 0; b < 4; ++b) {
      float want = 0;
      for (int i = 0; i < 256; ++i) want += in[b * 256 + i];
      ok = ok && out[b] == want;
    }
    report("block reduction with __syncthreads", ok);
    cudaFree(din);
    cudaFree(dout);
  }
  {  // shuffles: xor butterfly, down reduction, up prefix, broadcast
    int* d = device<int>(64 * 4);
    shuffle_kernel<<<1, 64>>>(d);
    cudaError_t e = cudaGetLastError();
    auto h = host(d, 64 * 4);
    bool ok = e == cudaSuccess;
    for (int t = 0; t < 64; ++t) {
      int lane = t & 31;
      ok = ok && h[t * 4] == 528 && h[t * 4 + 2] == (lane + 1) * (lane + 2) / 2 && h[t * 4 + 3] == 80;
      if (lane == 0) ok = ok && h[t * 4 + 1] == 528;
    }
    report("warp shuffles (xor, down, up, broadcast)", ok);
    cudaFree(d);
  }
  {  // a missing __syncthreads shows: some thread reads its neighbour's slot before it is written
    float* d = device<float>(256);
    int wrong = 0;
    missing_sync_kernel<<<1, 256, 256 * sizeof(float)>>>(d);
    cudaGetLastError();
    auto h = host(d, 256);
    for (int t = 0; t < 256; ++t) wrong += h[t] != static_cast<float>((t + 1) % 256);
    report("a missing __syncthreads gives wrong values", wrong > 0, std::to_string(wrong) + " of 256 reads saw an unwritten slot");
    cudaFree(d);
  }
  {  // the first round's total is 528 per warp, summed over the 4 warps of a block 8 times (32 lanes / 4)
    int* d = device<int>(16 * 128);
    warp_race_kernel<<<16, 128>>>(d);
    cudaGetLastError();
    auto h = host(d, 16 * 128);
    int wrong = 0;
    for (int v : h) wrong += v != 528 * 32;
    report("a race between warps that only shuffles separate gives wrong values", wrong > 0, std::to_string(wrong) + " of 2048 threads read a later round's partial");
    cudaFree(d);
  }
  {
    int* d = device<int>(32);
    deadlock_kernel<<<1, 32>>>(d);
    std::string t = error_text();
    report("a barrier some threads never reach is a launch failure", t.find("deadlock") != std::string::npos, t);
    cudaFree(d);
  }
  {
    float* d = device<float>(32);
    block_sum_kernel<<<1, 1025>>>(d, d);
    std::string t1 = error_text();
    block_sum_kernel<<<0, 32>>>(d, d);
    std::string t2 = error_text();
    report("block over 1024 threads and empty grid are invalid configurations",
           t1.find("cudaErrorInvalidConfiguration") == 0 && t2.find("cudaErrorInvalidConfiguration") == 0, t1 + " / " + t2);
    cudaFree(d);
  }
  {
    float* d = device<float>(256);
    big_shared_kernel<<<1, 256, 64 * 1024>>>(d);
    std::string t1 = error_text();
    cudaError_t set = cudaFuncSetAttribute(big_shared_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, 64 * 1024);
    big_shared_kernel<<<1, 256, 64 * 1024>>>(d);
    cudaError_t after = cudaGetLastError();
    cudaError_t too_much = cudaFuncSetAttribute(big_shared_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, 400 * 1024);
    report("dynamic shared memory over 48 KB needs cudaFuncSetAttribute, within the device's opt-in",
           t1.find("cudaErrorInvalidValue") == 0 && set == cudaSuccess && after == cudaSuccess && too_much == cudaErrorInvalidValue, t1);
    cudaFree(d);
  }
  {
    float* d = device<float>(100);
    write_kernel<<<1, 32>>>(d, 100);
    std::string t = error_text();
    report("a write past a device allocation is an illegal address", t.find("cudaErrorIllegalAddress") == 0 && t.find("write_kernel") != std::string::npos, t);
    cudaFree(d);
  }
  {
    float* d = device<float>(32);
    exited_lane_kernel<<<1, 32>>>(d);
    std::string t = error_text();
    report("a shuffle from an exited lane is a launch failure", t.find("exited") != std::string::npos, t);
    cudaFree(d);
  }
  {
    unsigned long long* c = device<unsigned long long>(1);
    float* s = device<float>(1);
    cudaMemset(c, 0, sizeof(unsigned long long));
    cudaMemset(s, 0, sizeof(float));
    atomic_kernel<<<8, 128>>>(c, s);
    cudaError_t e = cudaGetLastError();
    report("atomics count every thread", e == cudaSuccess && host(c, 1)[0] == 1024 && host(s, 1)[0] == 1024.f);
    cudaFree(c);
    cudaFree(s);
  }
  {  // wmma: a product against a reference; a misaligned pointer is refused
    std::vector<__nv_bfloat16> a(32 * 32 + 8), b(32 * 32);
    for (int i = 0; i < 32 * 32 + 8; ++i) a[i] = __float2bfloat16_rn(std::sin(0.37f * i));
    for (int i = 0; i < 32 * 32; ++i) b[i] = __float2bfloat16_rn(std::cos(0.11f * i));
    __nv_bfloat16 *da = device<__nv_bfloat16>(a.size()), *db = device<__nv_bfloat16>(b.size());
    float* dc = device<float>(32 * 32);
    upload(da, a);
    upload(db, b);
    wmma_kernel<<<1, 128>>>(dc, da, db, 0);
    cudaError_t e = cudaGetLastError();
    auto c = host(dc, 32 * 32);
    double worst = 0;
    for (int i = 0; i < 32; ++i)
      for (int j = 0; j < 32; ++j) {
        double want = 0;
        for (int k = 0; k < 32; ++k) want += double(__bfloat162float(a[i * 32 + k])) * __bfloat162float(b[j * 32 + k]);
        worst = std::max(worst, std::fabs(c[i * 32 + j] - want));
      }
    report("wmma 16x16x16 bf16 products with float32 accumulation", e == cudaSuccess && worst < 1e-4, "max error " + std::to_string(worst));
    wmma_kernel<<<1, 128>>>(dc, da, db, 4);  // 8 bytes off a 32-byte boundary
    std::string t = error_text();
    report("wmma loads from a pointer off a 256-bit boundary are misaligned", t.find("cudaErrorMisalignedAddress") == 0, t);
    cudaFree(da);
    cudaFree(db);
    cudaFree(dc);
  }
  {  // memory: capacity, copies beyond an allocation, freeing what was not allocated
    size_t free_b = 0, total = 0;
    cudaMemGetInfo(&free_b, &total);
    void* p = nullptr;
    cudaError_t big = cudaMalloc(&p, total + 1);
    float* d = device<float>(10);
    std::vector<float> h(20);
    cudaError_t copy = cudaMemcpy(d, h.data(), 20 * sizeof(float), cudaMemcpyHostToDevice);
    cudaGetLastError();
    cudaError_t wrong_free = cudaFree(h.data());
    report("device memory: capacity, copy bounds, frees of host pointers",
           big == cudaErrorMemoryAllocation && p == nullptr && copy == cudaErrorInvalidValue && wrong_free == cudaErrorInvalidDevicePointer);
    cudaFree(d);
  }
  return failures == 0 ? 0 : 1;
}
