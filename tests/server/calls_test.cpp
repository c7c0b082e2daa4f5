// Calls over the socket: endpoints, applications and call-control commands, with the events
// FreeSWITCH fires for them.
//
// Every test runs a real switch and server (TestServer: the repo's conf/, so the default
// dialplan and the simulated SIP parties of sofia.conf.xml) on an ephemeral loopback port and
// drives it over real connections: one for `api` commands (the control connection "K" of the
// captures), one or more subscribed to events. Expected behaviour is FreeSWITCH's
// (docs/design/CALL_EVENTS.md and the captures in tests/data/conformance). Tests marked
// DISABLED_ describe FreeSWITCH behaviour the engine does not have yet (one line says what).
//
// Timing: channels run on their own threads, so no assertion depends on a tight absolute
// time. Orders are only asserted between events one thread fires in sequence, durations only
// from below, and every read has a generous timeout so a broken server fails instead of
// hanging.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "eventsocket/wire/message.hpp"
#include "eventsocket/wire/parser.hpp"
#include "eventsocket/wire/url.hpp"
#include "server/test_server.hpp"
#include "support/transcript.hpp"

namespace eventsocket::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kNotFound = static_cast<std::size_t>(-1);
constexpr std::string_view kGoodbyeBody =
    "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n";
constexpr std::string_view kOriginateUsage =
    "-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] "
    "[<cid_name>] [<cid_num>] [<timeout_sec>]\n";

std::string content_type(const std::optional<wire::Message>& m) {
  return m ? std::string(m->header("Content-Type").value_or("")) : std::string("<none>");
}

std::chrono::milliseconds left_until(Clock::time_point deadline) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
}

// ============================================================================ events

// One event in the plain format: its headers in wire order (duplicates kept) with decoded
// values, and its body.
struct Ev {
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The first header of that name; "" when there is none.
  std::string get(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) {
        return v;
      }
    }
    return {};
  }
  bool has(std::string_view name) const {
    return std::any_of(headers.begin(), headers.end(),
                       [&](const auto& h) { return h.first == name; });
  }
  std::size_t count(std::string_view name) const {
    return static_cast<std::size_t>(std::count_if(headers.begin(), headers.end(),
                                                  [&](const auto& h) { return h.first == name; }));
  }
  std::string name() const { return get("Event-Name"); }
  std::string uuid() const { return get("Unique-ID"); }
  // The header names that are not channel variables, in order (CALL_EVENTS.md §1.8).
  std::vector<std::string> skeleton() const {
    std::vector<std::string> names;
    for (const auto& h : headers) {
      if (!h.first.starts_with("variable_")) {
        names.push_back(h.first);
      }
    }
    return names;
  }
  std::size_t variable_count() const { return headers.size() - skeleton().size(); }
  // Where a header sits in the event (0-based), kNotFound when absent.
  std::size_t position(std::string_view name) const {
    for (std::size_t i = 0; i < headers.size(); ++i) {
      if (headers[i].first == name) {
        return i;
      }
    }
    return kNotFound;
  }
};

// The body of a text/event-plain packet: "Name: url-encoded value" lines, then optionally a
// blank line and the event's own body.
Ev parse_plain(std::string_view text) {
  Ev e;
  while (!text.empty()) {
    const std::size_t lf = text.find('\n');
    const std::string_view line = text.substr(0, lf);
    text = lf == std::string_view::npos ? std::string_view{} : text.substr(lf + 1);
    if (line.empty()) {
      e.body = std::string(text);
      break;
    }
    const std::size_t colon = line.find(": ");
    if (colon == std::string_view::npos) {
      e.headers.emplace_back(std::string(line), std::string());
    } else {
      e.headers.emplace_back(std::string(line.substr(0, colon)),
                             wire::url_decode(line.substr(colon + 2)));
    }
  }
  return e;
}

using Pred = std::function<bool(const Ev&)>;

// An event of that channel and type, optionally with one more header value.
Pred is(std::string uuid, std::string name, std::string header = {}, std::string value = {}) {
  return [uuid = std::move(uuid), name = std::move(name), header = std::move(header),
          value = std::move(value)](const Ev& e) {
    return e.uuid() == uuid && e.name() == name && (header.empty() || e.get(header) == value);
  };
}

// Any channel's event of that type with that header value.
Pred any_with(std::string name, std::string header, std::string value) {
  return [name = std::move(name), header = std::move(header), value = std::move(value)](
             const Ev& e) { return e.name() == name && e.get(header) == value; };
}

std::size_t find_from(const std::vector<Ev>& events, const Pred& pred, std::size_t from = 0) {
  for (std::size_t i = from; i < events.size(); ++i) {
    if (pred(events[i])) {
      return i;
    }
  }
  return kNotFound;
}

std::string summary(const std::vector<Ev>& events) {
  std::string out;
  for (const Ev& e : events) {
    out += "  " + e.name();
    for (const char* h : {"Channel-Name", "Channel-State", "Application", "Hangup-Cause"}) {
      if (e.has(h)) {
        out += " " + e.get(h);
      }
    }
    out += "\n";
  }
  return out;
}

// Checks that events matching `steps` appear in `events` in this order (others may come
// between them).
void expect_in_order(const std::vector<Ev>& events,
                     const std::vector<std::pair<std::string, Pred>>& steps) {
  std::size_t from = 0;
  for (const auto& [label, pred] : steps) {
    const std::size_t at = find_from(events, pred, from);
    if (at == kNotFound) {
      const bool anywhere = find_from(events, pred) != kNotFound;
      ADD_FAILURE() << label << (anywhere ? " came too early" : " is missing") << "; events:\n"
                    << summary(events);
      return;
    }
    from = at + 1;
  }
}

// ============================================================================ connections

// A connection for `api` commands only (the control connection of the captures).
class Api {
 public:
  explicit Api(TestServer& server) : client_(server.port()) {
    EXPECT_TRUE(client_.connected());
    EXPECT_TRUE(client_.auth());
  }

  // The body of the api/response.
  std::string operator()(std::string_view command, std::chrono::milliseconds timeout = 10s) {
    client_.send("api " + std::string(command) + "\n\n");
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      const auto left = left_until(deadline);
      if (left.count() <= 0) {
        return "<timeout>";
      }
      const auto packet = client_.read_packet(left);
      if (!packet) {
        return "<no reply>";
      }
      if (content_type(packet) == "api/response") {
        return packet->body;
      }
    }
  }

  // Places a call that must succeed; its uuid ("" and a test failure otherwise).
  std::string originate(std::string_view args) {
    const std::string reply = (*this)("originate " + std::string(args));
    if (!reply.starts_with("+OK ") || !reply.ends_with("\n") || reply.size() != 4 + 36 + 1) {
      ADD_FAILURE() << "originate " << args << " -> " << reply;
      return {};
    }
    return reply.substr(4, 36);
  }

  // Polls `show channels count` until it says `n` channels.
  bool wait_for_channels(int n, std::chrono::milliseconds timeout = 3s) {
    const std::string want = "\n" + std::to_string(n) + " total.\n";
    const auto deadline = Clock::now() + timeout;
    std::string last;
    while (Clock::now() < deadline) {
      last = (*this)("show channels count");
      if (last == want) {
        return true;
      }
      std::this_thread::sleep_for(20ms);
    }
    ADD_FAILURE() << "expected " << n << " channels, `show channels count` says " << last;
    return false;
  }

 private:
  TestClient client_;
};

// A connection subscribed to events in plain format. Everything it receives is kept: events
// in history(), other packets (log lines, replies) in others().
class Events {
 public:
  Events(TestServer& server, std::string_view subscription) : client_(server.port()) {
    EXPECT_TRUE(client_.connected());
    EXPECT_TRUE(client_.auth());
    EXPECT_EQ(command("event plain " + std::string(subscription)),
              "+OK event listener enabled plain");
  }

  // Sends a command and returns its Reply-Text; events read meanwhile are kept.
  std::string command(std::string_view text) {
    client_.send(std::string(text) + "\n\n");
    const auto deadline = Clock::now() + 5s;
    while (Clock::now() < deadline) {
      auto packet = read_one(deadline);
      if (!packet) {
        break;
      }
      if (content_type(packet) == "command/reply") {
        return std::string(packet->header("Reply-Text").value_or(""));
      }
      others_.push_back(std::move(*packet));
    }
    return "<no reply>";
  }

  // The first event received so far, or within `timeout`, that satisfies `pred`.
  std::optional<Ev> wait(const Pred& pred, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = Clock::now() + timeout;
    std::size_t checked = 0;
    for (;;) {
      for (; checked < history_.size(); ++checked) {
        if (pred(history_[checked])) {
          return history_[checked];
        }
      }
      auto packet = read_one(deadline);
      if (!packet) {
        return std::nullopt;
      }
      if (content_type(packet) != "text/event-plain") {
        others_.push_back(std::move(*packet));
      }
    }
  }

  // Reads whatever arrives during `duration`.
  void drain(std::chrono::milliseconds duration) {
    const auto deadline = Clock::now() + duration;
    while (auto packet = read_one(deadline)) {
      if (content_type(packet) != "text/event-plain") {
        others_.push_back(std::move(*packet));
      }
    }
  }

  // Every event received so far about that channel, in arrival order.
  std::vector<Ev> about(std::string_view uuid) const {
    std::vector<Ev> out;
    for (const Ev& e : history_) {
      if (e.uuid() == uuid) {
        out.push_back(e);
      }
    }
    return out;
  }
  // A channel's events up to and with its CHANNEL_DESTROY (a failure when it never comes).
  std::vector<Ev> whole_call(const std::string& uuid, std::chrono::milliseconds timeout = 5s) {
    EXPECT_TRUE(wait(is(uuid, "CHANNEL_DESTROY"), timeout)) << "no CHANNEL_DESTROY for " << uuid;
    return about(uuid);
  }
  std::size_t count(const Pred& pred) const {
    return static_cast<std::size_t>(std::count_if(history_.begin(), history_.end(), pred));
  }
  const std::vector<Ev>& history() const { return history_; }
  const std::vector<wire::Message>& others() const { return others_; }

