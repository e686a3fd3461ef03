// trsim.cpp: the CUDA simulator's scheduler (a block's threads as fibers, barriers between them) and
// its runtime (device memory with guard bytes, copies, launch checks, the last error). See trsim.h.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cuda_runtime.h"

// Under AddressSanitizer (TREEREWARD_CUDA_SIM_ASAN=ON) every switch between fibers is announced to it, and
// the guard bytes around device allocations and the dynamic shared memory's bounds are poisoned, so a
// kernel's read or write outside its buffers is reported at the access, with the kernel in the stack.
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define TRSIM_ASAN 1
#define TRSIM_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define TRSIM_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define TRSIM_POISON(p, n) ((void)(p), (void)(n))
#define TRSIM_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

uint3 threadIdx;
uint3 blockIdx;
uint3 blockDim;
uint3 gridDim;

// Switching fibers: save the callee-saved registers on the current stack, store its pointer, load the
// other's and restore its registers (x86-64 System V). ucontext's swapcontext does the same plus two
// signal-mask system calls per switch, which made them most of the simulator's time.
#if !defined(__x86_64__)
#error "the CUDA simulator's fiber switch (trsim_switch) is written for x86-64"
#endif
extern "C" void trsim_switch(void** save_sp, void* load_sp);
asm(R"(
  .text
  .p2align 4
  .globl trsim_switch
  .hidden trsim_switch
  .type trsim_switch,@function
trsim_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size trsim_switch,.-trsim_switch
)");

