// embedding.cpp: rows of a table by index. Backward scatter-adds dout rows into a dense weight gradient.
// On cuda both loops are native/cuda/embedding.cu's kernels (the scatter by atomic adds).
#include "cpu/kernel_util.h"

namespace tr {

namespace {
void check_indices(const Tensor& idx, int64_t V) {
  const int32_t* pi = idx.data<int32_t>();
  for (int64_t i = 0; i < idx.numel(); ++i)
    check(pi[i] >= 0 && pi[i] < V, ErrorCode::INVALID_ARGUMENT, "Expected indices in [0, ", V, ") for embedding but received ",
          pi[i], " at position ", i);
}
}  // namespace

Tensor embedding(const Tensor& weight_in, const Tensor& indices_in) {
  check_float(weight_in, "embedding", "weight");
  check(weight_in.rank() == 2, ErrorCode::SHAPE_MISMATCH, "Expected a weight of shape [vocab, dim] for embedding but received ",
        shape_str(weight_in.shape()));
  check(indices_in.dtype() == DType::I32, ErrorCode::DTYPE, "Expected int32 indices for embedding but received ",
        dtype_name(indices_in.dtype()));
  Device dev = op_device("embedding", weight_in, indices_in);
  if (promote(weight_in)) return cast(embedding(up(weight_in), indices_in), weight_in.dtype());
  Tensor w = contiguous(weight_in), idx = contiguous(indices_in);
  int64_t V = w.shape()[0], D = w.shape()[1], n = idx.numel();
  Shape os = idx.shape();
  os.push_back(D);
  Tensor out = empty(os, w.dtype(), dev);
#ifdef TR_HAVE_CUDA
  if (dev == Device::CUDA) cuda_embedding_forward(out, w, idx, V, D);  // checks the indices on the device first
  else
#endif
  {
    check_indices(idx, V);
    const int32_t* pi = idx.data<int32_t>();
    TR_FLOAT_DISPATCH(w.dtype(), T, {
      const T* pw = w.data<T>();
      T* po = out.data<T>();
      parallel_for(n, 64, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) std::copy(pw + pi[i] * D, pw + (pi[i] + 1) * D, po + i * D);
      });
    });
  }
  if (needs_grad({weight_in})) {
    Tensor sidx = idx.detach();
    record(out, Op::Embedding, {weight_in}, [sidx, V, D, n](const Tensor& dout) -> std::vector<Tensor> {
      Tensor g = zeros({V, D}, dout.dtype(), dout.device());
#ifdef TR_HAVE_CUDA
      if (dout.device() == Device::CUDA) {
        cuda_embedding_backward(g, dout, sidx, V, D);
        return {g};
      }
#endif
      const int32_t* ix = sidx.data<int32_t>();
      TR_FLOAT_DISPATCH(dout.dtype(), T, {
        const T* pd = dout.data<T>();
        T* pg = g.data<T>();
        for (int64_t i = 0; i < n; ++i)
          for (int64_t j = 0; j < D; ++j) pg[ix[i] * D + j] += pd[i * D + j];
      });
      return {g};
    });
  }
  return out;
}

}  // namespace tr
