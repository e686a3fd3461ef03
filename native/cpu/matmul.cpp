// matmul.cpp: (..., M, K) @ (..., K, N) with broadcast batch dims. Transposed views are passed to
// gemm as transposes (no copy). Backward: dA = dC @ B^T, dB = A^T @ dC, summed over broadcast batches.
// bf16 @ bf16 runs natively (gemm_bf16: oneDNN, f32 accumulation) where the CPU has bf16 products.
#include "cpu/gemm.h"
#include "cpu/kernel_util.h"

namespace tr {

bool matrix_layout(const Tensor& t, bool& trans, int64_t& ld) {
  int r = t.rank();
  int64_t rows = t.shape()[r - 2], cols = t.shape()[r - 1];
  int64_t s0 = t.strides()[r - 2], s1 = t.strides()[r - 1];
  if ((s1 == 1 || cols == 1) && (rows == 1 || s0 >= std::max<int64_t>(1, cols))) {
    trans = false;
    ld = rows == 1 ? std::max<int64_t>(1, cols) : s0;
    return true;
  }
  if ((s0 == 1 || rows == 1) && (cols == 1 || s1 >= std::max<int64_t>(1, rows))) {
    trans = true;
    ld = cols == 1 ? std::max<int64_t>(1, rows) : s1;
    return true;
  }
  return false;
}

namespace {
void matmul_into(const Tensor& out, Tensor a, Tensor b) {
  int ra = a.rank(), rb = b.rank(), ro = out.rank();
  int64_t M = a.shape()[ra - 2], K = a.shape()[ra - 1], N = b.shape()[rb - 1];
  bool ta, tb;
  int64_t lda, ldb;
  if (!matrix_layout(a, ta, lda)) { a = contiguous(a); matrix_layout(a, ta, lda); }
  if (!matrix_layout(b, tb, ldb)) { b = contiguous(b); matrix_layout(b, tb, ldb); }
  Shape batch(out.shape().begin(), out.shape().end() - 2);
  int64_t nbatch = shape_numel(batch);
  int nb = static_cast<int>(batch.size());
  // Batch strides of a and b broadcast to `batch` (zero where broadcast).
  auto batch_strides = [&](const Tensor& t) {
    Shape st(nb, 0);
    int rt = t.rank() - 2;
    for (int i = 0; i < nb; ++i) {
      int j = i - (nb - rt);
      if (j >= 0 && t.shape()[j] == batch[i]) st[i] = t.strides()[j];
    }
    return st;
  };
  Shape sa = batch_strides(a), sb = batch_strides(b);
  auto offsets = [&](int64_t i, int64_t& oa, int64_t& ob) {
    oa = 0, ob = 0;
    int64_t rem = i;
    for (int d = nb - 1; d >= 0; --d) {
      int64_t idx = rem % batch[d];
      rem /= batch[d];
      oa += idx * sa[d];
      ob += idx * sb[d];
    }
  };
  if (out.dtype() == DType::BF16) {  // native bf16 (matmul() only comes here when gemm_bf16_native())
    const uint16_t* pa = a.data<uint16_t>();
    const uint16_t* pb = b.data<uint16_t>();
    uint16_t* pc = out.data<uint16_t>();
    for (int64_t i = 0; i < nbatch; ++i) {
      int64_t oa, ob;
      offsets(i, oa, ob);
      check(gemm_bf16(ta, tb, M, N, K, 1.0f, pa + oa, lda, pb + ob, ldb, 0.0f, pc + i * M * N, N), ErrorCode::INTERNAL,
            "Expected a native bf16 product for matmul but none is available");
    }
    return;
  }
  TR_FLOAT_DISPATCH(out.dtype(), T, {
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* pc = out.data<T>();
    for (int64_t i = 0; i < nbatch; ++i) {
      int64_t oa, ob;
      offsets(i, oa, ob);
      gemm<T>(ta, tb, M, N, K, T(1), pa + oa, lda, pb + ob, ldb, T(0), pc + i * M * N, N);
    }
  });
  (void)ro;
}
}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_float(a, "matmul", "a");
  check_float(b, "matmul", "b");
  check_same_dtype(a, b, "matmul");
  Device dev = op_device("matmul", a, b);
  check(a.rank() >= 1 && b.rank() >= 1, ErrorCode::SHAPE_MISMATCH, "Expected tensors of rank >= 1 for matmul but received ",
        shape_str(a.shape()), " and ", shape_str(b.shape()));
  // bf16 x bf16 computes natively (oneDNN, f32 accumulation) where the CPU can; other low precision in f32.
  // On cuda bf16/f16 are native (cuBLAS tensor cores or the tiled kernel, f32 accumulation).
  // mixed precision (core/autograd.h): on the cpu where oneDNN has bf16 products; on cuda always (tensor cores)
  if (autocast_bf16(a.dtype(), dev) && (dev == Device::CUDA || gemm_bf16_native()) && a.shape().back() > 0)
    return cast(matmul(cast(a, DType::BF16), cast(b, DType::BF16)), DType::F32);
  bool native_bf16 = a.dtype() == DType::BF16 && b.dtype() == DType::BF16 && gemm_bf16_native() && a.shape().back() > 0;
  if (dev == Device::CPU && (lowp(a) || lowp(b)) && !native_bf16) return cast(matmul(up(a), up(b)), a.dtype());
  if (a.rank() == 1) {
    Tensor o = matmul(reshape(a, {1, a.shape()[0]}), b);
    Shape s = o.shape();
    s.erase(s.end() - 2);
    return reshape(o, s);
  }
  if (b.rank() == 1) {
    Tensor o = matmul(a, reshape(b, {b.shape()[0], 1}));
    Shape s = o.shape();
    s.pop_back();
    return reshape(o, s);
  }
  int ra = a.rank(), rb = b.rank();
  int64_t M = a.shape()[ra - 2], K = a.shape()[ra - 1], K2 = b.shape()[rb - 2], N = b.shape()[rb - 1];
  check(K == K2, ErrorCode::SHAPE_MISMATCH, "Expected the inner dimensions of matmul to agree but received ",
        shape_str(a.shape()), " @ ", shape_str(b.shape()), " (", K, " != ", K2, ")");
  Shape ba(a.shape().begin(), a.shape().end() - 2), bb(b.shape().begin(), b.shape().end() - 2);
  Shape batch = broadcast_shapes(ba, bb, "matmul batch dimensions");
  Shape os = batch;
  os.push_back(M);
  os.push_back(N);
  Tensor out = empty(os, a.dtype(), a.device());
#ifdef TR_HAVE_CUDA
  if (dev == Device::CUDA) cuda_matmul_into(out, a, b);
  else
#endif
  matmul_into(out, a, b);
  if (needs_grad({a, b})) {
    bool ga = a.requires_grad(), gb = b.requires_grad();
    Tensor sa = gb ? a.detach() : Tensor(), sb = ga ? b.detach() : Tensor();
    Shape sha = a.shape(), shb = b.shape();
    record(out, Op::Matmul, {a, b}, [sa, sb, sha, shb, ga, gb](const Tensor& dout) -> std::vector<Tensor> {
      Tensor da, db;
      if (ga) da = reduce_to_shape(matmul(dout, transpose(sb, -1, -2)), sha);
      if (gb) db = reduce_to_shape(matmul(transpose(sa, -1, -2), dout), shb);
      return {da, db};
    });
  }
  return out;
}

}  // namespace tr
