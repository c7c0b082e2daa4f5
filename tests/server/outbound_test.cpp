// Outbound mode: the dialplan's `socket` application connects to a program (here a listening
// socket of the test), which then drives the call over the Event Socket protocol
// (PROTOCOL.md §9 and §11; the byte-level checks against captures 19-21 are in
// conformance_test.cpp).
//
// Each test runs a real switch and server on ephemeral loopback ports. A control connection
// (K) originates calls whose application or inline dialplan runs `socket`; the test accepts
// the switch's connection and plays the program.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "eventsocket/event/codec.hpp"
#include "eventsocket/event/event.hpp"
#include "eventsocket/wire/message.hpp"
#include "server/test_server.hpp"

namespace eventsocket::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string content_type(const std::optional<wire::Message>& m) {
  return m ? std::string(m->header("Content-Type").value_or("")) : std::string("<none>");
}

// The control connection: authenticated, used for `api` only.
class Control {
 public:
  explicit Control(TestServer& server) : client_(server.port()) { EXPECT_TRUE(client_.auth()); }

  std::string api(std::string_view command, std::chrono::milliseconds timeout = 10s) {
    client_.send("api " + std::string(command) + "\n\n");
    for (;;) {
      const auto m = client_.read_packet(timeout);
      if (!m) {
        return "<no reply>";
      }
      if (content_type(m) == "api/response") {
        return std::string(m->body);
      }
    }
  }

  // Starts a call with `bgapi originate <args>`; the job's result is not awaited.
  void bgapi_originate(std::string_view args) {
    EXPECT_TRUE(reply_text(client_.command("bgapi originate " + std::string(args)))
                    .starts_with("+OK Job-UUID: "));
  }

  // Waits until no channel is left.
  bool no_channels(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      if (api("show channels count").starts_with("\n0 total.")) {
        return true;
      }
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

 private:
  TestClient client_;
};

// The program's side of one outbound session.
class Program {
 public:
  explicit Program(int fd) : client_(fd, TestClient::AdoptFd{}) {}

  bool connected() const { return client_.connected(); }
  TestClient& raw() { return client_; }

  // Sends a command and returns its reply (command/reply or api/response, or the connect
  // reply); events and notices that come first are kept.
  std::optional<wire::Message> command(std::string_view text,
                                       std::chrono::milliseconds timeout = 5s) {
    client_.send(std::string(text) + "\n\n");
    return reply(timeout);
  }

  std::optional<wire::Message> reply(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      auto m = next(deadline);
      if (!m) {
        return std::nullopt;
      }
      const std::string type = content_type(m);
      if (type == "command/reply" || type == "api/response") {
        return m;
      }
    }
  }

  // The channel data of `connect`, decoded.
  std::optional<event::Event> connect() {
    const auto m = command("connect");
    if (!m) {
      return std::nullopt;
    }
    std::string block;
    for (const auto& [name, value] : m->headers) {
      block += name + ": " + value + "\n";
    }
    event::Event e;
    if (!event::decode(block + "\n", wire::EventFormat::plain, e)) {
      ADD_FAILURE() << "the connect reply is not a plain event";
      return std::nullopt;
    }
    return e;
  }

  // The first event (already received or coming) that matches, in any format.
  template <typename Match>
  std::optional<event::Event> wait_event_if(const Match& match,
                                            std::chrono::milliseconds timeout = 5s) {
    const auto deadline = Clock::now() + timeout;
    for (std::size_t seen = 0;;) {
      for (; seen < events_.size(); ++seen) {
        if (match(events_[seen])) {
          return events_[seen];
        }
      }
      if (!next(deadline)) {
        return std::nullopt;
      }
    }
  }
  std::optional<event::Event> wait_event(std::string_view name, std::string_view application = {},
                                         std::chrono::milliseconds timeout = 5s) {
    return wait_event_if(
        [&](const event::Event& e) {
          return e.header_or_empty("Event-Name") == name &&
                 (application.empty() || e.header_or_empty("Application") == application);
        },
        timeout);
  }

