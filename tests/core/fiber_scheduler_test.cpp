#include "eventsocket/core/fiber_scheduler.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "eventsocket/core/channel_registry.hpp"

namespace eventsocket::core {
namespace {

using namespace std::chrono_literals;

ChannelPtr make_channel(ChannelRegistry& registry, int n) {
  ChannelData data;
  data.uuid = "fiber-test-" + std::to_string(n);
  return registry.add(std::move(data));
}

TEST(FiberScheduler, RunsEveryFiberToTheEnd) {
  std::atomic<int> ran{0};
  {
    FiberScheduler fibers(2);
    for (int i = 0; i < 100; ++i) {
      fibers.spawn([&] { ++ran; });
    }
  }  // the destructor waits for every fiber
  EXPECT_EQ(ran.load(), 100);
}

// A thousand channels waiting at once on two worker threads: waits park fibers, not threads.
TEST(FiberScheduler, ThousandWaitingChannelsOnTwoWorkers) {
  ChannelRegistry registry;
  std::vector<ChannelPtr> channels;
  for (int i = 0; i < 1000; ++i) {
    channels.push_back(make_channel(registry, i));
  }
  std::atomic<int> waiting{0};
  std::atomic<int> woken{0};
  std::mutex ids_mutex;
  std::set<std::thread::id> threads;
  {
    FiberScheduler fibers(2);
    for (const ChannelPtr& channel : channels) {
      fibers.spawn([&, channel] {
        ++waiting;
        channel->wait([](const Channel::Control& c, const ChannelData&) { return c.hangup; });
        {
          std::lock_guard lock(ids_mutex);
          threads.insert(std::this_thread::get_id());
        }
        ++woken;
      });
    }
    while (waiting.load() < 1000) {
      std::this_thread::sleep_for(1ms);
    }
    EXPECT_EQ(fibers.live(), 1000u);
    EXPECT_EQ(woken.load(), 0);
    for (const ChannelPtr& channel : channels) {
      channel->control([](Channel::Control& c, ChannelData&) {
        c.hangup = true;
        return 0;
      });
    }
  }
  EXPECT_EQ(woken.load(), 1000);
  EXPECT_LE(threads.size(), 2u);
}

TEST(FiberScheduler, WaitUntilTimesOutOrEndsEarly) {
  ChannelRegistry registry;
  ChannelPtr slow = make_channel(registry, 1);
  ChannelPtr fast = make_channel(registry, 2);
  std::atomic<int> timed_out{-1};
  std::atomic<int> ready{-1};
  std::atomic<bool> fast_waiting{false};
  {
    FiberScheduler fibers(1);
    fibers.spawn([&] {
      const auto start = std::chrono::steady_clock::now();
      const bool r = slow->wait_until(
          start + 50ms, [](const Channel::Control& c, const ChannelData&) { return c.hangup; });
      timed_out = !r && std::chrono::steady_clock::now() - start >= 50ms;
    });
    fibers.spawn([&] {
      fast_waiting = true;
      ready = fast->wait_until(
          std::chrono::steady_clock::now() + 10s,
          [](const Channel::Control& c, const ChannelData&) { return c.interrupt; });
    });
    while (!fast_waiting) {
      std::this_thread::sleep_for(1ms);
    }
    fast->control([](Channel::Control& c, ChannelData&) {
      c.interrupt = true;
      return 0;
    });
  }
  EXPECT_EQ(timed_out.load(), 1);
  EXPECT_EQ(ready.load(), 1);
}

// A wait whose condition already holds returns without switching.
TEST(FiberScheduler, ReadyConditionDoesNotPark) {
  ChannelRegistry registry;
  ChannelPtr channel = make_channel(registry, 1);
  channel->control([](Channel::Control& c, ChannelData&) {
    c.hangup = true;
    return 0;
  });
  std::atomic<bool> done{false};
  {
    FiberScheduler fibers(1);
    fibers.spawn([&] {
      channel->wait([](const Channel::Control& c, const ChannelData&) { return c.hangup; });
      done = true;
    });
  }
  EXPECT_TRUE(done.load());
}

// Outside a fiber a wait blocks the thread, and a fiber's control() still wakes it.
TEST(FiberScheduler, ThreadAndFiberWaitOnOneChannel) {
  ChannelRegistry registry;
  ChannelPtr channel = make_channel(registry, 1);
  std::atomic<int> woken{0};
  std::thread waiter([&] {
    channel->wait([](const Channel::Control& c, const ChannelData&) { return c.hangup; });
    ++woken;
  });
  {
    FiberScheduler fibers(1);
    fibers.spawn([&] {
      channel->wait([](const Channel::Control& c, const ChannelData&) { return c.leave; });
      ++woken;
      channel->control([](Channel::Control& c, ChannelData&) {
        c.hangup = true;
        return 0;
      });
    });
    std::this_thread::sleep_for(10ms);
    channel->control([](Channel::Control& c, ChannelData&) {
      c.leave = true;
      return 0;
    });
  }
  waiter.join();
  EXPECT_EQ(woken.load(), 2);
}

TEST(FiberScheduler, CancelledTimerDoesNotRun) {
  std::atomic<int> ran{0};
  {
    FiberScheduler fibers(1);
    const auto id = fibers.add_timer(std::chrono::steady_clock::now() + 20ms, [&] { ++ran; });
    fibers.add_timer(std::chrono::steady_clock::now() + 5ms, [&] { ran += 10; });
    fibers.cancel_timer(id);
    std::this_thread::sleep_for(60ms);
  }
  EXPECT_EQ(ran.load(), 10);
}

}  // namespace
}  // namespace eventsocket::core
