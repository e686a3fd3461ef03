// conv2d.cpp: out (N, Cout, Ho, Wo) = conv(x (N, Cin, H, W), weight (Cout, Cin/G, kh, kw)) + bias (Cout),
// any kernel size, stride, zero padding and G groups.
// Fast path (float32, and bfloat16 where the CPU computes it natively): oneDNN's direct convolutions,
// forward and backward (dnnl_conv2d.cpp); measured against im2col + OpenBLAS on every bench shape it
// is 1.2-2x faster, reorders to its blocked layouts included.
// Reference path (float64 always; float32 without oneDNN): per sample and group the convolution is a gemm
// over the column matrix col (K = Cin/G * kh * kw, P = Ho * Wo) that im2col builds, a tile of output
// rows at a time (a 1x1, stride-1, unpadded conv uses the input itself as col):
//   forward   out_g (Cout/G, P) = W_g (Cout/G, K) @ col (K, P) + bias
//   backward  dW_g (Cout/G, K) = sum_n dout_g @ col^T; dbias = sum of dout over n and P;
//             dx = col2im(W_g^T @ dout_g), or for stride 1 a convolution of dout (conv2d_backward_input).
// The gemms are threaded by OpenBLAS (always called from this one thread); im2col/col2im by parallel_for.
// Accumulation rule: every gradient here is fresh (=); dweight sums over the batch inside the gemm (beta = 1).
// On cuda the forward and backward compute in native/cuda/conv2d.cu (cuDNN, or implicit GEMM); the checks
// and the autograd record are shared.
#include <vector>

#include "cpu/dnnl_runtime.h"
#include "cpu/gemm.h"
#include "cpu/kernel_util.h"
#ifdef TR_HAVE_CUDA
#include "cuda/cuda_kernels_b.h"  // the compute on cuda
#endif

