// Integration tests: a real switch and server on an ephemeral loopback port, driven over real
// sockets. Each test pins one observable behaviour of PROTOCOL.md / ACL.md.
//
// Timing: this runs on small machines and under ASan, so no assertion depends on a tight
// absolute time. Where latency matters the tests compare the order in which replies arrive,
// and every read has a generous timeout so a broken server fails instead of hanging.

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "eventsocket/acl/acl.hpp"
#include "eventsocket/event/codec.hpp"
#include "eventsocket/event/event.hpp"
#include "server/test_server.hpp"

namespace eventsocket::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kShutdownNotice =
    "Content-Type: text/disconnect-notice\nContent-Length: 31\n\nThe system is being shut down.\n";
constexpr std::string_view kLostEventsNotice =
    "Content-Type: text/disconnect-notice\nContent-Length: 39\n\n"
    "killed listener because of lost events\n";
constexpr std::string_view kRudeRejection =
    "Content-Type: text/rude-rejection\nContent-Length: 24\n\nAccess Denied, go away.\n";

// An acl.conf with two lists: `test-deny` allows only TEST-NET-1 (so it denies 127.0.0.1),
// `test-allow` allows only loopback.
constexpr std::string_view kAclConf = R"(<configuration name="acl.conf" description="Network Lists">
  <network-lists>
    <list name="test-deny" default="deny">
      <node type="allow" cidr="192.0.2.0/24"/>
    </list>
    <list name="test-allow" default="deny">
      <node type="allow" cidr="127.0.0.0/8"/>
    </list>
  </network-lists>
</configuration>)";

// The same list names with the verdicts swapped, for `reloadacl`.
constexpr std::string_view kAclConfSwapped =
    R"(<configuration name="acl.conf" description="Network Lists">
  <network-lists>
    <list name="test-deny" default="deny">
      <node type="allow" cidr="127.0.0.0/8"/>
    </list>
    <list name="test-allow" default="deny">
      <node type="allow" cidr="192.0.2.0/24"/>
    </list>
  </network-lists>
</configuration>)";

std::shared_ptr<const acl::AclRegistry> make_acl(std::string_view xml) {
  auto registry = std::make_shared<acl::AclRegistry>();
  std::vector<std::string> warnings;
  const auto error = registry->load_xml(xml, &warnings);
  EXPECT_FALSE(error.has_value()) << (error ? error->message : "");
  EXPECT_TRUE(warnings.empty());
  return registry;
}

std::string content_type(const std::optional<wire::Message>& m) {
  return m ? std::string(m->header("Content-Type").value_or("")) : std::string("<none>");
}

// A connected, authenticated client (the test fails if either step does).
std::unique_ptr<TestClient> authed_client(TestServer& server) {
  auto client = std::make_unique<TestClient>(server.port());
  EXPECT_TRUE(client->connected());
  EXPECT_TRUE(client->auth());
  return client;
}

// A `sendevent` packet with the given headers (and an optional body).
std::string sendevent_packet(std::string_view name,
                             const std::vector<std::pair<std::string, std::string>>& headers,
                             std::string_view body = {}) {
  std::string out = "sendevent " + std::string(name) + "\n";
  for (const auto& [n, v] : headers) {
    out += n + ": " + v + "\n";
  }
  if (!body.empty()) {
    out += "Content-Length: " + std::to_string(body.size()) + "\n";
  }
  out += "\n";
  out += body;
  return out;
}

// Fires a CUSTOM event from `client` and checks the `+OK <uuid>` reply.
void fire(TestClient& client, const std::vector<std::pair<std::string, std::string>>& headers,
          std::string_view body = {}) {
  client.send(sendevent_packet("CUSTOM", headers, body));
  const auto reply = client.read_packet();
  ASSERT_TRUE(reply);
  EXPECT_EQ(content_type(reply), "command/reply");
  EXPECT_TRUE(reply_text(reply).starts_with("+OK ")) << reply_text(reply);
}

struct ReceivedEvent {
  wire::Message packet;
  event::Event event;
};

// Reads packets until an event (in any format) satisfying `wanted` arrives; other packets
// and events are skipped. Nullopt on timeout or EOF, or when an event fails to decode.
std::optional<ReceivedEvent> next_event(TestClient& client,
                                        const std::function<bool(const event::Event&)>& wanted,
                                        std::chrono::milliseconds timeout = 5s) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      return std::nullopt;
    }
    auto packet = client.read_packet(left);
    if (!packet) {
      return std::nullopt;
    }
    const auto format =
        wire::event_format_from_content_type(packet->header("Content-Type").value_or(""));
    if (!format) {
      continue;
    }
    ReceivedEvent received{*packet, {}};
    std::string error;
    if (!event::decode(packet->body, *format, received.event, &error)) {
      ADD_FAILURE() << "undecodable event: " << error << "\n" << packet->body;
      return std::nullopt;
    }
    if (wanted(received.event)) {
      return received;
    }
  }
}

auto has_header(std::string name, std::string value) {
  return [name = std::move(name), value = std::move(value)](const event::Event& e) {
    return e.header(name) == value;
  };
}

// The header names of a packet, in wire order, read from its raw block.
std::vector<std::string> header_names(const wire::Message& m) {
  std::vector<std::string> names;
  std::string_view block = m.block;
  while (!block.empty()) {
    const std::size_t lf = block.find('\n');
    const std::string_view line = block.substr(0, lf);
    if (!line.empty()) {
      names.emplace_back(line.substr(0, line.find(':')));
    }
    if (lf == std::string_view::npos) {
      break;
    }
    block.remove_prefix(lf + 1);
  }
  return names;
}

// ======================================================================= authentication

TEST(IntegrationAuth, BadPasswordGetsErrInvalidThenGoodbyeAndEofWithoutDelay) {
  TestServer server;
  for (const char* attempt : {"auth wrong", "auth clueCon", "auth  ClueCon", "auth ClueCon "}) {
    SCOPED_TRACE(attempt);
    TestClient client(server.port());
    ASSERT_TRUE(client.connected());
    ASSERT_EQ(content_type(client.read_packet()), "auth/request");
    const auto start = Clock::now();
    const auto reply = client.command(attempt);
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->block, "Content-Type: command/reply\nReply-Text: -ERR invalid\n\n");
    EXPECT_EQ(client.read_until_closed(), kGoodbye);
    EXPECT_TRUE(client.closed());
    // FreeSWITCH has no tar-pit: reply, notice and close follow at once. The bound only
    // has to separate "immediately" from a deliberate delay of a second or more.
    EXPECT_LT(Clock::now() - start, 900ms);
  }
}

