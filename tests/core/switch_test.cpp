// The switch's own registries stay bounded whatever clients send.
#include "eventsocket/core/switch.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <string>

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
}

}  // namespace
}  // namespace eventsocket::core