 private:
  // One packet; an event is parsed into the history as well.
  std::optional<wire::Message> read_one(Clock::time_point deadline) {
    const auto left = left_until(deadline);
    if (left.count() <= 0) {
      return std::nullopt;
    }
    auto packet = client_.read_packet(left);
    if (packet && content_type(packet) == "text/event-plain") {
      history_.push_back(parse_plain(packet->body));
    }
    return packet;
  }

  TestClient client_;
  std::vector<Ev> history_;
  std::vector<wire::Message> others_;
};

// The uuid of the first channel of that name seen by `events` ("" and a failure if none).
std::string uuid_of_channel(Events& events, const std::string& channel_name) {
  const auto e = events.wait(any_with("CHANNEL_CREATE", "Channel-Name", channel_name));
  EXPECT_TRUE(e) << "no CHANNEL_CREATE for " << channel_name;
  return e ? e->uuid() : std::string();
}

// A loopback/9196 call parked on its a-leg (the call of captures 15-17): the a-leg's uuid is
// `a`, the b-leg (routed through the dialplan to answer, echo) is returned.
std::string park_loopback_call(Api& api, Events& events, const std::string& a) {
  EXPECT_EQ(api("originate {origination_uuid=" + a + "}loopback/9196 &park()"), "+OK " + a + "\n");
  EXPECT_TRUE(events.wait(is(a, "CHANNEL_PARK"))) << "the a-leg never parked";
  const std::string b = uuid_of_channel(events, "loopback/9196-b");
  EXPECT_TRUE(events.wait(is(b, "CHANNEL_EXECUTE", "Application", "echo")))
      << "the b-leg never reached echo";
  return b;
}

// ============================================================================ endpoints

struct OriginateCase {
  const char* label;
  const char* args;
  const char* reply;         // the exact reply, or "+OK" for "+OK <uuid>\n"
  const char* channel_name;  // for "+OK": the name of the answered channel
};

class CallsEndpoints : public ::testing::TestWithParam<OriginateCase> {};

TEST_P(CallsEndpoints, OriginateReply) {
  const OriginateCase& c = GetParam();
  TestServer server;
  Api api(server);
  const std::string reply = api(std::string("originate ") + c.args);
  if (std::string_view(c.reply) == "+OK") {
    ASSERT_TRUE(reply.starts_with("+OK ") && reply.size() == 4 + 36 + 1) << reply;
    const std::string uuid = reply.substr(4, 36);
    EXPECT_EQ(api("uuid_exists " + uuid), "true");
    EXPECT_EQ(api("uuid_getvar " + uuid + " channel_name"), c.channel_name);
    EXPECT_EQ(api("uuid_kill " + uuid), "+OK\n");
  } else {
    EXPECT_EQ(reply, c.reply);
  }
  // Nothing is left behind: failed legs are gone, the answered one was killed.
  api.wait_for_channels(0);
}

INSTANTIATE_TEST_SUITE_P(
    CallsOriginate, CallsEndpoints,
    ::testing::Values(
        OriginateCase{"null", "null/x &park()", "+OK", "null/x"},
        OriginateCase{"sofia_answers", "sofia/internal/1000@127.0.0.1 &park()", "+OK",
                      "sofia/internal/1000@127.0.0.1"},
        // The test directory resolves users 1000-1019 to sofia/internal/<user>@<domain>.
        OriginateCase{"user_known", "user/1000@127.0.0.1 &park()", "+OK",
                      "sofia/internal/1000@127.0.0.1"},
        OriginateCase{"failover", "error/USER_BUSY|null/x &park()", "+OK", "null/x"},
        OriginateCase{"error_endpoint", "error/USER_BUSY &park()", "-ERR USER_BUSY\n", ""},
        OriginateCase{"sofia_busy", "sofia/internal/busy@127.0.0.1 &park()", "-ERR USER_BUSY\n",
                      ""},
        OriginateCase{"sofia_reject", "sofia/internal/reject@127.0.0.1 &park()",
                      "-ERR CALL_REJECTED\n", ""},
        OriginateCase{"user_unknown", "user/9999@x &park()", "-ERR SUBSCRIBER_ABSENT\n", ""},
        OriginateCase{"no_such_endpoint", "nosuchtech/x &park()", "-ERR CHAN_NOT_IMPLEMENTED\n",
                      ""},
        OriginateCase{"no_arguments", "", kOriginateUsage.data(), ""},
        OriginateCase{"no_application", "null/x", kOriginateUsage.data(), ""}),
    [](const ::testing::TestParamInfo<OriginateCase>& info) { return info.param.label; });

TEST(CallsEndpointsSofia, UnknownProfileFailsWithoutAChannel) {
  TestServer server;
  Api api(server);
  const std::string reply = api("originate sofia/nosuchprofile/1000 &park()");
  EXPECT_TRUE(reply.starts_with("-ERR ")) << reply;
  EXPECT_EQ(api("show channels count"), "\n0 total.\n");
}

// mod_sofia's sofia_outgoing_channel fails an unknown profile with SWITCH_CAUSE_INVALID_PROFILE.
// Engine bug: the reply is -ERR NO_ROUTE_DESTINATION.
TEST(CallsEndpointsSofia, UnknownProfileFailsWithInvalidProfile) {
  TestServer server;
  Api api(server);
  EXPECT_EQ(api("originate sofia/nosuchprofile/1000 &park()"), "-ERR INVALID_PROFILE\n");
}

TEST(CallsEndpointsLoopback, TwoLegsAOutboundBRoutedThroughTheDialplan) {
  TestServer server;
  Events events(server, "CHANNEL_CREATE CHANNEL_PARK CHANNEL_EXECUTE");
  Api api(server);
  const std::string a = "0a000000-0000-4000-8000-000000000001";
  const std::string b = park_loopback_call(api, events, a);
  ASSERT_FALSE(b.empty());
  EXPECT_NE(a, b);

  // CHANNEL_CREATE: the a-leg first, outbound and not yet in the dialplan; the b-leg inbound.
  const std::size_t create_a = find_from(events.history(), is(a, "CHANNEL_CREATE"));
  const std::size_t create_b = find_from(events.history(), is(b, "CHANNEL_CREATE"));
  ASSERT_NE(create_a, kNotFound);
  ASSERT_NE(create_b, kNotFound);
  EXPECT_LT(create_a, create_b);
  const Ev& ca = events.history()[create_a];
  const Ev& cb = events.history()[create_b];
  EXPECT_EQ(ca.get("Channel-Name"), "loopback/9196-a");
  EXPECT_EQ(ca.get("Call-Direction"), "outbound");
  EXPECT_EQ(ca.get("Channel-HIT-Dialplan"), "false");
  EXPECT_EQ(ca.get("variable_other_loopback_leg_uuid"), b);
  EXPECT_EQ(ca.get("variable_loopback_leg"), "A");
  EXPECT_EQ(cb.get("Call-Direction"), "inbound");
  EXPECT_EQ(cb.get("Channel-HIT-Dialplan"), "true");
  EXPECT_EQ(cb.get("variable_origination_uuid"), a);
  EXPECT_EQ(cb.get("variable_loopback_leg"), "B");

  // The b-leg ran extension 9196 of the default context: answer, then echo.
  expect_in_order(events.about(b),
                  {{"b: EXECUTE answer", is(b, "CHANNEL_EXECUTE", "Application", "answer")},
                   {"b: EXECUTE echo", is(b, "CHANNEL_EXECUTE", "Application", "echo")}});

  // show channels: a-leg row first, then the b-leg, "2 total." (capture 15).
  const std::string show = api("show channels");
  const std::size_t row_a = show.find("\n" + a + ",outbound,");
  const std::size_t row_b = show.find("\n" + b + ",inbound,");
  ASSERT_NE(row_a, std::string::npos) << show;
  ASSERT_NE(row_b, std::string::npos) << show;
  EXPECT_LT(row_a, row_b);
  EXPECT_TRUE(show.starts_with("uuid,direction,created,created_epoch,name,state,")) << show;
  EXPECT_NE(show.find(",loopback/9196-a,CS_EXECUTE,", row_a), std::string::npos) << show;
  EXPECT_NE(show.find(",loopback/9196-b,CS_EXECUTE,", row_b), std::string::npos) << show;
  EXPECT_TRUE(show.ends_with("\n\n2 total.\n")) << show;
  EXPECT_EQ(api("uuid_getvar " + a + " channel_name"), "loopback/9196-a");

  // Killing the a-leg takes the b-leg with it.
  EXPECT_EQ(api("uuid_kill " + a), "+OK\n");
  api.wait_for_channels(0);
}

TEST(CallsEndpointsSofia, RemotePartyRingsThenAnswers) {
  TestServer server;
  Events events(server, "CHANNEL_PROGRESS CHANNEL_ANSWER");
  Api api(server);
  const auto start = Clock::now();
  const std::string uuid = api.originate("sofia/internal/1000@127.0.0.1 &park()");
  const auto took = Clock::now() - start;
  ASSERT_FALSE(uuid.empty());
  // sofia.conf.xml: the catch-all party rings for 200 ms before answering.
  EXPECT_GE(took, 150ms);
  const auto progress = events.wait(is(uuid, "CHANNEL_PROGRESS"));
  const auto answer = events.wait(is(uuid, "CHANNEL_ANSWER"));
  ASSERT_TRUE(progress);
  ASSERT_TRUE(answer);
  EXPECT_LT(find_from(events.history(), is(uuid, "CHANNEL_PROGRESS")),
            find_from(events.history(), is(uuid, "CHANNEL_ANSWER")));
  EXPECT_EQ(progress->get("Answer-State"), "ringing");
  EXPECT_EQ(progress->get("Channel-Call-State"), "RINGING");
  EXPECT_NE(progress->get("Caller-Channel-Progress-Time"), "0");
  EXPECT_EQ(answer->get("Answer-State"), "answered");
  EXPECT_EQ(answer->get("Channel-Call-State"), "ACTIVE");
  EXPECT_EQ(answer->get("Channel-Name"), "sofia/internal/1000@127.0.0.1");
  EXPECT_EQ(api("uuid_getvar " + uuid + " endpoint_disposition"), "ANSWER");
}