TEST(IntegrationAuth, CommandsBeforeAuthAreNotFoundAndTheConnectionStays) {
  TestServer server;
  TestClient client(server.port());
  ASSERT_EQ(content_type(client.read_packet()), "auth/request");
  for (const char* command : {"api echo hi", "event plain ALL", "auth", "userauth", "log 7",
                              "sendevent CUSTOM", "bgapi status", "noevents", "filter a b"}) {
    SCOPED_TRACE(command);
    EXPECT_EQ(reply_text(client.command(command)), "-ERR command not found");
  }
  EXPECT_FALSE(client.closed());
  EXPECT_EQ(reply_text(client.command("auth ClueCon")), "+OK accepted");
  const auto echo = client.command("api echo hi");
  EXPECT_EQ(content_type(echo), "api/response");
  EXPECT_EQ(body_of(echo), "hi");
  // After auth, `auth` is just another unknown command (and does not disconnect).
  EXPECT_EQ(reply_text(client.command("auth ClueCon")), "-ERR command not found");
  EXPECT_EQ(body_of(client.command("api echo still here")), "still here");
}

TEST(IntegrationAuth, ExitBeforeAuthSaysByeThenGoodbye) {
  TestServer server;
  TestClient client(server.port());
  ASSERT_EQ(content_type(client.read_packet()), "auth/request");
  EXPECT_EQ(reply_text(client.command("exit")), "+OK bye");
  EXPECT_EQ(client.read_until_closed(), kGoodbye);
  EXPECT_TRUE(client.closed());
}

TEST(IntegrationAuth, PipelinedCommandsAfterExitAreNotExecuted) {
  TestServer server;
  auto client = authed_client(server);
  client->send("api echo one\n\nexit\n\napi echo two\n\n");
  EXPECT_EQ(body_of(client->read_packet()), "one");
  EXPECT_EQ(reply_text(client->read_packet()), "+OK bye");
  EXPECT_EQ(client->read_until_closed(), kGoodbye);
  EXPECT_TRUE(client->closed());
}

TestServerOptions short_auth_timeout() {
  TestServerOptions options;
  options.server.auth_timeout = 300ms;
  return options;
}

TEST(IntegrationAuthTimeout, IdleClientGetsGoodbyeAndEof) {
  TestServer server(short_auth_timeout());
  const auto start = Clock::now();  // before connecting: the deadline runs from the accept
  TestClient client(server.port());
  ASSERT_EQ(content_type(client.read_packet()), "auth/request");
  EXPECT_EQ(client.read_until_closed(10s), kGoodbye);
  EXPECT_TRUE(client.closed());
  EXPECT_GE(Clock::now() - start, 250ms);  // the deadline, not an immediate close
}

TEST(IntegrationAuthTimeout, PartialFirstPacketIsStillTimedOut) {
  TestServer server(short_auth_timeout());
  TestClient client(server.port());
  ASSERT_EQ(content_type(client.read_packet()), "auth/request");
  client.send("auth Clue");  // never completed
  EXPECT_EQ(client.read_until_closed(10s), kGoodbye);
  EXPECT_TRUE(client.closed());
}

TEST(IntegrationAuthTimeout, ClientThatSentOneNonAuthPacketIsNotTimedOut) {
  TestServer server(short_auth_timeout());
  TestClient client(server.port());
  ASSERT_EQ(content_type(client.read_packet()), "auth/request");
  EXPECT_EQ(reply_text(client.command("help")), "-ERR command not found");
  // Three deadlines pass: nothing arrives, the connection stays open.
  EXPECT_FALSE(client.read_packet(1000ms));
  EXPECT_FALSE(client.closed());
  EXPECT_EQ(reply_text(client.command("auth ClueCon")), "+OK accepted");
  EXPECT_EQ(body_of(client.command("api echo alive")), "alive");
}

TEST(IntegrationAuthTimeout, AuthenticatedClientIsNotTimedOut) {
  TestServer server(short_auth_timeout());
  auto client = authed_client(server);
  EXPECT_FALSE(client->read_packet(1000ms));
  EXPECT_FALSE(client->closed());
  EXPECT_EQ(body_of(client->command("api echo alive")), "alive");
}

// ======================================================================= ACL

TEST(IntegrationAcl, DeniedPeerGetsRudeRejectionThenGoodbyeAndEofWithoutAuthRequest) {
  TestServerOptions options;
  options.acl = make_acl(kAclConf);
  options.server.settings.apply_inbound_acl = {"test-deny"};
  TestServer server(options);
  TestClient client(server.port());
  ASSERT_TRUE(client.connected());
  EXPECT_EQ(client.read_until_closed(), std::string(kRudeRejection) + std::string(kGoodbye));
  EXPECT_TRUE(client.closed());
  EXPECT_EQ(server.server().stats().rejected_by_acl, 1u);
}

TEST(IntegrationAcl, DefaultLoopbackAutoAcceptsIpv4Loopback) {
  TestServer server;  // no apply-inbound-acl: loopback.auto
  TestClient client(server.port(), "127.0.0.1");
  ASSERT_TRUE(client.auth());
  EXPECT_EQ(server.server().stats().rejected_by_acl, 0u);
}

TEST(IntegrationAcl, DefaultLoopbackAutoAcceptsIpv6Loopback) {
  TestServerOptions options;
  options.server.settings.listen_ip = "::1";
  std::unique_ptr<TestServer> server;
  try {
    server = std::make_unique<TestServer>(options);
  } catch (const std::exception& e) {
    GTEST_SKIP() << "no IPv6 loopback here: " << e.what();
  }
  TestClient client(server->port(), "::1");
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.auth());
  EXPECT_EQ(body_of(client.command("api echo v6")), "v6");
}

TEST(IntegrationAcl, LiteralCidrEntryAllows) {
  TestServerOptions options;
  options.server.settings.apply_inbound_acl = {"127.0.0.0/8"};
  TestServer server(options);
  TestClient client(server.port());
  ASSERT_TRUE(client.auth());
}

TEST(IntegrationAcl, EveryEntryMustAllow) {
  TestServerOptions options;
  options.server.settings.apply_inbound_acl = {"loopback.auto", "192.0.2.0/24"};
  TestServer server(options);
  TestClient client(server.port());
  EXPECT_EQ(client.read_until_closed(), std::string(kRudeRejection) + std::string(kGoodbye));
  EXPECT_TRUE(client.closed());
}

TEST(IntegrationAcl, UnknownListNameDeniesEverybody) {
  TestServerOptions options;
  options.server.settings.apply_inbound_acl = {"no-such-list"};
  TestServer server(options);
  TestClient client(server.port());
  EXPECT_EQ(client.read_until_closed(), std::string(kRudeRejection) + std::string(kGoodbye));
}

