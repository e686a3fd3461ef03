// cross_entropy.cpp: mean over counted rows of -log softmax(logits)[target].
// Backward: (softmax(logits) - onehot(target)) / count, zero on ignored rows. On cuda both passes are
// native/cuda/cross_entropy.cu's kernels (probabilities kept in f32 for bf16/f16 logits).
#include "cpu/kernel_util.h"

namespace tr {

namespace {
// Checks and counts the targets, then probs (N, C) and the mean loss over counted rows.
void cross_entropy_forward(const Tensor& out, const Tensor& probs, const Tensor& x, const Tensor& t, int64_t N, int64_t C,
                           int64_t ignore_index, int64_t& count) {
  const int32_t* pt = t.data<int32_t>();
  count = 0;
  for (int64_t i = 0; i < N; ++i) {
    if (pt[i] == ignore_index) continue;
    check(pt[i] >= 0 && pt[i] < C, ErrorCode::INVALID_ARGUMENT, "Expected targets in [0, ", C, ") for crossEntropy but received ",
          pt[i], " at row ", i);
    ++count;
  }
  TR_FLOAT_DISPATCH(x.dtype(), T, {
    const T* px = x.data<T>();
    T* pp = probs.data<T>();
    double loss = 0;
    for (int64_t i = 0; i < N; ++i) {
      const T* row = px + i * C;
      T m = row[0];
      for (int64_t j = 1; j < C; ++j) m = std::max(m, row[j]);
      double s = 0;
      for (int64_t j = 0; j < C; ++j) s += std::exp(static_cast<double>(row[j] - m));
      double lse = static_cast<double>(m) + std::log(s);
      for (int64_t j = 0; j < C; ++j) pp[i * C + j] = static_cast<T>(std::exp(static_cast<double>(row[j]) - lse));
      if (pt[i] != ignore_index) loss += lse - static_cast<double>(row[pt[i]]);
    }
    out.data<T>()[0] = static_cast<T>(count > 0 ? loss / static_cast<double>(count) : 0.0);
  });
}

// g = (probs - onehot(target)) * dout / count, zero on ignored rows.
void cross_entropy_backward(const Tensor& g, const Tensor& dout, const Tensor& probs, const Tensor& t, int64_t N, int64_t C, int64_t count,
                            int64_t ignore_index) {
  const int32_t* tt = t.data<int32_t>();
  TR_FLOAT_DISPATCH(probs.dtype(), T, {
    T scale = count > 0 ? dout.data<T>()[0] / static_cast<T>(count) : T(0);
    const T* pp = probs.data<T>();
    T* pg = g.data<T>();
    for (int64_t i = 0; i < N; ++i) {
      bool ignored = tt[i] == ignore_index;
      for (int64_t j = 0; j < C; ++j) pg[i * C + j] = ignored ? T(0) : (pp[i * C + j] - (j == tt[i] ? T(1) : T(0))) * scale;
    }
  });
}
}  // namespace

Tensor cross_entropy(const Tensor& logits_in, const Tensor& targets_in, int64_t ignore_index) {
  check_float(logits_in, "crossEntropy", "logits");
  check(logits_in.rank() == 2, ErrorCode::SHAPE_MISMATCH, "Expected logits of shape [N, C] for crossEntropy but received ",
        shape_str(logits_in.shape()));
  check(targets_in.dtype() == DType::I32, ErrorCode::DTYPE, "Expected int32 targets for crossEntropy but received ",
        dtype_name(targets_in.dtype()));
  check(targets_in.rank() == 1 && targets_in.shape()[0] == logits_in.shape()[0], ErrorCode::SHAPE_MISMATCH,
        "Expected targets of shape [", logits_in.shape()[0], "] for crossEntropy but received ", shape_str(targets_in.shape()));
  Device dev = op_device("crossEntropy", logits_in, targets_in);
  if (promote(logits_in)) return cast(cross_entropy(up(logits_in), targets_in, ignore_index), logits_in.dtype());
  Tensor x = contiguous(logits_in), t = contiguous(targets_in);
  int64_t N = x.shape()[0], C = x.shape()[1];
  Tensor probs = empty({N, C}, compute_dtype(x.dtype()), dev);  // saved for the backward
  Tensor out = empty({}, x.dtype(), dev);
  int64_t count = 0;
#ifdef TR_HAVE_CUDA
  if (dev == Device::CUDA) count = cuda_cross_entropy_forward(out, probs, x, t, N, C, ignore_index);  // checks the targets first
  else
#endif
  cross_entropy_forward(out, probs, x, t, N, C, ignore_index, count);
  if (needs_grad({logits_in})) {
    Tensor sp = probs, st = t.detach();
    record(out, Op::CrossEntropy, {logits_in}, [sp, st, N, C, count, ignore_index](const Tensor& dout) -> std::vector<Tensor> {
      Tensor g = empty({N, C}, dout.dtype(), dout.device());
#ifdef TR_HAVE_CUDA
      if (dout.device() == Device::CUDA) {
        cuda_cross_entropy_backward(g, dout, sp, st, N, C, count, ignore_index);
        return {g};
      }
#endif
      cross_entropy_backward(g, dout, sp, st, N, C, count, ignore_index);
      return {g};
    });
  }
  return out;
}

}  // namespace tr
