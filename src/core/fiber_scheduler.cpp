#include "eventsocket/core/fiber_scheduler.hpp"

#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EVENTSOCKET_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define EVENTSOCKET_ASAN 1
#endif
#ifdef EVENTSOCKET_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

namespace eventsocket::core {

struct Fiber {
  FiberScheduler* scheduler = nullptr;
  std::function<void()> body;
  ucontext_t context{};
  ucontext_t* worker_context = nullptr;  // the worker that resumed it last
  void* stack_base = nullptr;
  std::size_t stack_size = 0;
  bool finished = false;
  // Set by suspend(): run by the worker once the fiber has switched away.
  void (*commit)(void*, Fiber*) = nullptr;
  void* commit_arg = nullptr;
#ifdef EVENTSOCKET_ASAN
  void* fake_stack = nullptr;
  const void* worker_stack_bottom = nullptr;
  std::size_t worker_stack_size = 0;
#endif
};

namespace {

thread_local Fiber* current_fiber = nullptr;
constexpr std::size_t kSpareStacks = 64;

std::size_t page_size() {
  static const std::size_t size = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return size;
}

// The first thing a new fiber runs. makecontext passes ints only: the pointer in two halves.
void fiber_entry(unsigned int high, unsigned int low) {
  auto* fiber = reinterpret_cast<Fiber*>((static_cast<std::uintptr_t>(high) << 32) |
                                         static_cast<std::uintptr_t>(low));
#ifdef EVENTSOCKET_ASAN
  __sanitizer_finish_switch_fiber(nullptr, &fiber->worker_stack_bottom, &fiber->worker_stack_size);
#endif
  try {
    fiber->body();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "eventsocket: a channel's flow ended with an exception: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "eventsocket: a channel's flow ended with an unknown exception\n");
  }
  fiber->body = nullptr;
  fiber->finished = true;
#ifdef EVENTSOCKET_ASAN
  // nullptr: this stack is done with; ASan may forget its fake frames.
  __sanitizer_start_switch_fiber(nullptr, fiber->worker_stack_bottom, fiber->worker_stack_size);
#endif
  setcontext(fiber->worker_context);
  std::abort();  // setcontext does not return
}

}  // namespace

std::size_t FiberScheduler::default_stack_size() {
#ifdef EVENTSOCKET_ASAN
  return std::size_t{1} << 20;  // ASan's red zones make every frame larger
#else
  return std::size_t{256} << 10;
#endif
}

FiberScheduler::FiberScheduler(std::size_t workers, std::size_t stack_size)
    : stack_size_((stack_size + page_size() - 1) / page_size() * page_size()) {
  if (workers == 0) {
    workers = 1;
  }
  threads_.reserve(workers);
  for (std::size_t i = 0; i < workers; ++i) {
    threads_.emplace_back([this] { worker_loop(); });
  }
}

FiberScheduler::~FiberScheduler() {
  {
    std::unique_lock lock(mutex_);
    all_done_.wait(lock, [this] { return live_ == 0; });
    stopping_ = true;
    timers_.clear();
    timer_by_id_.clear();
  }
  wake_.notify_all();
  for (std::thread& t : threads_) {
    t.join();
  }
  for (const Stack& s : spare_stacks_) {
    munmap(s.base, s.size);
  }
}

std::size_t FiberScheduler::live() const {
  std::lock_guard lock(mutex_);
  return live_;
}

Fiber* FiberScheduler::current() {
  return current_fiber;
}

FiberScheduler& FiberScheduler::scheduler_of(Fiber* fiber) {
  return *fiber->scheduler;
}

FiberScheduler::Stack FiberScheduler::take_stack() {
  {
    std::lock_guard lock(mutex_);
    if (!spare_stacks_.empty()) {
      Stack s = spare_stacks_.back();
      spare_stacks_.pop_back();
      return s;
    }
  }
  const std::size_t total = stack_size_ + page_size();
  void* base = mmap(nullptr, total, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (base == MAP_FAILED) {
    throw std::bad_alloc();
  }
  // The lowest page stays inaccessible: an overflow faults instead of corrupting memory.
  mprotect(base, page_size(), PROT_NONE);
  return Stack{base, total};
}

void FiberScheduler::give_back_stack(Stack stack) {
  {
    std::lock_guard lock(mutex_);
    if (spare_stacks_.size() < kSpareStacks) {
      spare_stacks_.push_back(stack);
      return;
    }
  }
  munmap(stack.base, stack.size);
}

void FiberScheduler::spawn(std::function<void()> body) {
  auto* fiber = new Fiber;
  fiber->scheduler = this;
  fiber->body = std::move(body);
  const Stack stack = take_stack();
  fiber->stack_base = static_cast<char*>(stack.base) + page_size();
  fiber->stack_size = stack.size - page_size();
  getcontext(&fiber->context);
  fiber->context.uc_stack.ss_sp = fiber->stack_base;
  fiber->context.uc_stack.ss_size = fiber->stack_size;
  fiber->context.uc_link = nullptr;
  const auto address = reinterpret_cast<std::uintptr_t>(fiber);
  makecontext(&fiber->context, reinterpret_cast<void (*)()>(&fiber_entry), 2,
              static_cast<unsigned int>(address >> 32),
              static_cast<unsigned int>(address & 0xffffffffu));
  {
    std::lock_guard lock(mutex_);
    ++live_;
    runnable_.push_back(fiber);
  }
  wake_.notify_one();
}

void FiberScheduler::resume(Fiber* fiber) {
  FiberScheduler& s = *fiber->scheduler;
  {
    std::lock_guard lock(s.mutex_);
    s.runnable_.push_back(fiber);
  }
  s.wake_.notify_one();
}

void FiberScheduler::suspend(void (*commit)(void*, Fiber*), void* arg) {
  Fiber* self = current_fiber;
  self->commit = commit;
  self->commit_arg = arg;
#ifdef EVENTSOCKET_ASAN
  __sanitizer_start_switch_fiber(&self->fake_stack, self->worker_stack_bottom,
                                 self->worker_stack_size);
#endif
  swapcontext(&self->context, self->worker_context);
  // Resumed, possibly on another worker thread.
#ifdef EVENTSOCKET_ASAN
  __sanitizer_finish_switch_fiber(self->fake_stack, &self->worker_stack_bottom,
                                  &self->worker_stack_size);
#endif
}

std::uint64_t FiberScheduler::add_timer(Clock::time_point when, std::function<void()> task) {
  std::uint64_t id = 0;
  bool earliest = false;
  {
    std::lock_guard lock(mutex_);
    id = next_timer_++;
    auto it = timers_.emplace(when, std::make_pair(id, std::move(task)));
    timer_by_id_.emplace(id, it);
    earliest = it == timers_.begin();
  }
  if (earliest) {
    wake_.notify_one();
  }
  return id;
}

void FiberScheduler::cancel_timer(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  if (auto it = timer_by_id_.find(id); it != timer_by_id_.end()) {
    timers_.erase(it->second);
    timer_by_id_.erase(it);
  }
}

void FiberScheduler::run_fiber(Fiber* fiber) {
  ucontext_t here;
  fiber->worker_context = &here;
  current_fiber = fiber;
#ifdef EVENTSOCKET_ASAN
  void* fake_stack = nullptr;
  __sanitizer_start_switch_fiber(&fake_stack, fiber->stack_base, fiber->stack_size);
#endif
  swapcontext(&here, &fiber->context);
#ifdef EVENTSOCKET_ASAN
  __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
#endif
  current_fiber = nullptr;
  if (fiber->finished) {
    give_back_stack(Stack{static_cast<char*>(fiber->stack_base) - page_size(),
                          fiber->stack_size + page_size()});
    delete fiber;
    std::lock_guard lock(mutex_);
    if (--live_ == 0) {
      all_done_.notify_all();
    }
    return;
  }
  // The fiber is off its stack now: it may be parked, or resumed by anyone from here on.
  void (*commit)(void*, Fiber*) = fiber->commit;
  void* arg = fiber->commit_arg;
  fiber->commit = nullptr;
  commit(arg, fiber);
}

void FiberScheduler::worker_loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (!timers_.empty() && timers_.begin()->first <= Clock::now()) {
      auto first = timers_.begin();
      std::function<void()> task = std::move(first->second.second);
      timer_by_id_.erase(first->second.first);
      timers_.erase(first);
      lock.unlock();
      task();
      lock.lock();
      continue;
    }
    if (!runnable_.empty()) {
      Fiber* fiber = runnable_.front();
      runnable_.pop_front();
      lock.unlock();
      run_fiber(fiber);
      lock.lock();
      continue;
    }
    if (stopping_) {
      return;
    }
    if (timers_.empty()) {
      wake_.wait(lock);
    } else {
      // A copy: the timer may be cancelled (its node freed) while this thread waits.
      const Clock::time_point next = timers_.begin()->first;
      wake_.wait_until(lock, next);
    }
  }
}

}  // namespace eventsocket::core