namespace tr {

namespace {

struct ConvGeom {
  int64_t N = 0, Cin = 0, H = 0, W = 0, Cout = 0, kh = 0, kw = 0, sh = 1, sw = 1, ph = 0, pw = 0, G = 1, Ho = 0, Wo = 0;
  int64_t cin_g() const { return Cin / G; }
  int64_t cout_g() const { return Cout / G; }
  int64_t K() const { return cin_g() * kh * kw; }  // rows of col
  int64_t P() const { return Ho * Wo; }            // columns of col
  bool direct() const { return kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0; }
};

// Output columns ow whose input column ow * sw - pw + kj lies in [0, W): [lo, hi).
inline void valid_cols(const ConvGeom& g, int64_t kj, int64_t& lo, int64_t& hi) {
  int64_t first = g.pw - kj, last = g.W - 1 + g.pw - kj;  // need first <= ow * sw <= last
  lo = first <= 0 ? 0 : (first + g.sw - 1) / g.sw;
  hi = last < 0 ? 0 : std::min(g.Wo, last / g.sw + 1);
  lo = std::min(lo, g.Wo);
  hi = std::max(hi, lo);
}

// The column matrix is built one tile of output rows [oh0, oh1) at a time, so its buffer stays near
// kColTile values (4 MB in f32) whatever the image, and it is kept per thread for the next call: a
// fresh multi-megabyte buffer per call cost more in page faults than im2col itself (about 2,300 faults
// per call on the VAE's 64-channel 64x64 conv).
constexpr int64_t kColTile = 1 << 20;

inline int64_t tile_rows(const ConvGeom& g) {
  return g.direct() ? g.Ho : std::clamp<int64_t>(kColTile / (g.K() * g.Wo), 1, g.Ho);
}

// A per-thread buffer of at least n values, kept for the next call.
template <typename T>
T* col_buffer(int64_t n) {
  thread_local std::vector<T> buf;
  if (static_cast<int64_t>(buf.size()) < n) buf.resize(static_cast<size_t>(n));
  return buf.data();
}

// col (K, (oh1 - oh0) * Wo) <- img (Cin/G, H, W) for output rows [oh0, oh1); zero where the window reads padding.
template <typename T>
void im2col(T* col, const T* img, const ConvGeom& g, int64_t oh0, int64_t oh1) {
  int64_t cols = (oh1 - oh0) * g.Wo, kk = g.kh * g.kw;
  parallel_for(g.K(), std::max<int64_t>(1, 16384 / cols), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      int64_t c = r / kk, ki = (r / g.kw) % g.kh, kj = r % g.kw, lo, hi;
      valid_cols(g, kj, lo, hi);
      const T* src = img + c * g.H * g.W;
      if (g.sh == 1 && g.sw == 1 && g.Wo == g.W) {
        // "Same" width at stride 1: the in-range rows of this tap are one shifted run of the image.
        // Copy it whole (clipped to the image), then zero the edge columns, which the run wraps into.
        T* dst = col + r * cols;
        int64_t ih_lo = std::max<int64_t>(oh0 - g.ph + ki, 0), ih_hi = std::min<int64_t>(oh1 - g.ph + ki, g.H);
        int64_t oh_lo = std::clamp<int64_t>(ih_lo + g.ph - ki, oh0, oh1), oh_hi = std::clamp<int64_t>(ih_hi + g.ph - ki, oh_lo, oh1);
        std::fill(dst, dst + (oh_lo - oh0) * g.Wo, T(0));
        std::fill(dst + (oh_hi - oh0) * g.Wo, dst + cols, T(0));
        int64_t s0 = ih_lo * g.W + kj - g.pw, d0 = (oh_lo - oh0) * g.Wo, len = (oh_hi - oh_lo) * g.Wo;
        if (s0 < 0) d0 -= s0, len += s0, s0 = 0;
        len = std::min(len, g.H * g.W - s0);
        if (len > 0) std::copy(src + s0, src + s0 + len, dst + d0);
        for (int64_t oh = oh_lo; oh < oh_hi; ++oh) {
          T* d = dst + (oh - oh0) * g.Wo;
          std::fill(d, d + lo, T(0));
          std::fill(d + hi, d + g.Wo, T(0));
        }
        continue;
      }
      for (int64_t oh = oh0; oh < oh1; ++oh) {
        T* d = col + r * cols + (oh - oh0) * g.Wo;
        int64_t ih = oh * g.sh - g.ph + ki;
        if (ih < 0 || ih >= g.H) {
          std::fill(d, d + g.Wo, T(0));
          continue;
        }
        std::fill(d, d + lo, T(0));
        std::fill(d + hi, d + g.Wo, T(0));
        const T* s = src + ih * g.W + lo * g.sw - g.pw + kj;  // the input under output column lo
        if (g.sw == 1) std::copy(s, s + (hi - lo), d + lo);
        else if (g.sw == 2) for (int64_t ow = lo; ow < hi; ++ow) d[ow] = s[(ow - lo) * 2];  // a constant stride vectorises
        else for (int64_t ow = lo; ow < hi; ++ow) d[ow] = s[(ow - lo) * g.sw];
      }
    }
  });
}

// img (Cin/G, H, W) += col2im(col (K, (oh1 - oh0) * Wo)): each column entry is added back where im2col
// read it. One task per input channel, so no two tasks write the same pixel.
template <typename T>
void col2im(T* img, const T* col, const ConvGeom& g, int64_t oh0, int64_t oh1) {
  int64_t cols = (oh1 - oh0) * g.Wo, kk = g.kh * g.kw;
  parallel_for(g.cin_g(), std::max<int64_t>(1, 16384 / (cols * kk)), [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) {
      T* dst = img + c * g.H * g.W;
      for (int64_t ki = 0; ki < g.kh; ++ki)
        for (int64_t kj = 0; kj < g.kw; ++kj) {
          int64_t lo, hi;
          valid_cols(g, kj, lo, hi);
          const T* src = col + (c * kk + ki * g.kw + kj) * cols;
          for (int64_t oh = oh0; oh < oh1; ++oh) {
            int64_t ih = oh * g.sh - g.ph + ki;
            if (ih < 0 || ih >= g.H) continue;
            T* d = dst + ih * g.W + lo * g.sw - g.pw + kj;  // the pixel under output column lo
            const T* s = src + (oh - oh0) * g.Wo + lo;
            if (g.sw == 1) for (int64_t i = 0; i < hi - lo; ++i) d[i] += s[i];
            else for (int64_t i = 0; i < hi - lo; ++i) d[i * g.sw] += s[i];
          }
        }
    }
  });
}