namespace trsim {
namespace {

size_t env_size(const char* name, size_t fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  return static_cast<size_t>(std::strtoull(v, nullptr, 10));
}

constexpr size_t kStack = 128 * 1024;  // per thread; the page below each is a guard page
constexpr size_t kGuard = 256;  // bytes of canary before and after each device allocation (keeps
                                // cudaMalloc's 256-byte alignment)
constexpr unsigned char kCanary = 0xA5;

// A counting barrier over the threads that have not exited (a block's, or a warp's): the last to arrive
// releases it (a new generation); an exit may release it too.
struct Barrier {
  int live = 0, arrived = 0;
  uint64_t gen = 0;
  bool arrive() {  // true: this arrival released it
    if (++arrived < live) return false;
    arrived = 0;
    ++gen;
    return true;
  }
  void leave() {
    --live;
    if (arrived > 0 && arrived == live) {
      arrived = 0;
      ++gen;
    }
  }
};

struct Warp {
  Barrier bar;
  uint64_t slots[32] = {};
};

struct Block {
  int n = 0, current = 0;
  Barrier bar;
  uint64_t events = 0;
  std::vector<void*> sp;  // each fiber's saved stack pointer
  std::vector<char> done;
  std::vector<uint64_t> waits_at;  // the block barrier generation a thread waits at (~0: none)
  std::vector<Warp> warps;
  void* sched_sp = nullptr;  // the scheduler's
  const std::function<void()>* body = nullptr;
  unsigned char* smem = nullptr;
  const void* sched_bottom = nullptr;  // the scheduler's stack, for AddressSanitizer's fiber switches
  size_t sched_size = 0;
  std::vector<void*> fake;             // each fiber's fake stack while it is switched out
};

// AddressSanitizer's fiber-switch announcements (nothing without it).
inline void start_switch(void** fake, const void* bottom, size_t size) {
#ifdef TRSIM_ASAN
  __sanitizer_start_switch_fiber(fake, bottom, size);
#else
  (void)fake, (void)bottom, (void)size;
#endif
}
inline void finish_switch(void* fake, const void** bottom, size_t* size) {
#ifdef TRSIM_ASAN
  __sanitizer_finish_switch_fiber(fake, bottom, size);
#else
  (void)fake, (void)bottom, (void)size;
#endif
}

struct Stacks {
  char* base = nullptr;
  size_t count = 0;
  ~Stacks() {
    if (base) munmap(base, count * (kStack + 4096));
  }
  char* get(int i, int n) {
    if (static_cast<size_t>(n) > count) {
      if (base) munmap(base, count * (kStack + 4096));
      count = static_cast<size_t>(n);
      base = static_cast<char*>(mmap(nullptr, count * (kStack + 4096), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0));
      if (base == MAP_FAILED) {
        base = nullptr;
        count = 0;
        return nullptr;
      }
      for (size_t k = 0; k < count; ++k) mprotect(base + k * (kStack + 4096), 4096, PROT_NONE);
    }
    return base + static_cast<size_t>(i) * (kStack + 4096) + 4096;
  }
};

Block* g_block = nullptr;  // the running block (grids run one at a time: g_launch)
std::mutex g_launch;
Stacks g_stacks;           // the fibers' stacks (g_launch)
thread_local cudaError_t g_last = cudaSuccess;
thread_local std::string g_detail;  // the simulator's words on the error g_detail_code
thread_local cudaError_t g_detail_code = cudaSuccess;
thread_local uint64_t g_rng = 0x9E3779B97F4A7C15ull ^ env_size("TRSIM_SEED", 1);

void set_error(cudaError_t e, const std::string& detail) {
  if (g_last != cudaSuccess) return;  // the first error stands, as the runtime's sticky launch error
  g_last = e;
  g_detail = detail;
  g_detail_code = e;
}

uint64_t next_rand() {
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 7;
  g_rng ^= g_rng << 17;
  return g_rng;
}

// threadIdx of the block's i-th thread (x fastest, as CUDA numbers them).
void set_thread(int i) {
  threadIdx.x = static_cast<unsigned>(i) % blockDim.x;
  threadIdx.y = (static_cast<unsigned>(i) / blockDim.x) % blockDim.y;
  threadIdx.z = static_cast<unsigned>(i) / (blockDim.x * blockDim.y);
}

void yield() {
  Block& b = *g_block;
  const int i = b.current;
  start_switch(&b.fake[i], b.sched_bottom, b.sched_size);
  trsim_switch(&b.sp[i], b.sched_sp);
  finish_switch(b.fake[i], &b.sched_bottom, &b.sched_size);
}

// A fiber's first frame: runs the thread, marks it exited and switches back for good.
[[noreturn]] void fiber_entry() {
  Block& b = *g_block;
  finish_switch(nullptr, &b.sched_bottom, &b.sched_size);
  (*b.body)();
  // This thread has exited: barriers wait for the threads that are left.
  const int i = b.current;
  b.done[i] = 1;
  ++b.events;
  b.bar.leave();
  b.warps[i / 32].bar.leave();
  start_switch(nullptr, b.sched_bottom, b.sched_size);  // this fiber is done
  void* dead = nullptr;
  trsim_switch(&dead, b.sched_sp);
  __builtin_unreachable();
}

struct Limits {
  // TRSIM_DRY_RUN=1: what a large model's step allocates can be measured here (bench/refl-memory.ts), not
  // what it computes. Only the small work is done: launches of at most kDryThreads threads (index checks,
  // scalars, the text side), copies and sets of at most kDryBytes; larger launches are checked, not run,
  // and larger buffers are neither filled, copied nor set (untouched pages cost the host nothing). Small
  // allocations start as zeros, so what the small kernels read is finite (zeros, or what they wrote).
  bool dry = env_size("TRSIM_DRY_RUN", 0) != 0;
  size_t capacity = env_size("TRSIM_MEMORY_MB", 4096) << 20;
  int optin = static_cast<int>(env_size("TRSIM_SHARED_OPTIN_KB", 227) * 1024);
};
constexpr uint64_t kDryThreads = 1024;
constexpr size_t kDryBytes = 1 << 20;

const Limits& limits() {
  static Limits l;
  return l;
}

// Device memory: host allocations with canary bytes on both sides, checked after every launch.
struct Memory {
  std::mutex mu;
  std::map<uintptr_t, size_t> live;  // user pointer -> size
  size_t used = 0;
  std::map<const void*, int> shared_attr;  // kernel -> max dynamic shared memory opted in
};
Memory& memory() {
  static Memory* m = new Memory();
  return *m;
}

// The allocation holding [p, p + bytes), or false.
bool in_device(const void* p, size_t bytes) {
  Memory& m = memory();
  std::lock_guard<std::mutex> lock(m.mu);
  uintptr_t a = reinterpret_cast<uintptr_t>(p);
  auto it = m.live.upper_bound(a);
  if (it == m.live.begin()) return false;
  --it;
  return a >= it->first && a + bytes <= it->first + it->second;
}

const unsigned char* canaries() {
  static const std::vector<unsigned char> c(kGuard, kCanary);
  return c.data();
}

std::string check_canaries() {
  if (limits().dry) return "";
#ifdef TRSIM_ASAN
  return "";  // the guard bytes are poisoned: AddressSanitizer reports an access to them where it happens
#endif
  Memory& m = memory();
  std::lock_guard<std::mutex> lock(m.mu);
  for (auto& [a, size] : m.live) {
    unsigned char* p = reinterpret_cast<unsigned char*>(a);
    // A damaged guard is reported once and then restored, so later launches are not blamed for it.
    if (std::memcmp(p - kGuard, canaries(), kGuard) == 0 && std::memcmp(p + size, canaries(), kGuard) == 0) continue;
    for (size_t k = 1; k <= kGuard; ++k)
      if (p[-static_cast<ptrdiff_t>(k)] != kCanary) {
        std::memset(p - kGuard, kCanary, kGuard);
        return "a write " + std::to_string(k) + " bytes before a device allocation of " + std::to_string(size) + " bytes";
      }
    for (size_t k = 0; k < kGuard; ++k)
      if (p[size + k] != kCanary) {
        std::memset(p + size, kCanary, kGuard);
        return "a write " + std::to_string(k) + " bytes past the end of a device allocation of " + std::to_string(size) + " bytes";
      }
  }
  return "";
}

#ifdef TRSIM_ASAN
// With halt_on_error=0 (the sim's ASan build recovers), an AddressSanitizer report inside a launch becomes
// the launch's cudaErrorIllegalAddress: the op throws CUDA_ERROR with the report's first lines.
void on_asan_report(const char* report) {
  std::string r(report), first;
  size_t a = r.find("ERROR: AddressSanitizer");
  if (a != std::string::npos) first = r.substr(a, r.find('\n', a) - a);
  size_t f = r.find("#0 ");
  if (f != std::string::npos) first += "; " + r.substr(f, r.find('\n', f) - f);
  set_error(cudaErrorIllegalAddress, first.empty() ? "an AddressSanitizer report" : first);
}
const bool asan_hooked = [] {
  __asan_set_error_report_callback(on_asan_report);
  return true;
}();
#endif

}  // namespace

int lane_id() { return g_block->current & 31; }

void syncthreads() {
  Block& b = *g_block;
  const uint64_t g = b.bar.gen;
  ++b.events;
  if (b.bar.arrive()) return;
  b.waits_at[b.current] = g;
  while (b.bar.gen == g) yield();
  b.waits_at[b.current] = ~uint64_t(0);
}

void syncwarp() {
  Block& b = *g_block;
  Barrier& w = b.warps[b.current / 32].bar;
  const uint64_t g = w.gen;
  ++b.events;
  if (w.arrive()) return;
  while (w.gen == g) yield();
}

uint64_t exchange(uint64_t bits, int src, bool in_range) {
  Block& b = *g_block;
  const int i = b.current, lane = i & 31, base = i - lane;
  Warp& w = b.warps[i / 32];
  w.slots[lane] = bits;
  syncwarp();
  uint64_t r = bits;
  if (in_range) {
    int s = base + src;
    if (src < 0 || src >= 32 || s >= b.n || b.done[s])
      fault(cudaErrorLaunchFailure, "a warp shuffle read a lane that has exited or does not exist");
    else
      r = w.slots[src];
  }
  syncwarp();
  return r;
}

void* dynamic_shared() { return g_block->smem; }

void fault(int code, const char* what) { set_error(static_cast<cudaError_t>(code), what); }

void run(const Config& cfg, const void* kernel, const std::function<void()>& body) {
  const std::string name = cfg.name;
  const dim3 g = cfg.grid, bl = cfg.block;
  uint64_t threads = static_cast<uint64_t>(bl.x) * bl.y * bl.z;
  if (threads == 0 || threads > 1024 || bl.x > 1024 || bl.y > 1024 || bl.z > 64 || g.x == 0 || g.y == 0 || g.z == 0 || g.x > 0x7fffffffu ||
      g.y > 65535 || g.z > 65535) {
    set_error(cudaErrorInvalidConfiguration, "launch of " + name + " with grid (" + std::to_string(g.x) + ", " + std::to_string(g.y) + ", " +
                                                 std::to_string(g.z) + ") and block (" + std::to_string(bl.x) + ", " + std::to_string(bl.y) + ", " +
                                                 std::to_string(bl.z) + ")");
    return;
  }
  if (cfg.shared > 48 * 1024) {
    int allowed = 0;
    {
      std::lock_guard<std::mutex> lock(memory().mu);
      auto it = memory().shared_attr.find(kernel);
      if (it != memory().shared_attr.end()) allowed = it->second;
    }
    if (cfg.shared > static_cast<size_t>(allowed) || cfg.shared > static_cast<size_t>(limits().optin)) {
      set_error(cudaErrorInvalidValue, "launch of " + name + " with " + std::to_string(cfg.shared) + " bytes of dynamic shared memory, " +
                                           std::to_string(allowed) + " opted in with cudaFuncSetAttribute, the device allows " +
                                           std::to_string(limits().optin));
      return;
    }
  }

  if (limits().dry && threads * g.x * g.y * g.z > kDryThreads) return;

  std::lock_guard<std::mutex> one_grid_at_a_time(g_launch);
  Block b;
  b.n = static_cast<int>(threads);
  b.sp.resize(b.n);
  b.done.resize(b.n);
  b.waits_at.resize(b.n);
  b.warps.resize((b.n + 31) / 32);
  b.body = &body;
  b.fake.resize(b.n);
  // Exactly the bytes asked for, 128-byte aligned: under AddressSanitizer an access past them is reported.
  void* smem_mem = nullptr;
  if (posix_memalign(&smem_mem, 128, std::max<size_t>(cfg.shared, 1)) != 0) {
    set_error(cudaErrorLaunchOutOfResources, "no memory for the block's dynamic shared memory");
    return;
  }
  std::unique_ptr<void, void (*)(void*)> smem_owner(smem_mem, std::free);
  b.smem = static_cast<unsigned char*>(smem_mem);
  if (!g_stacks.get(0, b.n)) {
    set_error(cudaErrorLaunchOutOfResources, "no memory for the simulator's thread stacks");
    return;
  }
  g_block = &b;
  gridDim = {g.x, g.y, g.z};
  blockDim = {bl.x, bl.y, bl.z};
  std::vector<int> order(b.n);
  bool deadlock = false;
  for (unsigned bz = 0; bz < g.z && !deadlock; ++bz)
    for (unsigned by = 0; by < g.y && !deadlock; ++by)
      for (unsigned bx = 0; bx < g.x && !deadlock; ++bx) {
        blockIdx = {bx, by, bz};
        b.bar = Barrier{b.n};
        for (int w = 0; w < static_cast<int>(b.warps.size()); ++w) b.warps[w] = Warp{Barrier{std::min(32, b.n - 32 * w)}};
        // Shared memory starts as NaN bytes: a read before any write shows in the results.
        std::memset(b.smem, 0xff, cfg.shared);
        for (int i = 0; i < b.n; ++i) {
          b.done[i] = 0;
          b.waits_at[i] = ~uint64_t(0);
          // A fresh stack that trsim_switch "returns" into fiber_entry from: six zeroed registers, the
          // entry's address, and a zero return address (16-byte aligned as at a call).
          // (a reused stack may still carry AddressSanitizer's marks of an earlier fiber's frames)
          TRSIM_UNPOISON(g_stacks.get(i, b.n), kStack);
          uintptr_t* top = reinterpret_cast<uintptr_t*>(g_stacks.get(i, b.n) + kStack);
          *--top = 0;
          *--top = reinterpret_cast<uintptr_t>(&fiber_entry);
          for (int r = 0; r < 6; ++r) *--top = 0;
          b.sp[i] = top;
          order[i] = i;
        }
        auto resume = [&](int i) {
          b.current = i;
          set_thread(i);
          void* fake = nullptr;
          start_switch(&fake, g_stacks.get(i, b.n), kStack);
          trsim_switch(&b.sched_sp, b.sp[i]);
          finish_switch(fake, nullptr, nullptr);
        };
        const int nwarps = static_cast<int>(b.warps.size());
        std::vector<int> warp_order(nwarps);
        for (int w = 0; w < nwarps; ++w) warp_order[w] = w;
        while (b.bar.live > 0) {
          uint64_t before = b.events;
          if (nwarps > 1 && next_rand() % 2) {
            // Warps run ahead: each in turn (a seeded order) runs until all its threads wait at a block
            // barrier or have exited, across any number of warp-level syncs, before the next warp starts.
            // A race between warps that only a __syncthreads (not a shuffle or __syncwarp) would prevent shows.
            for (int w = nwarps - 1; w > 0; --w) std::swap(warp_order[w], warp_order[next_rand() % static_cast<uint64_t>(w + 1)]);
            for (int w : warp_order) {
              uint64_t inner;
              do {
                inner = b.events;
                for (int i = 32 * w; i < std::min(b.n, 32 * w + 32); ++i)
                  if (!b.done[i] && b.waits_at[i] != b.bar.gen) resume(i);
              } while (b.events != inner);
            }
          } else {
            // Every thread once, in a seeded shuffled order, up to its next barrier.
            for (int i = b.n - 1; i > 0; --i) std::swap(order[i], order[next_rand() % static_cast<uint64_t>(i + 1)]);
            for (int k = 0; k < b.n; ++k)
              if (!b.done[order[k]]) resume(order[k]);
          }
          if (b.bar.live > 0 && b.events == before) {
            deadlock = true;
            set_error(cudaErrorLaunchFailure, "deadlock in " + name + ": " + std::to_string(b.bar.live) +
                                                  " threads wait at a barrier (__syncthreads, a shuffle or a wmma call) that others never reach");
            break;
          }
        }
      }
  g_block = nullptr;
  std::string bad = check_canaries();
  if (!bad.empty()) set_error(cudaErrorIllegalAddress, name + " made " + bad);
  if (g_last != cudaSuccess && g_detail.find(name) == std::string::npos) g_detail = name + ": " + g_detail;
}

}  // namespace trsim

