#pragma once
// A tiny persistent worker pool for the CPU engine: parallel_for over index ranges. Workers stay
// alive between calls because decode issues many small matvecs per token and spawning threads
// for each would cost more than the work.

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace squeeze::profiler::cpu {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);  // total threads including the caller; >= 1
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  [[nodiscard]] int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls body(lo, hi) over disjoint chunks covering [0, n), at most size() chunks, and returns
  // when all are done. Runs inline when n < min_parallel (too little work to share).
  void parallel_for(std::size_t n, const std::function<void(std::size_t, std::size_t)>& body,
                    std::size_t min_parallel = 2);

 private:
  void worker_loop(int index);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable start_cv_, done_cv_;
  const std::function<void(std::size_t, std::size_t)>* body_ = nullptr;
  std::size_t n_ = 0;
  std::size_t generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
};

}  // namespace squeeze::profiler::cpu