  // The next disconnect notice (a linger notice or the goodbye).
  std::optional<wire::Message> notice(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = Clock::now() + timeout;
    for (std::size_t seen = 0;;) {
      for (; seen < notices_.size(); ++seen) {
        if (seen >= notices_taken_) {
          ++notices_taken_;
          return notices_[seen];
        }
      }
      if (!next(deadline)) {
        return std::nullopt;
      }
    }
  }

  const std::vector<event::Event>& events() const { return events_; }
  const std::vector<std::string>& order() const { return order_; }

 private:
  std::optional<wire::Message> next(Clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      return std::nullopt;
    }
    auto m = client_.read_packet(left);
    if (!m) {
      return std::nullopt;
    }
    const std::string type = content_type(m);
    if (type.starts_with("text/event-")) {
      const auto format = *wire::event_format_from_content_type(type);
      event::Event e;
      EXPECT_TRUE(event::decode(m->body, format, e)) << m->body;
      order_.emplace_back(e.header_or_empty("Event-Name"));
      events_.push_back(std::move(e));
    } else if (type == "text/disconnect-notice") {
      order_.push_back("notice:" + std::string(m->header("Content-Disposition").value_or("")));
      notices_.push_back(*m);
    } else {
      order_.push_back(type + ":" + std::string(m->header("Reply-Text").value_or("")));
    }
    return m;
  }

  TestClient client_;
  std::vector<event::Event> events_;
  std::vector<wire::Message> notices_;
  std::size_t notices_taken_ = 0;
  std::vector<std::string> order_;
};

// One switch, its control connection and the program's listening socket.
struct Fixture {
  explicit Fixture(TestServerOptions options = {}) : server(std::move(options)), control(server) {}

  // `originate null/x '&socket(<listener> <mode>)'` with a chosen uuid; the accepted
  // connection.
  Program call(const std::string& uuid, std::string_view mode) {
    control.bgapi_originate("{origination_uuid=" + uuid + "}null/x '&socket(" + listener.address() +
                            std::string(mode) + ")'");
    return Program(listener.accept());
  }

  TestServer server;
  Control control;
  OutboundListener listener;
};

std::string uuid_n(int n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "0b7e1000-0000-4000-8000-%012d", n);
  return buf;
}

// ---------------------------------------------------------------- socket arguments

TEST(Outbound, ConnectReplyNamesModeAndControl) {
  Fixture f;
  struct Case {
    std::string mode;
    std::string socket_mode;
    std::string control;
  };
  const std::vector<Case> cases = {{"", "static", "single-channel"},
                                   {" async", "async", "single-channel"},
                                   {" full", "static", "full"},
                                   {" FULL Async", "async", "full"},
                                   {" full ignored-word async", "async", "full"}};
  int n = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE("socket arguments:" + c.mode);
    const std::string uuid = uuid_n(++n);
    Program p = f.call(uuid, c.mode);
    ASSERT_TRUE(p.connected());
    const auto data = p.connect();
    ASSERT_TRUE(data);
    EXPECT_EQ(data->header_or_empty("Event-Name"), "CHANNEL_DATA");
    EXPECT_EQ(data->header_or_empty("Unique-ID"), uuid);
    EXPECT_EQ(data->header_or_empty("Channel-Unique-ID"), uuid);
    EXPECT_EQ(data->header_or_empty("Content-Type"), "command/reply");
    EXPECT_EQ(data->header_or_empty("Reply-Text"), "+OK\n");
    EXPECT_EQ(data->header_or_empty("Socket-Mode"), c.socket_mode);
    EXPECT_EQ(data->header_or_empty("Control"), c.control);
    EXPECT_EQ(data->header_or_empty("variable_current_application"), "socket");
    EXPECT_EQ(data->header_or_empty("variable_socket_host"), "127.0.0.1");
    EXPECT_EQ(reply_text(p.command("exit")), "+OK bye");
  }
  EXPECT_TRUE(f.control.no_channels());
}