using trsim::set_error;

cudaError_t cudaGetDeviceCount(int* n) {
  *n = trsim::env_size("TRSIM_DEVICES", 1) > 0 ? 1 : 0;
  return *n ? cudaSuccess : cudaErrorNoDevice;
}
cudaError_t cudaGetDevice(int* d) {
  *d = 0;
  return cudaSuccess;
}
cudaError_t cudaSetDevice(int d) { return d == 0 ? cudaSuccess : cudaErrorInvalidDevice; }
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int d) {
  if (d != 0) return cudaErrorInvalidDevice;
  std::memset(p, 0, sizeof(*p));
  std::snprintf(p->name, sizeof(p->name), "treereward CUDA simulator (CPU)");
  p->totalGlobalMem = trsim::limits().capacity;
  p->sharedMemPerBlock = 48 * 1024;
  p->sharedMemPerBlockOptin = static_cast<size_t>(trsim::limits().optin);
  p->multiProcessorCount = 132;
  p->maxThreadsPerBlock = 1024;
  p->warpSize = 32;
  p->major = 9;
  p->minor = 0;
  return cudaSuccess;
}
cudaError_t cudaDeviceGetAttribute(int* v, cudaDeviceAttr a, int d) {
  if (d != 0) return cudaErrorInvalidDevice;
  switch (a) {
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *v = trsim::limits().optin; return cudaSuccess;
    case cudaDevAttrMultiProcessorCount: *v = 132; return cudaSuccess;
  }
  return cudaErrorInvalidValue;
}
cudaError_t cudaDeviceSynchronize() { return trsim::g_last; }
cudaError_t cudaGetLastError() {
  cudaError_t e = trsim::g_last;
  trsim::g_last = cudaSuccess;
  return e;
}
cudaError_t cudaPeekAtLastError() { return trsim::g_last; }

