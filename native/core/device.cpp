// device.cpp: the CPU-only build's device functions (the CUDA build's are in native/cuda/device.cu).
#include "core/device.h"

namespace tr {

#ifndef TR_HAVE_CUDA
bool cuda_available() { return false; }
std::string cuda_device_name() { return ""; }
Tensor to_device(const Tensor& t, Device d) {
  if (d == t.device()) return t;
  fail(ErrorCode::CUDA_UNAVAILABLE, "Expected a build with CUDA for .to('cuda') but this build of treereward has none (nvcc was not found when it was built)");
}
#endif

}  // namespace tr