// A party that never answers: the originate gives up after its timeout (1 s here) with
// NO_ANSWER, and the ringing leg is hung up with that cause.
TEST(CallsEndpointsSofia, OriginateTimeoutIsNoAnswer) {
  TestServer server;
  Events events(server, "CHANNEL_PROGRESS CHANNEL_HANGUP");
  Api api(server);
  const auto start = Clock::now();
  const std::string reply =
      api("originate sofia/internal/noanswer@127.0.0.1 &park() xml default noanswer 0000 1");
  const auto took = Clock::now() - start;
  EXPECT_EQ(reply, "-ERR NO_ANSWER\n");
  EXPECT_GE(took, 900ms);
  EXPECT_LT(took, 5s);
  const auto hangup =
      events.wait(any_with("CHANNEL_HANGUP", "Channel-Name", "sofia/internal/noanswer@127.0.0.1"));
  ASSERT_TRUE(hangup);
  EXPECT_EQ(hangup->get("Hangup-Cause"), "NO_ANSWER");
  EXPECT_TRUE(events.wait(is(hangup->uuid(), "CHANNEL_PROGRESS"), 0ms)) << "it never rang";
  api.wait_for_channels(0);
}

// {originate_timeout=N} overrides the timeout argument (here the default 60 s).
TEST(CallsEndpointsSofia, OriginateTimeoutVariableOverridesTheArgument) {
  TestServer server;
  Api api(server);
  const auto start = Clock::now();
  EXPECT_EQ(api("originate {originate_timeout=1}sofia/internal/noanswer@127.0.0.1 &park()"),
            "-ERR NO_ANSWER\n");
  const auto took = Clock::now() - start;
  EXPECT_GE(took, 900ms);
  EXPECT_LT(took, 5s);
  api.wait_for_channels(0);
}

// ============================================================================ event streams