template <typename T>
void conv2d_forward(T* out,                                         // (N, Cout, P)
                    const T* inp, const T* weight, const T* bias,   // (N, Cin, H, W), (Cout, K), (Cout) or null
                    const ConvGeom& g) {
  int64_t P = g.P(), K = g.K(), cg = g.cout_g(), rows = tile_rows(g);
  T* col = g.direct() ? nullptr : col_buffer<T>(K * rows * g.Wo);
  if (bias)
    parallel_for(g.N * g.Cout, std::max<int64_t>(1, 16384 / P), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) std::fill(out + r * P, out + (r + 1) * P, bias[r % g.Cout]);
    });
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t grp = 0; grp < g.G; ++grp) {
      const T* img = inp + (n * g.Cin + grp * g.cin_g()) * g.H * g.W;
      T* og = out + (n * g.Cout + grp * cg) * P;  // (Cout/G, P)
      for (int64_t oh0 = 0; oh0 < g.Ho; oh0 += rows) {
        int64_t oh1 = std::min(g.Ho, oh0 + rows), cols = (oh1 - oh0) * g.Wo;
        if (!g.direct()) im2col(col, img, g, oh0, oh1);
        const T* c = g.direct() ? img + oh0 * g.Wo : col;
        gemm<T>(false, false, cg, cols, K, T(1), weight + grp * cg * K, K, c, g.direct() ? P : cols, bias ? T(1) : T(0),
                og + oh0 * g.Wo, P);
      }
    }
}

// dweight (Cout, K) = sum over n of dout_g (Cout/G, P) @ col^T (P, K), per group.
template <typename T>
void conv2d_backward_weight(T* dweight, const T* dout, const T* inp, const ConvGeom& g) {
  int64_t P = g.P(), K = g.K(), cg = g.cout_g(), rows = tile_rows(g);
  T* col = g.direct() ? nullptr : col_buffer<T>(K * rows * g.Wo);
  if (g.N == 0) std::fill(dweight, dweight + g.Cout * K, T(0));
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t grp = 0; grp < g.G; ++grp) {
      const T* img = inp + (n * g.Cin + grp * g.cin_g()) * g.H * g.W;
      const T* dy = dout + (n * g.Cout + grp * cg) * P;
      for (int64_t oh0 = 0; oh0 < g.Ho; oh0 += rows) {
        int64_t oh1 = std::min(g.Ho, oh0 + rows), cols = (oh1 - oh0) * g.Wo;
        if (!g.direct()) im2col(col, img, g, oh0, oh1);
        const T* c = g.direct() ? img + oh0 * g.Wo : col;
        bool first = n == 0 && oh0 == 0;
        gemm<T>(false, true, cg, K, cols, T(1), dy + oh0 * g.Wo, P, c, g.direct() ? P : cols, first ? T(0) : T(1),
                dweight + grp * cg * K, K);
      }
    }
}