TEST(Outbound, FirstPacketIsRunButNotAnswered) {
  Fixture f;
  Program p = f.call(uuid_n(1), " async full");
  p.raw().send("myevents\n\n");  // runs, but its +OK never comes
  const auto data = p.connect();
  ASSERT_TRUE(data);
  EXPECT_EQ(data->header_or_empty("Event-Name"), "CHANNEL_DATA");
  EXPECT_EQ(reply_text(p.command("myevents")), "-ERR aready enabled.");
  EXPECT_EQ(reply_text(p.command("sendmsg\ncall-command: hangup")), "+OK");
}

TEST(Outbound, SingleChannelSessionRefusesTheFullCommandSet) {
  Fixture f;
  Program p = f.call(uuid_n(1), "");
  ASSERT_TRUE(p.connect());
  for (const char* refused :
       {"event plain ALL", "linger", "linger 5", "nolinger", "api echo x", "bgapi echo x", "log 7",
        "nolog", "sendevent CUSTOM", "nixevent ALL", "noevents", "auth ClueCon"}) {
    EXPECT_EQ(reply_text(p.command(refused)), "-ERR command not found") << refused;
  }
  EXPECT_EQ(reply_text(p.command("getvar socket_host")), "127.0.0.1");
  EXPECT_EQ(reply_text(p.command("filter Unique-ID " + uuid_n(1))),
            "+OK filter added. [Unique-ID]=[" + uuid_n(1) + "]");
  EXPECT_EQ(reply_text(p.command("divert_events on")), "+OK events diverted");
  EXPECT_EQ(reply_text(p.command("resume")), "+OK");
  EXPECT_EQ(reply_text(p.command("myevents")), "+OK Events Enabled");
  EXPECT_EQ(reply_text(p.command("sendmsg\ncall-command: hangup")), "+OK");
}

TEST(Outbound, FullSessionHasTheWholeCommandSet) {
  Fixture f;
  Program p = f.call(uuid_n(1), " async full");
  ASSERT_TRUE(p.connect());
  const auto echo = p.command("api echo hello");
  EXPECT_EQ(content_type(echo), "api/response");
  EXPECT_EQ(body_of(echo), "hello");
  EXPECT_EQ(reply_text(p.command("linger 5")), "+OK will linger 5 seconds");
  EXPECT_EQ(reply_text(p.command("nolinger")), "+OK will not linger");
  EXPECT_EQ(reply_text(p.command("event plain HEARTBEAT")), "+OK event listener enabled plain");
  EXPECT_EQ(reply_text(p.command("log 7")), "+OK log level 7 [7]");
  EXPECT_EQ(reply_text(p.command("sendmsg\ncall-command: hangup")), "+OK");
}

// ---------------------------------------------------------------- static and async

TEST(Outbound, StaticSendmsgAnswersWhenTheApplicationHasRun) {
  Fixture f;
  Program p = f.call(uuid_n(1), "");
  ASSERT_TRUE(p.connect());
  ASSERT_EQ(reply_text(p.command("myevents")), "+OK Events Enabled");
  const auto sent = Clock::now();
  const auto ok = p.command(
      "sendmsg\ncall-command: execute\nexecute-app-name: sleep\n"
      "execute-app-arg: 300");
  EXPECT_EQ(reply_text(ok), "+OK");
  EXPECT_GE(Clock::now() - sent, 300ms) << "static mode answers once the application is done";
  // Nothing was written while the application ran: its events follow the +OK.
  ASSERT_TRUE(p.wait_event("CHANNEL_EXECUTE_COMPLETE", "sleep"));
  ASSERT_GE(p.order().size(), 3u);
  EXPECT_EQ(p.order()[p.order().size() - 3], "command/reply:+OK");
  EXPECT_EQ(p.order()[p.order().size() - 2], "CHANNEL_EXECUTE");
  // No CHANNEL_PARK in static mode, and no PRIVATE_COMMAND for inline messages.
  for (const event::Event& e : p.events()) {
    EXPECT_NE(e.header_or_empty("Event-Name"), "CHANNEL_PARK");
  }
  EXPECT_EQ(reply_text(p.command("sendmsg\ncall-command: hangup")), "+OK");
  ASSERT_TRUE(p.wait_event("CHANNEL_HANGUP"));
  const auto bye = p.notice();
  ASSERT_TRUE(bye);
  EXPECT_EQ(bye->header("Controlled-Session-UUID").value_or(""), uuid_n(1));
  EXPECT_EQ(bye->header("Content-Disposition").value_or(""), "disconnect");
  EXPECT_TRUE(p.raw().read_until_closed(2s).empty());
  EXPECT_TRUE(p.raw().closed());
}