TEST(IntegrationAcl, SetAclSwapsTheListsForLaterConnections) {
  TestServerOptions options;
  options.acl = make_acl(kAclConf);
  options.server.settings.apply_inbound_acl = {"test-allow"};
  TestServer server(options);

  auto before = authed_client(server);  // allowed by the first lists

  server.server().set_acl(make_acl(kAclConfSwapped));  // reloadacl: test-allow now denies
  {
    TestClient refused(server.port());
    EXPECT_EQ(refused.read_until_closed(), std::string(kRudeRejection) + std::string(kGoodbye));
    EXPECT_TRUE(refused.closed());
  }
  // The connection accepted earlier is not re-checked.
  EXPECT_EQ(body_of(before->command("api echo still")), "still");

  server.server().set_acl(make_acl(kAclConf));  // and back
  auto after = authed_client(server);
  EXPECT_EQ(body_of(after->command("api echo back")), "back");
  EXPECT_EQ(server.server().stats().rejected_by_acl, 1u);
}

// ======================================================================= framing limits

TEST(IntegrationLimits, OversizedHeaderLineBeforeAuthClosesAndServerKeepsServing) {
  TestServer server;
  {
    TestClient client(server.port());
    ASSERT_EQ(content_type(client.read_packet()), "auth/request");
    client.send(std::string(70 * 1024, 'A'));  // one line, no break: over the 64 KiB limit
    EXPECT_EQ(client.read_until_closed(), kGoodbye);
    EXPECT_TRUE(client.closed());
  }
  auto second = authed_client(server);
  EXPECT_EQ(body_of(second->command("api echo next")), "next");
}

TEST(IntegrationLimits, TooManyHeaderLinesBeforeAuthCloses) {
  TestServer server;
  TestClient client(server.port());
  ASSERT_EQ(content_type(client.read_packet()), "auth/request");
  std::string packet = "auth ClueCon\n";
  for (int i = 0; i < 200; ++i) {
    packet += "X-H" + std::to_string(i) + ": v\n";
  }
  packet += "\n";
  client.send(packet);
  EXPECT_EQ(client.read_until_closed(), kGoodbye);
  EXPECT_TRUE(client.closed());
}

TEST(IntegrationLimits, OversizedHeaderBlockAfterAuthClosesWithoutReply) {
  TestServerOptions options;
  options.server.session.limits.max_line_bytes = 1024;
  options.server.session.limits.max_header_count = 32;
  options.server.session.limits.max_header_block_bytes = 4096;
  TestServer server(options);
  {
    auto client = authed_client(server);
    std::string packet = "api echo x\n";
    for (int i = 0; i < 20; ++i) {
      packet += "X-Filler-" + std::to_string(i) + ": " + std::string(400, 'f') + "\n";
    }
    packet += "\n";
    client->send(packet);  // 20 short lines, but 8 KiB in all
    EXPECT_EQ(client->read_until_closed(), kGoodbye);
    EXPECT_TRUE(client->closed());
  }
  {
    auto client = authed_client(server);
    client->send("api echo " + std::string(2000, 'y') + "\n\n");  // one line over 1 KiB
    EXPECT_EQ(client->read_until_closed(), kGoodbye);
    EXPECT_TRUE(client->closed());
  }
  auto survivor = authed_client(server);
  EXPECT_EQ(body_of(survivor->command("api echo fine")), "fine");
}

TEST(IntegrationLimits, ContentLengthOver16MiBOrNegativeClosesWithoutReply) {
  TestServer server;
  for (const char* length : {"16777217", "-1", "99999999999999999999", "2147483648"}) {
    SCOPED_TRACE(length);
    auto client = authed_client(server);
    client->send(std::string("api echo x\nContent-Length: ") + length + "\n\n");
    EXPECT_EQ(client->read_until_closed(), kGoodbye);
    EXPECT_TRUE(client->closed());
  }
  auto survivor = authed_client(server);
  EXPECT_EQ(body_of(survivor->command("api echo fine")), "fine");
}

TEST(IntegrationLimits, ContentLengthOfExactly16MiBIsReadAndTheNextCommandFollows) {
  TestServer server;
  auto client = authed_client(server);
  constexpr std::size_t kMax = 16 * 1024 * 1024;
  client->send("api echo big\nContent-Length: 16777216\n\n");
  client->send(std::string(1024, 'b'));
  // A short body: the server waits for the rest (no reply, no close).
  EXPECT_FALSE(client->read_packet(300ms));
  EXPECT_FALSE(client->closed());
  client->send(std::string(kMax - 1024, 'b'));
  client->send("api echo after\n\n");
  EXPECT_EQ(body_of(client->read_packet(30s)), "big");
  EXPECT_EQ(body_of(client->read_packet(30s)), "after");
}

// ======================================================================= garbage

// Reads what the server sends after garbage: every packet must be a well-formed server
// packet; returns once the server closed (true) or after `timeout` (false).
bool drain_sane_packets(TestClient& client, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    const auto packet = client.read_packet(left);
    if (!packet) {
      break;
    }
    const std::string type = content_type(packet);
    EXPECT_TRUE(type == "command/reply" || type == "api/response" ||
                type == "text/disconnect-notice")
        << "unexpected packet: " << packet->block;
    if (type == "command/reply") {
      EXPECT_TRUE(packet->header("Reply-Text").has_value());
    }
  }
  return client.closed();
}

enum class GarbageKind { raw, no_line_breaks, dense_line_breaks };

std::string make_garbage(std::mt19937& rng, GarbageKind kind, std::size_t size) {
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> gap(1, 40);
  std::string out;
  out.reserve(size + size / 8);
  int until_break = gap(rng);
  while (out.size() < size) {
    char c = static_cast<char>(byte(rng));
    if (kind == GarbageKind::no_line_breaks && (c == '\n' || c == '\r')) {
      c = '\0';  // keep NULs plentiful
    }
    out.push_back(c);
    if (kind == GarbageKind::dense_line_breaks && --until_break == 0) {
      out += (rng() % 2) ? "\n\n" : "\r\n\r\n";
      until_break = gap(rng);
    }
  }
  return out;
}

