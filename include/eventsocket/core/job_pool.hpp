#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace eventsocket::core {

// A bounded pool of worker threads for API commands, so that a slow command (`msleep`,
// `originate`) never blocks an I/O thread. The queue is bounded: when it is full,
// try_submit() refuses and the caller answers with an error instead of piling up work.
class JobPool {
 public:
  JobPool(std::size_t threads, std::size_t max_queued);
  ~JobPool();
  JobPool(const JobPool&) = delete;
  JobPool& operator=(const JobPool&) = delete;

  // Returns false (and drops the job) when max_queued jobs already wait or the pool stops.
  bool try_submit(std::function<void()> job);
  // Finishes queued jobs, then joins the threads.
  void stop();

  std::size_t queued() const;
  std::size_t rejected() const;

 private:
  void run();

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  std::size_t max_queued_;
  std::size_t rejected_ = 0;
  bool stopping_ = false;
};

}  // namespace eventsocket::core
