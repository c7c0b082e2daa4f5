#include <gtest/gtest.h>

#include "server/test_server.hpp"

namespace eventsocket::test {
namespace {

TEST(ServerSmoke, TheSeedTelnetSessionWorks) {
  // The user's notes: telnet, auth ClueCon, events plain CHANNEL_CREATE CUSTOM, api sofia status.
  TestServer server;
  TestClient client(server.port());
  ASSERT_TRUE(client.auth());
  EXPECT_EQ(reply_text(client.command("events plain CHANNEL_CREATE CUSTOM")),
            "+OK event listener enabled plain");
  const auto status = client.command("api sofia status");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->header("Content-Type"), "api/response");
  EXPECT_NE(status->body.find("internal\tprofile"), std::string::npos);
  EXPECT_NE(status->body.find("2 profiles 1 alias\n"), std::string::npos);
}

}  // namespace
}  // namespace eventsocket::test