// `originate null/x &hangup()` seen with `event plain ALL`: the whole life of the channel.
TEST(CallsEvents, NullCallRunningHangupFiresTheFullSequence) {
  TestServer server;
  Events events(server, "ALL");
  Api api(server);
  const std::string uuid = api.originate("null/x &hangup()");
  ASSERT_FALSE(uuid.empty());
  const std::vector<Ev> call = events.whole_call(uuid);

  expect_in_order(
      call,
      {{"CHANNEL_CREATE", is(uuid, "CHANNEL_CREATE")},
       {"CHANNEL_ANSWER", is(uuid, "CHANNEL_ANSWER")},
       {"CHANNEL_EXECUTE hangup", is(uuid, "CHANNEL_EXECUTE", "Application", "hangup")},
       {"CHANNEL_HANGUP", is(uuid, "CHANNEL_HANGUP")},
       {"CHANNEL_EXECUTE_COMPLETE hangup",
        is(uuid, "CHANNEL_EXECUTE_COMPLETE", "Application", "hangup")},
       {"CHANNEL_STATE CS_HANGUP", is(uuid, "CHANNEL_STATE", "Channel-State", "CS_HANGUP")},
       {"CHANNEL_STATE CS_REPORTING", is(uuid, "CHANNEL_STATE", "Channel-State", "CS_REPORTING")},
       {"CHANNEL_HANGUP_COMPLETE", is(uuid, "CHANNEL_HANGUP_COMPLETE")},
       {"CHANNEL_DESTROY", is(uuid, "CHANNEL_DESTROY")}});
  ASSERT_FALSE(call.empty());
  EXPECT_EQ(call.back().name(), "CHANNEL_DESTROY");
  for (const char* once : {"CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_HANGUP",
                           "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY"}) {
    EXPECT_EQ(events.count(is(uuid, once)), 1u) << once;
  }

  const auto create = events.wait(is(uuid, "CHANNEL_CREATE"), 0ms);
  ASSERT_TRUE(create);
  EXPECT_EQ(create->get("Channel-Name"), "null/x");
  EXPECT_EQ(create->get("Channel-State"), "CS_INIT");
  EXPECT_EQ(create->get("Channel-State-Number"), "2");
  EXPECT_EQ(create->get("Answer-State"), "ringing");
  EXPECT_EQ(create->get("Call-Direction"), "outbound");
  EXPECT_FALSE(create->has("Hangup-Cause"));

  const auto execute = events.wait(is(uuid, "CHANNEL_EXECUTE"), 0ms);
  const auto complete = events.wait(is(uuid, "CHANNEL_EXECUTE_COMPLETE"), 0ms);
  ASSERT_TRUE(execute && complete);
  EXPECT_FALSE(execute->has("Application-Data")) << "hangup() has no data";
  EXPECT_FALSE(execute->get("Application-UUID").empty());
  EXPECT_EQ(complete->get("Application-UUID"), execute->get("Application-UUID"));
  EXPECT_EQ(complete->get("Application-Response"), "_none_");

  const auto hangup = events.wait(is(uuid, "CHANNEL_HANGUP"), 0ms);
  ASSERT_TRUE(hangup);
  EXPECT_EQ(hangup->get("Hangup-Cause"), "NORMAL_CLEARING");
  EXPECT_EQ(hangup->get("Channel-State"), "CS_EXECUTE");
  EXPECT_EQ(hangup->get("Channel-State-Number"), "10");
  EXPECT_EQ(hangup->get("Answer-State"), "hangup");
  // Hangup-Cause sits right after Answer-State (CALL_EVENTS.md §1.8).
  EXPECT_EQ(hangup->position("Hangup-Cause"), hangup->position("Answer-State") + 1);

  const auto cs_hangup = events.wait(is(uuid, "CHANNEL_STATE", "Channel-State", "CS_HANGUP"), 0ms);
  const auto cs_reporting =
      events.wait(is(uuid, "CHANNEL_STATE", "Channel-State", "CS_REPORTING"), 0ms);
  ASSERT_TRUE(cs_hangup && cs_reporting);
  EXPECT_EQ(cs_hangup->get("Channel-State-Number"), "10");
  EXPECT_EQ(cs_hangup->get("Channel-Call-State"), "ACTIVE");
  EXPECT_EQ(cs_hangup->get("Caller-Channel-Hangup-Time"), "0");
  EXPECT_EQ(cs_reporting->get("Channel-State-Number"), "11");
  EXPECT_EQ(cs_reporting->get("Channel-Call-State"), "HANGUP");
  EXPECT_NE(cs_reporting->get("Caller-Channel-Hangup-Time"), "0");
  for (const Ev& e : call) {
    if (e.name() == "CHANNEL_STATE") {
      EXPECT_EQ(e.variable_count(), 0u)
          << "CHANNEL_STATE " << e.get("Channel-State") << " carries variables";
    }
  }

  const auto complete_event = events.wait(is(uuid, "CHANNEL_HANGUP_COMPLETE"), 0ms);
  ASSERT_TRUE(complete_event);
  const Ev& hc = *complete_event;
  EXPECT_EQ(hc.count("Hangup-Cause"), 2u);
  EXPECT_EQ(hc.position("Hangup-Cause"), hc.position("Event-Sequence") + 1);
  EXPECT_EQ(hc.get("Hangup-Cause"), "NORMAL_CLEARING");
  EXPECT_EQ(hc.get("variable_hangup_cause"), "NORMAL_CLEARING");
  EXPECT_EQ(hc.get("variable_hangup_cause_q850"), "16");
  EXPECT_EQ(hc.get("variable_last_app"), "hangup");
  EXPECT_FALSE(hc.has("variable_last_arg")) << "omitted when the argument was empty";
  EXPECT_EQ(hc.get("variable_caller_id"), "\"Outbound Call\" <x>");
  for (const char* numeric :
       {"variable_billsec", "variable_duration", "variable_billmsec", "variable_uduration",
        "variable_answer_epoch", "variable_end_uepoch"}) {
    const std::string v = hc.get(numeric);
    EXPECT_TRUE(!v.empty() &&
                std::all_of(v.begin(), v.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
        << numeric << "=" << v;
  }
  EXPECT_NE(hc.get("variable_answer_epoch"), "0");
  EXPECT_EQ(hc.get("variable_bridge_epoch"), "0");

  // Nothing more about the channel after its CHANNEL_DESTROY, and it is gone.
  events.drain(100ms);
  EXPECT_EQ(events.about(uuid).size(), call.size());
  EXPECT_EQ(api("uuid_exists " + uuid), "false");
}

struct HangupCase {
  const char* data;
  const char* cause;
  const char* q850;
};

class CallsEventsHangupCause : public ::testing::TestWithParam<HangupCase> {};

TEST_P(CallsEventsHangupCause, HangupApplicationSetsCauseAndQ850) {
  const HangupCase& c = GetParam();
  TestServer server;
  Events events(server, "CHANNEL_HANGUP CHANNEL_HANGUP_COMPLETE CHANNEL_DESTROY");
  Api api(server);
  const std::string uuid = api.originate(std::string("null/x &hangup(") + c.data + ")");
  ASSERT_FALSE(uuid.empty());
  events.whole_call(uuid);
  const auto hangup = events.wait(is(uuid, "CHANNEL_HANGUP"), 0ms);
  const auto complete = events.wait(is(uuid, "CHANNEL_HANGUP_COMPLETE"), 0ms);
  ASSERT_TRUE(hangup && complete);
  EXPECT_EQ(hangup->get("Hangup-Cause"), c.cause);
  EXPECT_EQ(complete->get("Hangup-Cause"), c.cause);
  EXPECT_EQ(complete->get("variable_hangup_cause"), c.cause);
  EXPECT_EQ(complete->get("variable_hangup_cause_q850"), c.q850);
}

INSTANTIATE_TEST_SUITE_P(CallsCauses, CallsEventsHangupCause,
                         ::testing::Values(HangupCase{"", "NORMAL_CLEARING", "16"},
                                           HangupCase{"USER_BUSY", "USER_BUSY", "17"},
                                           HangupCase{"NO_ANSWER", "NO_ANSWER", "19"},
                                           HangupCase{"21", "CALL_REJECTED", "21"}));

// ============================================================================ the captures

// What a channel event is, for comparing like with like: the type, the state for
// CHANNEL_STATE, the leg for CHANNEL_CREATE, and whether an EXECUTE_COMPLETE follows a hangup.
std::string kind_of(const Ev& e) {
  std::string kind = e.name();
  if (kind == "CHANNEL_STATE") {
    kind += " " + e.get("Channel-State");
  } else if (kind == "CHANNEL_CREATE") {
    kind += e.get("Call-Direction") == "outbound" ? " a-leg" : " b-leg";
  } else if (kind == "CHANNEL_EXECUTE_COMPLETE" && e.has("Hangup-Cause")) {
    kind += " after hangup";
  }
  return kind;
}

// The channel events FreeSWITCH sent in one capture.
std::vector<Ev> captured_channel_events(const std::string& name) {
  const Transcript t = load_transcript(name);
  wire::Parser parser{wire::Direction::packet};
  parser.feed(t.server_bytes());
  std::vector<Ev> out;
  wire::MessageView view;
  while (!parser.next(view)) {
    if (view.header("Content-Type") == "text/event-plain") {
      Ev e = parse_plain(view.body);
      if (e.name().starts_with("CHANNEL_")) {
        out.push_back(std::move(e));
      }
    }
  }
  return out;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) {
    out += n + "\n";
  }
  return out;
}

// The requirement: the header names and their order of each event type are
// compared with the captures. The flow is the captures': K originates
// `{origination_uuid=X}loopback/9196 &park()`; a connection listening for CHANNEL_CREATE sees
// both legs (08); a connection bound with `myevents X` and `linger 3` sees the hangup when K
// kills X (16, 17). Values differ (uuids, times); names and order may not.
TEST(CallsCaptures, HeaderNamesAndOrderOfEachChannelEventMatchTheCaptures) {
  std::map<std::string, std::vector<std::string>> captured;
  for (const char* name :
       {"08_event_plain_channel_create", "16_myevents_inbound", "17_myevents_json_linger"}) {
    for (const Ev& e : captured_channel_events(name)) {
      const auto [it, inserted] = captured.emplace(kind_of(e), e.skeleton());
      if (!inserted) {
        EXPECT_EQ(joined(it->second), joined(e.skeleton()))
            << "the captures disagree on " << kind_of(e) << " (" << name << ")";
      }
    }
  }
  ASSERT_EQ(captured.size(), 8u) << "CREATE a/b, HANGUP, UNPARK, EXECUTE_COMPLETE, STATE x2, "
                                    "HANGUP_COMPLETE";

  TestServer server;
  Events created(server, "CHANNEL_CREATE CHANNEL_PARK");
  Api k(server);
  const std::string x = "0c000000-0000-4000-8000-000000000017";
  ASSERT_EQ(k("originate {origination_uuid=" + x + "}loopback/9196 &park()"), "+OK " + x + "\n");
  ASSERT_TRUE(created.wait(is(x, "CHANNEL_PARK")));

  std::map<std::string, std::vector<std::string>> ours;
  for (const Ev& e : created.history()) {
    if (e.name() == "CHANNEL_CREATE") {
      ours.emplace(kind_of(e), e.skeleton());
    }
  }

  TestClient bound(server.port());
  ASSERT_TRUE(bound.auth());
  EXPECT_EQ(reply_text(bound.command("myevents " + x)), "+OK Events Enabled");
  EXPECT_EQ(reply_text(bound.command("linger 3")), "+OK will linger 3 seconds");
  Api killer(server);
  EXPECT_EQ(killer("uuid_kill " + x), "+OK\n");
  const auto deadline = Clock::now() + 5s;
  bool complete = false;
  while (!complete) {
    const auto left = left_until(deadline);
    ASSERT_GT(left.count(), 0) << "no CHANNEL_HANGUP_COMPLETE on the bound connection";
    const auto packet = bound.read_packet(left);
    ASSERT_TRUE(packet) << "no CHANNEL_HANGUP_COMPLETE on the bound connection";
    if (content_type(packet) != "text/event-plain") {
      continue;  // the linger notice
    }
    const Ev e = parse_plain(packet->body);
    EXPECT_EQ(e.uuid(), x);
    ours.emplace(kind_of(e), e.skeleton());
    complete = e.name() == "CHANNEL_HANGUP_COMPLETE";
  }

  for (const auto& [kind, names] : captured) {
    const auto it = ours.find(kind);
    if (it == ours.end()) {
      ADD_FAILURE() << "the server sent no " << kind;
      continue;
    }
    EXPECT_EQ(joined(it->second), joined(names)) << kind << ": header names or order differ";
  }
}

// ============================================================================ applications

// set, export and unset, run on a parked call with uuid_broadcast app::args, then read back
// with uuid_getvar.
TEST(CallsApps, SetExportUnsetSeenByUuidGetvar) {
  TestServer server;
  Events events(server, "CHANNEL_EXECUTE_COMPLETE");
  Api api(server);
  const std::string uuid = api.originate("null/x &park()");
  ASSERT_FALSE(uuid.empty());
  auto run = [&](const std::string& app, const std::string& args) {
    EXPECT_EQ(api("uuid_broadcast " + uuid + " " + app + "::" + args), "+OK Message sent\n");
    EXPECT_TRUE(events.wait([&](const Ev& e) {
      return e.uuid() == uuid && e.name() == "CHANNEL_EXECUTE_COMPLETE" &&
             e.get("Application") == app && e.get("Application-Data") == args;
    })) << app
        << " " << args << " did not run";
  };
  run("set", "foo=bar");
  EXPECT_EQ(api("uuid_getvar " + uuid + " foo"), "bar");
  run("export", "baz=qux");
  EXPECT_EQ(api("uuid_getvar " + uuid + " baz"), "qux");
  EXPECT_EQ(api("uuid_getvar " + uuid + " export_vars"), "baz");
  run("unset", "foo");
  EXPECT_EQ(api("uuid_getvar " + uuid + " foo"), "_undef_");
  EXPECT_EQ(api("uuid_getvar " + uuid + " baz"), "qux");
}

// The same applications as the originate's application: their effect shows in the
// variables of CHANNEL_HANGUP_COMPLETE.
TEST(CallsApps, OriginateApplicationVariablesReachHangupComplete) {
  TestServer server;
  Events events(server, "CHANNEL_CREATE CHANNEL_HANGUP_COMPLETE CHANNEL_DESTROY");
  Api api(server);

  const std::string set = api.originate("null/x &set(foo=bar)");
  const std::string exported = api.originate("null/x &export(foo=bar)");
  const std::string unset = api.originate("{keep=1}null/x &unset(keep)");
  for (const std::string& uuid : {set, exported, unset}) {
    ASSERT_FALSE(uuid.empty());
    events.whole_call(uuid);
  }
  auto complete = [&](const std::string& uuid) {
    return events.wait(is(uuid, "CHANNEL_HANGUP_COMPLETE"), 0ms).value_or(Ev{});
  };
  EXPECT_EQ(complete(set).get("variable_foo"), "bar");
  EXPECT_EQ(complete(set).get("variable_last_app"), "set");
  EXPECT_EQ(complete(set).get("variable_last_arg"), "foo=bar");
  EXPECT_EQ(complete(exported).get("variable_foo"), "bar");
  EXPECT_EQ(complete(exported).get("variable_export_vars"), "foo");
  EXPECT_EQ(events.wait(is(unset, "CHANNEL_CREATE"), 0ms).value_or(Ev{}).get("variable_keep"), "1");
  EXPECT_FALSE(complete(unset).has("variable_keep"));
}

// mod_dptools' export sets the variable and appends its name to export_vars, nothing else.
TEST(CallsApps, ExportSetsNoExtraVariable) {
  TestServer server;
  Events events(server, "CHANNEL_HANGUP_COMPLETE CHANNEL_DESTROY");
  Api api(server);
  const std::string uuid = api.originate("null/x &export(foo=bar)");
  ASSERT_FALSE(uuid.empty());
  events.whole_call(uuid);
  const Ev complete = events.wait(is(uuid, "CHANNEL_HANGUP_COMPLETE"), 0ms).value_or(Ev{});
  for (const auto& [name, value] : complete.headers) {
    EXPECT_FALSE(name.starts_with("variable__export_")) << name << "=" << value;
  }
}

TEST(CallsApps, PlaybackOfAToneStream) {
  TestServer server;
  Events events(server, "ALL");
  Api api(server);
  const std::string tone = "tone_stream://%(100,0,440);loops=1";
  const std::string uuid = api.originate("null/x &playback(" + tone + ")");
  ASSERT_FALSE(uuid.empty());
  const std::vector<Ev> call = events.whole_call(uuid);
  expect_in_order(call,
                  {{"EXECUTE playback", is(uuid, "CHANNEL_EXECUTE", "Application", "playback")},
                   {"PLAYBACK_START", is(uuid, "PLAYBACK_START", "Playback-File-Path", tone)},
                   {"PLAYBACK_STOP", is(uuid, "PLAYBACK_STOP", "Playback-Status", "done")},
                   {"EXECUTE_COMPLETE playback",
                    is(uuid, "CHANNEL_EXECUTE_COMPLETE", "Application", "playback")},
                   {"CHANNEL_HANGUP", is(uuid, "CHANNEL_HANGUP")}});
  const Ev execute = events.wait(is(uuid, "CHANNEL_EXECUTE"), 0ms).value_or(Ev{});
  const Ev complete = events.wait(is(uuid, "CHANNEL_EXECUTE_COMPLETE"), 0ms).value_or(Ev{});
  EXPECT_EQ(execute.get("Application-Data"), tone);
  EXPECT_EQ(complete.get("Application-Data"), tone);
  EXPECT_EQ(complete.get("Application-Response"), "FILE PLAYED");
  EXPECT_EQ(complete.get("Application-UUID"), execute.get("Application-UUID"));
  // The variables playback leaves, in FreeSWITCH's order (CALL_EVENTS.md §2.3 rule 4).
  std::vector<std::string> playback_vars;
  for (const auto& [name, value] : complete.headers) {
    if (name.starts_with("variable_playback_") || name == "variable_current_application_response") {
      playback_vars.push_back(name + "=" + value);
    }
  }
  EXPECT_EQ(joined(playback_vars),
            joined({"variable_playback_last_offset_pos=800", "variable_playback_seconds=0",
                    "variable_playback_ms=100", "variable_playback_samples=800",
                    "variable_current_application_response=FILE PLAYED"}));
  // It lasts the tone's 100 ms (Event-Date-Timestamp is in microseconds).
  EXPECT_GE(std::stoll(complete.get("Event-Date-Timestamp")) -
                std::stoll(execute.get("Event-Date-Timestamp")),
            90000);
}

TEST(CallsApps, PlaybackOfAMissingFileIsFileNotFound) {
  TestServer server;
  Events events(server, "ALL");
  Api api(server);
  const std::string uuid = api.originate("null/x &playback(/nonexistent/calls_test.wav)");
  ASSERT_FALSE(uuid.empty());
  events.whole_call(uuid);
  EXPECT_EQ(events.count(is(uuid, "PLAYBACK_START")), 0u);
  const auto complete = events.wait(is(uuid, "CHANNEL_EXECUTE_COMPLETE"), 0ms);
  ASSERT_TRUE(complete);
  EXPECT_EQ(complete->get("Application-Response"), "FILE NOT FOUND");
}

TEST(CallsApps, SleepTakesItsTime) {
  TestServer server;
  Events events(server, "CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE CHANNEL_DESTROY");
  Api api(server);
  const std::string uuid = api.originate("null/x &sleep(200)");
  ASSERT_FALSE(uuid.empty());
  events.whole_call(uuid);
  const Ev execute =
      events.wait(is(uuid, "CHANNEL_EXECUTE", "Application", "sleep"), 0ms).value_or(Ev{});
  const Ev complete =
      events.wait(is(uuid, "CHANNEL_EXECUTE_COMPLETE", "Application", "sleep"), 0ms).value_or(Ev{});
  ASSERT_FALSE(execute.headers.empty());
  ASSERT_FALSE(complete.headers.empty());
  EXPECT_EQ(execute.get("Application-Data"), "200");
  EXPECT_GE(std::stoll(complete.get("Event-Date-Timestamp")) -
                std::stoll(execute.get("Event-Date-Timestamp")),
            190000);
}

// switch_core_session_execute_application: an unknown application is logged at ERR
// ("Invalid Application <name>") and the channel is hung up with DESTINATION_OUT_OF_ORDER;
// it never gets a CHANNEL_EXECUTE. The originate itself succeeded (the leg answered).
TEST(CallsApps, UnknownApplicationHangsUpDestinationOutOfOrder) {
  TestServer server;
  Events events(server, "ALL");
  EXPECT_EQ(events.command("log err"), "+OK log level err [3]");
  Api api(server);
  const std::string uuid = api.originate("null/x &nosuchapp(with args)");
  ASSERT_FALSE(uuid.empty());
  events.whole_call(uuid);
  EXPECT_EQ(events.count(is(uuid, "CHANNEL_EXECUTE")), 0u);
  const auto hangup = events.wait(is(uuid, "CHANNEL_HANGUP"), 0ms);
  const auto complete = events.wait(is(uuid, "CHANNEL_HANGUP_COMPLETE"), 0ms);
  ASSERT_TRUE(hangup && complete);
  EXPECT_EQ(hangup->get("Hangup-Cause"), "DESTINATION_OUT_OF_ORDER");
  EXPECT_EQ(complete->get("variable_hangup_cause_q850"), "27");
  events.drain(100ms);
  bool logged = false;
  for (const wire::Message& m : events.others()) {
    if (m.header("Content-Type") == "log/data" && m.header("Log-Level") == "3" &&
        m.body.find("Invalid Application nosuchapp") != std::string::npos) {
      logged = true;
      EXPECT_EQ(m.header("User-Data").value_or(""), uuid);
    }
  }
  EXPECT_TRUE(logged) << "no ERR log line about the application";
}

// uuid_transfer sends a parked call through the dialplan: extension 9196 answers and echoes.
TEST(CallsApps, UuidTransferRoutesParkedNullCallThroughTheDialplan) {
  TestServer server;
  Events events(server, "ALL");
  Api api(server);
  const std::string uuid = api.originate("null/x &park()");
  ASSERT_FALSE(uuid.empty());
  ASSERT_TRUE(events.wait(is(uuid, "CHANNEL_PARK")));
  EXPECT_EQ(api("uuid_transfer " + uuid + " 9196"), "+OK\n");
  ASSERT_TRUE(events.wait(is(uuid, "CHANNEL_EXECUTE", "Application", "echo"), 2s))
      << summary(events.about(uuid));
  expect_in_order(
      events.about(uuid),
      {{"UNPARK", is(uuid, "CHANNEL_UNPARK")},
       {"EXECUTE_COMPLETE park", is(uuid, "CHANNEL_EXECUTE_COMPLETE", "Application", "park")},
       {"EXECUTE answer", is(uuid, "CHANNEL_EXECUTE", "Application", "answer")},
       {"EXECUTE echo", is(uuid, "CHANNEL_EXECUTE", "Application", "echo")}});
  EXPECT_EQ(events.wait(is(uuid, "CHANNEL_EXECUTE", "Application", "echo"), 0ms)
                .value_or(Ev{})
                .get("Caller-Destination-Number"),
            "9196");
}

// `originate <url> <exten>`: the answered leg runs the extension.
TEST(CallsApps, OriginateToAnExtensionRunsTheDialplan) {
  TestServer server;
  Events events(server, "ALL");
  Api api(server);
  const std::string uuid = api.originate("null/x 9196");
  ASSERT_FALSE(uuid.empty());
  ASSERT_TRUE(events.wait(is(uuid, "CHANNEL_EXECUTE", "Application", "echo"), 2s))
      << summary(events.about(uuid));
  expect_in_order(events.about(uuid),
                  {{"EXECUTE answer", is(uuid, "CHANNEL_EXECUTE", "Application", "answer")},
                   {"EXECUTE echo", is(uuid, "CHANNEL_EXECUTE", "Application", "echo")}});
}

// A transfer of a leg that came in through the dialplan (the loopback b-leg) works: it leaves
// echo and runs the `park` extension.
TEST(CallsApps, UuidTransferOfTheLoopbackBLegRunsTheNewExtension) {
  TestServer server;
  Events events(server, "ALL");
  Api api(server);
  const std::string a = "0a000000-0000-4000-8000-000000000002";
  const std::string b = park_loopback_call(api, events, a);
  ASSERT_FALSE(b.empty());
  EXPECT_EQ(api("uuid_transfer " + b + " park"), "+OK\n");
  const auto parked = events.wait(is(b, "CHANNEL_PARK"), 2s);
  ASSERT_TRUE(parked) << summary(events.about(b));
  EXPECT_EQ(parked->get("Caller-Destination-Number"), "park");
  expect_in_order(
      events.about(b),
      {{"EXECUTE echo", is(b, "CHANNEL_EXECUTE", "Application", "echo")},
       {"EXECUTE_COMPLETE echo", is(b, "CHANNEL_EXECUTE_COMPLETE", "Application", "echo")},
       {"EXECUTE park", is(b, "CHANNEL_EXECUTE", "Application", "park")},
       {"CHANNEL_PARK", is(b, "CHANNEL_PARK")}});
  EXPECT_EQ(api("uuid_transfer"),
            "-USAGE: [-bleg|-both] <uuid> <dest-exten> [<dialplan>] [<context>]\n");
}

// `originate null/a &bridge(null/b)`: CHANNEL_BRIDGE on the a-leg names both legs and the
// other leg; killing the b-leg ends the bridge (CHANNEL_UNBRIDGE) and the a-leg, whose
// application list is then done, hangs up.
// uuid_broadcast reaches the leg asked for while the call is bridged: bleg plays on the
// bridged leg, aleg on the channel itself, both on both.
TEST(CallsApps, BroadcastOnABridgedCallPlaysOnTheLegAskedFor) {
  TestServer server;
  Events events(server, "CHANNEL_BRIDGE CHANNEL_CREATE PLAYBACK_START");
  Api api(server);
  const std::string a = api.originate("null/a &bridge(null/b)");
  ASSERT_FALSE(a.empty());
  ASSERT_TRUE(events.wait(is(a, "CHANNEL_BRIDGE")));
  const std::string b = uuid_of_channel(events, "null/b");
  ASSERT_FALSE(b.empty());
  const std::string tone = "tone_stream://%(20,0,440)";
  EXPECT_EQ(api("uuid_broadcast " + a + " " + tone + " bleg"), "+OK Message sent\n");
  EXPECT_TRUE(events.wait(is(b, "PLAYBACK_START")));
  EXPECT_FALSE(events.wait(is(a, "PLAYBACK_START"), 200ms)) << "bleg is the other leg only";
  EXPECT_EQ(api("uuid_broadcast " + a + " " + tone + " aleg"), "+OK Message sent\n");
  EXPECT_TRUE(events.wait(is(a, "PLAYBACK_START")));
  EXPECT_EQ(api("hupall"), "+OK hangup all channels with cause MANAGER_REQUEST\n");
  api.wait_for_channels(0);
}

TEST(CallsApps, BridgeJoinsTheLegsUntilTheBLegHangsUp) {
  TestServer server;
  Events events(server, "ALL");
  Api api(server);
  const std::string a = api.originate("null/a &bridge(null/b)");
  ASSERT_FALSE(a.empty());
  const auto bridge = events.wait(is(a, "CHANNEL_BRIDGE"));
  ASSERT_TRUE(bridge) << summary(events.history());
  const std::string b = uuid_of_channel(events, "null/b");
  ASSERT_FALSE(b.empty());
  EXPECT_EQ(bridge->get("Bridge-A-Unique-ID"), a);
  EXPECT_EQ(bridge->get("Bridge-B-Unique-ID"), b);
  EXPECT_EQ(bridge->get("Other-Type"), "originatee");
  EXPECT_EQ(bridge->get("Other-Leg-Unique-ID"), b);
  EXPECT_EQ(api("show channels count"), "\n2 total.\n");

  EXPECT_EQ(api("uuid_kill " + b), "+OK\n");
  events.whole_call(a);
  events.whole_call(b);
  const auto b_hangup = events.wait(is(b, "CHANNEL_HANGUP"), 0ms);
  ASSERT_TRUE(b_hangup);
  EXPECT_EQ(b_hangup->get("Hangup-Cause"), "NORMAL_CLEARING");
  EXPECT_EQ(b_hangup->get("Other-Type"), "originator");
  EXPECT_EQ(b_hangup->get("Other-Leg-Unique-ID"), a);
  expect_in_order(
      events.about(a),
      {{"EXECUTE bridge", is(a, "CHANNEL_EXECUTE", "Application", "bridge")},
       {"CHANNEL_BRIDGE", is(a, "CHANNEL_BRIDGE")},
       {"CHANNEL_UNBRIDGE", is(a, "CHANNEL_UNBRIDGE", "Bridge-B-Unique-ID", b)},
       {"EXECUTE_COMPLETE bridge", is(a, "CHANNEL_EXECUTE_COMPLETE", "Application", "bridge")},
       {"CHANNEL_HANGUP", is(a, "CHANNEL_HANGUP", "Hangup-Cause", "NORMAL_CLEARING")}});
  api.wait_for_channels(0);
}

// The event application fires an event of the channel: CUSTOM with a subclass here, which a
// subscription to that subclass receives.
TEST(CallsApps, EventApplicationFiresCustomWithSubclass) {
  TestServer server;
  Events all(server, "ALL");
  Events subclass(server, "CUSTOM calls::test");
  Api api(server);
  const std::string uuid =
      api.originate("null/x &event(Event-Name=CUSTOM,Event-Subclass=calls::test,X-Calls=yes)");
  ASSERT_FALSE(uuid.empty());
  const auto custom = subclass.wait(is(uuid, "CUSTOM"));
  ASSERT_TRUE(custom);
  EXPECT_EQ(custom->get("Event-Subclass"), "calls::test");
  EXPECT_EQ(custom->get("X-Calls"), "yes");
  EXPECT_EQ(custom->get("Channel-Name"), "null/x");
  all.whole_call(uuid);
  expect_in_order(
      all.about(uuid),
      {{"EXECUTE event", is(uuid, "CHANNEL_EXECUTE", "Application", "event")},
       {"CUSTOM", is(uuid, "CUSTOM", "Event-Subclass", "calls::test")},
       {"EXECUTE_COMPLETE event", is(uuid, "CHANNEL_EXECUTE_COMPLETE", "Application", "event")}});
}

// ============================================================================ API commands

TEST(CallsCommands, UuidKillRepliesAndCause) {
  TestServer server;
  Events events(server, "CHANNEL_HANGUP");
  Api api(server);
  const std::string uuid = api.originate("null/x &park()");
  ASSERT_FALSE(uuid.empty());
  EXPECT_EQ(api("uuid_kill " + uuid + " USER_BUSY"), "+OK\n");
  // The channel is on its way out: a second kill finds no channel (capture 15).
  EXPECT_EQ(api("uuid_kill " + uuid), "-ERR No such channel!\n");
  EXPECT_EQ(api("uuid_kill"), "-USAGE: <uuid> [cause]\n");
  EXPECT_EQ(api("uuid_kill 0f000000-0000-4000-8000-000000000000"), "-ERR No such channel!\n");
  const auto hangup = events.wait(is(uuid, "CHANNEL_HANGUP"));
  ASSERT_TRUE(hangup);
  EXPECT_EQ(hangup->get("Hangup-Cause"), "USER_BUSY");
  api.wait_for_channels(0);
}

// uuid_answer answers a ringing inbound leg: a loopback call into the `park` extension rings
// until its b-leg is answered, and the originate (a bgapi job here) completes then.
TEST(CallsCommands, UuidAnswerAnswersARingingLeg) {
  TestServer server;
  Events events(server, "ALL");
  Api api(server);
  const std::string a = "0a000000-0000-4000-8000-000000000003";
  TestClient bg(server.port());
  ASSERT_TRUE(bg.auth());
  const std::string job =
      reply_text(bg.command("bgapi originate {origination_uuid=" + a + "}loopback/park &park()"));
  ASSERT_TRUE(job.starts_with("+OK Job-UUID: ")) << job;
  const auto b_parked = events.wait(any_with("CHANNEL_PARK", "Channel-Name", "loopback/park-b"));
  ASSERT_TRUE(b_parked);
  const std::string b = b_parked->uuid();
  EXPECT_EQ(b_parked->get("Answer-State"), "ringing");
  EXPECT_EQ(api("uuid_exists " + a), "true");

  EXPECT_EQ(api("uuid_answer " + b), "+OK\n");
  EXPECT_TRUE(events.wait(is(b, "CHANNEL_ANSWER")));
  EXPECT_TRUE(events.wait(is(a, "CHANNEL_ANSWER")));
  const auto done = events.wait(any_with("BACKGROUND_JOB", "Job-UUID", job.substr(14)));
  ASSERT_TRUE(done);
  EXPECT_EQ(done->body, "+OK " + a + "\n");

  // Answering an answered channel changes nothing.
  EXPECT_EQ(api("uuid_answer " + b), "+OK\n");
  events.drain(100ms);
  EXPECT_EQ(events.count(is(b, "CHANNEL_ANSWER")), 1u);
  EXPECT_TRUE(api("uuid_answer 0f000000-0000-4000-8000-000000000000").starts_with("-ERR"));
}

TEST(CallsCommands, UuidParkInterruptsTheApplicationAndParks) {
  TestServer server;
  Events events(server, "ALL");
  Api api(server);
  const std::string uuid = api.originate("null/x &playback(silence_stream://3000)");
  ASSERT_FALSE(uuid.empty());
  ASSERT_TRUE(events.wait(is(uuid, "PLAYBACK_START")));
  EXPECT_EQ(api("uuid_park " + uuid), "+OK\n");
  ASSERT_TRUE(events.wait(is(uuid, "CHANNEL_PARK"), 2s)) << summary(events.about(uuid));
  expect_in_order(events.about(uuid),
                  {{"PLAYBACK_STOP", is(uuid, "PLAYBACK_STOP")},
                   {"EXECUTE_COMPLETE playback",
                    is(uuid, "CHANNEL_EXECUTE_COMPLETE", "Application", "playback")},
                   {"CHANNEL_PARK", is(uuid, "CHANNEL_PARK")}});
  EXPECT_EQ(events.count(is(uuid, "CHANNEL_HANGUP")), 0u) << "a parked call stays up";
  EXPECT_EQ(api("uuid_park 0f000000-0000-4000-8000-000000000000"), "-ERR No such channel!\n");
  EXPECT_EQ(api("uuid_kill " + uuid), "+OK\n");
  EXPECT_TRUE(events.wait(is(uuid, "CHANNEL_UNPARK")));
}

// uuid_break stops the media application at once: PLAYBACK_STOP says `break`.
TEST(CallsCommands, UuidBreakStopsAPlayback) {
  TestServer server;
  Events events(server, "ALL");
  Api api(server);
  const std::string uuid = api.originate("null/x &playback(silence_stream://10000)");
  ASSERT_FALSE(uuid.empty());
  ASSERT_TRUE(events.wait(is(uuid, "PLAYBACK_START")));
  const auto start = Clock::now();
  EXPECT_EQ(api("uuid_break " + uuid), "+OK\n");
  const auto stop = events.wait(is(uuid, "PLAYBACK_STOP"), 3s);
  EXPECT_LT(Clock::now() - start, 3s) << "the 10 s playback was not interrupted";
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->get("Playback-Status"), "break");
  EXPECT_EQ(stop->get("Playback-File-Path"), "silence_stream://10000");
  const auto complete =
      events.wait(is(uuid, "CHANNEL_EXECUTE_COMPLETE", "Application", "playback"));
  ASSERT_TRUE(complete);
  EXPECT_EQ(complete->get("Application-Response"), "FILE PLAYED");
  EXPECT_EQ(api("uuid_break"), "-USAGE: <uuid> [all]\n");
}

