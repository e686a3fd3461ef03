// storage.h: reference-counted, 64-byte aligned buffers on a device, with a live-bytes counter
// (reported to V8 by the binding) and a high-water mark (read by the memory tests).
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace tr {

enum class Device : int { CPU = 0, CUDA = 1 };
inline const char* device_name(Device d) { return d == Device::CPU ? "cpu" : "cuda"; }

struct MemoryStats {
  int64_t live_bytes;  // bytes held by storages now
  int64_t peak_bytes;  // high-water mark since the last reset_peak()
  int64_t live_buffers;
};

MemoryStats memory_stats(Device d);
void reset_peak(Device d);

class Storage {
 public:
  // Allocates `bytes` on `device`; zero-filled when `zero` is set. Throws OUT_OF_MEMORY on failure.
  Storage(size_t bytes, Device device, bool zero);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() { return data_; }
  const void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
  Device device_ = Device::CPU;
};

using StoragePtr = std::shared_ptr<Storage>;

}  // namespace tr