// dx (N, Cin, H, W) from dout (N, Cout, P) and weight (Cout, K).
//  1x1 direct: dx_g (Cin/G, P) = W_g^T @ dout_g.
//  stride 1, pad < kernel: dx is itself a stride-1 convolution of dout, with padding k - 1 - pad and the
//    kernel flipped and transposed (Cin, Cout/G, kh, kw); its gemm has the long inner dimension Cout/G*kh*kw
//    instead of Cout/G, which OpenBLAS runs about twice as fast, and it needs no col2im.
//  otherwise: dcol = W_g^T @ dout_g one tile at a time, added back with col2im.
template <typename T>
void conv2d_backward_input(T* dinp, const T* dout, const T* weight, const ConvGeom& g) {
  int64_t P = g.P(), K = g.K(), cg = g.cout_g(), cig = g.cin_g(), kk = g.kh * g.kw;
  if (g.direct()) {
    for (int64_t n = 0; n < g.N; ++n)
      for (int64_t grp = 0; grp < g.G; ++grp)
        gemm<T>(true, false, K, P, cg, T(1), weight + grp * cg * K, K, dout + (n * g.Cout + grp * cg) * P, P, T(0),
                dinp + (n * g.Cin + grp * cig) * g.H * g.W, P);
    return;
  }
  if (g.sh == 1 && g.sw == 1 && g.ph < g.kh && g.pw < g.kw) {
    std::vector<T> wt(static_cast<size_t>(g.Cin * cg * kk));  // (Cin, Cout/G, kh, kw)
    for (int64_t grp = 0; grp < g.G; ++grp)
      for (int64_t co = 0; co < cg; ++co)
        for (int64_t ci = 0; ci < cig; ++ci)
          for (int64_t t = 0; t < kk; ++t)
            wt[((grp * cig + ci) * cg + co) * kk + (kk - 1 - t)] = weight[((grp * cg + co) * cig + ci) * kk + t];
    ConvGeom gt = g;
    gt.Cin = g.Cout, gt.H = g.Ho, gt.W = g.Wo, gt.Cout = g.Cin, gt.ph = g.kh - 1 - g.ph, gt.pw = g.kw - 1 - g.pw;
    gt.Ho = g.H, gt.Wo = g.W;
    conv2d_forward<T>(dinp, dout, wt.data(), nullptr, gt);
    return;
  }
  int64_t rows = tile_rows(g);
  T* dcol = col_buffer<T>(K * rows * g.Wo);
  std::fill(dinp, dinp + g.N * g.Cin * g.H * g.W, T(0));
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t grp = 0; grp < g.G; ++grp) {
      const T* dy = dout + (n * g.Cout + grp * cg) * P;
      T* dimg = dinp + (n * g.Cin + grp * cig) * g.H * g.W;
      for (int64_t oh0 = 0; oh0 < g.Ho; oh0 += rows) {
        int64_t oh1 = std::min(g.Ho, oh0 + rows), cols = (oh1 - oh0) * g.Wo;
        gemm<T>(true, false, K, cols, cg, T(1), weight + grp * cg * K, K, dy + oh0 * g.Wo, P, T(0), dcol, cols);
        col2im(dimg, dcol, g, oh0, oh1);
      }
    }
}

// dbias (Cout) = sum of dout (N, Cout, P) over n and P, in double.
template <typename T>
void conv2d_backward_bias(T* dbias, const T* dout, const ConvGeom& g) {
  int64_t P = g.P();
  parallel_for(g.Cout, std::max<int64_t>(1, 16384 / std::max<int64_t>(g.N * P, 1)), [&](int64_t b, int64_t e) {
    for (int64_t co = b; co < e; ++co) {
      double s = 0;
      for (int64_t n = 0; n < g.N; ++n) {
        const T* d = dout + (n * g.Cout + co) * P;
        for (int64_t p = 0; p < P; ++p) s += d[p];
      }
      dbias[co] = static_cast<T>(s);
    }
  });
}

#ifdef TR_HAVE_CUDA
CudaConvShape cuda_shape(const ConvGeom& g) { return {g.N, g.Cin, g.H, g.W, g.Cout, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.G, g.Ho, g.Wo}; }
#endif

}  // namespace