TEST(Outbound, AsyncSendmsgAnswersAtOnceAndTheParkRunsTheQueueInOrder) {
  Fixture f;
  Program p = f.call(uuid_n(1), " async");
  ASSERT_TRUE(p.connect());
  ASSERT_EQ(reply_text(p.command("myevents")), "+OK Events Enabled");
  const auto sent = Clock::now();
  EXPECT_EQ(reply_text(p.command("sendmsg\ncall-command: execute\nexecute-app-name: sleep\n"
                                 "execute-app-arg: 300\nEvent-UUID: first-app")),
            "+OK");
  EXPECT_LT(Clock::now() - sent, 250ms) << "async mode queues and answers at once";
  EXPECT_EQ(reply_text(p.command("sendmsg\ncall-command: execute\nexecute-app-name: set\n"
                                 "execute-app-arg: second=yes\nEvent-UUID: second-app")),
            "+OK");
  ASSERT_TRUE(p.wait_event("CHANNEL_PARK"));
  const auto first = p.wait_event("CHANNEL_EXECUTE_COMPLETE", "sleep");
  const auto second = p.wait_event("CHANNEL_EXECUTE_COMPLETE", "set");
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->header_or_empty("Application-UUID"), "first-app");
  EXPECT_EQ(second->header_or_empty("Application-UUID"), "second-app");
  EXPECT_EQ(reply_text(p.command("getvar second")), "yes");
  EXPECT_EQ(reply_text(p.command("sendmsg\ncall-command: hangup")), "+OK");
  ASSERT_TRUE(p.wait_event("CHANNEL_UNPARK"));
  const auto socket_done = p.wait_event("CHANNEL_EXECUTE_COMPLETE", "socket");
  ASSERT_TRUE(socket_done);
  // The program's own hangup: the notice follows the whole hangup (capture 21).
  ASSERT_TRUE(p.wait_event("CHANNEL_HANGUP_COMPLETE"));
  const auto bye = p.notice();
  ASSERT_TRUE(bye);
  EXPECT_EQ(bye->header("Content-Disposition").value_or(""), "disconnect");
  EXPECT_EQ(p.order().back(), "notice:disconnect");
}

// A message sent with event-lock keeps the queue waiting while it runs, even when its
// application (park) would otherwise run what is queued.
TEST(Outbound, EventLockedParkHoldsTheQueue) {
  Fixture f;
  Program p = f.call(uuid_n(1), " async full");
  ASSERT_TRUE(p.connect());
  ASSERT_EQ(reply_text(p.command("myevents")), "+OK Events Enabled");
  EXPECT_EQ(reply_text(p.command("sendmsg\ncall-command: execute\nexecute-app-name: park\n"
                                 "event-lock: true")),
            "+OK");
  ASSERT_TRUE(p.wait_event("CHANNEL_EXECUTE", "park"));
  EXPECT_EQ(reply_text(p.command("sendmsg\ncall-command: execute\nexecute-app-name: set\n"
                                 "execute-app-arg: later=ran")),
            "+OK");
  EXPECT_FALSE(p.wait_event("CHANNEL_EXECUTE", "set", 400ms))
      << "a message ran while an event-locked one was running";
  EXPECT_EQ(reply_text(p.command("getvar later")), "-ERR command not found");
  EXPECT_EQ(reply_text(p.command("sendmsg\ncall-command: hangup")), "+OK");
  ASSERT_TRUE(p.wait_event("CHANNEL_HANGUP_COMPLETE"));
}

// ---------------------------------------------------------------- hangup and linger