TEST(IntegrationGarbage, RandomBytesNeverCrashTheServer) {
  TestServer server;
  std::mt19937 rng(20240611);
  int closed_by_server = 0;
  int survived = 0;
  for (bool authenticate : {false, true}) {
    for (GarbageKind kind :
         {GarbageKind::raw, GarbageKind::no_line_breaks, GarbageKind::dense_line_breaks}) {
      for (int round = 0; round < 4; ++round) {
        SCOPED_TRACE(::testing::Message() << "auth=" << authenticate << " kind="
                                          << static_cast<int>(kind) << " round=" << round);
        TestClient client(server.port());
        ASSERT_TRUE(client.connected());
        if (authenticate) {
          ASSERT_TRUE(client.auth());
        } else {
          ASSERT_EQ(content_type(client.read_packet()), "auth/request");
        }
        const std::size_t size = round % 2 == 0 ? 4096 : 100 * 1024;
        client.send(make_garbage(rng, kind, size));
        // End whatever packet is in progress, then leave politely: either the server
        // already closed (limits), or it answers and closes on `exit`.
        client.send("\n\n\n\nexit\n\n");
        if (drain_sane_packets(client, 10s)) {
          ++closed_by_server;
        } else {
          ++survived;
        }
        EXPECT_TRUE(client.closed()) << "neither replies to exit nor closed";
      }
    }
  }
  EXPECT_EQ(survived, 0);
  EXPECT_GT(closed_by_server, 0);
  auto after = authed_client(server);
  EXPECT_EQ(body_of(after->command("api echo survived")), "survived");
}

TEST(IntegrationGarbage, NulBytesInsideACommandAreHarmless) {
  TestServer server;
  auto client = authed_client(server);
  client->send(std::string("api echo a\0b\n\n", 14));
  const auto reply = client->read_packet();
  ASSERT_TRUE(reply);
  EXPECT_EQ(content_type(reply), "api/response");
  client->send(std::string("\0\0\0\n\n", 5));
  EXPECT_EQ(reply_text(client->read_packet()), "-ERR command not found");
  EXPECT_EQ(body_of(client->command("api echo ok")), "ok");
}

// ======================================================================= pipelining, api

TEST(IntegrationPipelining, ManyCommandsInOneWriteAreAnsweredInOrder) {
  TestServer server;
  auto client = authed_client(server);
  std::string batch;
  std::vector<std::pair<std::string, std::string>> expected;  // (content type, text/body)
  for (int i = 0; i < 200; ++i) {
    switch (i % 5) {
      case 0:
        batch += "api echo n" + std::to_string(i) + "\n\n";
        expected.emplace_back("api/response", "n" + std::to_string(i));
        break;
      case 1:
        batch += "event plain HEARTBEAT\r\n\r\n";
        expected.emplace_back("command/reply", "+OK event listener enabled plain");
        break;
      case 2:
        batch += "noevents\n\n";
        expected.emplace_back("command/reply", "+OK no longer listening for events");
        break;
      case 3:
        batch += "nosuchcommand " + std::to_string(i) + "\n\n";
        expected.emplace_back("command/reply", "-ERR command not found");
        break;
      case 4:
        batch += "\n\r\nlog " + std::to_string(i % 8) + "\n\n";
        expected.emplace_back("command/reply", "+OK log level " + std::to_string(i % 8) + " [" +
                                                   std::to_string(i % 8) + "]");
        break;
    }
  }
  client->send(batch);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(i);
    auto packet = client->read_packet(10s);
    // `log` is on: skip any log line the server itself wrote.
    while (packet && content_type(packet) == "log/data") {
      packet = client->read_packet(10s);
    }
    ASSERT_TRUE(packet);
    ASSERT_EQ(content_type(packet), expected[i].first);
    const std::string got = expected[i].first == "api/response" ? packet->body : reply_text(packet);
    EXPECT_EQ(got, expected[i].second);
  }
}

TEST(IntegrationPipelining, CommandsTricklingInSmallPiecesAreAnsweredInOrder) {
  TestServer server;
  auto client = authed_client(server);
  std::string batch;
  for (int i = 0; i < 40; ++i) {
    batch += "api echo t" + std::to_string(i) + "\n\n";
  }
  for (std::size_t at = 0; at < batch.size(); at += 7) {
    client->send(std::string_view(batch).substr(at, 7));
  }
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(body_of(client->read_packet(10s)), "t" + std::to_string(i));
  }
}

TEST(IntegrationApi, SlowApiOnOneConnectionDoesNotDelayAnother) {
  TestServer server;
  std::vector<std::unique_ptr<TestClient>> sleepers;
  for (int i = 0; i < 3; ++i) {  // more sleepers than I/O threads
    sleepers.push_back(authed_client(server));
  }
  auto quick = authed_client(server);
  for (auto& s : sleepers) {
    s->send("api msleep 1500\n\n");
  }
  std::this_thread::sleep_for(50ms);  // let the sleeps start
  const auto echo = quick->command("api echo hi", 10s);
  EXPECT_EQ(body_of(echo), "hi");
  // Order of arrival: the quick reply is here, the slow ones are not yet.
  for (auto& s : sleepers) {
    EXPECT_FALSE(s->read_packet(1ms)) << "msleep answered before echo";
  }
  for (auto& s : sleepers) {
    EXPECT_EQ(body_of(s->read_packet(15s)), "+OK");
  }
}

TEST(IntegrationApi, SlowApiDelaysOnlyLaterCommandsOfTheSameConnection) {
  TestServer server;
  auto client = authed_client(server);
  client->send("api msleep 300\n\napi echo second\n\n");
  EXPECT_EQ(body_of(client->read_packet(10s)), "+OK");
  EXPECT_EQ(body_of(client->read_packet(10s)), "second");
}

// The second command arrives while the first one waits on a worker thread: the I/O thread
// polls the socket meanwhile, and that readiness must not be lost (the reader reads until
// the socket is empty before it waits again).
TEST(IntegrationApi, CommandSentWhileASlowApiRunsIsAnswered) {
  TestServer server;
  auto client = authed_client(server);
  for (int round = 0; round < 3; ++round) {
    client->send("api msleep 300\n\n");
    std::this_thread::sleep_for(100ms);
    client->send("api echo second\n\n");
    EXPECT_EQ(body_of(client->read_packet(10s)), "+OK");
    EXPECT_EQ(body_of(client->read_packet(10s)), "second");
  }
}

// A line break inside a value that a reply echoes (a filter's value, a client's Job-UUID)
// must not end the header there: the rest would pose as headers of their own.
TEST(IntegrationReplies, LineBreaksInEchoedValuesBecomeSpaces) {
  TestServer server;
  auto client = authed_client(server);
  client->send("filter Event-Name a\nContent-Length: 5\r\n\r\n");
  auto reply = client->read_packet();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->block,
            "Content-Type: command/reply\nReply-Text: +OK filter added. [Event-Name]=[a "
            "Content-Length: 5]\n\n");
  client->send("bgapi echo x\r\nJob-UUID: evil\nX-Injected: yes\r\n\r\n");
  reply = client->read_packet();
  ASSERT_TRUE(reply);
  EXPECT_FALSE(reply->header("X-Injected"));
  EXPECT_EQ(body_of(client->command("api echo next")), "next");
}

