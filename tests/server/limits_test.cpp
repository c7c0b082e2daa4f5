// The server's limits (docs/RELIABILITY.md "Limits"): max connections, connection rate per
// address, command rate, login timeout, each logged once per interval; the event bus visited
// only by sessions that want events; the conf params that set them.
//
// Timing: only lower bounds on durations (a limit must hold back at least so long); upper
// bounds are generous timeouts, so slow machines and sanitizers cannot make these flaky.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "eventsocket/server/config.hpp"
#include "eventsocket/server/stats.hpp"
#include "test_server.hpp"

namespace eventsocket::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string rude_rejection(std::string_view message) {
  return "Content-Type: text/rude-rejection\nContent-Length: " + std::to_string(message.size()) +
         "\n\n" + std::string(message);
}

std::string content_type(const std::optional<wire::Message>& m) {
  return m ? std::string(m->header("Content-Type").value_or("")) : std::string("<none>");
}

// Counts the log lines that contain `needle`.
class LogCounter {
 public:
  LogCounter(core::Logger& log, std::string needle) : log_(log), needle_(std::move(needle)) {
    id_ = log_.add_sink([this](const core::LogRecord& r) {
      if (r.text.find(needle_) != std::string::npos) {
        ++count_;
      }
    });
  }
  ~LogCounter() { log_.remove_sink(id_); }
  int count() const { return count_; }

 private:
  core::Logger& log_;
  std::string needle_;
  int id_ = 0;
  std::atomic<int> count_{0};
};

TEST(Limits, MaxConnectionsRefusesTheNextOneWithItsOwnMessage) {
  TestServerOptions options;
  options.server.max_connections = 2;
  TestServer server(options);
  TestClient a(server.port());
  TestClient b(server.port());
  ASSERT_TRUE(a.auth());
  ASSERT_TRUE(b.auth());
  TestClient c(server.port());
  EXPECT_EQ(c.read_until_closed(),
            rude_rejection(wire::kTooManyConnectionsMessage) + std::string(kGoodbye));
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(body_of(a.command("api echo a")), "a");
  EXPECT_EQ(body_of(b.command("api echo b")), "b");
  EXPECT_EQ(server.server().stats().rejected_over_limit, 1u);
  // A place frees up: a new client gets in.
  b.close();
  bool admitted = false;
  for (int i = 0; i < 100 && !admitted; ++i) {
    TestClient d(server.port());
    admitted = content_type(d.read_packet()) == "auth/request";
    if (!admitted) {
      std::this_thread::sleep_for(20ms);
    }
  }
  EXPECT_TRUE(admitted);
}

TEST(Limits, ConnectionRatePerAddressRefusesTheExcessOnlyAndLogsOnce) {
  TestServerOptions options;
  options.server.connection_rate_per_ip = 5;
  options.server.limit_log_interval = 60s;
  TestServer server(options);
  LogCounter logged(server.core().logger(), "connection-rate-per-ip");
  std::vector<std::unique_ptr<TestClient>> admitted;
  int refused = 0;
  for (int i = 0; i < 30; ++i) {
    auto client = std::make_unique<TestClient>(server.port());
    auto first = client->read_packet();
    if (content_type(first) == "auth/request") {
      admitted.push_back(std::move(client));
    } else {
      ASSERT_EQ(content_type(first), "text/rude-rejection");
      EXPECT_EQ(body_of(first), wire::kConnectionRateMessage);
      ++refused;
    }
  }
  // A burst of 5, plus what refilled while the loop ran (5 per second).
  EXPECT_GE(admitted.size(), 5u);
  EXPECT_GE(refused, 10);
  EXPECT_EQ(server.server().stats().rejected_connection_rate, static_cast<unsigned>(refused));
  EXPECT_EQ(logged.count(), 1);    // one line for the whole flood
  for (auto& client : admitted) {  // their greeting was read above
    EXPECT_EQ(reply_text(client->command("auth ClueCon")), "+OK accepted");
  }
  EXPECT_EQ(body_of(admitted.front()->command("api echo still")), "still");
  // The bucket refills: after a second a new connection is welcome again.
  std::this_thread::sleep_for(1100ms);
  TestClient later(server.port());
  EXPECT_EQ(content_type(later.read_packet()), "auth/request");
}

TEST(Limits, CommandRateDelaysButAnswersEveryCommandInOrder) {
  TestServerOptions options;
  options.server.command_rate = 20;
  TestServer server(options);
  TestClient flooder(server.port());
  ASSERT_TRUE(flooder.auth());  // auth is the first of the burst of 20
  TestClient other(server.port());
  ASSERT_TRUE(other.auth());
  std::string burst;
  for (int i = 0; i < 59; ++i) {
    burst += "api echo " + std::to_string(i) + "\n\n";
  }
  const auto start = Clock::now();
  flooder.send(burst);
  // Another connection has its own budget: answered while the flooder is held back.
  EXPECT_EQ(body_of(other.command("api echo other")), "other");
  for (int i = 0; i < 59; ++i) {
    auto reply = flooder.read_packet(10s);
    ASSERT_TRUE(reply) << "reply " << i;
    EXPECT_EQ(reply->body, std::to_string(i));
  }
  // 60 commands, a burst of 20, then 20 per second: at least ~2 s.
  EXPECT_GE(Clock::now() - start, 1800ms);
  EXPECT_GT(server.server().stats().command_throttles, 0u);
}