Tensor conv2d(const Tensor& x_in, const Tensor& w_in, const Tensor& b_in, int64_t stride_h, int64_t stride_w, int64_t pad_h,
              int64_t pad_w, int64_t groups) {
  check_float(x_in, "conv2d", "x");
  check_float(w_in, "conv2d", "weight");
  check_same_dtype(x_in, w_in, "conv2d");
  if (b_in.defined()) {
    check_float(b_in, "conv2d", "bias");
    check_same_dtype(x_in, b_in, "conv2d");
  }
  const bool on_cuda = op_device("conv2d", x_in, w_in, b_in) == Device::CUDA;
  check(x_in.rank() == 4, ErrorCode::SHAPE_MISMATCH, "Expected an input of shape [N, Cin, H, W] for conv2d but received ",
        shape_str(x_in.shape()));
  check(w_in.rank() == 4, ErrorCode::SHAPE_MISMATCH, "Expected a weight of shape [Cout, Cin/groups, kh, kw] for conv2d but received ",
        shape_str(w_in.shape()));
  check(stride_h >= 1 && stride_w >= 1, ErrorCode::INVALID_ARGUMENT, "Expected strides >= 1 for conv2d but received ", stride_h,
        ", ", stride_w);
  check(pad_h >= 0 && pad_w >= 0, ErrorCode::INVALID_ARGUMENT, "Expected paddings >= 0 for conv2d but received ", pad_h, ", ", pad_w);
  check(groups >= 1, ErrorCode::INVALID_ARGUMENT, "Expected groups >= 1 for conv2d but received ", groups);
  ConvGeom g;
  g.N = x_in.shape()[0], g.Cin = x_in.shape()[1], g.H = x_in.shape()[2], g.W = x_in.shape()[3];
  g.Cout = w_in.shape()[0], g.kh = w_in.shape()[2], g.kw = w_in.shape()[3];
  g.sh = stride_h, g.sw = stride_w, g.ph = pad_h, g.pw = pad_w, g.G = groups;
  check(g.Cin % groups == 0 && g.Cout % groups == 0, ErrorCode::SHAPE_MISMATCH, "Expected groups that divide Cin = ", g.Cin,
        " and Cout = ", g.Cout, " for conv2d but received ", groups);
  check(w_in.shape()[1] == g.Cin / groups, ErrorCode::SHAPE_MISMATCH, "Expected a weight of shape [", g.Cout, ", ", g.Cin / groups,
        ", kh, kw] (Cin/groups) for conv2d but received ", shape_str(w_in.shape()));
  check(g.kh >= 1 && g.kw >= 1, ErrorCode::SHAPE_MISMATCH, "Expected a non-empty kernel for conv2d but received a weight of shape ",
        shape_str(w_in.shape()));
  check(!b_in.defined() || (b_in.rank() == 1 && b_in.shape()[0] == g.Cout), ErrorCode::SHAPE_MISMATCH, "Expected a bias of shape [",
        g.Cout, "] for conv2d but received ", b_in.defined() ? shape_str(b_in.shape()) : "none");
  int64_t hp = g.H + 2 * g.ph, wp = g.W + 2 * g.pw;
  check(hp >= g.kh && wp >= g.kw, ErrorCode::SHAPE_MISMATCH, "Expected a padded input of at least ", g.kh, "x", g.kw,
        " for conv2d but received ", hp, "x", wp, " (input ", shape_str(x_in.shape()), ", padding ", pad_h, ", ", pad_w, ")");
  g.Ho = (hp - g.kh) / g.sh + 1;
  g.Wo = (wp - g.kw) / g.sw + 1;
  // bf16 computes natively where oneDNN has it, else in f32; on cuda every float dtype computes natively
  // mixed precision (core/autograd.h): on the cpu where oneDNN has bf16; on cuda always (cuDNN or our kernel in bf16)
  if (autocast_bf16(x_in.dtype(), x_in.device()) && (on_cuda || dnnl_bf16_enabled()) && g.N > 0 && g.P() > 0)
    return cast(conv2d(cast(x_in, DType::BF16), cast(w_in, DType::BF16), b_in.defined() ? cast(b_in, DType::BF16) : Tensor(), stride_h, stride_w,
                       pad_h, pad_w, groups), DType::F32);
  bool bf16 = !on_cuda && x_in.dtype() == DType::BF16 && dnnl_bf16_enabled() && g.N > 0 && g.P() > 0;
  if (!on_cuda && lowp(x_in) && !bf16) return cast(conv2d(up(x_in), up(w_in), up(b_in), stride_h, stride_w, pad_h, pad_w, groups), x_in.dtype());

  Tensor x = contiguous(x_in), w = contiguous(w_in), bias = b_in.defined() ? contiguous(b_in) : Tensor();
  Tensor out = empty({g.N, g.Cout, g.Ho, g.Wo}, x.dtype(), x.device());
  DnnlConvShape ds{g.N, g.Cin, g.H, g.W, g.Cout, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.G, g.Ho, g.Wo};
  bool fast = false;
  if (on_cuda) {
#ifdef TR_HAVE_CUDA
    cuda_conv2d_forward(out, x, w, bias, cuda_shape(g));  // native/cuda/conv2d.cu: cuDNN or implicit GEMM
#endif
  } else {
    fast = x.dtype() != DType::F64 && g.P() > 0 &&
           conv2d_dnnl_forward(bf16, ds, out.raw(), x.raw(), w.raw(), bias.defined() ? bias.raw() : nullptr);
    if (!fast) TR_FLOAT_DISPATCH(x.dtype(), T, {
      conv2d_forward<T>(out.data<T>(), x.data<T>(), w.data<T>(), bias.defined() ? bias.data<T>() : nullptr, g);
    });
  }

  if (needs_grad({x_in, w_in, b_in})) {
    bool gx = x_in.requires_grad(), gw = w_in.requires_grad(), gb = b_in.defined() && b_in.requires_grad();
    // oneDNN computes the bias gradient with the weight gradient, from x
    Tensor sx = gw || (gb && fast) ? x.detach() : Tensor(), sw = gx ? w.detach() : Tensor();
    Shape xs = x.shape(), ws = w.shape();
    record(out, Op::Conv2d, {x_in, w_in, b_in}, [sx, sw, xs, ws, gx, gw, gb, g, ds, fast, bf16, on_cuda](const Tensor& dout) -> std::vector<Tensor> {
      DType dt = dout.dtype();
      Device dev = on_cuda ? Device::CUDA : Device::CPU;
      Tensor dx = gx ? empty(xs, dt, dev) : Tensor(), dw = gw ? empty(ws, dt, dev) : Tensor(), db = gb ? empty({g.Cout}, dt, dev) : Tensor();
#ifdef TR_HAVE_CUDA
      if (on_cuda) {
        cuda_conv2d_backward(dx, dw, db, dout, sx, sw, cuda_shape(g));
        return {dx, dw, db};
      }
#endif
      if (fast && conv2d_dnnl_backward(bf16, ds, gx ? dx.raw() : nullptr, gw ? dw.raw() : nullptr, gb ? db.raw() : nullptr, dout.raw(),
                                       sx.defined() ? sx.raw() : nullptr, gx ? sw.raw() : nullptr))
        return {dx, dw, db};
      TR_FLOAT_DISPATCH(dt, T, {
        if (gw) conv2d_backward_weight<T>(dw.data<T>(), dout.data<T>(), sx.data<T>(), g);
        if (gx) conv2d_backward_input<T>(dx.data<T>(), dout.data<T>(), sw.data<T>(), g);
        if (gb) conv2d_backward_bias<T>(db.data<T>(), dout.data<T>(), g);
      });
      return {dx, dw, db};
    });
  }
  return out;
}

}  // namespace tr