TEST(IntegrationApi, UnknownApiCommandBody) {
  TestServer server;
  auto client = authed_client(server);
  const auto reply = client->command("api nosuch thing");
  EXPECT_EQ(content_type(reply), "api/response");
  EXPECT_EQ(body_of(reply), "-ERR nosuch Command not found!\n");
}

// ======================================================================= bgapi

TEST(IntegrationBgapi, ReplyThenBackgroundJobEventSeenByEverySubscriber) {
  TestServer server;
  auto issuer = authed_client(server);
  auto other = authed_client(server);
  ASSERT_EQ(reply_text(issuer->command("event plain BACKGROUND_JOB")),
            "+OK event listener enabled plain");
  ASSERT_EQ(reply_text(other->command("event plain BACKGROUND_JOB")),
            "+OK event listener enabled plain");

  const auto reply = issuer->command("bgapi echo hello  world");
  ASSERT_TRUE(reply);
  EXPECT_EQ(content_type(reply), "command/reply");
  const std::string text = reply_text(reply);
  ASSERT_TRUE(text.starts_with("+OK Job-UUID: ")) << text;
  const std::string uuid = text.substr(14);
  EXPECT_EQ(uuid.size(), 36u);
  EXPECT_EQ(reply->header("Job-UUID"), uuid);
  EXPECT_EQ(reply->block, "Content-Type: command/reply\nReply-Text: +OK Job-UUID: " + uuid +
                              "\nJob-UUID: " + uuid + "\n\n");

  for (TestClient* c : {issuer.get(), other.get()}) {
    const auto job = next_event(*c, has_header("Job-UUID", uuid));
    ASSERT_TRUE(job);
    EXPECT_EQ(job->packet.header("Content-Type"), "text/event-plain");
    EXPECT_EQ(job->event.type(), event::EventType::BACKGROUND_JOB);
    EXPECT_EQ(job->event.header("Event-Name"), "BACKGROUND_JOB");
    EXPECT_EQ(job->event.header("Job-Command"), "echo");
    EXPECT_EQ(job->event.header("Job-Command-Arg"), "hello  world");
    EXPECT_EQ(job->event.body(), "hello  world");
  }
}

TEST(IntegrationBgapi, ClientChosenJobUuidIsEchoed) {
  TestServer server;
  auto client = authed_client(server);
  ASSERT_EQ(reply_text(client->command("event plain BACKGROUND_JOB")),
            "+OK event listener enabled plain");
  client->send("bgapi echo mine\nJob-UUID: my-own-job-id\n\n");
  const auto reply = client->read_packet();
  EXPECT_EQ(reply_text(reply), "+OK Job-UUID: my-own-job-id");
  EXPECT_EQ(reply ? reply->header("Job-UUID") : std::nullopt, "my-own-job-id");
  const auto job = next_event(*client, has_header("Job-UUID", "my-own-job-id"));
  ASSERT_TRUE(job);
  EXPECT_EQ(job->event.body(), "mine");
}

TEST(IntegrationBgapi, ReplyComesBeforeTheEventEvenForAnInstantJob) {
  TestServer server;
  auto client = authed_client(server);
  ASSERT_EQ(reply_text(client->command("event plain ALL")), "+OK event listener enabled plain");
  for (int i = 0; i < 20; ++i) {
    const auto reply = client->command("bgapi echo fast" + std::to_string(i));
    // The command/reply is the first packet after the command, before its BACKGROUND_JOB.
    ASSERT_EQ(content_type(reply), "command/reply") << (reply ? reply->block : "");
    ASSERT_TRUE(reply_text(reply).starts_with("+OK Job-UUID: "));
    const std::string uuid = reply_text(reply).substr(14);
    ASSERT_TRUE(next_event(*client, has_header("Job-UUID", uuid)));
  }
}

TEST(IntegrationBgapi, NoJobCommandArgWhenTheArgumentIsEmpty) {
  TestServer server;
  auto client = authed_client(server);
  ASSERT_EQ(reply_text(client->command("event plain BACKGROUND_JOB")),
            "+OK event listener enabled plain");
  const auto reply = client->command("bgapi hostname");
  const std::string uuid = reply_text(reply).substr(std::string_view("+OK Job-UUID: ").size());
  const auto job = next_event(*client, has_header("Job-UUID", uuid));
  ASSERT_TRUE(job);
  EXPECT_EQ(job->event.header("Job-Command"), "hostname");
  EXPECT_FALSE(job->event.header("Job-Command-Arg").has_value());
  EXPECT_EQ(job->event.body(), "testhost");
}

// ======================================================================= events

TEST(IntegrationEvents, SendeventCustomReachesAnAllSubscriberWithSubclassFirst) {
  TestServer server;
  auto listener = authed_client(server);
  auto sender = authed_client(server);
  ASSERT_EQ(reply_text(listener->command("event plain ALL")), "+OK event listener enabled plain");

  sender->send(
      sendevent_packet("CUSTOM", {{"Event-Subclass", "test::integration"}, {"X-Marker", "first"}}));
  const auto reply = sender->read_packet();
  ASSERT_TRUE(reply_text(reply).starts_with("+OK "));
  const std::string event_uuid = reply_text(reply).substr(4);

  const auto got = next_event(*listener, has_header("X-Marker", "first"));
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->packet.block.starts_with("Content-Length: "));  // before Content-Type
  EXPECT_EQ(header_names(got->packet),
            (std::vector<std::string>{"Content-Length", "Content-Type"}));
  EXPECT_EQ(got->packet.header("Content-Type"), "text/event-plain");
  EXPECT_TRUE(got->packet.body.starts_with("Event-Subclass: test%3A%3Aintegration\n"))
      << got->packet.body;
  EXPECT_EQ(got->event.type(), event::EventType::CUSTOM);
  EXPECT_EQ(got->event.subclass(), "test::integration");
  EXPECT_EQ(got->event.header("Event-Name"), "CUSTOM");
  EXPECT_EQ(got->event.header("Event-UUID"), event_uuid);
  EXPECT_EQ(got->event.header("Command"), "sendevent CUSTOM");
}

