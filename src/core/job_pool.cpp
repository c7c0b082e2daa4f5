#include "eventsocket/core/job_pool.hpp"

namespace eventsocket::core {

JobPool::JobPool(std::size_t threads, std::size_t max_queued) : max_queued_(max_queued) {
  if (threads == 0) {
    threads = 1;
  }
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) {
    threads_.emplace_back([this] { run(); });
  }
}

JobPool::~JobPool() {
  stop();
}

bool JobPool::try_submit(std::function<void()> job) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || jobs_.size() >= max_queued_) {
      ++rejected_;
      return false;
    }
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
  return true;
}

void JobPool::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && threads_.empty()) {
      return;
    }
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) {
      t.join();
    }
  }
  threads_.clear();
}

std::size_t JobPool::queued() const {
  std::lock_guard lock(mutex_);
  return jobs_.size();
}

std::size_t JobPool::rejected() const {
  std::lock_guard lock(mutex_);
  return rejected_;
}

void JobPool::run() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) {
        return;  // stopping and drained
      }
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace eventsocket::core