TEST(Limits, LoginTimeoutClosesAClientThatKeepsSendingOtherCommands) {
  TestServerOptions options;
  options.server.auth_timeout = 300ms;
  options.server.login_timeout = 800ms;
  TestServer server(options);
  const auto start = Clock::now();
  TestClient client(server.port());
  ASSERT_EQ(content_type(client.read_packet()), "auth/request");
  // One packet lifts FreeSWITCH's first-packet deadline; the login deadline still holds.
  std::string seen;
  while (!client.closed() && Clock::now() - start < 10s) {
    client.send("help\n\n");
    seen += client.read_until_closed(100ms);
  }
  EXPECT_TRUE(client.closed());
  EXPECT_GE(Clock::now() - start, 750ms);
  EXPECT_TRUE(seen.ends_with(kGoodbye)) << seen;
  EXPECT_EQ(server.server().stats().auth_timeouts, 1u);
}

// The login deadline runs from the accept, even when it is shorter than the first-packet one.
TEST(Limits, ShortLoginTimeoutAloneClosesAClientThatSentSomethingElse) {
  TestServerOptions options;
  options.server.login_timeout = 400ms;  // the first-packet deadline stays at 25 s
  TestServer server(options);
  const auto start = Clock::now();
  TestClient client(server.port());
  ASSERT_EQ(content_type(client.read_packet()), "auth/request");
  EXPECT_EQ(reply_text(client.command("api status")), "-ERR command not found");
  EXPECT_EQ(client.read_until_closed(10s), kGoodbye);
  EXPECT_TRUE(client.closed());
  EXPECT_GE(Clock::now() - start, 350ms);
}

TEST(Limits, LoginTimeoutDoesNotTouchAuthenticatedClients) {
  TestServerOptions options;
  options.server.login_timeout = 200ms;
  TestServer server(options);
  TestClient client(server.port());
  ASSERT_TRUE(client.auth());
  EXPECT_FALSE(client.read_packet(600ms));
  EXPECT_EQ(body_of(client.command("api echo alive")), "alive");
}