namespace {
// Each error the simulator returns: its name and the runtime's words for it.
struct ErrorText {
  cudaError_t code;
  const char* name;
  const char* text;
};
constexpr ErrorText kErrors[] = {
    {cudaSuccess, "cudaSuccess", "no error"},
    {cudaErrorInvalidValue, "cudaErrorInvalidValue", "invalid argument"},
    {cudaErrorMemoryAllocation, "cudaErrorMemoryAllocation", "out of memory"},
    {cudaErrorInvalidConfiguration, "cudaErrorInvalidConfiguration", "invalid configuration argument"},
    {cudaErrorInvalidDevicePointer, "cudaErrorInvalidDevicePointer", "invalid device pointer"},
    {cudaErrorInvalidMemcpyDirection, "cudaErrorInvalidMemcpyDirection", "invalid copy direction for memcpy"},
    {cudaErrorNoDevice, "cudaErrorNoDevice", "no CUDA-capable device is detected"},
    {cudaErrorInvalidDevice, "cudaErrorInvalidDevice", "invalid device ordinal"},
    {cudaErrorIllegalAddress, "cudaErrorIllegalAddress", "an illegal memory access was encountered"},
    {cudaErrorLaunchOutOfResources, "cudaErrorLaunchOutOfResources", "too many resources requested for launch"},
    {cudaErrorMisalignedAddress, "cudaErrorMisalignedAddress", "misaligned address"},
    {cudaErrorLaunchFailure, "cudaErrorLaunchFailure", "unspecified launch failure"},
};
const ErrorText* error_text(cudaError_t e) {
  for (const ErrorText& t : kErrors)
    if (t.code == e) return &t;
  return nullptr;
}
}  // namespace

