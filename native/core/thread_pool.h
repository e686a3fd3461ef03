// thread_pool.h: one small pool of worker threads, sized from the machine or TREEREWARD_THREADS.
// parallel_for splits [0, n) into contiguous chunks of at least `grain` items; it runs inline
// when the range is small, when called from inside a worker, or when the pool has one thread.
#pragma once
#include <cstdint>
#include <functional>

namespace tr {

int num_threads();
void set_num_threads(int n);

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t begin, int64_t end)>& fn);

}  // namespace tr