TEST(CallsCommands, UuidBroadcastPlaysOnAParkedCall) {
  TestServer server;
  Events events(server, "ALL");
  Api api(server);
  const std::string uuid = api.originate("null/x &park()");
  ASSERT_FALSE(uuid.empty());
  ASSERT_TRUE(events.wait(is(uuid, "CHANNEL_PARK")));
  const std::string tone = "tone_stream://%(100,0,440);loops=1";
  EXPECT_EQ(api("uuid_broadcast " + uuid + " " + tone), "+OK Message sent\n");
  ASSERT_TRUE(events.wait(is(uuid, "CHANNEL_EXECUTE_COMPLETE", "Application", "playback")));
  expect_in_order(events.about(uuid),
                  {{"CHANNEL_PARK", is(uuid, "CHANNEL_PARK")},
                   {"EXECUTE playback", is(uuid, "CHANNEL_EXECUTE", "Application-Data", tone)},
                   {"PLAYBACK_START", is(uuid, "PLAYBACK_START")},
                   {"PLAYBACK_STOP", is(uuid, "PLAYBACK_STOP", "Playback-Status", "done")},
                   {"EXECUTE_COMPLETE playback",
                    is(uuid, "CHANNEL_EXECUTE_COMPLETE", "Application-Response", "FILE PLAYED")}});
  EXPECT_EQ(events.count(is(uuid, "CHANNEL_UNPARK")), 0u) << "still parked after the broadcast";
  EXPECT_EQ(api("uuid_getvar " + uuid + " playback_ms"), "100");
  // playback::<file> says the same explicitly.
  EXPECT_EQ(api("uuid_broadcast " + uuid + " playback::" + tone), "+OK Message sent\n");
  int completed = 0;
  EXPECT_TRUE(events.wait([&](const Ev& e) {
    return is(uuid, "CHANNEL_EXECUTE_COMPLETE", "Application", "playback")(e) && ++completed == 2;
  })) << "the second playback did not run";
  // app::args runs any application.
  EXPECT_EQ(api("uuid_broadcast " + uuid + " sleep::50"), "+OK Message sent\n");
  EXPECT_TRUE(events.wait(is(uuid, "CHANNEL_EXECUTE_COMPLETE", "Application", "sleep")));
  EXPECT_TRUE(api("uuid_broadcast " + uuid).starts_with("-USAGE: <uuid> <path> ["));
  EXPECT_EQ(api("uuid_broadcast 0f000000-0000-4000-8000-000000000000 " + tone),
            "-ERR No such channel!\n");
}

