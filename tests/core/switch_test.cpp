// The switch's own registries stay bounded whatever clients send.
#include "eventsocket/core/switch.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace eventsocket::core
