// group_norm.cpp: x (N, C, *spatial) normalised over each (n, group) of C/groups channels and all
// spatial positions, then y = xhat * weight[c] + bias[c]; weight/bias (C) or undefined. Each
// (n, group) is one contiguous run of Cg * S values (S = spatial size), so the kernels are row
// kernels as in layer_norm.cpp with a per-channel affine; mean and rstd are saved per (n, group).
// Accumulation rule: every gradient here is fresh (=); dweight/dbias sum over n in double.
#include <vector>

#include "cpu/kernel_util.h"

namespace tr {

namespace {

struct GroupLayout {
  int64_t N = 0, C = 0, G = 0, Cg = 0, S = 1;  // Cg = C / G channels per group, S spatial size
};

template <typename T>
void groupnorm_forward(T* out, T* mean, T* rstd,                     // (N, C, S), (N, G), (N, G)
                       const T* inp, const T* weight, const T* bias,  // (N, C, S), (C) or null, (C) or null
                       GroupLayout l, double eps) {
  int64_t len = l.Cg * l.S;
  parallel_for(l.N * l.G, std::max<int64_t>(1, 4096 / len), [&](int64_t b, int64_t e) {
    for (int64_t ng = b; ng < e; ++ng) {
      const T* x = inp + ng * len;
      T* y = out + ng * len;
      // one pass in double, shifted by the first value so a large mean does not cancel the variance
      double shift = static_cast<double>(x[0]), s = 0, ss = 0;
      for (int64_t i = 0; i < len; ++i) {
        double d = static_cast<double>(x[i]) - shift;
        s += d;
        ss += d * d;
      }
      double m = s / static_cast<double>(len), var = std::max(ss / static_cast<double>(len) - m * m, 0.0);
      T tm = static_cast<T>(shift + m), trs = static_cast<T>(1.0 / std::sqrt(var + eps));
      mean[ng] = tm;
      rstd[ng] = trs;
      int64_t c0 = (ng % l.G) * l.Cg;
      for (int64_t j = 0; j < l.Cg; ++j) {
        // y = (x - mean) * rstd * w + b = x * scale + shift_c
        T scale = trs * (weight ? weight[c0 + j] : T(1));
        T off = (bias ? bias[c0 + j] : T(0)) - tm * scale;
        const T* xc = x + j * l.S;
        T* yc = y + j * l.S;
        for (int64_t i = 0; i < l.S; ++i) yc[i] = xc[i] * scale + off;
      }
    }
  });
}

// dinp (N, C, S) or null; dweight, dbias (C) or null; weight (C) or null (= ones).
template <typename T>
void groupnorm_backward(T* dinp, T* dweight, T* dbias, const T* dout, const T* inp, const T* weight, const T* mean,
                        const T* rstd, GroupLayout l) {
  int64_t len = l.Cg * l.S;
  // per (n, c): sum of dy and of dy * xhat, the pieces of dbias, dweight and dx
  std::vector<double> sum_dy(static_cast<size_t>(l.N * l.C)), sum_dy_xhat(static_cast<size_t>(l.N * l.C));
  parallel_for(l.N * l.G, std::max<int64_t>(1, 2048 / std::max<int64_t>(len, 1)), [&](int64_t b, int64_t e) {
    for (int64_t ng = b; ng < e; ++ng) {
      int64_t n = ng / l.G, c0 = (ng % l.G) * l.Cg;
      T m = mean[ng], rs = rstd[ng];
      // 1. per channel sums, and the group means of dxhat = dy * w and dxhat * xhat
      double dxhat_mean = 0, dxhat_xhat_mean = 0;
      for (int64_t j = 0; j < l.Cg; ++j) {
        const T* x = inp + ng * len + j * l.S;
        const T* dy = dout + ng * len + j * l.S;
        double sd = 0, sdx = 0;
        for (int64_t i = 0; i < l.S; ++i) {
          sd += dy[i];
          sdx += static_cast<double>(dy[i] * ((x[i] - m) * rs));
        }
        sum_dy[n * l.C + c0 + j] = sd;
        sum_dy_xhat[n * l.C + c0 + j] = sdx;
        double w = weight ? static_cast<double>(weight[c0 + j]) : 1.0;
        dxhat_mean += w * sd;
        dxhat_xhat_mean += w * sdx;
      }
      if (!dinp) continue;
      dxhat_mean /= static_cast<double>(len);
      dxhat_xhat_mean /= static_cast<double>(len);
      // 2. dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
      T a = static_cast<T>(dxhat_mean), c = static_cast<T>(dxhat_xhat_mean);
      for (int64_t j = 0; j < l.Cg; ++j) {
        const T* x = inp + ng * len + j * l.S;
        const T* dy = dout + ng * len + j * l.S;
        T* dx = dinp + ng * len + j * l.S;
        T w = weight ? weight[c0 + j] : T(1);
        for (int64_t i = 0; i < l.S; ++i) dx[i] = (dy[i] * w - a - (x[i] - m) * rs * c) * rs;
      }
    }
  });
  for (int64_t c = 0; c < l.C; ++c) {
    double sw = 0, sb = 0;
    for (int64_t n = 0; n < l.N; ++n) {
      sw += sum_dy_xhat[n * l.C + c];
      sb += sum_dy[n * l.C + c];
    }
    if (dweight) dweight[c] = static_cast<T>(sw);
    if (dbias) dbias[c] = static_cast<T>(sb);
  }
}

void check_affine(const Tensor& t, int64_t C, const Tensor& x, const char* name) {
  if (!t.defined()) return;
  check_float(t, "groupNorm", name);
  check_same_dtype(x, t, "groupNorm");
  check_cpu(t, "groupNorm");
  check(t.rank() == 1 && t.shape()[0] == C, ErrorCode::SHAPE_MISMATCH, "Expected a ", name, " of shape [", C,
        "] for groupNorm but received ", shape_str(t.shape()));
}

}  // namespace

Tensor group_norm(const Tensor& x_in, int64_t groups, const Tensor& w_in, const Tensor& b_in, double eps) {
  check_float(x_in, "groupNorm", "x");
  check_cpu(x_in, "groupNorm");
  check(x_in.rank() >= 2, ErrorCode::SHAPE_MISMATCH, "Expected an input of shape [N, C, ...] for groupNorm but received ",
        shape_str(x_in.shape()));
  int64_t C = x_in.shape()[1];
  check(groups >= 1, ErrorCode::INVALID_ARGUMENT, "Expected groups >= 1 for groupNorm but received ", groups);
  check(C % groups == 0, ErrorCode::SHAPE_MISMATCH, "Expected an input [N, C, ...] with C divisible by ", groups,
        " groups for groupNorm but received ", shape_str(x_in.shape()));
  check(eps >= 0, ErrorCode::INVALID_ARGUMENT, "Expected eps >= 0 for groupNorm but received ", eps);
  check_affine(w_in, C, x_in, "weight");
  check_affine(b_in, C, x_in, "bias");
  if (lowp(x_in)) return cast(group_norm(up(x_in), groups, up(w_in), up(b_in), eps), x_in.dtype());

  Tensor x = contiguous(x_in), w = w_in.defined() ? contiguous(w_in) : Tensor(), b = b_in.defined() ? contiguous(b_in) : Tensor();
  GroupLayout l;
  l.N = x.shape()[0];
  l.C = C;
  l.G = groups;
  l.Cg = C / groups;
  for (int i = 2; i < x.rank(); ++i) l.S *= x.shape()[i];
  Tensor out = empty(x.shape(), x.dtype(), x.device());
  Tensor mean = empty({l.N, l.G}, x.dtype()), rstd = empty({l.N, l.G}, x.dtype());
  if (l.Cg * l.S > 0) TR_FLOAT_DISPATCH(x.dtype(), T, {  // empty groups: nothing to normalise
    groupnorm_forward<T>(out.data<T>(), mean.data<T>(), rstd.data<T>(), x.data<T>(), w.defined() ? w.data<T>() : nullptr,
                         b.defined() ? b.data<T>() : nullptr, l, eps);
  });

  if (needs_grad({x_in, w_in, b_in})) {
    bool gx = x_in.requires_grad(), gw = w_in.defined() && w_in.requires_grad(), gb = b_in.defined() && b_in.requires_grad();
    Tensor sx = x.detach(), sw = w.defined() ? w.detach() : Tensor();
    record(out, Op::GroupNorm, {x_in, w_in, b_in}, [sx, sw, mean, rstd, gx, gw, gb, l](const Tensor& dout) -> std::vector<Tensor> {
      Tensor dx = gx ? empty(sx.shape(), sx.dtype()) : Tensor();
      Tensor dw = gw ? empty({l.C}, sx.dtype()) : Tensor();
      Tensor db = gb ? empty({l.C}, sx.dtype()) : Tensor();
      TR_FLOAT_DISPATCH(sx.dtype(), T, {
        groupnorm_backward<T>(gx ? dx.data<T>() : nullptr, gw ? dw.data<T>() : nullptr, gb ? db.data<T>() : nullptr,
                              dout.data<T>(), sx.data<T>(), sw.defined() ? sw.data<T>() : nullptr, mean.data<T>(), rstd.data<T>(), l);
      });
      return {dx, dw, db};
    });
  }
  return out;
}

}  // namespace tr