TEST(CallsCommands, UuidSetvarMultiAndGetvar) {
  TestServer server;
  Api api(server);
  const std::string uuid = api.originate("null/x &park()");
  ASSERT_FALSE(uuid.empty());
  EXPECT_EQ(api("uuid_setvar_multi " + uuid + " calls_a=1;calls_b=two words;calls_c=3"), "+OK\n");
  EXPECT_EQ(api("uuid_getvar " + uuid + " calls_a"), "1");
  EXPECT_EQ(api("uuid_getvar " + uuid + " calls_b"), "two words");
  EXPECT_EQ(api("uuid_getvar " + uuid + " calls_c"), "3");
  EXPECT_EQ(api("uuid_getvar " + uuid + " calls_none"), "_undef_");
  // An empty value unsets.
  EXPECT_EQ(api("uuid_setvar_multi " + uuid + " calls_a="), "+OK\n");
  EXPECT_EQ(api("uuid_getvar " + uuid + " calls_a"), "_undef_");
  EXPECT_EQ(api("uuid_getvar " + uuid), "-USAGE: <uuid> <var>\n");
  EXPECT_EQ(api("uuid_getvar 0f000000-0000-4000-8000-000000000000 calls_a"),
            "-ERR No such channel!\n");
  EXPECT_EQ(api("uuid_setvar_multi 0f000000-0000-4000-8000-000000000000 calls_a=1"),
            "-ERR No such channel!\n");
}

