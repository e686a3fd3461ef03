// ops_binding.cpp: one exported function per op of core/ops.h. Arguments were validated in
// TypeScript (src/api); the native side checks again and throws tr::Error on anything wrong.
#include "binding/binding.h"

namespace tr::binding {

#define T_(i, name) tensor_arg(info, i, name)
#define OPT_(i, name) opt_tensor_arg(info, i, name)
#define RET_(expr) return wrap(info.Env(), (expr))

// elementwise
TR_EXPORT(add) { RET_(tr::add(T_(0, "a"), T_(1, "b"))); }
TR_EXPORT(sub) { RET_(tr::sub(T_(0, "a"), T_(1, "b"))); }
TR_EXPORT(mul) { RET_(tr::mul(T_(0, "a"), T_(1, "b"))); }
TR_EXPORT(div) { RET_(tr::div(T_(0, "a"), T_(1, "b"))); }
TR_EXPORT(pow) { RET_(tr::pow(T_(0, "a"), T_(1, "b"))); }
TR_EXPORT(addScalar) { RET_(tr::add_scalar(T_(0, "a"), number_arg(info, 1, "scalar"))); }
TR_EXPORT(mulScalar) { RET_(tr::mul_scalar(T_(0, "a"), number_arg(info, 1, "scalar"))); }
TR_EXPORT(powScalar) { RET_(tr::pow_scalar(T_(0, "a"), number_arg(info, 1, "exponent"))); }
TR_EXPORT(rdivScalar) { RET_(tr::rdiv_scalar(T_(0, "a"), number_arg(info, 1, "scalar"))); }
TR_EXPORT(neg) { RET_(tr::neg(T_(0, "a"))); }
TR_EXPORT(exp) { RET_(tr::exp(T_(0, "a"))); }
TR_EXPORT(log) { RET_(tr::log(T_(0, "a"))); }
TR_EXPORT(sqrt) { RET_(tr::sqrt(T_(0, "a"))); }
TR_EXPORT(abs) { RET_(tr::abs(T_(0, "a"))); }
TR_EXPORT(tanh) { RET_(tr::tanh(T_(0, "a"))); }
TR_EXPORT(sigmoid) { RET_(tr::sigmoid(T_(0, "a"))); }
TR_EXPORT(logSigmoid) { RET_(tr::log_sigmoid(T_(0, "a"))); }
TR_EXPORT(relu) { RET_(tr::relu(T_(0, "a"))); }
TR_EXPORT(gelu) { RET_(tr::gelu(T_(0, "a"), bool_arg(info, 1, "tanhApprox"))); }
TR_EXPORT(silu) { RET_(tr::silu(T_(0, "a"))); }
TR_EXPORT(geglu) { RET_(tr::geglu(T_(0, "a"))); }
TR_EXPORT(clamp) { RET_(tr::clamp(T_(0, "a"), number_arg(info, 1, "min"), number_arg(info, 2, "max"))); }
TR_EXPORT(dropout) {
  RET_(tr::dropout(T_(0, "a"), number_arg(info, 1, "p"), seed_arg(info, 2, "seed"), seed_arg(info, 3, "offset")));
}

// reductions
TR_EXPORT(sum) { RET_(tr::sum(T_(0, "a"), ints_arg(info, 1, "axes"), bool_arg(info, 2, "keepdim"))); }
TR_EXPORT(mean) { RET_(tr::mean(T_(0, "a"), ints_arg(info, 1, "axes"), bool_arg(info, 2, "keepdim"))); }
TR_EXPORT(max) { RET_(tr::max(T_(0, "a"), ints_arg(info, 1, "axes"), bool_arg(info, 2, "keepdim"))); }
TR_EXPORT(softmax) { RET_(tr::softmax(T_(0, "a"), int_arg(info, 1, "dim"))); }
TR_EXPORT(logSoftmax) { RET_(tr::log_softmax(T_(0, "a"), int_arg(info, 1, "dim"))); }

// products
TR_EXPORT(matmul) { RET_(tr::matmul(T_(0, "a"), T_(1, "b"))); }
TR_EXPORT(linear) { RET_(tr::linear(T_(0, "x"), T_(1, "weight"), OPT_(2, "bias"))); }

// normalisation and images
TR_EXPORT(layerNorm) {
  RET_(tr::layer_norm(T_(0, "x"), static_cast<int>(int_arg(info, 1, "normDims")), OPT_(2, "weight"), OPT_(3, "bias"), number_arg(info, 4, "eps")));
}
TR_EXPORT(groupNorm) {
  RET_(tr::group_norm(T_(0, "x"), int_arg(info, 1, "groups"), OPT_(2, "weight"), OPT_(3, "bias"), number_arg(info, 4, "eps")));
}
TR_EXPORT(groupNormSilu) {
  RET_(tr::group_norm_silu(T_(0, "x"), int_arg(info, 1, "groups"), OPT_(2, "weight"), OPT_(3, "bias"), number_arg(info, 4, "eps")));
}
TR_EXPORT(conv2d) {
  RET_(tr::conv2d(T_(0, "x"), T_(1, "weight"), OPT_(2, "bias"), int_arg(info, 3, "strideH"), int_arg(info, 4, "strideW"),
                  int_arg(info, 5, "padH"), int_arg(info, 6, "padW"), int_arg(info, 7, "groups")));
}
TR_EXPORT(upsampleNearest2x) { RET_(tr::upsample_nearest2x(T_(0, "x"))); }
TR_EXPORT(avgPool2d) { RET_(tr::avg_pool2d(T_(0, "x"), int_arg(info, 1, "kernel"), int_arg(info, 2, "stride"))); }

// shape
TR_EXPORT(reshape) { RET_(tr::reshape(T_(0, "a"), shape_arg(info, 1, "shape"))); }
TR_EXPORT(permute) { RET_(tr::permute(T_(0, "a"), ints_arg(info, 1, "dims"))); }
TR_EXPORT(transpose) { RET_(tr::transpose(T_(0, "a"), int_arg(info, 1, "dim0"), int_arg(info, 2, "dim1"))); }
TR_EXPORT(slice) {
  RET_(tr::slice(T_(0, "a"), int_arg(info, 1, "dim"), int_arg(info, 2, "start"), int_arg(info, 3, "end"), int_arg(info, 4, "step")));
}
TR_EXPORT(expand) { RET_(tr::expand(T_(0, "a"), shape_arg(info, 1, "shape"))); }
TR_EXPORT(contiguous) { RET_(tr::contiguous_op(T_(0, "a"))); }
TR_EXPORT(concat) { RET_(tr::concat(tensor_list_arg(info, 0, "tensors"), int_arg(info, 1, "dim"))); }
TR_EXPORT(cast) { RET_(tr::cast(T_(0, "a"), dtype_arg(info, 1, "dtype"))); }

// lookup, attention, losses
TR_EXPORT(embedding) { RET_(tr::embedding(T_(0, "weight"), T_(1, "indices"))); }
TR_EXPORT(attentionPlain) { RET_(tr::attention_plain(T_(0, "q"), T_(1, "k"), T_(2, "v"), OPT_(3, "mask"), number_arg(info, 4, "scale"))); }
TR_EXPORT(attention) { RET_(tr::attention(T_(0, "q"), T_(1, "k"), T_(2, "v"), OPT_(3, "mask"), number_arg(info, 4, "scale"))); }
TR_EXPORT(crossEntropy) { RET_(tr::cross_entropy(T_(0, "logits"), T_(1, "targets"), int_arg(info, 2, "ignoreIndex"))); }
TR_EXPORT(mseLoss) { RET_(tr::mse_loss(T_(0, "input"), T_(1, "target"))); }

// in place and optimizers
TR_EXPORT(addInplace) {
  Tensor dst = T_(0, "destination");
  tr::add_inplace(dst, T_(1, "source"), number_arg(info, 2, "alpha"));
  return info.Env().Undefined();
}
TR_EXPORT(mulScalarInplace) {
  Tensor dst = T_(0, "destination");
  tr::mul_scalar_inplace(dst, number_arg(info, 1, "scalar"));
  return info.Env().Undefined();
}
TR_EXPORT(fillInplace) {
  Tensor dst = T_(0, "destination");
  tr::fill_inplace(dst, number_arg(info, 1, "value"));
  return info.Env().Undefined();
}
TR_EXPORT(sumOfSquares) { return Napi::Number::New(info.Env(), tr::sum_of_squares(T_(0, "a"))); }
TR_EXPORT(adamwStep) {
  Tensor p = T_(0, "param"), m = T_(2, "m"), v = T_(3, "v");
  tr::adamw_step(p, T_(1, "grad"), m, v, number_arg(info, 4, "lr"), number_arg(info, 5, "beta1"), number_arg(info, 6, "beta2"),
                 number_arg(info, 7, "eps"), number_arg(info, 8, "weightDecay"), int_arg(info, 9, "step"));
  return info.Env().Undefined();
}
TR_EXPORT(sgdStep) {
  Tensor p = T_(0, "param"), buf = OPT_(2, "momentumBuffer");
  tr::sgd_step(p, T_(1, "grad"), buf, number_arg(info, 3, "lr"), number_arg(info, 4, "momentum"), number_arg(info, 5, "dampening"),
               number_arg(info, 6, "weightDecay"), bool_arg(info, 7, "nesterov"), bool_arg(info, 8, "firstStep"));
  return info.Env().Undefined();
}

TR_EXPORT(supports) {
  std::string op = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  DType dt = dtype_arg(info, 1, "dtype");
  Device dev = info[2].IsString() && info[2].As<Napi::String>().Utf8Value() == "cuda" ? Device::CUDA : Device::CPU;
#define TR_X(name) \
  if (op == #name) return Napi::Boolean::New(info.Env(), tr::supports(Op::name, dt, dev));
  TR_OPS(TR_X)
#undef TR_X
  fail(ErrorCode::INVALID_ARGUMENT, "Expected an op name for supports but received \"", op, "\"");
}

}  // namespace tr::binding