TEST(IntegrationEvents, JsonAndXmlFormats) {
  TestServer server;
  auto json = authed_client(server);
  auto xml = authed_client(server);
  auto sender = authed_client(server);
  ASSERT_EQ(reply_text(json->command("event json CUSTOM test::fmt")),
            "+OK event listener enabled json");
  ASSERT_EQ(reply_text(xml->command("event xml CUSTOM test::fmt")),
            "+OK event listener enabled xml");
  fire(*sender, {{"Event-Subclass", "test::fmt"}, {"X-Marker", "formats"}}, "body text\n");

  const auto j = next_event(*json, has_header("X-Marker", "formats"));
  ASSERT_TRUE(j);
  EXPECT_EQ(j->packet.header("Content-Type"), "text/event-json");
  EXPECT_TRUE(j->packet.body.starts_with("{")) << j->packet.body;
  EXPECT_EQ(j->event.subclass(), "test::fmt");
  EXPECT_EQ(j->event.body(), "body text\n");

  const auto x = next_event(*xml, has_header("X-Marker", "formats"));
  ASSERT_TRUE(x);
  EXPECT_EQ(x->packet.header("Content-Type"), "text/event-xml");
  EXPECT_TRUE(x->packet.body.starts_with("<event>")) << x->packet.body;
  EXPECT_EQ(x->event.subclass(), "test::fmt");
  EXPECT_EQ(x->event.body(), "body text\n");
}

TEST(IntegrationEvents, AwkwardHeaderValueSurvivesEveryFormat) {
  TestServer server;
  const std::string value = "a  b   c &;:\"<>#?@%+/ end\tx";
  const std::string body = "line one\nline <two> & \"three\"\n";
  std::vector<std::pair<std::string, std::unique_ptr<TestClient>>> listeners;
  for (const char* format : {"plain", "json", "xml"}) {
    auto c = authed_client(server);
    EXPECT_EQ(reply_text(c->command(std::string("event ") + format + " ALL")),
              std::string("+OK event listener enabled ") + format);
    listeners.emplace_back(format, std::move(c));
  }
  auto sender = authed_client(server);
  fire(*sender,
       {{"Event-Subclass", "test::awkward"}, {"X-Marker", "awkward"}, {"X-Awkward", value}}, body);
  for (auto& [format, c] : listeners) {
    SCOPED_TRACE(format);
    const auto got = next_event(*c, has_header("X-Marker", "awkward"));
    ASSERT_TRUE(got);
    EXPECT_EQ(got->packet.header("Content-Type"), "text/event-" + format);
    EXPECT_EQ(got->event.header("X-Awkward"), value);
    EXPECT_EQ(got->event.subclass(), "test::awkward");
    EXPECT_EQ(got->event.body(), body);
  }
}

// Fires every event of `batch` from `sender` (each tagged X-Seq) and returns the X-Seq
// values `listener` receives up to and including the last one, which must pass.
std::vector<std::string> delivered(
    TestClient& listener, TestClient& sender,
    const std::vector<std::vector<std::pair<std::string, std::string>>>& batch) {
  for (std::size_t i = 0; i < batch.size(); ++i) {
    auto headers = batch[i];
    headers.emplace_back("X-Seq", std::to_string(i));
    fire(sender, headers);
  }
  const std::string last = std::to_string(batch.size() - 1);
  std::vector<std::string> seen;
  for (;;) {
    const auto got =
        next_event(listener, [](const event::Event& e) { return e.header("X-Seq").has_value(); });
    if (!got) {
      ADD_FAILURE() << "the last event of the batch never arrived";
      return seen;
    }
    seen.emplace_back(*got->event.header("X-Seq"));
    if (seen.back() == last) {
      return seen;
    }
  }
}

// The next packet that is neither an event nor a log line.
std::optional<wire::Message> next_reply(TestClient& client) {
  for (;;) {
    auto packet = client.read_packet();
    if (!packet || (!wire::event_format_from_content_type(content_type(packet)) &&
                    content_type(packet) != "log/data")) {
      return packet;
    }
  }
}

// `filter <args>`; returns the reply text (events that arrive first are skipped).
std::string filter(TestClient& client, std::string_view args) {
  client.send("filter " + std::string(args) + "\n\n");
  return reply_text(next_reply(client));
}

TEST(IntegrationEvents, FiltersPositiveNegativeRegexAndDelete) {
  TestServer server;
  auto listener = authed_client(server);
  auto sender = authed_client(server);
  ASSERT_EQ(reply_text(listener->command("event plain ALL")), "+OK event listener enabled plain");

  // Positive equality (case-insensitive).
  EXPECT_EQ(filter(*listener, "X-Color red"), "+OK filter added. [X-Color]=[red]");
  EXPECT_EQ(delivered(*listener, *sender,
                      {{{"X-Color", "blue"}}, {{"X-Shade", "dark"}}, {{"X-Color", "RED"}}}),
            (std::vector<std::string>{"2"}));

  // A regex positive filter and a negative one on another header.
  EXPECT_EQ(filter(*listener, "X-Color /^gr[e]+n$/"), "+OK filter added. [X-Color]=[/^gr[e]+n$/]");
  EXPECT_EQ(filter(*listener, "X-Shade -dark"), "+OK filter added. [X-Shade]=[-dark]");
  EXPECT_EQ(delivered(*listener, *sender,
                      {{{"X-Color", "green"}, {"X-Shade", "dark"}},
                       {{"X-Color", "greeeen"}, {"X-Shade", "light"}},
                       {{"X-Color", "Green"}},
                       {{"X-Color", "red"}, {"X-Shade", "dark"}},
                       {{"X-Color", "red"}}}),
            (std::vector<std::string>{"1", "4"}));

  // Deleting one value, then a whole header's filters.
  EXPECT_EQ(filter(*listener, "delete X-Color red"), "+OK filter deleted. [X-Color][red]");
  EXPECT_EQ(delivered(*listener, *sender, {{{"X-Color", "red"}}, {{"X-Color", "green"}}}),
            (std::vector<std::string>{"1"}));
  EXPECT_EQ(filter(*listener, "delete X-Shade"), "+OK filter deleted. [X-Shade][]");
  EXPECT_EQ(delivered(*listener, *sender,
                      {{{"X-Color", "green"}, {"X-Shade", "dark"}}, {{"X-Color", "green"}}}),
            (std::vector<std::string>{"0", "1"}));

  // Only negative filters left: nothing passes.
  EXPECT_EQ(filter(*listener, "delete all"), "+OK filter deleted. [all][]");
  EXPECT_EQ(filter(*listener, "X-Color -blue"), "+OK filter added. [X-Color]=[-blue]");
  fire(*sender, {{"X-Color", "red"}, {"X-Seq", "blocked"}});
  EXPECT_EQ(filter(*listener, "delete all"), "+OK filter deleted. [all][]");

  // No filters: everything passes again.
  EXPECT_EQ(delivered(*listener, *sender, {{{"X-Color", "blue"}}, {{"X-Other", "1"}}}),
            (std::vector<std::string>{"0", "1"}));
}