TEST(CallsCommands, UuidDumpTextAndJson) {
  TestServer server;
  Api api(server);
  const std::string uuid = api.originate("null/x &park()");
  ASSERT_FALSE(uuid.empty());
  const std::string text = api("uuid_dump " + uuid);
  for (const std::string& line :
       {"Unique-ID: " + uuid + "\n", std::string("Channel-Name: null/x\n"),
        std::string("Answer-State: answered\n"), "variable_uuid: " + uuid + "\n",
        std::string("variable_channel_name: null/x\n")}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "in:\n" << text;
  }
  const std::string json = api("uuid_dump " + uuid + " json");
  EXPECT_TRUE(json.starts_with("{")) << json;
  EXPECT_NE(json.find("\"Unique-ID\":\"" + uuid + "\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"variable_channel_name\":\"null/x\""), std::string::npos) << json;
  EXPECT_EQ(api("uuid_dump"), "-USAGE: <uuid> [format]\n");
}

// mod_commands' uuid_dump serialises a CHANNEL_DATA event made with switch_event_create, so
// the dump starts with the event's standard headers, and the default (txt) format URL-encodes
// the values (switch_event_serialize with encode on; only the `plain` format does not).
// Engine bug: the dump has no Event-Name/Core-UUID/... headers and its values are raw.
TEST(CallsCommands, UuidDumpIsASerialisedChannelDataEvent) {
  TestServer server;
  Api api(server);
  const std::string uuid = api.originate("null/x &park()");
  ASSERT_FALSE(uuid.empty());
  const std::string text = api("uuid_dump " + uuid);
  EXPECT_TRUE(text.starts_with("Event-Name: CHANNEL_DATA\nCore-UUID: ")) << text;
  EXPECT_NE(text.find("\nCaller-Caller-ID-Name: Outbound%20Call\n"), std::string::npos) << text;
  const std::string json = api("uuid_dump " + uuid + " json");
  EXPECT_TRUE(json.starts_with("{\"Event-Name\":\"CHANNEL_DATA\"")) << json;
}

TEST(CallsCommands, UuidHoldFiresHoldAndUnhold) {
  TestServer server;
  Events events(server, "CHANNEL_HOLD CHANNEL_UNHOLD CHANNEL_CALLSTATE");
  Api api(server);
  const std::string uuid = api.originate("null/x &park()");
  ASSERT_FALSE(uuid.empty());
  EXPECT_EQ(api("uuid_hold " + uuid), "+OK Success\n");
  const auto hold = events.wait(is(uuid, "CHANNEL_HOLD"));
  ASSERT_TRUE(hold);
  EXPECT_EQ(hold->get("Channel-Call-State"), "HELD");
  EXPECT_NE(hold->get("Caller-Channel-Last-Hold"), "0");
  EXPECT_EQ(api("uuid_hold off " + uuid), "+OK Success\n");
  const auto unhold = events.wait(is(uuid, "CHANNEL_UNHOLD"));
  ASSERT_TRUE(unhold);
  EXPECT_EQ(unhold->get("Channel-Call-State"), "ACTIVE");
  expect_in_order(
      events.about(uuid),
      {{"CALLSTATE HELD", is(uuid, "CHANNEL_CALLSTATE", "Channel-Call-State", "HELD")},
       {"CHANNEL_HOLD", is(uuid, "CHANNEL_HOLD")},
       {"CALLSTATE ACTIVE", is(uuid, "CHANNEL_CALLSTATE", "Channel-Call-State", "ACTIVE")},
       {"CHANNEL_UNHOLD", is(uuid, "CHANNEL_UNHOLD")}});
  EXPECT_TRUE(api("uuid_hold").starts_with("-USAGE: [off"));
}

// Digits sent on the loopback a-leg come out of its b-leg: DTMF events on the b-leg.
TEST(CallsCommands, UuidSendDtmfOnTheLoopbackALegReachesTheBLeg) {
  TestServer server;
  Events events(server, "ALL");
  Api api(server);
  const std::string a = "0a000000-0000-4000-8000-000000000004";
  const std::string b = park_loopback_call(api, events, a);
  ASSERT_FALSE(b.empty());
  EXPECT_EQ(api("uuid_send_dtmf " + a + " 1#9"), "+OK Success\n");
  ASSERT_TRUE(events.wait(is(b, "DTMF", "DTMF-Digit", "9")));
  std::string digits;
  for (const Ev& e : events.about(b)) {
    if (e.name() == "DTMF") {
      digits += e.get("DTMF-Digit");
      EXPECT_FALSE(e.get("DTMF-Duration").empty());
    }
  }
  EXPECT_EQ(digits, "1#9");
  EXPECT_EQ(events.count(is(a, "DTMF")), 0u) << "the a-leg sent the digits, it did not get them";
  EXPECT_EQ(api("uuid_send_dtmf " + a), "-USAGE: <uuid> <dtmf_data>\n");
}

TEST(CallsCommands, UuidBridgeJoinsTwoParkedCalls) {
  TestServer server;
  Events events(server, "ALL");
  Api api(server);
  const std::string a = api.originate("null/a &park()");
  const std::string b = api.originate("null/b &park()");
  ASSERT_FALSE(a.empty());
  ASSERT_FALSE(b.empty());
  ASSERT_TRUE(events.wait(is(a, "CHANNEL_PARK")));
  ASSERT_TRUE(events.wait(is(b, "CHANNEL_PARK")));
  EXPECT_EQ(api("uuid_bridge " + a + " " + b), "+OK " + b + "\n");
  const auto bridge = events.wait(is(a, "CHANNEL_BRIDGE"));
  ASSERT_TRUE(bridge) << summary(events.history());
  EXPECT_EQ(bridge->get("Bridge-A-Unique-ID"), a);
  EXPECT_EQ(bridge->get("Bridge-B-Unique-ID"), b);
  EXPECT_TRUE(events.wait(is(a, "CHANNEL_UNPARK")));
  EXPECT_TRUE(events.wait(is(b, "CHANNEL_UNPARK")));
  EXPECT_EQ(api("show channels count"), "\n2 total.\n");

  EXPECT_EQ(api("uuid_kill " + b), "+OK\n");
  EXPECT_TRUE(events.wait(is(a, "CHANNEL_UNBRIDGE", "Bridge-B-Unique-ID", b)));
  api.wait_for_channels(0);
  EXPECT_EQ(api("uuid_bridge " + a + " " + b), "-ERR Invalid uuid\n");
  EXPECT_EQ(api("uuid_bridge " + a), "-USAGE: <uuid> <other_uuid>\n");
}

// switch_ivr_uuid_bridge joins the legs with state handlers, not with an application: no
// CHANNEL_EXECUTE comes with a uuid_bridge. Engine bug: the a-leg runs an internal
// `_uuid_bridge` application, visible in CHANNEL_EXECUTE/EXECUTE_COMPLETE and show channels.
TEST(CallsCommands, UuidBridgeRunsNoApplication) {
  TestServer server;
  Events events(server, "ALL");
  Api api(server);
  const std::string a = api.originate("null/a &park()");
  const std::string b = api.originate("null/b &park()");
  ASSERT_TRUE(events.wait(is(a, "CHANNEL_PARK")));
  ASSERT_TRUE(events.wait(is(b, "CHANNEL_PARK")));
  const std::size_t before = events.history().size();
  EXPECT_EQ(api("uuid_bridge " + a + " " + b), "+OK " + b + "\n");
  ASSERT_TRUE(events.wait(is(a, "CHANNEL_BRIDGE")));
  for (std::size_t i = before; i < events.history().size(); ++i) {
    const Ev& e = events.history()[i];
    EXPECT_NE(e.name(), "CHANNEL_EXECUTE") << "application " << e.get("Application");
  }
}