TEST(Outbound, HangupFromElsewhereEndsTheSessionAfterChannelHangup) {
  Fixture f;
  Program p = f.call(uuid_n(1), " async full");
  ASSERT_TRUE(p.connect());
  ASSERT_EQ(reply_text(p.command("myevents")), "+OK Events Enabled");
  ASSERT_TRUE(p.wait_event("CHANNEL_PARK"));
  EXPECT_EQ(f.control.api("uuid_kill " + uuid_n(1)), "+OK\n");
  const auto bye = p.notice();
  ASSERT_TRUE(bye);
  EXPECT_EQ(bye->header("Content-Disposition").value_or(""), "disconnect");
  EXPECT_EQ(bye->header("Controlled-Session-UUID").value_or(""), uuid_n(1));
  ASSERT_GE(p.order().size(), 2u);
  EXPECT_EQ(p.order()[p.order().size() - 2], "CHANNEL_HANGUP");
  p.raw().read_until_closed(2s);
  EXPECT_TRUE(p.raw().closed());
}

TEST(Outbound, LingerSecondsKeepTheSessionThenSayGoodbye) {
  Fixture f;
  Program p = f.call(uuid_n(1), " async full");
  ASSERT_TRUE(p.connect());
  ASSERT_EQ(reply_text(p.command("myevents")), "+OK Events Enabled");
  ASSERT_EQ(reply_text(p.command("linger 1")), "+OK will linger 1 seconds");
  EXPECT_EQ(reply_text(p.command("sendmsg\ncall-command: hangup\nhangup-cause: USER_BUSY")), "+OK");
  const auto linger = p.notice();
  ASSERT_TRUE(linger);
  const auto lingered = Clock::now();
  EXPECT_EQ(linger->header("Content-Disposition").value_or(""), "linger");
  EXPECT_EQ(linger->header("Linger-Time").value_or(""), "1");
  const auto complete = p.wait_event("CHANNEL_HANGUP_COMPLETE");
  ASSERT_TRUE(complete);
  EXPECT_EQ(complete->header_or_empty("Hangup-Cause"), "USER_BUSY");
  // Commands still work while lingering.
  EXPECT_EQ(reply_text(p.command("getvar hangup_cause")), "USER_BUSY");
  const auto bye = p.notice(3s);
  ASSERT_TRUE(bye);
  EXPECT_EQ(bye->header("Content-Disposition").value_or(""), "disconnect");
  EXPECT_GE(Clock::now() - lingered, 900ms);
  p.raw().read_until_closed(2s);
  EXPECT_TRUE(p.raw().closed());
}

// ---------------------------------------------------------------- the dialplan around it

// `originate null/x '<actions>' inline`: socket, then `set after_socket=...`, then park.
std::string inline_plan(const std::string& socket_data) {
  return "'socket:" + socket_data + ",set:after_socket=reached,park' inline";
}

TEST(Outbound, ExitLetsTheDialplanGoOn) {
  Fixture f;
  TestClient events(f.server.port());
  ASSERT_TRUE(events.auth());
  // EXECUTE_COMPLETE, not EXECUTE: the variable is set once `set` has run.
  ASSERT_EQ(reply_text(events.command("event plain CHANNEL_EXECUTE_COMPLETE")),
            "+OK event listener enabled plain");
  f.control.bgapi_originate("{origination_uuid=" + uuid_n(1) + "}null/x " +
                            inline_plan(f.listener.address() + " async full"));
  Program p(f.listener.accept());
  ASSERT_TRUE(p.connect());
  EXPECT_EQ(reply_text(p.command("exit")), "+OK bye");
  const auto bye = p.notice();
  ASSERT_TRUE(bye);
  EXPECT_EQ(bye->header("Controlled-Session-UUID").value_or(""), uuid_n(1));
  const auto deadline = Clock::now() + 5s;
  bool reached = false;
  while (!reached && Clock::now() < deadline) {
    const auto m = events.read_packet(1s);
    reached = m && m->body.find("Application: set\n") != std::string::npos &&
              m->body.find("after_socket%3Dreached") != std::string::npos;
  }
  EXPECT_TRUE(reached) << "the action after socket did not run";
  EXPECT_EQ(f.control.api("uuid_getvar " + uuid_n(1) + " after_socket"), "reached");
  f.control.api("uuid_kill " + uuid_n(1));
}