TEST(IntegrationEvents, FilterReplyArrivesOnItsOwn) {
  // A lone `filter` with nothing else going on must still be answered promptly.
  TestServer server;
  auto client = authed_client(server);
  EXPECT_EQ(reply_text(client->command("filter Event-Name CUSTOM", 5s)),
            "+OK filter added. [Event-Name]=[CUSTOM]");
  EXPECT_EQ(reply_text(client->command("filter delete all", 5s)), "+OK filter deleted. [all][]");
  EXPECT_EQ(reply_text(client->command("filter Event-Name", 5s)), "-ERR invalid syntax");
}

TEST(IntegrationEvents, UnsubscribedAndUnauthenticatedConnectionsGetNoEvents) {
  TestServer server;
  TestClient stranger(server.port());
  ASSERT_EQ(content_type(stranger.read_packet()), "auth/request");
  auto quiet = authed_client(server);
  auto sender = authed_client(server);
  fire(*sender, {{"X-Marker", "nobody"}});
  // The next packet each one sees is the reply to its own next command.
  EXPECT_EQ(reply_text(stranger.command("noevents")), "-ERR command not found");
  EXPECT_EQ(reply_text(quiet->command("noevents")), "-ERR not listening for events");
}

// ======================================================================= log

TEST(IntegrationLog, LogDataPacketLayoutAndNolog) {
  TestServer server;
  auto client = authed_client(server);
  EXPECT_EQ(reply_text(client->command("log 7")), "+OK log level 7 [7]");
  client->send("api log INFO hello from the test\n\n");
  std::optional<wire::Message> log;
  bool got_reply = false;
  for (int i = 0; i < 20 && !(log && got_reply); ++i) {
    auto packet = client->read_packet();
    ASSERT_TRUE(packet);
    if (content_type(packet) == "api/response") {
      EXPECT_EQ(packet->body, "+OK\n");
      got_reply = true;
    } else if (content_type(packet) == "log/data" &&
               packet->body.find("hello from the test") != std::string::npos) {
      log = packet;
    }
  }
  ASSERT_TRUE(log);
  EXPECT_EQ(header_names(*log),
            (std::vector<std::string>{"Content-Type", "Content-Length", "Log-Level", "Text-Channel",
                                      "Log-File", "Log-Func", "Log-Line", "User-Data"}));
  EXPECT_EQ(log->header("Content-Length"), std::to_string(log->body.size()));
  EXPECT_EQ(log->header("Log-Level"), "6");
  EXPECT_EQ(log->header("Log-File"), "mod_commands.c");
  EXPECT_EQ(log->header("Log-Func"), "log_function");
  EXPECT_NE(log->block.find("\nUser-Data: \n\n"), std::string::npos) << log->block;
  EXPECT_NE(log->body.find("[INFO]"), std::string::npos) << log->body;
  EXPECT_TRUE(log->body.ends_with("hello from the test\n")) << log->body;

  EXPECT_EQ(reply_text(client->command("nolog")), "+OK no longer logging");
  client->send("api log INFO not wanted\n\napi echo done\n\n");
  for (int i = 0; i < 2; ++i) {
    const auto packet = client->read_packet();
    ASSERT_TRUE(packet);
    EXPECT_EQ(content_type(packet), "api/response") << packet->body;
  }
  EXPECT_EQ(reply_text(client->command("nolog")), "-ERR not loging");
}

TEST(IntegrationLog, LogApiLinesCarryTextChannel3) {
  // PROTOCOL.md §4.5/§16: a session-channel log line without a session (the `log` API)
  // has Text-Channel 3 and an empty User-Data.
  TestServer server;
  auto client = authed_client(server);
  ASSERT_EQ(reply_text(client->command("log 7")), "+OK log level 7 [7]");
  client->send("api log NOTICE channel check\n\n");
  std::optional<wire::Message> log;
  for (int i = 0; i < 20 && !log; ++i) {
    auto packet = client->read_packet();
    ASSERT_TRUE(packet);
    if (content_type(packet) == "log/data" &&
        packet->body.find("channel check") != std::string::npos) {
      log = packet;
    }
  }
  ASSERT_TRUE(log);
  EXPECT_EQ(log->header("Log-Level"), "5");
  EXPECT_EQ(log->header("Text-Channel"), "3");
  EXPECT_NE(log->block.find("\nUser-Data: \n\n"), std::string::npos) << log->block;
}

TEST(IntegrationLog, LevelThresholdFiltersLines) {
  TestServer server;
  auto client = authed_client(server);
  ASSERT_EQ(reply_text(client->command("log 6")), "+OK log level 6 [6]");
  client->send("api log DEBUG too verbose\n\napi log INFO just right\n\n");
  std::vector<std::string> bodies;
  int replies = 0;
  while (replies < 2 || bodies.empty()) {
    auto packet = client->read_packet();
    ASSERT_TRUE(packet);
    if (content_type(packet) == "api/response") {
      ++replies;
    } else if (content_type(packet) == "log/data") {
      bodies.push_back(packet->body);
    }
  }
  for (const auto& b : bodies) {
    EXPECT_EQ(b.find("too verbose"), std::string::npos) << b;
  }
  EXPECT_TRUE(std::any_of(bodies.begin(), bodies.end(), [](const std::string& b) {
    return b.find("just right") != std::string::npos;
  }));
}

// ======================================================================= slow consumers

TestServerOptions small_queues() {
  TestServerOptions options;
  options.server.session.max_queued_bytes = 256 * 1024;
  options.server.session.max_consecutive_drops = 50;
  return options;
}

