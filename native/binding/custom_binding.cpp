// custom_binding.cpp: ops whose backward is a JavaScript function (used by checkpoint(), which
// recomputes a function in backward instead of keeping its activations).
// customOp(output, inputs, backwardFn): records on `output` a node that calls
// backwardFn(dout) -> array of gradients (or null) per input, with grad mode on. The gradients'
// handles are consumed (released) once read; checkpoint() does not touch them afterwards.
#include "binding/binding.h"

namespace tr::binding {

namespace {
struct JsNode : Node {
  Napi::Env env;
  Napi::FunctionReference fn;
  explicit JsNode(Napi::Env e) : env(e) {}
  std::vector<Tensor> backward(const Tensor& dout) override {
    GradModeGuard grad_on(true);
    Napi::Value r = fn.Call({wrap(env, dout)});
    if (env.IsExceptionPending()) throw env.GetAndClearPendingException();
    if (!r.IsArray()) fail(ErrorCode::INVALID_ARGUMENT, "Expected the custom backward to return an array of gradients");
    Napi::Array arr = r.As<Napi::Array>();
    std::vector<Tensor> out;
    for (uint32_t i = 0; i < arr.Length(); ++i) {
      Napi::Value v = arr.Get(i);
      if (v.IsNull() || v.IsUndefined()) {
        out.push_back(Tensor());
        continue;
      }
      out.push_back(tensor_value(v, "a gradient the custom backward returned").detach());
      release_handle(v);  // consumed: the gradient now lives on in the graph, not in JavaScript
    }
    if (out.size() != inputs.size())
      fail(ErrorCode::INVALID_ARGUMENT, "Expected the custom backward to return ", inputs.size(), " gradients but it returned ", out.size());
    return out;
  }
  void release() override {
    fn.Reset();
    released = true;
  }
};
}  // namespace

TR_EXPORT(customOp) {
  Tensor out = tensor_arg(info, 0, "output");
  std::vector<Tensor> inputs = tensor_list_arg(info, 1, "inputs");
  if (!info[2].IsFunction()) fail(ErrorCode::INVALID_ARGUMENT, "Expected a function for backward");
  check(out.is_leaf() && !out.requires_grad(), ErrorCode::INVALID_ARGUMENT,
        "Expected an output computed without a graph for customOp (compute it under noGrad)");
  if (!needs_grad(inputs)) return info.Env().Undefined();
  auto node = std::make_shared<JsNode>(info.Env());
  node->op = Op::Checkpoint;
  for (auto& t : inputs) node->inputs.push_back(t.defined() && t.requires_grad() ? t : Tensor());
  node->fn = Napi::Persistent(info[2].As<Napi::Function>());
  record_node(out, node);
  return info.Env().Undefined();
}

}  // namespace tr::binding
