// device.h: moving tensors between devices and asking whether CUDA is there.
// native/cuda/device.cu implements these when built with CUDA; device.cpp has the CPU-only versions.
#pragma once
#include <string>

#include "core/tensor.h"

namespace tr {

bool cuda_available();           // compiled with CUDA and a GPU is visible
std::string cuda_device_name();  // "" when none
Tensor to_device(const Tensor& t, Device d);

}  // namespace tr
