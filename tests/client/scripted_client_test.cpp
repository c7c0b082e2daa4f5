// The client against a scripted fake server (real sockets, scripted bytes): a server that
// closes in the middle of a packet, one that stalls, a job result written together with its
// reply, cancellation, and reconnects that restore the subscriptions exactly once.

#include <gtest/gtest.h>

#include <asio.hpp>
#include <asio/use_future.hpp>
#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "eventsocket/client/blocking.hpp"
#include "eventsocket/client/connection.hpp"
#include "scripted_server.hpp"

namespace eventsocket::client {
namespace {

using namespace std::chrono_literals;
using test::ScriptedServer;

ConnectOptions options_for(unsigned short port) {
  ConnectOptions o;
  o.port = port;
  o.timeout = 5s;
  return o;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ClientError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ClientScripted, AServerThatClosesMidBodyFailsTheCommandClearly) {
  ScriptedServer server([](asio::ip::tcp::socket& s, int) {
    if (!ScriptedServer::greet_and_accept(s) || !ScriptedServer::read_command(s)) {
      return;
    }
    ScriptedServer::send(s, "Content-Type: api/response\nContent-Length: 100\n\nonly part of it");
    s.close();
  });
  BlockingConnection c(options_for(server.port()));
  const std::string error = error_of([&] { c.api("status"); });
  EXPECT_NE(error.find("api status: the server closed the connection in the middle of a packet"),
            std::string::npos)
      << error;
  EXPECT_FALSE(c.connected());
  EXPECT_NE(error_of([&] { c.api("status"); }).find("not connected"), std::string::npos);
  EXPECT_THROW(c.next_event(100ms), ClientError);
}

TEST(ClientScripted, AServerThatStallsMidSessionTripsTheDeadlinesOnly) {
  std::promise<void> release;
  auto released = release.get_future().share();
  ScriptedServer server([released](asio::ip::tcp::socket& s, int) {
    if (!ScriptedServer::greet_and_accept(s)) {
      return;
    }
    released.wait_for(10s);  // reads nothing, answers nothing
  });
  BlockingConnection c(options_for(server.port()));
  const std::string error = error_of([&] { c.api("status", 200ms); });
  EXPECT_NE(error.find("api status: no answer within 200 ms"), std::string::npos) << error;
  EXPECT_TRUE(c.connected()) << "a slow server is not a lost one";
  EXPECT_EQ(c.next_event(50ms), std::nullopt);
  release.set_value();
}

TEST(ClientScripted, AGreetingCutShortTimesTheConnectOut) {
  ScriptedServer server([](asio::ip::tcp::socket& s, int) {
    ScriptedServer::send(s, "Content-Type: auth/req");
    std::this_thread::sleep_for(1s);
  });
  ConnectOptions o = options_for(server.port());
  o.timeout = 200ms;
  const std::string error = error_of([&] { BlockingConnection c(o); });
  EXPECT_NE(error.find("waiting for the greeting"), std::string::npos) << error;
}

TEST(ClientScripted, ABackgroundJobWrittenWithItsReplyIsNotMissed) {
  ScriptedServer server([](asio::ip::tcp::socket& s, int) {
    if (!ScriptedServer::greet_and_accept(s)) {
      return;
    }
    // `event plain BACKGROUND_JOB` first.
    if (!ScriptedServer::read_command(s)) {
      return;
    }
    ScriptedServer::send(s, test::reply("+OK event listener enabled plain"));
    // The bgapi: read its Job-UUID header, answer and publish the result in one write.
    std::string data;
    if (!ScriptedServer::read_command(s, 5s, &data)) {
      return;
    }
    const std::size_t at = data.find("Job-UUID: ");
    const std::string job = data.substr(at + 10, 36);
    const std::string body = "+OK done\n";
    const std::string inner = "Event-Name: BACKGROUND_JOB\nJob-UUID: " + job +
                              "\nContent-Length: " + std::to_string(body.size()) + "\n\n" + body;
    ScriptedServer::send(s, test::reply("+OK Job-UUID: " + job) +
                                "Content-Length: " + std::to_string(inner.size()) +
                                "\nContent-Type: text/event-plain\n\n" + inner);
    ScriptedServer::read_command(s, 10s);
  });
  asio::io_context io;
  auto result = asio::co_spawn(
      io,
      [&]() -> asio::awaitable<BackgroundJob> {
        auto c = co_await Connection::connect(io.get_executor(), options_for(server.port()));
        BackgroundJob job = co_await c->bgapi("status", 60s);
        c->close();
        co_return job;
      },
      asio::use_future);
  std::thread runner([&] { io.run_for(15s); });
  // The deadline is a minute: a result left waiting for it would fail here.
  const bool ready = result.wait_for(10s) == std::future_status::ready;
  io.stop();
  runner.join();
  ASSERT_TRUE(ready);
  EXPECT_EQ(result.get().body, "+OK done\n");
}

TEST(ClientScripted, ACancelledCommandsLateReplyDoesNotReachTheNextCommand) {
  ScriptedServer server([](asio::ip::tcp::socket& s, int) {
    if (!ScriptedServer::greet_and_accept(s) || !ScriptedServer::read_command(s) ||
        !ScriptedServer::read_command(s)) {
      return;
    }
    // Both commands are in; the first one's answer comes only now.
    ScriptedServer::send(s,
                         "Content-Type: api/response\nContent-Length: 4\n\nslow"
                         "Content-Type: api/response\nContent-Length: 4\n\nfast");
    ScriptedServer::read_command(s, 10s);
  });
  asio::io_context io;
  auto outcome = asio::co_spawn(
      io,
      [&]() -> asio::awaitable<std::vector<std::string>> {
        std::vector<std::string> out;
        auto c = co_await Connection::connect(io.get_executor(), options_for(server.port()));
        asio::cancellation_signal cancel;
        std::promise<std::string> slow;
        auto slow_result = slow.get_future();
        asio::co_spawn(
            io,
            [c, &slow]() -> asio::awaitable<void> {
              try {
                slow.set_value(co_await c->api("slow", 60s));
              } catch (const ClientError& e) {
                slow.set_value(std::string("error: ") + e.what());
              }
            },
            asio::bind_cancellation_slot(cancel.slot(), asio::detached));
        asio::steady_timer t(io, 50ms);
        co_await t.async_wait(asio::use_awaitable);
        cancel.emit(asio::cancellation_type::terminal);
        co_await asio::post(io, asio::use_awaitable);
        out.push_back(slow_result.wait_for(0s) == std::future_status::ready ? slow_result.get()
                                                                            : "still waiting");
        out.push_back(co_await c->api("fast", 5s));
        c->close();
        co_return out;
      },
      asio::use_future);
  std::thread runner([&] { io.run_for(15s); });
  const bool ready = outcome.wait_for(10s) == std::future_status::ready;
  io.stop();
  runner.join();
  ASSERT_TRUE(ready);
  EXPECT_EQ(outcome.get(), (std::vector<std::string>{"error: api slow: cancelled", "fast"}));
}

// The first connection subscribes and is dropped; the next attempt is refused; the third
// connection must see the authentication and each subscription exactly once.
TEST(ClientScripted, AReconnectRestoresSubscriptionsExactlyOnce) {
  std::mutex mutex;
  std::vector<std::string> restored;
  ScriptedServer server([&](asio::ip::tcp::socket& s, int index) {
    if (index == 1) {
      s.close();  // a failed attempt: the client backs off and tries again
      return;
    }
    std::string auth;
    if (!ScriptedServer::greet_and_accept(s, &auth)) {
      return;
    }
    if (index == 0) {
      for (int i = 0; i < 4; ++i) {
        if (!ScriptedServer::read_command(s)) {
          return;
        }
        ScriptedServer::send(s, test::reply("+OK"));
      }
      // An api in flight when the connection drops.
      ScriptedServer::read_command(s);
      s.close();
      return;
    }
    {
      std::lock_guard lock(mutex);
      restored.push_back(auth);
    }
    while (auto line = ScriptedServer::read_command(s, 10s)) {
      {
        std::lock_guard lock(mutex);
        restored.push_back(*line);
      }
      ScriptedServer::send(s, test::reply("+OK"));
    }
  });
  std::atomic<int> resyncs{0};
  ConnectOptions o = options_for(server.port());
  o.reconnect.enabled = true;
  o.reconnect.initial_delay = 20ms;
  o.reconnect.on_resync = [&](Connection& c) {
    EXPECT_TRUE(c.connected());
    ++resyncs;
  };
  BlockingConnection c(o);
  EXPECT_TRUE(c.command("event plain CHANNEL_ANSWER CUSTOM a::b").ok());
  EXPECT_TRUE(c.command("filter Unique-ID 42").ok());
  EXPECT_TRUE(c.command("event plain CHANNEL_ANSWER").ok());  // again: still once after
  EXPECT_TRUE(c.command("log info").ok());
  const std::string lost = error_of([&] { c.api("status"); });
  EXPECT_NE(lost.find("api status: the server closed the connection"), std::string::npos) << lost;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (resyncs == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_EQ(resyncs, 1);
  EXPECT_TRUE(c.connected());
  EXPECT_TRUE(c.command("nolog").ok());
  c.close();
  server.stop();
  std::lock_guard lock(mutex);
  EXPECT_EQ(restored,
            (std::vector<std::string>{"auth ClueCon", "event plain CHANNEL_ANSWER CUSTOM a::b",
                                      "filter Unique-ID 42", "log info", "nolog"}));
}

TEST(ClientScripted, AReconnectGivesUpAfterItsAttemptsAndSaysWhy) {
  auto server = std::make_unique<ScriptedServer>([](asio::ip::tcp::socket& s, int index) {
    if (index == 0 && ScriptedServer::greet_and_accept(s)) {
      s.close();
    }
  });
  ConnectOptions o = options_for(server->port());
  o.reconnect.enabled = true;
  o.reconnect.initial_delay = 10ms;
  o.reconnect.max_attempts = 3;
  o.reconnect.jitter = 0;
  BlockingConnection c(o);
  // The server stays up but closes every later connection before greeting.
  const std::string error = error_of([&] {
    while (c.next_event(5s)) {
    }
  });
  EXPECT_NE(error.find("gave up reconnecting after 3 attempts"), std::string::npos) << error;
  EXPECT_FALSE(c.connected());
}

}  // namespace
}  // namespace eventsocket::client