const char* cudaGetErrorName(cudaError_t e) {
  const ErrorText* t = error_text(e);
  return t ? t->name : "cudaErrorUnknown";
}

const char* cudaGetErrorString(cudaError_t e) {
  static thread_local std::string s;
  const ErrorText* t = error_text(e);
  s = t ? t->text : "unknown error";
  if (e == trsim::g_detail_code && !trsim::g_detail.empty()) s += " (simulator: " + trsim::g_detail + ")";
  return s.c_str();
}

cudaError_t cudaMalloc(void** p, size_t bytes) {
  using namespace trsim;
  Memory& m = memory();
  std::lock_guard<std::mutex> lock(m.mu);
  *p = nullptr;
  if (m.used + bytes > limits().capacity) return cudaErrorMemoryAllocation;
  void* mem = nullptr;
  if (posix_memalign(&mem, 256, bytes + 2 * kGuard) != 0) return cudaErrorMemoryAllocation;
  unsigned char* raw = static_cast<unsigned char*>(mem);
  std::memset(raw, kCanary, kGuard);
  std::memset(raw + kGuard + bytes, kCanary, kGuard);
  if (!limits().dry) std::memset(raw + kGuard, 0xff, bytes);  // fresh device memory reads as NaN until written
  else if (bytes <= kDryBytes) std::memset(raw + kGuard, 0, bytes);
  *p = raw + kGuard;
  TRSIM_POISON(raw, kGuard);
  TRSIM_POISON(raw + kGuard + bytes, kGuard);
  m.live[reinterpret_cast<uintptr_t>(*p)] = bytes;
  m.used += bytes;
  return cudaSuccess;
}