TEST(Outbound, ProgramClosingTheSocketEndsTheParkAndTheDialplanGoesOn) {
  Fixture f;
  f.control.bgapi_originate("{origination_uuid=" + uuid_n(1) + "}null/x " +
                            inline_plan(f.listener.address() + " async"));
  {
    Program p(f.listener.accept());
    ASSERT_TRUE(p.connect());
    ASSERT_EQ(reply_text(p.command("myevents")), "+OK Events Enabled");
    ASSERT_TRUE(p.wait_event("CHANNEL_PARK"));
  }  // closed
  const auto deadline = Clock::now() + 5s;
  std::string value;
  while (value != "reached" && Clock::now() < deadline) {
    value = f.control.api("uuid_getvar " + uuid_n(1) + " after_socket");
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(value, "reached");
  f.control.api("uuid_kill " + uuid_n(1));
}

TEST(Outbound, UnreachableProgramLetsTheDialplanGoOnAndLogs) {
  Fixture f;
  TestClient logs(f.server.port());
  ASSERT_TRUE(logs.auth());
  ASSERT_EQ(reply_text(logs.command("log 3")), "+OK log level 3 [3]");
  const std::string closed_port = f.listener.address();
  f.listener.close();  // nobody listens there now
  f.control.bgapi_originate("{origination_uuid=" + uuid_n(1) + "}null/x " +
                            inline_plan(closed_port + " async full"));
  const auto deadline = Clock::now() + 5s;
  std::string value;
  while (value != "reached" && Clock::now() < deadline) {
    value = f.control.api("uuid_getvar " + uuid_n(1) + " after_socket");
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(value, "reached");
  bool logged = false;
  while (!logged) {
    const auto m = logs.read_packet(2s);
    if (!m) {
      break;
    }
    logged = m->body.find("Socket Error") != std::string::npos &&
             m->body.find(closed_port) != std::string::npos;
  }
  EXPECT_TRUE(logged) << "no log line says the socket could not connect";
  f.control.api("uuid_kill " + uuid_n(1));
}

TEST(Outbound, AlternativesAreTriedInOrder) {
  Fixture f;
  OutboundListener dead;
  const std::string dead_address = dead.address();
  dead.close();
  // The first alternative refuses the connection; the second is the program.
  f.control.bgapi_originate("{origination_uuid=" + uuid_n(2) + "}null/x '&socket(" + dead_address +
                            "|" + f.listener.address() + " async)'");
  Program second(f.listener.accept());
  ASSERT_TRUE(second.connected());
  const auto data = second.connect();
  ASSERT_TRUE(data);
  EXPECT_EQ(data->header_or_empty("Unique-ID"), uuid_n(2));
  EXPECT_EQ(reply_text(second.command("sendmsg\ncall-command: hangup")), "+OK");
}

TEST(Outbound, ProgramThatNeverSpeaksIsDroppedAfterTheFirstPacketDeadline) {
  TestServerOptions options;
  options.server.auth_timeout = 300ms;
  Fixture f(options);
  f.control.bgapi_originate("{origination_uuid=" + uuid_n(1) + "}null/x " +
                            inline_plan(f.listener.address() + " async"));
  Program p(f.listener.accept());
  ASSERT_TRUE(p.connected());
  const auto bye = p.notice(3s);
  ASSERT_TRUE(bye);
  EXPECT_EQ(bye->header("Controlled-Session-UUID").value_or(""), uuid_n(1));
  p.raw().read_until_closed(2s);
  EXPECT_TRUE(p.raw().closed());
  const auto deadline = Clock::now() + 5s;
  std::string value;
  while (value != "reached" && Clock::now() < deadline) {
    value = f.control.api("uuid_getvar " + uuid_n(1) + " after_socket");
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(value, "reached");
  f.control.api("uuid_kill " + uuid_n(1));
}

// ---------------------------------------------------------------- events of the session

TEST(Outbound, OwnBackgroundJobPassesMyevents) {
  Fixture f;
  Program p = f.call(uuid_n(1), " async full");
  ASSERT_TRUE(p.connect());
  ASSERT_EQ(reply_text(p.command("myevents")), "+OK Events Enabled");
  ASSERT_EQ(reply_text(p.command("event plain BACKGROUND_JOB")),
            "+OK event listener enabled plain");
  const auto reply = p.command("bgapi echo from-the-program");
  ASSERT_TRUE(reply_text(reply).starts_with("+OK Job-UUID: "));
  const std::string job(reply->header("Job-UUID").value_or(""));
  const auto done = p.wait_event("BACKGROUND_JOB");
  ASSERT_TRUE(done);
  EXPECT_EQ(done->header_or_empty("Job-UUID"), job);
  EXPECT_EQ(done->header_or_empty("Job-Owner-UUID"), uuid_n(1));
  EXPECT_EQ(done->body(), "from-the-program");
  EXPECT_EQ(reply_text(p.command("sendmsg\ncall-command: hangup")), "+OK");
}

TEST(Outbound, MyeventsJsonChangesTheFormat) {
  Fixture f;
  Program p = f.call(uuid_n(1), " async");
  ASSERT_TRUE(p.connect());
  ASSERT_EQ(reply_text(p.command("myevents json")), "+OK Events Enabled");
  EXPECT_EQ(reply_text(p.command("sendmsg\ncall-command: execute\nexecute-app-name: set\n"
                                 "execute-app-arg: x=1")),
            "+OK");
  const auto m = p.raw().read_packet();
  ASSERT_TRUE(m);
  EXPECT_EQ(content_type(m), "text/event-json");
  EXPECT_EQ(reply_text(p.command("sendmsg\ncall-command: hangup")), "+OK");
}

// ---------------------------------------------------------------- many at once

// Many calls at once, each driven by its own program: every one gets its applications'
// events and its hangup, and nothing is left behind.
TEST(Outbound, TwoHundredConcurrentSessions) {
  constexpr int kCalls = 200;
  Fixture f;
  std::atomic<int> completed{0};
  std::vector<std::thread> programs;
  programs.reserve(kCalls);
  for (int i = 0; i < kCalls; ++i) {
    f.control.bgapi_originate("{origination_uuid=" + uuid_n(i + 1) + "}null/x '&socket(" +
                              f.listener.address() + " async full)'");
  }
  for (int i = 0; i < kCalls; ++i) {
    const int fd = f.listener.accept(10s);
    ASSERT_GE(fd, 0) << "only " << i << " calls connected";
    programs.emplace_back([fd, &completed] {
      Program p(fd);
      if (!p.connect() || reply_text(p.command("myevents")) != "+OK Events Enabled" ||
          reply_text(p.command("linger")) != "+OK will linger") {
        return;
      }
      for (const char* app : {"answer", "playback"}) {
        const std::string arg = std::string(app) == "playback" ? "silence_stream://100" : "";
        if (reply_text(p.command("sendmsg\ncall-command: execute\nexecute-app-name: " +
                                 std::string(app) + "\nexecute-app-arg: " + arg)) != "+OK") {
          return;
        }
      }
      if (!p.wait_event("CHANNEL_EXECUTE_COMPLETE", "answer", 20s) ||
          !p.wait_event("CHANNEL_EXECUTE_COMPLETE", "playback", 20s) ||
          reply_text(p.command("sendmsg\ncall-command: hangup")) != "+OK" ||
          !p.wait_event("CHANNEL_HANGUP_COMPLETE", {}, 20s)) {
        return;
      }
      ++completed;
    });
  }
  for (std::thread& t : programs) {
    t.join();
  }
  EXPECT_EQ(completed.load(), kCalls);
  EXPECT_TRUE(f.control.no_channels(10s));
  EXPECT_EQ(f.server.server().stats().outbound_total, static_cast<std::uint64_t>(kCalls));
}

}  // namespace
}  // namespace eventsocket::test