TEST(Limits, OnlySessionsThatWantEventsAreOnTheBus) {
  TestServer server;
  std::vector<std::unique_ptr<TestClient>> idle;
  for (int i = 0; i < 5; ++i) {
    idle.push_back(std::make_unique<TestClient>(server.port()));
    ASSERT_TRUE(idle.back()->auth());
  }
  TestClient subscriber(server.port());
  ASSERT_TRUE(subscriber.auth());
  EXPECT_EQ(server.core().bus().sink_count(), 0u);
  ASSERT_EQ(content_type(subscriber.command("event plain CUSTOM limits::test")), "command/reply");
  EXPECT_EQ(server.core().bus().sink_count(), 1u);
  // It still gets what it asked for.
  EXPECT_EQ(content_type(
                idle.front()->command("sendevent CUSTOM\nEvent-Subclass: limits::test\nX-Test: 1")),
            "command/reply");
  auto event = subscriber.read_packet();
  ASSERT_TRUE(event);
  EXPECT_NE(event->body.find("X-Test: 1"), std::string::npos);
  ASSERT_EQ(content_type(subscriber.command("noevents")), "command/reply");
  EXPECT_EQ(server.core().bus().sink_count(), 0u);
  subscriber.command("event plain ALL");
  EXPECT_EQ(server.core().bus().sink_count(), 1u);
  subscriber.close();
  for (int i = 0; i < 200 && server.core().bus().sink_count() != 0; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(server.core().bus().sink_count(), 0u);
}

TEST(Stats, EventSocketStatsApiShowsConnectionsQueuesAndRefusals) {
  TestServerOptions options;
  options.server.max_connections = 2;
  TestServer server(options);
  TestClient subscriber(server.port());
  ASSERT_TRUE(subscriber.auth());
  ASSERT_EQ(content_type(subscriber.command("event plain CUSTOM stats::test")), "command/reply");
  TestClient asker(server.port());
  ASSERT_TRUE(asker.auth());
  TestClient refused(server.port());
  refused.read_until_closed();
  EXPECT_EQ(content_type(asker.command("sendevent CUSTOM\nEvent-Subclass: stats::test")),
            "command/reply");
  ASSERT_TRUE(subscriber.read_packet());
  const std::string text = body_of(asker.command("api event_socket_stats"));
  EXPECT_NE(text.find("connections: 2 live (2 inbound, 0 outbound), 1 subscribed to events"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("1 over max-connections"), std::string::npos) << text;
  EXPECT_NE(text.find("127.0.0.1"), std::string::npos) << text;
  const std::string json = body_of(asker.command("api event_socket_stats json"));
  EXPECT_NE(json.find("\"connections\":2,"), std::string::npos) << json;
  EXPECT_NE(json.find("\"refused_max_connections\":1,"), std::string::npos) << json;
  EXPECT_NE(json.find("\"events_sent\":1,"), std::string::npos) << json;  // the subscriber's
  EXPECT_NE(json.find("\"heap_in_use_bytes\":"), std::string::npos) << json;
  EXPECT_NE(text.find("bytes resident"), std::string::npos) << text;

  const std::string metrics = server::format_prometheus(server.server().snapshot());
  EXPECT_NE(metrics.find("\neventsocket_connections 2\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("\nprocess_resident_memory_bytes "), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("eventsocket_connections_refused_total{reason=\"max-connections\"} 1\n"),
            std::string::npos);
  EXPECT_NE(metrics.find("eventsocket_listener_events_sent_total{id=\"1\",peer=\"127.0.0.1\","
                         "mode=\"inbound\"} 1\n"),
            std::string::npos)
      << metrics;
}

TEST(Stats, ProcessMemoryCountsResidentPagesAndTheHeapInUse) {
  const server::ProcessMemory before = server::process_memory();
  EXPECT_GT(before.resident_bytes, 1u << 20);
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer has its own allocator, which glibc's mallinfo2 does not see.
  auto block = std::make_unique<char[]>(8u << 20);
  std::memset(block.get(), 1, 8u << 20);
  const server::ProcessMemory during = server::process_memory();
  EXPECT_GE(during.heap_in_use_bytes, before.heap_in_use_bytes + (8u << 20));
  EXPECT_GE(during.resident_bytes, before.resident_bytes + (6u << 20));
  block.reset();
  EXPECT_LT(server::process_memory().heap_in_use_bytes, during.heap_in_use_bytes - (7u << 20));
#endif
}

TEST(Stats, PrometheusLabelValuesAreEscaped) {
  server::StatsSnapshot stats;
  server::ListenerStats l;
  l.id = 7;
  l.peer = "a\"b\\c\nd";
  stats.listeners.push_back(l);
  const std::string text = server::format_prometheus(stats);
  EXPECT_NE(text.find("peer=\"a\\\"b\\\\c\\nd\""), std::string::npos) << text;
}

TEST(LimitsConf, ParamsOfOurOwnAreReadAndCheckedFromEventSocketConf) {
  std::vector<std::string> warnings;
  const auto s = server::parse_event_socket_conf(R"(<configuration name="event_socket.conf">
  <settings>
    <param name="max-connections" value="500"/>
    <param name="auth-timeout-ms" value="5000"/>
    <param name="login-timeout-ms" value="30000"/>
    <param name="connection-rate-per-ip" value="20"/>
    <param name="command-rate" value="2.5"/>
    <param name="event-queue-bytes" value="8M"/>
    <param name="limit-log-interval" value="30"/>
    <param name="stats-listen" value="127.0.0.1:9021"/>
  </settings>
</configuration>)",
                                                 &warnings);
  ASSERT_TRUE(s);
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(s->max_connections, 500u);
  EXPECT_EQ(s->auth_timeout_ms, 5000);
  EXPECT_EQ(s->login_timeout_ms, 30000);
  EXPECT_EQ(s->connection_rate_per_ip, 20.0);
  EXPECT_EQ(s->command_rate, 2.5);
  EXPECT_EQ(s->event_queue_bytes, 8u << 20);
  EXPECT_EQ(s->limit_log_interval, 30);
  EXPECT_EQ(s->stats_listen, "127.0.0.1:9021");
}

TEST(LimitsConf, BadValuesAreWarnedAboutAndIgnored) {
  std::vector<std::string> warnings;
  const auto s = server::parse_event_socket_conf(R"(<configuration name="event_socket.conf">
  <settings>
    <param name="max-connections" value="lots"/>
    <param name="auth-timeout-ms" value="-1"/>
    <param name="command-rate" value="1e3"/>
    <param name="event-queue-bytes" value="12"/>
    <param name="connection-rate-per-ip" value=""/>
  </settings>
</configuration>)",
                                                 &warnings);
  ASSERT_TRUE(s);
  EXPECT_EQ(warnings.size(), 5u);
  EXPECT_FALSE(s->max_connections);
  EXPECT_FALSE(s->auth_timeout_ms);
  EXPECT_FALSE(s->command_rate);
  EXPECT_FALSE(s->event_queue_bytes);
  EXPECT_FALSE(s->connection_rate_per_ip);
}

TEST(LimitsConf, ByteSizes) {
  EXPECT_EQ(server::parse_byte_size("65536"), 65536u);
  EXPECT_EQ(server::parse_byte_size("64k"), 65536u);
  EXPECT_EQ(server::parse_byte_size("2G"), std::size_t{2} << 30);
  EXPECT_FALSE(server::parse_byte_size(""));
  EXPECT_FALSE(server::parse_byte_size("k"));
  EXPECT_FALSE(server::parse_byte_size("-5"));
  EXPECT_FALSE(server::parse_byte_size("5 M"));
  EXPECT_FALSE(server::parse_byte_size("99999999999999999999999"));
}

}  // namespace
}  // namespace eventsocket::test
