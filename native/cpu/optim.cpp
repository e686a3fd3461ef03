// optim.cpp: fused optimizer steps, in place on float32/float64 parameters and their state.
// AdamW: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr (mhat / (sqrt(vhat) + eps) + wd p)
// with decoupled weight decay (Loshchilov & Hutter). SGD: PyTorch's momentum/dampening/nesterov.
// Parameters on cuda step in native/cuda/adamw.cu with the same float64 arithmetic.
#include "cpu/kernel_util.h"
#ifdef TR_HAVE_CUDA
#include "cuda/cuda_kernels_b.h"  // the steps for cuda parameters (native/cuda/adamw.cu)
#endif

namespace tr {

namespace {
void check_state(const Tensor& p, const Tensor& t, const char* name, const char* op) {
  check(t.defined() && t.shape() == p.shape() && t.is_contiguous(), ErrorCode::SHAPE_MISMATCH, "Expected ", name,
        " of shape ", shape_str(p.shape()), " for ", op, " but received ", t.defined() ? shape_str(t.shape()) : "none");
}
}  // namespace

void adamw_step(Tensor& param, const Tensor& grad_in, Tensor& m, Tensor& v, double lr, double beta1, double beta2, double eps,
                double weight_decay, int64_t step) {
  check(param.is_contiguous() && (param.dtype() == DType::F32 || param.dtype() == DType::F64), ErrorCode::DTYPE,
        "Expected a contiguous float32 or float64 parameter for adamw but received ", dtype_name(param.dtype()));
  check_state(param, grad_in, "a gradient", "adamw");
  check_state(param, m, "first moments", "adamw");
  check_state(param, v, "second moments", "adamw");
  check(step >= 1, ErrorCode::INVALID_ARGUMENT, "Expected a step >= 1 for adamw but received ", step);
  double bc1 = 1.0 - std::pow(beta1, static_cast<double>(step));
  double bc2 = 1.0 - std::pow(beta2, static_cast<double>(step));
  if (op_device("adamw", param, grad_in, m, v) == Device::CUDA) {
#ifdef TR_HAVE_CUDA
    cuda_adamw_step(param, grad_in, m, v, lr, beta1, beta2, eps, weight_decay, bc1, bc2);
#endif
    return;
  }
  Tensor grad = cast_raw(grad_in, param.dtype());
  TR_FLOAT_DISPATCH(param.dtype(), T, {
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    T* pm = m.data<T>();
    T* pv = v.data<T>();
    parallel_for(param.numel(), kGrainElementwise, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        double gi = g[i];
        double mi = beta1 * pm[i] + (1 - beta1) * gi;
        double vi = beta2 * pv[i] + (1 - beta2) * gi * gi;
        pm[i] = static_cast<T>(mi);
        pv[i] = static_cast<T>(vi);
        double upd = (mi / bc1) / (std::sqrt(vi / bc2) + eps) + weight_decay * p[i];
        p[i] = static_cast<T>(p[i] - lr * upd);
      }
    });
  });
}

void sgd_step(Tensor& param, const Tensor& grad_in, Tensor& buf, double lr, double momentum, double dampening,
              double weight_decay, bool nesterov, bool first_step) {
  check(param.is_contiguous() && (param.dtype() == DType::F32 || param.dtype() == DType::F64), ErrorCode::DTYPE,
        "Expected a contiguous float32 or float64 parameter for sgd but received ", dtype_name(param.dtype()));
  check_state(param, grad_in, "a gradient", "sgd");
  if (momentum != 0) check_state(param, buf, "a momentum buffer", "sgd");
  if (op_device("sgd", param, grad_in, momentum != 0 ? buf : Tensor()) == Device::CUDA) {
#ifdef TR_HAVE_CUDA
    cuda_sgd_step(param, grad_in, buf, lr, momentum, dampening, weight_decay, nesterov, first_step);
#endif
    return;
  }
  Tensor grad = cast_raw(grad_in, param.dtype());
  TR_FLOAT_DISPATCH(param.dtype(), T, {
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    T* pb = momentum != 0 ? buf.data<T>() : nullptr;
    parallel_for(param.numel(), kGrainElementwise, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        double d = g[i] + weight_decay * p[i];
        if (pb) {
          double bi = first_step ? d : momentum * pb[i] + (1 - dampening) * d;
          pb[i] = static_cast<T>(bi);
          d = nesterov ? d + momentum * bi : bi;
        }
        p[i] = static_cast<T>(p[i] - lr * d);
      }
    });
  });
}

}  // namespace tr
