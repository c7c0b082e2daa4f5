// The client library against a real eventsocketd (TestServer on an ephemeral loopback port),
// and against a listener that accepts and then says nothing.

#include <gtest/gtest.h>

#include <asio.hpp>
#include <asio/use_future.hpp>
#include <chrono>
#include <future>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "eventsocket/client/blocking.hpp"
#include "eventsocket/client/connection.hpp"
#include "eventsocket/server/config.hpp"
#include "server/test_server.hpp"

namespace eventsocket::client {
namespace {

using namespace std::chrono_literals;
using test::TestServer;

ConnectOptions options_for(const TestServer& server) {
  ConnectOptions o;
  o.port = server.port();
  o.timeout = 5s;
  return o;
}

TEST(Client, ConnectsAuthenticatesAndRunsApi) {
  TestServer server;
  BlockingConnection c(options_for(server));
  EXPECT_TRUE(c.connected());
  EXPECT_EQ(c.api("echo hello world"), "hello world");
  const Reply r = c.command("api", {}, {});  // `api` without a space: not a command
  EXPECT_EQ(r.text(), "-ERR command not found");
  EXPECT_FALSE(r.ok());
}

TEST(Client, WrongPasswordIsRefused) {
  TestServer server;
  ConnectOptions o = options_for(server);
  o.password = "wrong";
  try {
    BlockingConnection c(o);
    FAIL() << "connected with a wrong password";
  } catch (const ClientError& e) {
    EXPECT_NE(std::string(e.what()).find("authentication refused: -ERR invalid"), std::string::npos)
        << e.what();
  }
}

TEST(Client, UserauthWithTheDirectory) {
  test::TestServerOptions options;
  auto directory = std::make_shared<server::Directory>();
  directory->load_xml(
      R"(<include><domain name="example.test"><users>
           <user id="alice"><params><param name="esl-password" value="s3cret"/>
           <param name="esl-allowed-api" value="echo"/></params></user>
         </users></domain></include>)",
      "", nullptr);
  options.server.session.directory = directory;
  TestServer server(options);
  ConnectOptions o = options_for(server);
  o.user = "alice@example.test";
  o.password = "s3cret";
  BlockingConnection c(o);
  EXPECT_EQ(c.api("echo as alice"), "as alice");
  EXPECT_EQ(c.command("api status").text(), "-ERR permission denied");
  o.password = "wrong";
  EXPECT_THROW(BlockingConnection refused(o), ClientError);
}

TEST(Client, NobodyListeningIsAClearError) {
  test::OutboundListener closed;
  ConnectOptions o;
  o.port = closed.port();
  closed.close();
  EXPECT_THROW(BlockingConnection c(o), ClientError);
}

TEST(Client, ServerThatNeverSpeaksTimesOut) {
  test::OutboundListener silent;  // accepts (backlog) and never writes
  ConnectOptions o;
  o.port = silent.port();
  o.timeout = 300ms;
  const auto start = std::chrono::steady_clock::now();
  try {
    BlockingConnection c(o);
    FAIL() << "connected to a server that never greets";
  } catch (const ClientError& e) {
    EXPECT_NE(std::string(e.what()).find("no answer within"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

// A deadline fails that command only; its late reply is read and dropped, so the next
// command gets its own reply.
TEST(Client, ApiDeadlineFiresAndTheConnectionStaysUsable) {
  TestServer server;
  BlockingConnection c(options_for(server));
  try {
    c.api("msleep 1000", 150ms);
    FAIL() << "msleep 1000 answered within 150 ms";
  } catch (const ClientError& e) {
    EXPECT_NE(std::string(e.what()).find("no answer within 150 ms"), std::string::npos) << e.what();
  }
  EXPECT_EQ(c.api("echo after", 5s), "after");
}

TEST(Client, BgapiReturnsItsOwnJob) {
  TestServer server;
  BlockingConnection c(options_for(server));
  const BackgroundJob job = c.bgapi("echo from-the-background");
  EXPECT_EQ(job.body, "from-the-background");
  EXPECT_EQ(job.event.header_or_empty("Job-UUID"), job.job_uuid);
  EXPECT_EQ(job.event.header_or_empty("Job-Command"), "echo");
  // The job's event went to its bgapi, not to the event queue.
  EXPECT_FALSE(c.next_event(100ms));
}

// Many bgapi at once on one connection, each result reaching the right caller.
TEST(Client, ConcurrentBgapiResultsAreNotMixedUp) {
  TestServer server;
  asio::io_context io;
  std::vector<std::string> results(30);
  auto all = [&]() -> asio::awaitable<void> {
    auto c = co_await Connection::connect(io.get_executor(), options_for(server));
    std::vector<std::shared_ptr<BackgroundJob>> out(30);
    int done = 0;
    for (int i = 0; i < 30; ++i) {
      asio::co_spawn(
          io,
          [&, i, c]() -> asio::awaitable<void> {
            BackgroundJob job = co_await c->bgapi("echo job-" + std::to_string(i));
            results[static_cast<std::size_t>(i)] = job.body;
            ++done;
          },
          asio::detached);
    }
    asio::steady_timer t(io);
    while (done < 30) {
      t.expires_after(5ms);
      co_await t.async_wait(asio::use_awaitable);
    }
    c->close();
  };
  auto finished = asio::co_spawn(io, all(), asio::use_future);
  std::thread runner([&] { io.run_for(10s); });
  const bool ready = finished.wait_for(10s) == std::future_status::ready;
  io.stop();
  runner.join();
  ASSERT_TRUE(ready) << "the jobs did not all finish";
  finished.get();
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(results[static_cast<std::size_t>(i)], "job-" + std::to_string(i));
  }
}

TEST(Client, EventsArriveInOrderInEveryFormat) {
  TestServer server;
  for (const std::string format : {"plain", "json", "xml"}) {
    SCOPED_TRACE(format);
    BlockingConnection subscriber(options_for(server));
    BlockingConnection publisher(options_for(server));
    EXPECT_EQ(subscriber.command("event " + format + " CUSTOM client::seq").text(),
              "+OK event listener enabled " + format);
    for (int i = 0; i < 50; ++i) {
      const Reply r = publisher.command("sendevent CUSTOM", {{"Event-Subclass", "client::seq"},
                                                             {"Seq", std::to_string(i)},
                                                             {"Text", "a b&c<d>\"e\""}});
      ASSERT_TRUE(r.ok()) << r.text();
    }
    for (int i = 0; i < 50; ++i) {
      const auto e = subscriber.next_event(5s);
      ASSERT_TRUE(e) << "event " << i << " did not arrive";
      EXPECT_EQ(e->subclass(), "client::seq");
      EXPECT_EQ(e->header_or_empty("Seq"), std::to_string(i));
      EXPECT_EQ(e->header_or_empty("Text"), "a b&c<d>\"e\"");
    }
    EXPECT_EQ(subscriber.dropped_events(), 0u);
  }
}

TEST(Client, LineBreaksInCommandsAndHeadersAreRefusedBeforeSending) {
  TestServer server;
  BlockingConnection c(options_for(server));
  EXPECT_THROW(c.api("echo x\n\nexit"), ClientError);
  EXPECT_THROW(c.command("api echo x\r"), ClientError);
  EXPECT_THROW(c.command("sendevent CUSTOM", {{"Event-Subclass", "a\nb"}}), ClientError);
  EXPECT_THROW(c.command("sendevent CUSTOM", {{"Bad\nName", "x"}}), ClientError);
  EXPECT_THROW(c.command("sendevent CUSTOM", {{"Colon:Name", "x"}}), ClientError);
  // Nothing of that reached the server: the connection is still authenticated and in step.
  EXPECT_EQ(c.api("echo still here"), "still here");
}

TEST(Client, FullQueueDropsEventsAndSaysHowMany) {
  TestServer server;
  ConnectOptions o = options_for(server);
  o.max_queued_events = 5;
  BlockingConnection subscriber(o);
  BlockingConnection publisher(options_for(server));
  ASSERT_TRUE(subscriber.command("event plain CUSTOM client::flood").ok());
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(publisher
                    .command("sendevent CUSTOM",
                             {{"Event-Subclass", "client::flood"}, {"Seq", std::to_string(i)}})
                    .ok());
  }
  // Everything has reached the subscriber's queue once its own command round-trips.
  ASSERT_TRUE(subscriber.command("event plain HEARTBEAT").ok());
  std::uint64_t reported = 0;
  int delivered = 0;
  while (auto e = subscriber.next_event(300ms)) {
    if (e->subclass() == kGapSubclass) {
      reported += std::stoull(std::string(e->header_or_empty("Dropped-Events")));
    } else {
      ++delivered;
    }
  }
  EXPECT_EQ(delivered, 5);
  EXPECT_EQ(subscriber.dropped_events(), 35u);
  // The drops after the last gap notice are reported with the next one; here the queue has
  // been read empty, so one more event brings the notice of the rest.
  ASSERT_TRUE(
      publisher.command("sendevent CUSTOM", {{"Event-Subclass", "client::flood"}, {"Seq", "last"}})
          .ok());
  while (auto e = subscriber.next_event(1s)) {
    if (e->subclass() == kGapSubclass) {
      reported += std::stoull(std::string(e->header_or_empty("Dropped-Events")));
    } else {
      EXPECT_EQ(e->header_or_empty("Seq"), "last");
      break;
    }
  }
  EXPECT_EQ(reported, 35u);
}

TEST(Client, LogLinesArriveAfterLog) {
  TestServer server;
  BlockingConnection c(options_for(server));
  EXPECT_EQ(c.command("log 7").text(), "+OK log level 7 [7]");
  EXPECT_TRUE(c.api("originate null/x &log(ERR client-log-line)").starts_with("+OK"));
  std::optional<LogLine> found;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!found && std::chrono::steady_clock::now() < deadline) {
    auto l = c.next_log(500ms);
    if (l && l->text.find("client-log-line") != std::string::npos) {
      found = std::move(l);
    }
  }
  ASSERT_TRUE(found) << "the log application's line did not arrive";
  EXPECT_EQ(found->level, 3);
  EXPECT_FALSE(found->file.empty());
}

TEST(Client, CommandsAfterTheServerClosedFailClearly) {
  TestServer server;
  BlockingConnection c(options_for(server));
  EXPECT_EQ(c.command("exit").text(), "+OK bye");
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(c.connected());
  try {
    c.api("echo x");
    FAIL() << "a command worked after the server closed";
  } catch (const ClientError& e) {
    EXPECT_NE(std::string(e.what()).find("disconnected"), std::string::npos) << e.what();
  }
  EXPECT_THROW(c.next_event(100ms), ClientError);
}

// The outbound side: eventsocketd's socket application calls an OutboundServer, whose
// handler drives the call with the library's own methods.
TEST(Client, OutboundServerDrivesACall) {
  TestServer server;
  asio::io_context io;
  struct Seen {
    std::string uuid, socket_mode, control, answered, playback_response, variable, missing, cause,
        error;
    bool hangup_complete = false;
    std::atomic<bool> finished{false};
  } seen;
  OutboundServer outbound(
      io.get_executor(), "127.0.0.1", 0,
      [&seen](std::shared_ptr<OutboundSession> call) -> asio::awaitable<void> {
        try {
          const event::Event data = co_await call->connect();
          seen.uuid = call->uuid();
          seen.socket_mode = data.header_or_empty("Socket-Mode");
          seen.control = data.header_or_empty("Control");
          co_await call->myevents();
          co_await call->linger();
          const event::Event answered = co_await call->execute("answer");
          seen.answered = answered.header_or_empty("Application");
          const event::Event played = co_await call->execute("playback", "silence_stream://100");
          seen.playback_response = played.header_or_empty("Application-Response");
          seen.variable = (co_await call->getvar("socket_host")).value_or("unset");
          seen.missing = (co_await call->getvar("no_such_variable")).value_or("unset");
          co_await call->hangup("USER_BUSY");
          Connection& c = call->connection();
          while (auto e = co_await c.next_event(5s)) {
            if (e->type() == event::EventType::CHANNEL_HANGUP_COMPLETE) {
              seen.hangup_complete = true;
              seen.cause = e->header_or_empty("Hangup-Cause");
              break;
            }
          }
        } catch (const ClientError& e) {
          seen.error = e.what();
        }
        seen.finished = true;
      });
  std::thread runner([&] { io.run_for(15s); });
  BlockingConnection control(options_for(server));
  const std::string uuid = "c11e0000-0000-4000-8000-000000000001";
  EXPECT_EQ(control.api("originate {origination_uuid=" + uuid + "}null/x '&socket(127.0.0.1:" +
                        std::to_string(outbound.port()) + " async full)'"),
            "+OK " + uuid + "\n");
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!seen.finished && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  io.stop();
  runner.join();
  ASSERT_TRUE(seen.finished) << "the handler did not finish";
  EXPECT_EQ(seen.error, "");
  EXPECT_EQ(seen.uuid, uuid);
  EXPECT_EQ(seen.socket_mode, "async");
  EXPECT_EQ(seen.control, "full");
  EXPECT_EQ(seen.answered, "answer");
  EXPECT_EQ(seen.playback_response, "FILE PLAYED");
  EXPECT_EQ(seen.variable, "127.0.0.1");
  EXPECT_EQ(seen.missing, "unset");
  EXPECT_TRUE(seen.hangup_complete);
  EXPECT_EQ(seen.cause, "USER_BUSY");
}

// Every typed command against eventsocketd: what it sends is what the server expects.
TEST(Client, TypedCommandsDoWhatTheirNamesSay) {
  TestServer server;
  asio::io_context io;
  std::vector<std::string> seen;
  auto run = [&]() -> asio::awaitable<void> {
    auto c = co_await Connection::connect(io.get_executor(), options_for(server));
    co_await c->events("json", "CUSTOM test::typed");
    co_await c->filter("Event-Subclass", "test::typed");
    Headers headers;
    headers.emplace_back("Event-Subclass", "test::typed");
    headers.emplace_back("Seq", "1");
    const Reply sent = co_await c->sendevent("CUSTOM", headers, "the body");
    seen.push_back(sent.text().substr(0, 4));
    auto e = co_await c->next_event(2s);
    seen.push_back(e ? std::string(e->header_or_empty("Seq")) + "/" + std::string(e->body())
                     : "no event");
    co_await c->filter_delete("Event-Subclass", "test::typed");
    co_await c->nixevent("CUSTOM test::typed");
    co_await c->sendevent("CUSTOM", headers);
    e = co_await c->next_event(200ms);
    seen.push_back(e ? "unwanted event" : "nothing");
    co_await c->noevents();
    co_await c->log("debug");
    co_await c->nolog();
    try {
      co_await c->divert_events(true);  // inbound, without myevents: FreeSWITCH refuses too
      seen.push_back("accepted");
    } catch (const ClientError& error) {
      seen.push_back(error.what());
    }
    try {
      co_await c->events("plain", "NOT_AN_EVENT");
      seen.push_back("accepted");
    } catch (const ClientError& error) {
      seen.push_back(error.what());
    }
    try {
      co_await c->hangup("NORMAL_CLEARING", "00000000-0000-4000-8000-00000000dead");
      seen.push_back("accepted");
    } catch (const ClientError& error) {
      seen.push_back(std::string(error.what()).substr(0, 36));
    }
    c->close();
  };
  auto done = asio::co_spawn(io, run, asio::use_future);
  io.run_for(10s);
  ASSERT_EQ(done.wait_for(0s), std::future_status::ready);
  done.get();
  EXPECT_EQ(seen, (std::vector<std::string>{"+OK ", "1/the body", "nothing",
                                            "divert_events on: -ERR not controlling a session.",
                                            "event plain NOT_AN_EVENT: -ERR no keywords supplied",
                                            "sendmsg 00000000-0000-4000-8000-0000"}));
}

// A restarted server: the connection comes back by itself, with its subscription, once.
TEST(Client, ReconnectsToARestartedServerWithItsSubscriptions) {
  test::TestServerOptions options;
  auto server = std::make_unique<TestServer>(options);
  const unsigned short port = server->port();
  ConnectOptions o = options_for(*server);
  o.reconnect.enabled = true;
  o.reconnect.initial_delay = 50ms;
  std::atomic<int> resyncs{0};
  o.reconnect.on_resync = [&](Connection&) { ++resyncs; };
  BlockingConnection c(o);
  ASSERT_TRUE(c.command("event plain CUSTOM test::again").ok());
  server.reset();  // the shutdown notice, then the port closes
  options.server.settings.listen_port = port;
  server = std::make_unique<TestServer>(options);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (resyncs == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(resyncs, 1);
  BlockingConnection publisher(options_for(*server));
  ASSERT_TRUE(publisher.command("sendevent CUSTOM", {{"Event-Subclass", "test::again"}}).ok());
  const auto e = c.next_event(2s);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->subclass(), "test::again");
  EXPECT_EQ(c.next_event(300ms), std::nullopt) << "one subscription, one copy";
}

// Calls' events: each channel's in the order the switch fired them.
TEST(Client, EachChannelsEventsArriveInOrder) {
  TestServer server;
  BlockingConnection c(options_for(server));
  ASSERT_TRUE(c.command("event plain ALL").ok());
  BlockingConnection control(options_for(server));
  for (int i = 0; i < 10; ++i) {
    control.bgapi("originate null/x &hangup()");
  }
  std::map<std::string, std::vector<std::string>> names;
  std::map<std::string, std::uint64_t> last_sequence;
  int complete = 0;
  while (complete < 10) {
    const auto e = c.next_event(5s);
    ASSERT_TRUE(e) << complete << " calls complete";
    const std::string uuid(e->header_or_empty("Unique-ID"));
    if (uuid.empty()) {
      continue;
    }
    const std::uint64_t sequence = std::stoull(std::string(e->header_or_empty("Event-Sequence")));
    EXPECT_GT(sequence, last_sequence[uuid]);
    last_sequence[uuid] = sequence;
    names[uuid].emplace_back(e->header_or_empty("Event-Name"));
    complete += e->type() == event::EventType::CHANNEL_DESTROY;
  }
  ASSERT_EQ(names.size(), 10u);
  for (const auto& [uuid, list] : names) {
    const auto at = [&](std::string_view name) {
      return std::find(list.begin(), list.end(), name) - list.begin();
    };
    EXPECT_LT(at("CHANNEL_CREATE"), at("CHANNEL_HANGUP")) << uuid;
    EXPECT_LT(at("CHANNEL_HANGUP"), at("CHANNEL_HANGUP_COMPLETE")) << uuid;
    EXPECT_EQ(list.back(), "CHANNEL_DESTROY") << uuid;
  }
}

}  // namespace
}  // namespace eventsocket::client
