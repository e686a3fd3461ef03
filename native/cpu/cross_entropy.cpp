// cross_entropy.cpp: mean over counted rows of -log softmax(logits)[target].
// Backward: (softmax(logits) - onehot(target)) / count, zero on ignored rows.
#include "cpu/kernel_util.h"

namespace tr {

Tensor cross_entropy(const Tensor& logits_in, const Tensor& targets_in, int64_t ignore_index) {
  check_float(logits_in, "crossEntropy", "logits");
  check(logits_in.rank() == 2, ErrorCode::SHAPE_MISMATCH, "Expected logits of shape [N, C] for crossEntropy but received ",
        shape_str(logits_in.shape()));
  check(targets_in.dtype() == DType::I32, ErrorCode::DTYPE, "Expected int32 targets for crossEntropy but received ",
        dtype_name(targets_in.dtype()));
  check(targets_in.rank() == 1 && targets_in.shape()[0] == logits_in.shape()[0], ErrorCode::SHAPE_MISMATCH,
        "Expected targets of shape [", logits_in.shape()[0], "] for crossEntropy but received ", shape_str(targets_in.shape()));
  check_cpu(logits_in, "crossEntropy");
  if (lowp(logits_in)) return cast(cross_entropy(up(logits_in), targets_in, ignore_index), logits_in.dtype());
  Tensor x = contiguous(logits_in), t = contiguous(targets_in);
  int64_t N = x.shape()[0], C = x.shape()[1];
  const int32_t* pt = t.data<int32_t>();
  int64_t count = 0;
  for (int64_t i = 0; i < N; ++i) {
    if (pt[i] == ignore_index) continue;
    check(pt[i] >= 0 && pt[i] < C, ErrorCode::INVALID_ARGUMENT, "Expected targets in [0, ", C, ") for crossEntropy but received ",
          pt[i], " at row ", i);
    ++count;
  }
  Tensor probs = empty({N, C}, x.dtype());
  Tensor out = empty({}, x.dtype());
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
  if (needs_grad({logits_in})) {
    Tensor sp = probs, st = t.detach();
    record(out, Op::CrossEntropy, {logits_in}, [sp, st, N, C, count, ignore_index](const Tensor& dout) -> std::vector<Tensor> {
      Tensor g = empty({N, C}, sp.dtype());
      const int32_t* tt = st.data<int32_t>();
      TR_FLOAT_DISPATCH(sp.dtype(), T, {
        T scale = count > 0 ? dout.data<T>()[0] / static_cast<T>(count) : T(0);
        const T* pp = sp.data<T>();
        T* pg = g.data<T>();
        for (int64_t i = 0; i < N; ++i) {
          bool ignored = tt[i] == ignore_index;
          for (int64_t j = 0; j < C; ++j) pg[i * C + j] = ignored ? T(0) : (pp[i * C + j] - (j == tt[i] ? T(1) : T(0))) * scale;
        }
      });
      return {g};
    });
  }
  return out;
}

}  // namespace tr
