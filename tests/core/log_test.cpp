// The logger's sinks: a sink may remove itself (its owner being destroyed from inside the
// sink) or add another while a line is delivered, without deadlock or a call after removal.
#include "eventsocket/core/log.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace eventsocket::core {
namespace {

TEST(Logger, ASinkMayRemoveItselfAndAddAnotherWhileALineIsDelivered) {
  Logger logger;
  logger.set_console_level(LogLevel::disable);  // nothing on stderr
  std::vector<std::string> calls;
  int self = 0;
  self = logger.add_sink([&](const LogRecord&) {
    calls.push_back("self");
    logger.remove_sink(self);  // as ~Session does when its connection ends in here
    logger.add_sink([&](const LogRecord&) { calls.push_back("added"); });
  });
  const int other = logger.add_sink([&](const LogRecord&) { calls.push_back("other"); });
  logger.log(LogLevel::info, "log_test.cpp", "test", 1, "first");
  // The removed sink is not called again; the one added during delivery already runs on
  // the first line (it was appended behind the loop's position).
  EXPECT_EQ(calls, (std::vector<std::string>{"self", "other", "added"}));
  calls.clear();
  logger.log(LogLevel::info, "log_test.cpp", "test", 2, "second");
  EXPECT_EQ(calls, (std::vector<std::string>{"other", "added"}));
  logger.remove_sink(other);
  calls.clear();
  logger.log(LogLevel::info, "log_test.cpp", "test", 3, "third");
  EXPECT_EQ(calls, (std::vector<std::string>{"added"}));
}

}  // namespace
}  // namespace eventsocket::core
