#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace eventsocket::core {

class FiberScheduler;

// One channel's flow of control: its own small stack, run by whichever worker thread of its
// scheduler is free. A fiber that waits (Channel::wait) gives its worker back, so a thousand
// parked calls cost a thousand stacks of touched pages, not a thousand threads.
struct Fiber;

// A few worker threads running many fibers. Fibers switch with glibc's swapcontext; under
// AddressSanitizer every switch is announced to it.
class FiberScheduler {
 public:
  using Clock = std::chrono::steady_clock;

  // `workers` threads; each fiber gets `stack_size` bytes of stack (plus a guard page).
  explicit FiberScheduler(std::size_t workers, std::size_t stack_size = default_stack_size());
  ~FiberScheduler();  // waits for every fiber, then for the workers
  FiberScheduler(const FiberScheduler&) = delete;
  FiberScheduler& operator=(const FiberScheduler&) = delete;

  static std::size_t default_stack_size();

  // Starts `body` on a new fiber.
  void spawn(std::function<void()> body);
  // Fibers started and not yet finished.
  std::size_t live() const;
  std::size_t workers() const { return threads_.size(); }

  // The fiber running on this thread (nullptr on an ordinary thread).
  static Fiber* current();
  static FiberScheduler& scheduler_of(Fiber* fiber);

  // Inside a fiber: switches back to the worker, which then calls `commit(arg, self)`.
  // commit decides under whatever lock it needs whether to park the fiber (someone will
  // call resume later) or resume it at once. Deciding after the switch means a resume from
  // another thread can never start a fiber that is still running.
  static void suspend(void (*commit)(void* arg, Fiber* self), void* arg);
  // Makes a suspended fiber runnable again (from any thread, once per suspend).
  static void resume(Fiber* fiber);

  // Runs `task` on a worker at `when` unless cancelled before; returns its id.
  std::uint64_t add_timer(Clock::time_point when, std::function<void()> task);
  void cancel_timer(std::uint64_t id);

 private:
  struct Stack {
    void* base = nullptr;  // the mapping, guard page included
    std::size_t size = 0;
  };
  void worker_loop();
  void run_fiber(Fiber* fiber);
  Stack take_stack();
  void give_back_stack(Stack stack);

  const std::size_t stack_size_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Fiber*> runnable_;
  std::multimap<Clock::time_point, std::pair<std::uint64_t, std::function<void()>>> timers_;
  std::map<std::uint64_t, decltype(timers_)::iterator> timer_by_id_;
  std::uint64_t next_timer_ = 1;
  std::size_t live_ = 0;
  bool stopping_ = false;
  std::condition_variable all_done_;
  std::vector<Stack> spare_stacks_;  // reused: fresh stacks cost page faults
  std::vector<std::thread> threads_;
};

}  // namespace eventsocket::core
