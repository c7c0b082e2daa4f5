// The switch's own registries stay bounded whatever clients send.
#include "eventsocket/core/switch.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "eventsocket/core/calls.hpp"
#include "eventsocket/core/event_bus.hpp"

namespace eventsocket::core {
namespace {

// Every `sendevent CUSTOM <new subclass>` registers a name; a client inventing names must not
// grow the registry (and every `event ALL` snapshot of it) without end.
TEST(SwitchSubclasses, TheRegistryIsBoundedAndKnownNamesStay) {
  SwitchOptions options;
  options.heartbeat_interval = std::chrono::milliseconds(0);
  Switch sw(options);
  sw.logger().set_console_level(LogLevel::disable);
  for (std::size_t i = 0; i < Switch::kMaxSubclasses + 50; ++i) {
    sw.register_subclass("fuzz::" + std::to_string(i));
  }
  const auto known = sw.custom_subclasses();
  EXPECT_EQ(known.size(), Switch::kMaxSubclasses);
  sw.register_subclass("fuzz::0");  // a name it has still registers (no change)
  EXPECT_EQ(sw.custom_subclasses().size(), Switch::kMaxSubclasses);
}

// A daemon stopping (SIGTERM, fsctl shutdown) joins the API workers: a `bgapi msleep 3600000`
// must not hold that up for an hour. Were msleep not cut short, stop() would block and CTest's
// timeout would fail this test.
TEST(SwitchStop, CutsShortASleepingApiCommand) {
  SwitchOptions options;
  options.heartbeat_interval = std::chrono::milliseconds(0);
  options.api_threads = 1;
  Switch sw(options);
  sw.logger().set_console_level(LogLevel::disable);
  std::promise<void> started;
  std::promise<ApiResult> finished;
  ASSERT_TRUE(sw.jobs().try_submit([&] {
    started.set_value();
    finished.set_value(sw.execute_api("msleep", "3600000"));
  }));
  started.get_future().wait();
  sw.stop();
  auto result = finished.get_future();
  ASSERT_EQ(result.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  EXPECT_EQ(result.get().output, "+OK");
  EXPECT_FALSE(sw.sleep_for(std::chrono::milliseconds(3600000)));  // stopped: returns at once
}

// A time past what a nanosecond clock holds overflowed (UBSan, the long session fuzz run);
// more than a hundred years ahead is refused with the usage error.
TEST(SwitchSched, TimesTooFarAheadAreRefused) {
  SwitchOptions options;
  options.heartbeat_interval = std::chrono::milliseconds(0);
  Switch sw(options);
  sw.logger().set_console_level(LogLevel::disable);
  for (const char* when : {"+299999999999", "@299999999999", "299999999999", "+3200000000"}) {
    const ApiResult r = sw.execute_api("sched_api", std::string(when) + " g echo x");
    EXPECT_TRUE(r.output.starts_with("-ERR Invalid syntax")) << when << ": " << r.output;
  }
  // Ninety-five years ahead is still a time; the switch then ends with it pending, and a
  // cancelled task, both while the scheduler waits on them (once a use-after-free: ASan).
  EXPECT_TRUE(sw.execute_api("sched_api", "+3000000000 g echo x").output.starts_with("+OK Added:"));
  const std::string added = sw.execute_api("sched_api", "+2000000000 del-me echo x").output;
  EXPECT_TRUE(added.starts_with("+OK Added:")) << added;
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the scheduler is waiting
  EXPECT_TRUE(sw.execute_api("sched_del", "del-me").output.starts_with("+OK Deleted: 1"));
}

// An outbound program that hangs up on seeing the last CHANNEL_EXECUTE_COMPLETE of a sendmsg
// (capture 21) must not find `current_loop` still set in CHANNEL_HANGUP. The sink runs on the
// publishing thread, so it sees the channel as a program reacting at once would.
TEST(SwitchSendmsg, TheLoopIsOverWhenItsLastCompletionIsSeen) {
  SwitchOptions options;
  options.heartbeat_interval = std::chrono::milliseconds(0);
  Switch sw(options);
  sw.logger().set_console_level(LogLevel::disable);
  const ApiResult originated = sw.execute_api("originate", "null/x &park()");
  ASSERT_TRUE(originated.output.starts_with("+OK ")) << originated.output;
  std::string uuid = originated.output.substr(4);
  while (!uuid.empty() && (uuid.back() == '\n' || uuid.back() == ' ')) {
    uuid.pop_back();
  }
  const ChannelPtr channel = sw.channels().find(uuid);
  ASSERT_TRUE(channel);

  struct CompletionWatcher : EventSink {
    ChannelPtr channel;
    std::mutex mutex;
    std::vector<std::pair<std::string, std::string>> seen;  // event's loop, channel's loop
    std::promise<void> done;
    int wanted = 2;
    bool offer(const event::EventPtr& e) override {
      const event::Event& ev = e->event();
      if (ev.type() != event::EventType::CHANNEL_EXECUTE_COMPLETE ||
          ev.header("Application").value_or("") != "set") {
        return false;
      }
      std::lock_guard lock(mutex);
      seen.emplace_back(std::string(ev.header("variable_current_loop").value_or("")),
                        channel->variable("current_loop").value_or(""));
      if (static_cast<int>(seen.size()) == wanted) {
        done.set_value();
      }
      return true;
    }
  } watcher;
  watcher.channel = channel;
  sw.bus().subscribe(&watcher);
  Channel::QueuedApplication app;
  app.application = "set";
  app.data = "looped=yes";
  app.loops = 2;
  ASSERT_TRUE(sw.calls().queue_application(uuid, app));
  const bool finished =
      watcher.done.get_future().wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  sw.bus().unsubscribe(&watcher);
  ASSERT_TRUE(finished);
  std::lock_guard lock(watcher.mutex);
  ASSERT_EQ(watcher.seen.size(), 2U);
  // The first completion: the loop goes on. The last one still shows the loop in the event
  // (as FreeSWITCH's does), but the channel has already left it.
  EXPECT_EQ(watcher.seen[0], (std::pair<std::string, std::string>{"1", "1"}));
  EXPECT_EQ(watcher.seen[1], (std::pair<std::string, std::string>{"2", ""}));
  sw.execute_api("uuid_kill", uuid);
}

}  // namespace
}  // namespace eventsocket::core
