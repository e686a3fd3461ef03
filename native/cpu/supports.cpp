// supports.cpp: what the CPU backend computes, per op and dtype (the CUDA table lives in native/cuda).
#include "core/ops.h"

namespace tr {

bool cuda_supports(Op op, DType dtype);

bool supports(Op op, DType dtype, Device device) {
  if (device == Device::CUDA) return cuda_supports(op, dtype);
  switch (op) {
    case Op::Embedding:
    case Op::CrossEntropy:
      return dtype != DType::I32;  // their int32 operand is an index, not the data
    default:
      return dtype != DType::I32;  // every op computes in f32/f64; bf16/f16 are promoted to f32
  }
}

#ifndef TR_HAVE_CUDA
bool cuda_supports(Op, DType) { return false; }
#endif

}  // namespace tr