// sched_hangup, sched_api and sched_del, with one-second timers.
TEST(CallsCommands, SchedHangupSchedApiAndSchedDel) {
  TestServer server;
  Events events(server, "CHANNEL_HANGUP API");
  Api api(server);
  const std::string uuid = api.originate("null/x &park()");
  ASSERT_FALSE(uuid.empty());
  const auto start = Clock::now();
  EXPECT_EQ(api("sched_hangup +1 " + uuid), "+OK\n");
  const std::string kept = api("sched_api +1 calls_kept echo calls-kept");
  const std::string dropped = api("sched_api +1 calls_dropped echo calls-dropped");
  EXPECT_TRUE(kept.starts_with("+OK Added: ")) << kept;
  EXPECT_TRUE(dropped.starts_with("+OK Added: ")) << dropped;
  EXPECT_NE(kept, dropped);
  EXPECT_EQ(api("sched_del calls_dropped"), "+OK Deleted: 1\n");
  EXPECT_EQ(api("sched_del calls_dropped"), "+OK Deleted: 0\n");

  const auto hangup = events.wait(is(uuid, "CHANNEL_HANGUP"), 4s);
  ASSERT_TRUE(hangup);
  EXPECT_GE(Clock::now() - start, 900ms);
  EXPECT_EQ(hangup->get("Hangup-Cause"), "ALLOTTED_TIMEOUT");
  const auto ran = events.wait(any_with("API", "API-Command-Argument", "calls-kept"), 3s);
  ASSERT_TRUE(ran) << "the scheduled echo never ran";
  EXPECT_EQ(ran->get("API-Command"), "echo");
  events.drain(300ms);
  EXPECT_EQ(events.count(any_with("API", "API-Command-Argument", "calls-dropped")), 0u)
      << "sched_del did not cancel the task";
  EXPECT_EQ(api("sched_hangup +1 0f000000-0000-4000-8000-000000000000"), "-ERR No such channel!\n");
}

TEST(CallsCommands, HupallHangsUpEveryChannel) {
  TestServer server;
  Events events(server, "CHANNEL_HANGUP");
  Api api(server);
  const std::string one = api.originate("null/one &park()");
  const std::string two =
      api.originate("{origination_uuid=0a000000-0000-4000-8000-000000000005}loopback/9196 &park()");
  ASSERT_FALSE(one.empty());
  ASSERT_FALSE(two.empty());
  api.wait_for_channels(3);
  EXPECT_EQ(api("hupall"), "+OK hangup all channels with cause MANAGER_REQUEST\n");
  for (const std::string& uuid : {one, two}) {
    const auto hangup = events.wait(is(uuid, "CHANNEL_HANGUP"));
    ASSERT_TRUE(hangup) << uuid;
    EXPECT_EQ(hangup->get("Hangup-Cause"), "MANAGER_REQUEST");
  }
  api.wait_for_channels(0);
}

// The channel listing while calls exist, and after they are gone.
TEST(CallsCommands, ShowChannelsCountAndJsonFollowTheCalls) {
  TestServer server;
  Api api(server);
  EXPECT_EQ(api("show channels count"), "\n0 total.\n");
  const std::string one = api.originate("null/one &park()");
  const std::string two = api.originate("null/two &park()");
  ASSERT_FALSE(one.empty());
  ASSERT_FALSE(two.empty());
  EXPECT_EQ(api("show channels count"), "\n2 total.\n");
  const std::string json = api("show channels as json");
  EXPECT_TRUE(json.starts_with("{\"row_count\":2,\"rows\":[{\"uuid\":\"" + one + "\"")) << json;
  EXPECT_TRUE(json.ends_with("}]}")) << json;
  const std::size_t first = json.find("\"name\":\"null/one\"");
  const std::size_t second = json.find("\"name\":\"null/two\"");
  EXPECT_NE(first, std::string::npos) << json;
  EXPECT_NE(second, std::string::npos) << json;
  EXPECT_LT(first, second) << "rows are in creation order";
  EXPECT_NE(json.find("\"created_epoch\":\""), std::string::npos) << "all values are strings";

  EXPECT_EQ(api("uuid_kill " + one), "+OK\n");
  api.wait_for_channels(1);
  EXPECT_EQ(api("uuid_kill " + two), "+OK\n");
  api.wait_for_channels(0);
}

// mod_commands: the matching form of hupall says "with cause:" (with a colon), and a
// sched_api it cannot parse is "-ERR Invalid syntax. USAGE: ...".
// Engine bug: no colon, and -USAGE for sched_api.
TEST(CallsCommands, HupallMatchingAndSchedApiErrorReplies) {
  TestServer server;
  Api api(server);
  EXPECT_EQ(api("hupall NORMAL_CLEARING calls_tag yes"),
            "+OK hangup all channels matching [calls_tag]=[yes] with cause: NORMAL_CLEARING\n");
  EXPECT_EQ(api("sched_api"),
            "-ERR Invalid syntax. USAGE: [+@]<time> <group_name> <command_string>[&]\n");
}

// ============================================================================ myevents

// Capture 16: an inbound connection bound with `myevents <uuid>` gets the channel's
// CHANNEL_HANGUP when another connection kills it, then the disconnect notice naming the
// channel, then the server closes.
TEST(CallsMyevents, BoundConnectionGetsHangupThenDisconnectNoticeAndCloses) {
  TestServer server;
  Events parked(server, "CHANNEL_PARK");
  Api api(server);
  const std::string x = "0b000000-0000-4000-8000-000000000016";
  ASSERT_EQ(api("originate {origination_uuid=" + x + "}loopback/9196 &park()"), "+OK " + x + "\n");
  ASSERT_TRUE(parked.wait(is(x, "CHANNEL_PARK")));

  TestClient bound(server.port());
  ASSERT_TRUE(bound.auth());
  EXPECT_EQ(reply_text(bound.command("myevents " + x)), "+OK Events Enabled");
  EXPECT_EQ(reply_text(bound.command("myevents " + x)), "-ERR aready enabled.");
  EXPECT_EQ(api("uuid_kill " + x), "+OK\n");

  const auto event = bound.read_packet();
  ASSERT_EQ(content_type(event), "text/event-plain");
  const Ev hangup = parse_plain(event->body);
  EXPECT_EQ(hangup.name(), "CHANNEL_HANGUP");
  EXPECT_EQ(hangup.uuid(), x);
  EXPECT_EQ(hangup.get("Hangup-Cause"), "NORMAL_CLEARING");

  const auto notice = bound.read_packet();
  ASSERT_EQ(content_type(notice), "text/disconnect-notice");
  EXPECT_EQ(notice->header("Controlled-Session-UUID").value_or(""), x);
  EXPECT_EQ(notice->header("Content-Disposition").value_or(""), "disconnect");
  EXPECT_EQ(notice->body, kGoodbyeBody);
  EXPECT_EQ(bound.read_until_closed(3s), "") << "nothing follows the notice";
  EXPECT_TRUE(bound.closed());
}

// Capture 17 with a shorter linger: the linger notice right after CHANNEL_HANGUP, the rest
// of the hangup events, then after the linger time the disconnect notice and EOF. Never a
// CHANNEL_DESTROY.
TEST(CallsMyevents, LingerDelaysTheDisconnectAndNeverSendsDestroy) {
  TestServer server;
  Events parked(server, "CHANNEL_PARK");
  Api api(server);
  const std::string x = "0b000000-0000-4000-8000-000000000017";
  ASSERT_EQ(api("originate {origination_uuid=" + x + "}loopback/9196 &park()"), "+OK " + x + "\n");
  ASSERT_TRUE(parked.wait(is(x, "CHANNEL_PARK")));

  TestClient bound(server.port());
  ASSERT_TRUE(bound.auth());
  EXPECT_EQ(reply_text(bound.command("myevents " + x)), "+OK Events Enabled");
  EXPECT_EQ(reply_text(bound.command("linger 1")), "+OK will linger 1 seconds");
  EXPECT_EQ(api("uuid_kill " + x), "+OK\n");

  // Each packet as "EVENT_NAME" or "notice:<disposition>", with when the linger began.
  std::vector<std::string> seen;
  std::optional<Clock::time_point> linger_at;
  std::optional<Clock::time_point> disconnect_at;
  const auto deadline = Clock::now() + 6s;
  while (!disconnect_at) {
    const auto left = left_until(deadline);
    ASSERT_GT(left.count(), 0) << "no disconnect notice";
    const auto packet = bound.read_packet(left);
    ASSERT_TRUE(packet) << "closed before the disconnect notice";
    if (content_type(packet) == "text/disconnect-notice") {
      const std::string disposition(packet->header("Content-Disposition").value_or(""));
      seen.push_back("notice:" + disposition);
      EXPECT_EQ(packet->header("Controlled-Session-UUID").value_or(""), x);
      if (disposition == "linger") {
        linger_at = Clock::now();
        EXPECT_EQ(packet->header("Channel-Name").value_or(""), "loopback/9196-a");
        EXPECT_EQ(packet->header("Linger-Time").value_or(""), "1");
      } else {
        disconnect_at = Clock::now();
        EXPECT_EQ(packet->body, kGoodbyeBody);
      }
      continue;
    }
    ASSERT_EQ(content_type(packet), "text/event-plain");
    const Ev e = parse_plain(packet->body);
    EXPECT_EQ(e.uuid(), x);
    seen.push_back(e.name() == "CHANNEL_STATE" ? "CHANNEL_STATE " + e.get("Channel-State")
                                               : e.name());
  }
  EXPECT_EQ(joined(seen),
            joined({"CHANNEL_HANGUP", "notice:linger", "CHANNEL_UNPARK", "CHANNEL_EXECUTE_COMPLETE",
                    "CHANNEL_STATE CS_HANGUP", "CHANNEL_STATE CS_REPORTING",
                    "CHANNEL_HANGUP_COMPLETE", "notice:disconnect"}));
  ASSERT_TRUE(linger_at);
  EXPECT_GE(*disconnect_at - *linger_at, 800ms) << "the linger time was not honoured";
  EXPECT_EQ(bound.read_until_closed(3s), "") << "nothing follows the disconnect notice";
  EXPECT_TRUE(bound.closed());
}

}  // namespace
}  // namespace eventsocket::test
