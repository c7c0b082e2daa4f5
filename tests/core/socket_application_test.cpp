#include "eventsocket/core/socket_application.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace eventsocket::core {
namespace {

struct Row {
  const char* name;
  const char* data;
  // "host:port/path" per target, '|' between them; "" when the arguments are refused.
  const char* targets;
  bool async;
  bool full;
};

std::string describe(const SocketArgs& args) {
  std::string out;
  for (const SocketTarget& t : args.targets) {
    if (!out.empty()) {
      out += '|';
    }
    out += t.host + ":" + std::to_string(t.port);
    if (!t.path.empty()) {
      out += "/" + t.path;
    }
  }
  return out;
}

class SocketArgsRows : public testing::TestWithParam<Row> {};

TEST_P(SocketArgsRows, ParseAsFreeSwitchDoes) {
  const Row& row = GetParam();
  const auto args = parse_socket_args(row.data);
  if (std::string(row.targets).empty()) {
    EXPECT_FALSE(args) << describe(*args);
    return;
  }
  ASSERT_TRUE(args);
  EXPECT_EQ(describe(*args), row.targets);
  EXPECT_EQ(args->async, row.async);
  EXPECT_EQ(args->full, row.full);
}

const Row kRows[] = {
    {"HostAndPort", "127.0.0.1:8084", "127.0.0.1:8084", false, false},
    {"Async", "127.0.0.1:9000 async", "127.0.0.1:9000", true, false},
    {"Full", "127.0.0.1:9000 full", "127.0.0.1:9000", false, true},
    {"BothAnyOrder", "127.0.0.1:9000 full async", "127.0.0.1:9000", true, true},
    {"CaseIgnored", "127.0.0.1:9000 ASYNC Full", "127.0.0.1:9000", true, true},
    {"OtherWordsIgnored", "127.0.0.1:9000 fast async", "127.0.0.1:9000", true, false},
    {"SpacesCollapse", "  127.0.0.1:9000   async  ", "127.0.0.1:9000", true, false},
    {"DefaultPort", "localhost", "localhost:8084", false, false},
    {"Path", "127.0.0.1:9000/ivr", "127.0.0.1:9000/ivr", false, false},
    {"Alternatives", "127.0.0.1:9000|127.0.0.2:9001 async", "127.0.0.1:9000|127.0.0.2:9001", true,
     false},
    {"PortCarriesOver", "127.0.0.1:9000|127.0.0.2", "127.0.0.1:9000|127.0.0.2:9000", false, false},
    {"PortAfterLastColon", "::1:9000", "::1:9000", false, false},
    {"BadPortIsZero", "127.0.0.1:http", "127.0.0.1:0", false, false},
    {"PortTooLargeIsZero", "127.0.0.1:70000", "127.0.0.1:0", false, false},
    {"QuotedTarget", "'127.0.0.1:9000' full", "127.0.0.1:9000", false, true},
    {"Empty", "", "", false, false},
    {"OnlySpaces", "   ", "", false, false},
    {"OnlyBar", "|", "", false, false},
    {"EmptyAlternativeSkipped", "|127.0.0.1:9000", "127.0.0.1:9000", false, false},
};

INSTANTIATE_TEST_SUITE_P(Rows, SocketArgsRows, testing::ValuesIn(kRows),
                         [](const testing::TestParamInfo<Row>& info) { return info.param.name; });

}  // namespace
}  // namespace eventsocket::core
