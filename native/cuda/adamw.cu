// adamw.cu: the fused optimizer steps of native/cpu/optim.cpp for parameters on the GPU, in place on
// param and state, one thread per element, in float64 arithmetic as on the CPU:
//   AdamW: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr ((m / bc1) / (sqrt(v / bc2) + eps) + wd p)
//   SGD:   d = g + wd p; buf = first ? d : momentum buf + (1-dampening) d; d = nesterov ? d + momentum buf : buf; p -= lr d
// Each multiply and add is rounded on its own (__dmul_rn, __dadd_rn: no fused multiply-adds), so the GPU
// does the CPU loop's operations in its order. Parameters and state float32 or float64; gradients of any
// float dtype (read as float64, as the CPU's cast).
#include "cuda/cuda_kernels_b.h"
#include "cuda/cuda_types.cuh"

namespace tr {

namespace {

__device__ __forceinline__ double mul(double a, double b) { return __dmul_rn(a, b); }
__device__ __forceinline__ double add(double a, double b) { return __dadd_rn(a, b); }
__device__ __forceinline__ double sub(double a, double b) { return __dsub_rn(a, b); }

template <typename P, typename G>
__global__ void adamw_kernel(P* p, const G* g, P* m, P* v, int64_t n, double lr, double b1, double b2, double eps, double wd, double bc1,
                             double bc2) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const double gi = static_cast<double>(static_cast<P>(load(g[i])));  // the gradient in the parameter's dtype first, as optim.cpp's cast_raw
    const double mi = add(mul(b1, static_cast<double>(m[i])), mul(sub(1.0, b1), gi));
    const double vi = add(mul(b2, static_cast<double>(v[i])), mul(mul(sub(1.0, b2), gi), gi));
    m[i] = static_cast<P>(mi);
    v[i] = static_cast<P>(vi);
    const double pi = static_cast<double>(p[i]);
    const double upd = add(__ddiv_rn(__ddiv_rn(mi, bc1), add(__dsqrt_rn(__ddiv_rn(vi, bc2)), eps)), mul(wd, pi));
    p[i] = static_cast<P>(sub(pi, mul(lr, upd)));
  }
}

template <typename P, typename G>
__global__ void sgd_kernel(P* p, const G* g, P* buf, int64_t n, double lr, double momentum, double dampening, double wd, bool nesterov,
                           bool first) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const double pi = static_cast<double>(p[i]);
    double d = add(static_cast<double>(static_cast<P>(load(g[i]))), mul(wd, pi));
    if (buf) {
      const double bi = first ? d : add(mul(momentum, static_cast<double>(buf[i])), mul(sub(1.0, dampening), d));
      buf[i] = static_cast<P>(bi);
      d = nesterov ? add(d, mul(momentum, bi)) : bi;
    }
    p[i] = static_cast<P>(sub(pi, mul(lr, d)));
  }
}

// The gradient (any float dtype, contiguous) and the state (the parameter's dtype) on cuda.
void check_on_cuda(const Tensor& param, const Tensor& grad, std::initializer_list<const Tensor*> state, const char* op) {
  check(grad.device() == Device::CUDA && grad.is_contiguous(), ErrorCode::DEVICE, "Expected a contiguous gradient on cuda for ", op,
        " of a cuda parameter but received one on ", device_name(grad.device()));
  for (const Tensor* t : state)
    if (t->defined()) {
      check(t->device() == Device::CUDA, ErrorCode::DEVICE, "Expected the state of a cuda parameter on cuda for ", op, " but received it on ",
            device_name(t->device()));
      check(t->dtype() == param.dtype(), ErrorCode::DTYPE, "Expected ", op, " state in the parameter's dtype ", dtype_name(param.dtype()),
            " but received ", dtype_name(t->dtype()));
    }
}

// Calls body with P (the parameter's storage type, float or double) and G (the gradient's).
#define TR_OPTIM_DISPATCH(pdt, gdt, op, P, G, ...)                                                            \
  do {                                                                                                        \
    auto tr_with_g_ = [&](auto p_tag) {                                                                       \
      using P = decltype(p_tag);                                                                              \
      TR_CUDA_FLOAT_DISPATCH(gdt, op, G, __VA_ARGS__);                                                        \
    };                                                                                                        \
    if ((pdt) == DType::F32) tr_with_g_(float{});                                                             \
    else if ((pdt) == DType::F64) tr_with_g_(double{});                                                       \
    else fail(ErrorCode::DTYPE, "Expected a float32 or float64 parameter for ", op, " but received ", dtype_name(pdt)); \
  } while (0)

}  // namespace

void cuda_adamw_step(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, double lr, double beta1, double beta2,
                     double eps, double weight_decay, double bc1, double bc2) {
  check_on_cuda(param, grad, {&m, &v}, "adamw");
  int64_t n = param.numel();
  if (n == 0) return;
  TR_OPTIM_DISPATCH(param.dtype(), grad.dtype(), "adamw", P, G, {
    adamw_kernel<P, G><<<grid_for(n), kThreads, 0, cuda_stream()>>>(ptr<P>(param), ptr<const G>(grad), ptr<P>(m), ptr<P>(v), n, lr, beta1, beta2,
                                                                  eps, weight_decay, bc1, bc2);
    TR_CUDA_LAUNCHED("adamw_kernel");
  });
}

void cuda_sgd_step(const Tensor& param, const Tensor& grad, const Tensor& buf, double lr, double momentum, double dampening,
                   double weight_decay, bool nesterov, bool first_step) {
  check_on_cuda(param, grad, {&buf}, "sgd");
  int64_t n = param.numel();
  if (n == 0) return;
  TR_OPTIM_DISPATCH(param.dtype(), grad.dtype(), "sgd", P, G, {
    sgd_kernel<P, G><<<grid_for(n), kThreads, 0, cuda_stream()>>>(ptr<P>(param), ptr<const G>(grad), momentum != 0 ? ptr<P>(buf) : nullptr, n, lr,
                                                                momentum, dampening, weight_decay, nesterov, first_step);
    TR_CUDA_LAUNCHED("sgd_kernel");
  });
}

}  // namespace tr