// Floods CUSTOM events of about 4 KiB from `sender` while `prober` checks that it still gets
// prompt answers. Bounded: `count` events at most, in pipelined batches. The prober logs at
// CRIT, where the server reports the kill of a listener: the flood stops as soon as that
// line shows up (a speed-up only; without it the flood simply runs to `count`), so the killed
// client can still read its notice within the server's grace period.
void flood(TestClient& sender, TestClient& prober, int count) {
  ASSERT_EQ(reply_text(prober.command("log crit")), "+OK log level crit [2]");
  const std::string payload(4096, 'p');
  const std::string one = sendevent_packet("CUSTOM", {{"Event-Subclass", "test::flood"}}, payload);
  constexpr int kBatch = 50;
  bool kill_logged = false;
  for (int sent = 0, probe = 0; sent < count && !kill_logged; sent += kBatch, ++probe) {
    std::string batch;
    for (int i = 0; i < kBatch; ++i) {
      batch += one;
    }
    sender.send(batch);
    for (int i = 0; i < kBatch; ++i) {
      ASSERT_TRUE(reply_text(sender.read_packet(10s)).starts_with("+OK ")) << "event " << sent + i;
    }
    const auto start = Clock::now();
    const std::string ping = "ping" + std::to_string(probe);
    prober.send("api echo " + ping + "\n\n");
    std::optional<wire::Message> pong;
    for (;;) {
      pong = prober.read_packet(10s);
      if (content_type(pong) != "log/data") {
        break;
      }
      kill_logged = kill_logged || pong->body.find("lost events") != std::string::npos;
    }
    ASSERT_EQ(content_type(pong), "api/response");
    EXPECT_EQ(pong->body, ping);
    // "Prompt": far below the time a stalled writer would take to hold things up.
    EXPECT_LT(Clock::now() - start, 3s);
  }
}

// The stalled client keeps the default receive buffer: shrinking SO_RCVBUF on a connected
// socket makes the final drain crawl (zero-window probes: ~4 MiB took 98 s here), while a
// socket that never reads does not autotune, so it stays small (~128 KiB) anyway.
TEST(IntegrationSlowConsumer, ClientThatStopsReadingIsKilledWhileOthersStayPrompt) {
  TestServer server(small_queues());
  auto stalled = authed_client(server);
  ASSERT_EQ(reply_text(stalled->command("event plain ALL")), "+OK event listener enabled plain");
  auto sender = authed_client(server);
  auto prober = authed_client(server);

  // At most 2000 events of 4 KiB = 8 MiB: more than the socket buffers, the 256 KiB queue
  // and 50 drops together.
  flood(*sender, *prober, 2000);
  if (HasFatalFailure()) {
    return;
  }

  // Now read what the stalled client was sent: events, then the kill notice, then EOF.
  const std::string all = stalled->read_until_closed(30s);
  EXPECT_TRUE(stalled->closed());
  EXPECT_TRUE(all.starts_with("Content-Length: "));  // event packets first
  EXPECT_TRUE(all.ends_with(kLostEventsNotice))
      << all.substr(all.size() - std::min<std::size_t>(all.size(), 300));
  EXPECT_EQ(all.find(kGoodbye), std::string::npos);
  prober->send("api echo after\n\n");
  EXPECT_EQ(body_of(next_reply(*prober)), "after");  // skipping a late kill log line
  // Counted once the connection is gone.
  const auto deadline = Clock::now() + 10s;
  while (server.server().stats().active > 2 && Clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_GT(server.server().stats().events_dropped, 50u);
}

TEST(IntegrationSlowConsumer, KilledClientIsDisconnectedEvenIfItNeverReadsAgain) {
  // PROTOCOL.md §10: the kill path writes the notice, shuts the socket down and closes it.
  // A client that never reads again must not keep its connection forever.
  TestServer server(small_queues());
  auto stalled = authed_client(server);
  ASSERT_EQ(reply_text(stalled->command("event plain ALL")), "+OK event listener enabled plain");
  auto sender = authed_client(server);
  auto prober = authed_client(server);
  ASSERT_EQ(server.server().stats().active, 3u);

  flood(*sender, *prober, 2000);
  if (HasFatalFailure()) {
    return;
  }
  const auto deadline = Clock::now() + 15s;
  while (server.server().stats().active > 2 && Clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(server.server().stats().active, 2u) << "the stalled connection is still open";
  prober->send("api echo after\n\n");
  EXPECT_EQ(body_of(next_reply(*prober)), "after");  // skipping a late kill log line
}

// ======================================================================= load

TEST(IntegrationLoad, ThousandConcurrentClients) {
  constexpr int kClients = 1000;
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  const rlim_t needed = 2 * kClients + 200;  // both ends live in this process
  if (limit.rlim_cur < needed) {
    rlimit raised = limit;
    raised.rlim_cur = std::min<rlim_t>(needed, limit.rlim_max);
    if (raised.rlim_cur < needed || ::setrlimit(RLIMIT_NOFILE, &raised) != 0) {
      GTEST_SKIP() << "cannot raise RLIMIT_NOFILE to " << needed << " (hard limit "
                   << limit.rlim_max << ")";
    }
  }

  TestServer server;
  const auto start = Clock::now();
  std::vector<std::unique_ptr<TestClient>> clients;
  clients.reserve(kClients);
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<TestClient>(server.port()));
    ASSERT_TRUE(clients.back()->connected()) << "client " << i;
  }
  for (int i = 0; i < kClients; ++i) {
    ASSERT_EQ(content_type(clients[i]->read_packet(20s)), "auth/request") << "client " << i;
  }
  for (auto& c : clients) {
    c->send("auth ClueCon\n\n");
  }
  for (int i = 0; i < kClients; ++i) {
    ASSERT_EQ(reply_text(clients[i]->read_packet(20s)), "+OK accepted") << "client " << i;
  }
  for (int i = 0; i < kClients; ++i) {
    clients[i]->send("api echo " + std::to_string(i) + "\n\n");
  }
  for (int i = 0; i < kClients; ++i) {
    const auto reply = clients[i]->read_packet(20s);
    ASSERT_EQ(content_type(reply), "api/response") << "client " << i;
    ASSERT_EQ(reply->body, std::to_string(i)) << "client " << i;
  }
  EXPECT_EQ(server.server().stats().active, static_cast<std::uint64_t>(kClients));
  clients.clear();  // close them all

  const auto deadline = Clock::now() + 20s;
  while (server.server().stats().active > 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(server.server().stats().active, 0u);
  EXPECT_EQ(server.server().stats().accepted, static_cast<std::uint64_t>(kClients));
  EXPECT_LT(Clock::now() - start, 120s);
}

// ======================================================================= shutdown

TEST(IntegrationShutdown, StopSendsTheShutdownNoticeToEveryClient) {
  TestServer server;
  auto a = authed_client(server);
  auto b = authed_client(server);
  ASSERT_EQ(reply_text(b->command("event plain ALL")), "+OK event listener enabled plain");
  TestClient stranger(server.port());
  ASSERT_EQ(content_type(stranger.read_packet()), "auth/request");

  server.server().stop();

  for (TestClient* c : {a.get(), b.get(), &stranger}) {
    EXPECT_EQ(c->read_until_closed(), kShutdownNotice);
    EXPECT_TRUE(c->closed());
  }
  TestClient late(server.port());
  EXPECT_TRUE(!late.connected() || late.read_until_closed(2s).empty());
}

}  // namespace
}  // namespace eventsocket::test