cudaError_t cudaFree(void* p) {
  using namespace trsim;
  if (!p) return cudaSuccess;
  Memory& m = memory();
  std::lock_guard<std::mutex> lock(m.mu);
  auto it = m.live.find(reinterpret_cast<uintptr_t>(p));
  if (it == m.live.end()) return cudaErrorInvalidDevicePointer;
  m.used -= it->second;
  TRSIM_UNPOISON(static_cast<unsigned char*>(p) - kGuard, it->second + 2 * kGuard);
  m.live.erase(it);
  std::free(static_cast<unsigned char*>(p) - kGuard);
  return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  using namespace trsim;
  std::lock_guard<std::mutex> lock(memory().mu);
  *total_bytes = limits().capacity;
  *free_bytes = limits().capacity - memory().used;
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  using namespace trsim;
  if (bytes == 0) return cudaSuccess;
  bool dst_dev = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  bool src_dev = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  if (kind == cudaMemcpyDefault) {
    dst_dev = in_device(dst, 1);
    src_dev = in_device(src, 1);
  }
  if ((dst_dev && !in_device(dst, bytes)) || (src_dev && !in_device(src, bytes))) {
    set_error(cudaErrorInvalidValue, "a copy of " + std::to_string(bytes) + " bytes beyond a device allocation");
    return cudaErrorInvalidValue;
  }
  if ((!dst_dev && in_device(dst, 1)) || (!src_dev && in_device(src, 1))) {
    set_error(cudaErrorInvalidMemcpyDirection, "a copy whose direction does not match where its pointers are");
    return cudaErrorInvalidMemcpyDirection;
  }
  if (limits().dry && bytes > kDryBytes) {
    if (!dst_dev) std::memset(dst, 0, bytes);
    return cudaSuccess;
  }
  std::memmove(dst, src, bytes);
  return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t) {
  return cudaMemcpy(dst, src, bytes, kind);
}
cudaError_t cudaMemset(void* p, int value, size_t bytes) {
  if (bytes == 0) return cudaSuccess;
  if (!trsim::in_device(p, bytes)) {
    set_error(cudaErrorInvalidValue, "a memset of " + std::to_string(bytes) + " bytes outside a device allocation");
    return cudaErrorInvalidValue;
  }
  if (trsim::limits().dry && bytes > trsim::kDryBytes) return cudaSuccess;
  std::memset(p, value, bytes);
  return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void* p, int value, size_t bytes, cudaStream_t) { return cudaMemset(p, value, bytes); }

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned int) {
  static int token;
  *s = reinterpret_cast<cudaStream_t>(&token);
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t) { return trsim::g_last; }

cudaError_t trsim_func_set_attribute(const void* f, cudaFuncAttribute a, int v) {
  using namespace trsim;
  if (a != cudaFuncAttributeMaxDynamicSharedMemorySize || v < 0 || v > limits().optin) return cudaErrorInvalidValue;
  std::lock_guard<std::mutex> lock(memory().mu);
  memory().shared_attr[f] = v;
  return cudaSuccess;
}
