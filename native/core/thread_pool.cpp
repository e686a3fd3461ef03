// thread_pool.cpp: the workers of parallel_for; the calling thread takes a share of every call.
//
// Built with OpenMP (TR_HAVE_OPENMP, the default where the compiler has it), parallel_for runs as an
// OpenMP parallel region: the same GNU OpenMP runtime and the same threads as oneDNN's (Debian's
// oneDNN runs on libgomp). With a pool of our own beside it, every oneDNN call left its OpenMP worker
// spinning (GOMP_SPINCOUNT) while our pool woke its own worker for the next kernel: three busy threads
// on two cores, and a sixth of a model step spent in libgomp's spin loop. One runtime hands the next
// kernel to the thread that is still spinning. Without OpenMP, the persistent pool below serves.
// Either way the split of [0, n) into chunks is fixed by (n, grain, threads), not by timing.
#include "core/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#ifdef TR_HAVE_OPENMP
#include <omp.h>
#endif

#ifdef TR_HAVE_CBLAS
extern "C" void openblas_set_num_threads(int) __attribute__((weak));
#endif

namespace tr {
namespace {

#ifndef TR_HAVE_OPENMP
thread_local bool tl_in_worker = false;

class Pool {
 public:
  explicit Pool(int n) { resize(n); }
  ~Pool() { stop(); }

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  void resize(int n) {
    stop();
    stopping_ = false;
    for (int i = 1; i < n; ++i) workers_.emplace_back([this] { loop(); });
  }

  // Runs task(i) for i in [0, count) across the workers and the caller; rethrows the first error.
  void run(int count, const std::function<void(int)>& task) {
    std::lock_guard<std::mutex> run_lock(run_mutex_);
    {
      std::lock_guard<std::mutex> lk(m_);
      task_ = &task;
      count_ = count;
      next_.store(0);
      done_ = 0;
      error_ = nullptr;
      ++generation_;
    }
    cv_.notify_all();
    work();
    std::unique_lock<std::mutex> lk(m_);
    done_cv_.wait(lk, [&] { return done_ == count_; });
    task_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void work() {
    for (;;) {
      int i = next_.fetch_add(1);
      if (i >= count_) return;
      try {
        (*task_)(i);
      } catch (...) {
        std::lock_guard<std::mutex> lk(m_);
        if (!error_) error_ = std::current_exception();
      }
      std::lock_guard<std::mutex> lk(m_);
      if (++done_ == count_) done_cv_.notify_all();
    }
  }

  void loop() {
    tl_in_worker = true;
    uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lk(m_);
        cv_.wait(lk, [&] { return stopping_ || (generation_ != seen && task_ != nullptr); });
        if (stopping_) return;
        seen = generation_;
      }
      work();
    }
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lk(m_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  std::vector<std::thread> workers_;
  std::mutex m_, run_mutex_;
  std::condition_variable cv_, done_cv_;
  const std::function<void(int)>* task_ = nullptr;
  int count_ = 0;
  std::atomic<int> next_{0};
  int done_ = 0;
  uint64_t generation_ = 0;
  bool stopping_ = false;
  std::exception_ptr error_;
};
#endif

int default_threads() {
  if (const char* env = std::getenv("TREEREWARD_THREADS")) {
    int n = std::atoi(env);
    if (n > 0) return n;
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw > 0 ? static_cast<int>(hw) : 1;
}

#ifdef TR_HAVE_OPENMP
std::atomic<int>& omp_threads() {
  static std::atomic<int> n{[] {
    int t = default_threads();
    omp_set_num_threads(t);  // oneDNN's regions take the same count
#ifdef TR_HAVE_CBLAS
    if (openblas_set_num_threads) openblas_set_num_threads(t);  // BLAS is called from one thread
#endif
    return t;
  }()};
  return n;
}
#else
Pool& pool() {
  static Pool* p = [] {
    int n = default_threads();
#ifdef TR_HAVE_CBLAS
    // BLAS is always called from one thread; give it the same number of threads, no more.
    if (openblas_set_num_threads) openblas_set_num_threads(n);
#endif
    return new Pool(n);  // never destroyed: workers must outlive static destructors at exit
  }();
  return *p;
}
#endif

}  // namespace

namespace {
bool in_parallel() {
#ifdef TR_HAVE_OPENMP
  return omp_in_parallel();
#else
  return tl_in_worker;
#endif
}

// Runs chunk(c) for c in [0, chunks) on the workers and the caller; rethrows the first error.
void run_chunks(int chunks, const std::function<void(int)>& chunk) {
#ifdef TR_HAVE_OPENMP
  std::exception_ptr error;
  std::mutex error_mutex;
#pragma omp parallel for schedule(static, 1) num_threads(chunks)
  for (int c = 0; c < chunks; ++c) {
    try {
      chunk(c);
    } catch (...) {  // an exception must not leave the region: the first one is rethrown below
      std::lock_guard<std::mutex> lk(error_mutex);
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
#else
  pool().run(chunks, chunk);
#endif
}
}  // namespace

int num_threads() {
#ifdef TR_HAVE_OPENMP
  return omp_threads().load();
#else
  return pool().size();
#endif
}

void set_num_threads(int n) {
  if (n < 1) n = 1;
#ifdef TR_HAVE_OPENMP
  omp_threads().store(n);
  omp_set_num_threads(n);
#else
  pool().resize(n);
#endif
#ifdef TR_HAVE_CBLAS
  if (openblas_set_num_threads) openblas_set_num_threads(n);
#endif
}

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  int threads = in_parallel() ? 1 : num_threads();
  int64_t chunks = std::min<int64_t>(threads, (n + grain - 1) / grain);
  if (chunks <= 1) {
    fn(0, n);
    return;
  }
  int64_t per = (n + chunks - 1) / chunks;
  run_chunks(static_cast<int>(chunks), [&](int c) {
    int64_t b = c * per, e = std::min<int64_t>(n, b + per);
    if (b < e) fn(b, e);
  });
}

}  // namespace tr
