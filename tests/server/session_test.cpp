// Sans-I/O tests of server::Session: bytes in with feed(), commands run by step() (API
// commands run here, on the test thread), bytes out with take_output(). No sockets.
//
// Expected replies are FreeSWITCH's, byte for byte (PROTOCOL.md §4, §8, §14 and the
// live-confirmed items of §16).

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <ostream>
#include <regex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "eventsocket/core/switch.hpp"
#include "eventsocket/event/codec.hpp"
#include "eventsocket/event/event.hpp"
#include "eventsocket/server/session.hpp"
#include "eventsocket/wire/message.hpp"
#include "eventsocket/wire/parser.hpp"

namespace eventsocket::server {
namespace {

using namespace std::chrono_literals;
using Kind = Session::Step::Kind;

constexpr std::string_view kAnyUuid = "0a1b2c3d-1111-4222-8333-444455556666";
const std::regex kUuidRe("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

// ---------------------------------------------------------------- expected packets

std::string reply(std::string_view text) {
  return "Content-Type: command/reply\nReply-Text: " + std::string(text) + "\n\n";
}

std::string api_response(std::string_view body) {
  return "Content-Type: api/response\nContent-Length: " + std::to_string(body.size()) + "\n\n" +
         std::string(body);
}

std::string notice(std::string_view message) {
  return "Content-Type: text/disconnect-notice\nContent-Length: " + std::to_string(message.size()) +
         "\n\n" + std::string(message);
}

const std::string kGoodbye =
    notice("Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n");
const std::string kNotFound = reply("-ERR command not found");
const std::string kGreeting = "Content-Type: auth/request\n\n";

// Splits server output into packets, as a client (libesl) reads them.
std::vector<wire::Message> packets_of(std::string_view bytes) {
  wire::Parser parser(wire::Direction::packet);
  parser.feed(bytes);
  std::vector<wire::Message> out;
  wire::MessageView view;
  while (!parser.next(view)) {
    out.push_back(wire::Message::from_view(view));
  }
  EXPECT_EQ(parser.buffered_bytes(), 0u) << "trailing bytes in: " << bytes;
  return out;
}

core::SwitchOptions switch_options() {
  core::SwitchOptions o;
  o.hostname = "testhost";
  o.heartbeat_interval = std::chrono::milliseconds(0);
  return o;
}

// One session on its own switch (it joins the switch's event bus itself when it wants events).
class Harness {
 public:
  explicit Harness(SessionOptions options = {})
      : sw_(switch_options()), session_(sw_, std::move(options)) {
    sw_.logger().set_console_level(core::LogLevel::crit);
    session_.set_output_ready([this] { ++wakeups_; });
    session_.start_inbound();
    greeting_ = take();
  }
  ~Harness() { session_.leave_bus(); }

  core::Switch& sw() { return sw_; }
  Session& session() { return session_; }
  const std::string& greeting() const { return greeting_; }
  bool close_after() const { return close_after_; }
  const std::vector<Session::PendingApi>& apis() const { return apis_; }
  // How often the session said it has output (the I/O layer's cue to write).
  int wakeups() const { return wakeups_; }

  // Runs every buffered command; API commands run here, on the calling thread.
  Kind drive() {
    for (;;) {
      const Session::Step step = session_.step();
      if (step.kind != Kind::run_api) {
        return step.kind;
      }
      apis_.push_back(step.api);
      session_.complete_api(step.api, sw_.execute_api(step.api.command, step.api.args));
    }
  }

  // Everything queued for the client, joined.
  std::string take() {
    std::string out;
    Session::OutputBatch batch;
    for (;;) {
      batch.clear();
      if (!session_.take_output(batch)) {
        break;
      }
      for (std::string_view b : batch.buffers) {
        out.append(b);
      }
      close_after_ = close_after_ || batch.close_after;
      if (batch.buffers.empty()) {
        break;
      }
    }
    return out;
  }

  // Waits (for output produced on other threads, e.g. BACKGROUND_JOB) until `done` holds
  // for everything taken so far.
  template <typename Pred>
  std::string take_until(Pred done, std::chrono::milliseconds timeout = 5s) {
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      out += take();
      if (done(out) || std::chrono::steady_clock::now() > deadline) {
        return out;
      }
      std::this_thread::sleep_for(1ms);
    }
  }

  std::string send(std::string_view bytes) {
    session_.feed(bytes);
    drive();
    return take();
  }

  void authenticate() { ASSERT_EQ(send("auth ClueCon\n\n"), reply("+OK accepted")); }

  // A published event (standard headers), as the switch fires it.
  void publish_custom(std::string_view subclass, std::string_view marker = {}) {
    event::Event e =
        sw_.make_event(event::EventType::CUSTOM, {"session_test.cpp", "publish", 1}, subclass);
    if (!marker.empty()) {
      e.add_header("X-Marker", marker);
    }
    sw_.publish(std::move(e));
  }

 private:
  core::Switch sw_;
  Session session_;
  std::string greeting_;
  bool close_after_ = false;
  std::vector<Session::PendingApi> apis_;
  std::atomic<int> wakeups_{0};
};

// ---------------------------------------------------------------- command tables

struct Exchange {
  std::string input;     // bytes fed at once
  std::string expected;  // bytes the client gets back
};

enum class End { unauthenticated, authenticated, closed };

struct Row {
  std::string name;
  std::vector<Exchange> exchanges;
  End end;
};

void PrintTo(const Row& row, std::ostream* os) {
  *os << row.name;
}

void run_row(Harness& h, const Row& row) {
  for (const Exchange& x : row.exchanges) {
    SCOPED_TRACE("input: " + x.input);
    EXPECT_EQ(h.send(x.input), x.expected);
  }
  switch (row.end) {
    case End::unauthenticated:
      EXPECT_EQ(h.session().state(), Session::State::awaiting_auth);
      EXPECT_FALSE(h.close_after());
      break;
    case End::authenticated:
      EXPECT_EQ(h.session().state(), Session::State::authenticated);
      EXPECT_FALSE(h.close_after());
      break;
    case End::closed:
      EXPECT_EQ(h.session().state(), Session::State::closing);
      EXPECT_TRUE(h.close_after());
      EXPECT_EQ(h.drive(), Kind::close);
      // Nothing more is read or written once the goodbye is queued.
      h.session().feed("api status\n\n");
      EXPECT_EQ(h.drive(), Kind::close);
      EXPECT_EQ(h.take(), "");
      break;
  }
}

std::string cmd(std::string_view text) {
  return std::string(text) + "\n\n";
}

std::vector<Row> before_auth_rows() {
  const std::string bye = reply("+OK bye") + kGoodbye;
  const std::string invalid = reply("-ERR invalid") + kGoodbye;
  std::vector<Row> rows = {
      {"AuthWithPasswordIsAccepted",
       {{cmd("auth ClueCon"), reply("+OK accepted")}},
       End::authenticated},
      {"AuthPrefixIsCaseInsensitive",
       {{cmd("AUTH ClueCon"), reply("+OK accepted")}},
       End::authenticated},
      {"AuthWithCrLfLineEndingsIsAccepted",
       {{"auth ClueCon\r\n\r\n", reply("+OK accepted")}},
       End::authenticated},
      {"BareAuthIsNotFoundAndConnectionStays", {{cmd("auth"), kNotFound}}, End::unauthenticated},
      {"AuthWithTwoSpacesIsInvalidAndCloses", {{cmd("auth  ClueCon"), invalid}}, End::closed},
      {"AuthWithTrailingSpaceIsInvalidAndCloses", {{cmd("auth ClueCon "), invalid}}, End::closed},
      {"AuthPasswordIsCaseSensitive", {{cmd("auth cluecon"), invalid}}, End::closed},
      {"AuthWithWrongPasswordIsInvalidAndCloses",
       {{cmd("auth WrongPassword"), invalid}},
       End::closed},
      {"UserauthWithoutDirectoryIsInvalidAndCloses",
       {{cmd("userauth 1000@default:1234"), invalid}},
       End::closed},
      {"ExitBeforeAuthSaysByeAndCloses", {{cmd("exit"), bye}}, End::closed},
      {"DotsBeforeAuthSayByeAndClose", {{cmd("..."), bye}}, End::closed},
      {"UppercaseExitBeforeAuthSaysBye", {{cmd("EXIT"), bye}}, End::closed},
      {"ExitnowBeforeAuthSaysBye", {{cmd("exitnow"), bye}}, End::closed},
      {"CommandsPipelinedAfterExitAreNotRun",
       {{cmd("exit") + cmd("auth ClueCon"), bye}},
       End::closed},
      {"UnauthenticatedCommandThenAuthStillWorks",
       {{cmd("api status"), kNotFound}, {cmd("auth ClueCon"), reply("+OK accepted")}},
       End::authenticated},
      {"ReloadRewriteBeforeAuthIsNotFoundAndDoesNotExit",
       {{cmd("... reload mod_event_socket"), kNotFound}},
       End::unauthenticated},
  };
  // Every other command is refused until authenticated, and the connection stays.
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"Filter", "filter Event-Name CHANNEL_CREATE"},
      {"Event", "event plain ALL"},
      {"Events", "events plain ALL"},
      {"Nixevent", "nixevent ALL"},
      {"Noevents", "noevents"},
      {"Log", "log 7"},
      {"Nolog", "nolog"},
      {"Linger", "linger"},
      {"Nolinger", "nolinger"},
      {"Api", "api status"},
      {"Bgapi", "bgapi status"},
      {"Sendevent", "sendevent CUSTOM"},
      {"Sendmsg", "sendmsg"},
      {"Myevents", "myevents " + std::string(kAnyUuid)},
      {"DivertEvents", "divert_events on"},
      {"Resume", "resume"},
      {"Getvar", "getvar foo"},
      {"Connect", "connect"},
      {"Unknown", "foobar"},
      {"UserauthWithoutSpace", "userauth"},
  };
  for (const auto& [name, text] : refused) {
    rows.push_back({name + "BeforeAuthIsNotFound", {{cmd(text), kNotFound}}, End::unauthenticated});
  }
  return rows;
}

std::vector<Row> after_auth_rows() {
  const std::string bye = reply("+OK bye") + kGoodbye;
  const std::string not_controlling = reply("-ERR not controlling a session");
  const std::string not_controlling_period = reply("-ERR not controlling a session.");
  const std::string uuid(kAnyUuid);
  return {
      // exit (§8.2)
      {"ExitSaysByeThenGoodbye", {{cmd("exit"), bye}}, End::closed},
      {"DotsAreExit", {{cmd("..."), bye}}, End::closed},
      {"ExitnowIsExit", {{cmd("exitnow"), bye}}, End::closed},
      {"UppercaseExitIsExit", {{cmd("EXIT"), bye}}, End::closed},
      {"ExitWithWordsAfterIsExit", {{cmd("Exit please"), bye}}, End::closed},
      {"CommandsPipelinedAfterExitAreNotRun",
       {{cmd("exit") + cmd("api echo late"), bye}},
       End::closed},
      // auth commands are gone once authenticated (§6)
      {"AuthAfterAuthIsNotFound", {{cmd("auth ClueCon"), kNotFound}}, End::authenticated},
      {"UserauthAfterAuthIsNotFound",
       {{cmd("userauth 1000@default:1234"), kNotFound}},
       End::authenticated},
      // dispatch: prefixes, case, spaces (§8.1)
      {"UnknownCommandIsNotFound", {{cmd("foobar"), kNotFound}}, End::authenticated},
      {"LeadingSpaceIsNotFound", {{cmd(" api status"), kNotFound}}, End::authenticated},
      {"ApiWithoutSpaceIsNotFound", {{cmd("api"), kNotFound}}, End::authenticated},
      {"BgapiWithoutSpaceIsNotFound", {{cmd("bgapi"), kNotFound}}, End::authenticated},
      {"FilterWithoutSpaceIsNotFound", {{cmd("filter"), kNotFound}}, End::authenticated},
      {"ConnectxyzUnboundIsNotFound", {{cmd("connectxyz"), kNotFound}}, End::authenticated},
      {"GetvarUnboundIsNotFound", {{cmd("getvar foo"), kNotFound}}, End::authenticated},
      {"ResumeUnboundIsNotFound", {{cmd("resume"), kNotFound}}, End::authenticated},
      {"BareMyeventsIsNotFound", {{cmd("myevents"), kNotFound}}, End::authenticated},
      {"UppercaseApiRunsTheCommand",
       {{cmd("API echo hi"), api_response("hi")}},
       End::authenticated},
      {"ApiWithTwoSpacesRunsAnEmptyName",
       {{cmd("api  status"), api_response("-ERR  Command not found!\n")}},
       End::authenticated},
      {"ApiUnknownCommandBodyNamesIt",
       {{cmd("api nosuchcommand"), api_response("-ERR nosuchcommand Command not found!\n")}},
       End::authenticated},
      {"ApiUnknownCommandWithArgsBodyNamesOnlyTheCommand",
       {{cmd("api nosuchcommand with args"),
         api_response("-ERR nosuchcommand Command not found!\n")}},
       End::authenticated},
      {"ApiEchoReturnsItsArguments",
       {{cmd("api echo hello world"), api_response("hello world")}},
       End::authenticated},
      {"ApiEmptyOutputIsNoReply",
       {{cmd("api echo"), api_response("-ERR no reply\n")}},
       End::authenticated},
      {"PipelinedCommandsAnswerInOrder",
       {{cmd("api echo one") + cmd("foobar") + cmd("api echo two"),
         api_response("one") + kNotFound + api_response("two")}},
       End::authenticated},
      {"MixedCaseEventAndUppercaseNoevents",
       {{cmd("Event Plain CHANNEL_CREATE"), reply("+OK event listener enabled plain")},
        {cmd("NOEVENTS"), reply("+OK no longer listening for events")}},
       End::authenticated},
      {"EventsIsEvent",
       {{cmd("events plain ALL"), reply("+OK event listener enabled plain")}},
       End::authenticated},
      {"NoeventsfooIsNoevents",
       {{cmd("noeventsfoo"), reply("-ERR not listening for events")}},
       End::authenticated},
      {"LogoutIsLogWithAnInvalidLevel",
       {{cmd("logout"), reply("-ERR invalid log level")}},
       End::authenticated},
      {"NologxIsNolog", {{cmd("nologx"), reply("-ERR not loging")}}, End::authenticated},
      {"LingerfooIsLinger", {{cmd("lingerfoo"), not_controlling}}, End::authenticated},
      // filter (§8.5)
      {"FilterAddsNameAndValue",
       {{cmd("filter Event-Name CHANNEL_CREATE"),
         reply("+OK filter added. [Event-Name]=[CHANNEL_CREATE]")}},
       End::authenticated},
      {"FilterAddKeywordAddsNameAndValue",
       {{cmd("filter add Event-Name CHANNEL_CREATE"),
         reply("+OK filter added. [Event-Name]=[CHANNEL_CREATE]")}},
       End::authenticated},
      {"FilterKeywordsAreCaseInsensitive",
       {{cmd("FILTER ADD X y"), reply("+OK filter added. [X]=[y]")},
        {cmd("filter DELETE ALL"), reply("+OK filter deleted. [ALL][]")}},
       End::authenticated},
      {"FilterValueKeepsInnerAndTrailingSpaces",
       {{cmd("filter X a b c "), reply("+OK filter added. [X]=[a b c ]")}},
       End::authenticated},
      {"FilterSkipsLeadingSpaces",
       {{cmd("filter   X y"), reply("+OK filter added. [X]=[y]")}},
       End::authenticated},
      {"FilterAddWithoutValueSaysNull",
       {{cmd("filter add X"), reply("+OK filter added. [X]=[(null)]")}},
       End::authenticated},
      {"FilterWithTrailingSpaceAddsEmptyValue",
       {{cmd("filter X "), reply("+OK filter added. [X]=[]")}},
       End::authenticated},
      {"FilterDeleteAll",
       {{cmd("filter delete all"), reply("+OK filter deleted. [all][]")}},
       End::authenticated},
      {"FilterDeleteName",
       {{cmd("filter Event-Name CHANNEL_CREATE"),
         reply("+OK filter added. [Event-Name]=[CHANNEL_CREATE]")},
        {cmd("filter delete Event-Name"), reply("+OK filter deleted. [Event-Name][]")}},
       End::authenticated},
      {"FilterDeleteNameAndValue",
       {{cmd("filter delete Event-Name CHANNEL_CREATE"),
         reply("+OK filter deleted. [Event-Name][CHANNEL_CREATE]")}},
       End::authenticated},
      {"FilterNameWithoutValueIsInvalidSyntax",
       {{cmd("filter Event-Name"), reply("-ERR invalid syntax")}},
       End::authenticated},
      {"FilterDeleteAloneIsInvalidSyntax",
       {{cmd("filter delete"), reply("-ERR invalid syntax")}},
       End::authenticated},
      // event (§8.14)
      {"EventPlainAll",
       {{cmd("event plain ALL"), reply("+OK event listener enabled plain")}},
       End::authenticated},
      {"EventJsonSetsJson",
       {{cmd("event json ALL"), reply("+OK event listener enabled json")}},
       End::authenticated},
      {"EventXmlSetsXml",
       {{cmd("event xml ALL"), reply("+OK event listener enabled xml")}},
       End::authenticated},
      {"EventFormatWordIsCaseInsensitive",
       {{cmd("event JSON CHANNEL_CREATE"), reply("+OK event listener enabled json")}},
       End::authenticated},
      {"EventWithoutFormatIsPlain",
       {{cmd("event CHANNEL_CREATE"), reply("+OK event listener enabled plain")}},
       End::authenticated},
      {"EventNameIsCaseInsensitive",
       {{cmd("event plain all"), reply("+OK event listener enabled plain")}},
       End::authenticated},
      {"EventFormatSticksAcrossCommands",
       {{cmd("event xml ALL"), reply("+OK event listener enabled xml")},
        {cmd("event CHANNEL_CREATE"), reply("+OK event listener enabled xml")}},
       End::authenticated},
      {"EventUnknownFormatWordIsIgnored",
       {{cmd("event bogusformat ALL"), reply("+OK event listener enabled plain")}},
       End::authenticated},
      {"EventCustomWithSubclasses",
       {{cmd("event plain CUSTOM sofia::register anchor::x"),
         reply("+OK event listener enabled plain")}},
       End::authenticated},
      {"EventAloneIsNoKeywords",
       {{cmd("event"), reply("-ERR no keywords supplied")}},
       End::authenticated},
      {"EventFormatOnlyIsNoKeywords",
       {{cmd("event plain"), reply("-ERR no keywords supplied")}},
       End::authenticated},
      {"EventUnknownNameIsNoKeywords",
       {{cmd("event plain NOT_AN_EVENT"), reply("-ERR no keywords supplied")}},
       End::authenticated},
      {"EventFormatSticksOnNoKeywords",
       {{cmd("event json NOT_AN_EVENT"), reply("-ERR no keywords supplied")},
        {cmd("event CHANNEL_CREATE"), reply("+OK event listener enabled json")}},
       End::authenticated},
      {"EventTwoSpacesBeforeFormatDoNotSetIt",
       {{cmd("event  json CHANNEL_CREATE"), reply("+OK event listener enabled plain")}},
       End::authenticated},
      {"EventThirteenCharacterPrefixNamesWork",
       {{cmd("event plain XXXXXXXXXXXXXBACKGROUND_JOB"),
         reply("+OK event listener enabled plain")}},
       End::authenticated},
      // nixevent, noevents
      {"NixeventKnownName",
       {{cmd("nixevent CHANNEL_CREATE"), reply("+OK events nixed")}},
       End::authenticated},
      {"NixeventCustomSubclass",
       {{cmd("nixevent CUSTOM anchor::x"), reply("+OK events nixed")}},
       End::authenticated},
      {"NixeventAloneIsNoKeywords",
       {{cmd("nixevent"), reply("-ERR no keywords supplied")}},
       End::authenticated},
      {"NixeventUnknownNameIsNoKeywords",
       {{cmd("nixevent NOT_AN_EVENT"), reply("-ERR no keywords supplied")}},
       End::authenticated},
      {"NixeventTurnsEventsOn",
       {{cmd("nixevent ALL"), reply("+OK events nixed")},
        {cmd("noevents"), reply("+OK no longer listening for events")}},
       End::authenticated},
      {"NoeventsWithoutEventsIsAnError",
       {{cmd("noevents"), reply("-ERR not listening for events")}},
       End::authenticated},
      {"NoeventsTwice",
       {{cmd("event plain ALL"), reply("+OK event listener enabled plain")},
        {cmd("noevents"), reply("+OK no longer listening for events")},
        {cmd("noevents"), reply("-ERR not listening for events")}},
       End::authenticated},
      // log (§8.15)
      {"LogWithoutLevelIsDebugWithTwoSpaces",
       {{cmd("log"), reply("+OK log level  [7]")}},
       End::authenticated},
      {"LogNumericLevel", {{cmd("log 3"), reply("+OK log level 3 [3]")}}, End::authenticated},
      {"LogNamedLevelKeepsTheWordAsTyped",
       {{cmd("log debug"), reply("+OK log level debug [7]")}},
       End::authenticated},
      {"LogDisableIsMinusOne",
       {{cmd("log DISABLE"), reply("+OK log level DISABLE [-1]")}},
       End::authenticated},
      {"Log64IsInvalid", {{cmd("log 64"), reply("-ERR invalid log level")}}, End::authenticated},
      {"LogAbove64ClampsTo63",
       {{cmd("log 65"), reply("+OK log level 65 [63]")}},
       End::authenticated},
      {"LogNegativeClampsTo0",
       {{cmd("log -5"), reply("+OK log level -5 [0]")}},
       End::authenticated},
      {"LogDecimalIsTruncated",
       {{cmd("log 1.5"), reply("+OK log level 1.5 [1]")}},
       End::authenticated},
      {"LogSkipsExtraSpaces", {{cmd("log  7"), reply("+OK log level 7 [7]")}}, End::authenticated},
      {"LogIgnoresWordsAfterTheLevel",
       {{cmd("log 7 extra"), reply("+OK log level 7 [7]")}},
       End::authenticated},
      {"LogEmergIsInvalid",
       {{cmd("log emerg"), reply("-ERR invalid log level")}},
       End::authenticated},
      {"InvalidLogLevelDoesNotTurnLoggingOn",
       {{cmd("log 64"), reply("-ERR invalid log level")}, {cmd("nolog"), reply("-ERR not loging")}},
       End::authenticated},
      {"NologWithoutLogIsNotLoging",
       {{cmd("nolog"), reply("-ERR not loging")}},
       End::authenticated},
      {"NologAfterLogThenAgain",
       {{cmd("log 7"), reply("+OK log level 7 [7]")},
        {cmd("nolog"), reply("+OK no longer logging")},
        {cmd("nolog"), reply("-ERR not loging")}},
       End::authenticated},
      // linger, nolinger, divert_events unbound (§8.13, §8.16)
      {"LingerUnboundIsNotControllingWithoutPeriod",
       {{cmd("linger"), not_controlling}},
       End::authenticated},
      {"LingerSecondsUnboundIsNotControlling",
       {{cmd("linger 10"), not_controlling}},
       End::authenticated},
      {"NolingerUnboundIsNotControlling", {{cmd("nolinger"), not_controlling}}, End::authenticated},
      {"DivertEventsUnboundIsNotControllingWithPeriod",
       {{cmd("divert_events on"), not_controlling_period}},
       End::authenticated},
      {"DivertEventsWithoutValueUnboundIsNotControlling",
       {{cmd("divert_events"), not_controlling_period}},
       End::authenticated},
      // sendmsg (§8.11)
      {"SendmsgWithoutUuidIsInvalidEmptySessionId",
       {{cmd("sendmsg"), reply("-ERR invalid session id []")}},
       End::authenticated},
      {"SendmsgUnknownUuid",
       {{cmd("sendmsg foo"), reply("-ERR invalid session id [foo]")}},
       End::authenticated},
      {"SendmsgSkipsSpacesBeforeUuid",
       {{cmd("sendmsg   foo"), reply("-ERR invalid session id [foo]")}},
       End::authenticated},
      {"SendmsgfooTargetsFoo",
       {{cmd("sendmsgfoo"), reply("-ERR invalid session id [foo]")}},
       End::authenticated},
      {"SendmsgSessionIdHeaderNamesTheTarget",
       {{"sendmsg\nSession-ID: abc-123\ncall-command: execute\n\n",
         reply("-ERR invalid session id [abc-123]")}},
       End::authenticated},
      {"SendmsgExplicitUuidWinsOverSessionIdHeader",
       {{"sendmsg foo\nSession-ID: bar\n\n", reply("-ERR invalid session id [foo]")}},
       End::authenticated},
      // myevents (§8.9)
      {"MyeventsUnknownUuidWithFormatIsInvalidUuid",
       {{cmd("myevents " + uuid + " xml"), reply("-ERR invalid uuid")}},
       End::authenticated},
      {"MyeventsUnknownUuidAloneIsEnabled",
       {{cmd("myevents " + uuid), reply("+OK Events Enabled")}},
       End::authenticated},
      {"MyeventsTwiceIsAreadyEnabled",
       {{cmd("myevents " + uuid), reply("+OK Events Enabled")},
        {cmd("myevents " + uuid), reply("-ERR aready enabled.")}},
       End::authenticated},
      {"MyeventsStaysEnabledAfterNoevents",
       {{cmd("myevents " + uuid), reply("+OK Events Enabled")},
        {cmd("noevents"), reply("+OK no longer listening for events")},
        {cmd("myevents " + uuid), reply("-ERR aready enabled.")}},
       End::authenticated},
      {"MyeventsInvalidUuidChangesNothing",
       {{cmd("myevents " + uuid + " json"), reply("-ERR invalid uuid")},
        {cmd("noevents"), reply("-ERR not listening for events")},
        {cmd("myevents " + uuid), reply("+OK Events Enabled")}},
       End::authenticated},
  };
}

class BeforeAuth : public testing::TestWithParam<Row> {};
class AfterAuth : public testing::TestWithParam<Row> {};

TEST_P(BeforeAuth, RepliesAsFreeSwitch) {
  Harness h;
  run_row(h, GetParam());
}

TEST_P(AfterAuth, RepliesAsFreeSwitch) {
  Harness h;
  h.authenticate();
  run_row(h, GetParam());
}

std::string row_name(const testing::TestParamInfo<Row>& info) {
  return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(Commands, BeforeAuth, testing::ValuesIn(before_auth_rows()), row_name);
INSTANTIATE_TEST_SUITE_P(Commands, AfterAuth, testing::ValuesIn(after_auth_rows()), row_name);

// ---------------------------------------------------------------- auth phase

TEST(SessionAuthPhase, GreetingIsAuthRequest) {
  Harness h;
  EXPECT_EQ(h.greeting(), kGreeting);
  EXPECT_EQ(h.session().state(), Session::State::awaiting_auth);
}

TEST(SessionAuthPhase, DeadlineAppliesUntilTheFirstCompletePacket) {
  Harness h;
  EXPECT_TRUE(h.session().awaiting_first_packet());
  h.session().feed("auth Clue");  // a partial packet does not count
  EXPECT_EQ(h.drive(), Kind::idle);
  EXPECT_TRUE(h.session().awaiting_first_packet());
  EXPECT_EQ(h.take(), "");
  EXPECT_EQ(h.send("Con\n\n"), reply("+OK accepted"));
  EXPECT_FALSE(h.session().awaiting_first_packet());
}

TEST(SessionAuthPhase, TimeoutBeforeAnyPacketSaysGoodbyeAndCloses) {
  Harness h;
  h.session().on_auth_timeout();
  EXPECT_EQ(h.take(), kGoodbye);
  EXPECT_TRUE(h.close_after());
  EXPECT_EQ(h.drive(), Kind::close);
}

TEST(SessionAuthPhase, OneUnauthenticatedCommandLiftsTheDeadline) {
  Harness h;
  EXPECT_EQ(h.send(cmd("api status")), kNotFound);
  EXPECT_FALSE(h.session().awaiting_first_packet());
  // A late deadline is ignored: the client may idle unauthenticated.
  h.session().on_auth_timeout();
  EXPECT_EQ(h.take(), "");
  EXPECT_FALSE(h.close_after());
  EXPECT_EQ(h.session().state(), Session::State::awaiting_auth);
  EXPECT_EQ(h.send(cmd("event plain ALL")), kNotFound);
  EXPECT_EQ(h.send(cmd("auth ClueCon")), reply("+OK accepted"));
}

TEST(SessionAuthPhase, NoEventsAreDeliveredBeforeAuth) {
  Harness h;
  h.publish_custom("test::early");
  EXPECT_EQ(h.send(cmd("event plain ALL")), kNotFound);
  h.publish_custom("test::early");
  EXPECT_EQ(h.take(), "");
}

// ---------------------------------------------------------------- output readiness

// The I/O layer writes only when the session says output is ready: every reply must say so,
// or it sits in the queue until something else wakes the writer.
TEST(SessionOutputReady, EveryCommandReplySignalsOutput) {
  Harness h;
  EXPECT_GT(h.wakeups(), 0) << "greeting";
  h.authenticate();
  const std::vector<std::string> commands = {
      "foobar",
      "filter Event-Name CHANNEL_CREATE",
      "filter delete all",
      "filter Event-Name",
      "event plain ALL",
      "nixevent CHANNEL_CREATE",
      "noevents",
      "log 7",
      "nolog",
      "linger",
      "nolinger",
      "divert_events on",
      "sendmsg foo",
      "sendevent CUSTOM",
      "api echo x",
      "bgapi echo x",
      "myevents " + std::string(kAnyUuid),
  };
  for (const std::string& command : commands) {
    const int before = h.wakeups();
    const std::string out = h.send(cmd(command));
    EXPECT_FALSE(out.empty()) << command;
    EXPECT_GT(h.wakeups(), before) << "no output signal for the reply to: " << command;
  }
  const int before = h.wakeups();
  EXPECT_EQ(h.send(cmd("exit")), reply("+OK bye") + kGoodbye);
  EXPECT_GT(h.wakeups(), before) << "exit";
}

// ---------------------------------------------------------------- rule 0 rewrite

TEST(SessionRewrite, ReloadModEventSocketBecomesApiBgapiReload) {
  Harness h;
  h.authenticate();
  // Starts with "..." but the rewrite comes first: it is an api call, not an exit.
  h.session().feed(cmd("... reload mod_event_socket"));
  const Session::Step step = h.session().step();
  ASSERT_EQ(step.kind, Kind::run_api);
  EXPECT_EQ(step.api.command, "bgapi");
  EXPECT_EQ(step.api.args, "reload mod_event_socket");
  h.session().complete_api(step.api, h.sw().execute_api(step.api.command, step.api.args));
  EXPECT_EQ(h.drive(), Kind::idle);
  const auto packets = packets_of(h.take());
  ASSERT_EQ(packets.size(), 1u);
  EXPECT_EQ(packets[0].header("Content-Type"), "api/response");
  EXPECT_EQ(h.session().state(), Session::State::authenticated);
}

TEST(SessionRewrite, UnloadInAHeaderLineRewritesTheWholePacket) {
  Harness h;
  h.authenticate();
  h.session().feed("sendmsg\nX-Note: please Unload MOD_EVENT_SOCKET\n\n");
  const Session::Step step = h.session().step();
  ASSERT_EQ(step.kind, Kind::run_api);
  EXPECT_EQ(step.api.command, "bgapi");
  EXPECT_EQ(step.api.args, "unload mod_event_socket");
}

TEST(SessionRewrite, UnloadWinsOverReload) {
  Harness h;
  h.authenticate();
  h.session().feed(cmd("api reload unload mod_event_socket"));
  const Session::Step step = h.session().step();
  ASSERT_EQ(step.kind, Kind::run_api);
  EXPECT_EQ(step.api.command, "bgapi");
  EXPECT_EQ(step.api.args, "unload mod_event_socket");
}

// ---------------------------------------------------------------- sendevent, bgapi

TEST(SessionSendevent, RepliesOkWithTheNewEventUuid) {
  Harness h;
  h.authenticate();
  ASSERT_EQ(h.send(cmd("event plain CUSTOM test::probe")),
            reply("+OK event listener enabled plain"));
  const std::string out = h.send("sendevent CUSTOM\nEvent-Subclass: test::probe\nX-A: 1\n\n");
  const auto packets = packets_of(out);
  ASSERT_EQ(packets.size(), 2u) << out;
  const std::string text(packets[0].header("Reply-Text").value_or(""));
  ASSERT_TRUE(text.starts_with("+OK ")) << text;
  const std::string uuid = text.substr(4);
  EXPECT_TRUE(std::regex_match(uuid, kUuidRe)) << uuid;
  EXPECT_EQ(reply(text), packets[0].block);
  // The subscriber's copy carries it as Event-UUID.
  EXPECT_EQ(packets[1].header("Content-Type"), "text/event-plain");
  EXPECT_NE(packets[1].body.find("\nEvent-UUID: " + uuid + "\n"), std::string::npos)
      << packets[1].body;
}

TEST(SessionBgapi, ReplyCarriesAGeneratedLowercaseJobUuidTwice) {
  Harness h;
  h.authenticate();
  const std::string out = h.send(cmd("bgapi echo hi"));
  std::smatch m;
  const std::regex shape(
      "Content-Type: command/reply\nReply-Text: \\+OK Job-UUID: ([0-9a-f-]{36})\nJob-UUID: "
      "([0-9a-f-]{36})\n\n");
  ASSERT_TRUE(std::regex_match(out, m, shape)) << out;
  EXPECT_EQ(m[1], m[2]);
  EXPECT_TRUE(std::regex_match(m[1].str(), kUuidRe)) << m[1];
  EXPECT_TRUE(h.apis().empty()) << "bgapi must not hold the session";
}

TEST(SessionBgapi, ClientJobUuidIsEchoedVerbatim) {
  Harness h;
  h.authenticate();
  EXPECT_EQ(h.send("bgapi echo hi\nJob-UUID: my-own-job-id\n\n"),
            "Content-Type: command/reply\nReply-Text: +OK Job-UUID: my-own-job-id\n"
            "Job-UUID: my-own-job-id\n\n");
}

TEST(SessionBgapi, BackgroundJobCarriesTheJobAndComesAfterTheReply) {
  Harness h;
  h.authenticate();
  ASSERT_EQ(h.send(cmd("event plain BACKGROUND_JOB")), reply("+OK event listener enabled plain"));
  h.session().feed("bgapi echo some args\nJob-UUID: job-1\n\n");
  h.drive();
  const std::string out = h.take_until(
      [](const std::string& s) { return s.find("text/event-plain") != std::string::npos; });
  const auto packets = packets_of(out);
  ASSERT_EQ(packets.size(), 2u) << out;
  EXPECT_EQ(packets[0].block,
            "Content-Type: command/reply\nReply-Text: +OK Job-UUID: job-1\nJob-UUID: job-1\n\n");
  EXPECT_EQ(packets[1].header("Content-Type"), "text/event-plain");
  const std::string& body = packets[1].body;
  EXPECT_TRUE(body.starts_with("Event-Name: BACKGROUND_JOB\n")) << body;
  EXPECT_NE(body.find("\nJob-UUID: job-1\nJob-Command: echo\nJob-Command-Arg: some%20args\n"
                      "Content-Length: 9\n\nsome args"),
            std::string::npos)
      << body;
}

TEST(SessionBgapi, EveryBackgroundJobComesAfterItsReplyEvenWhenPipelined) {
  Harness h;
  h.authenticate();
  ASSERT_EQ(h.send(cmd("event plain BACKGROUND_JOB")), reply("+OK event listener enabled plain"));
  constexpr int kJobs = 30;
  std::string input;
  for (int i = 0; i < kJobs; ++i) {
    input += "bgapi echo " + std::to_string(i) + "\nJob-UUID: job-" + std::to_string(i) + "\n\n";
  }
  h.session().feed(input);
  h.drive();
  const std::string out =
      h.take_until([](const std::string& s) { return packets_of(s).size() == 2 * kJobs; });
  const auto packets = packets_of(out);
  ASSERT_EQ(packets.size(), 2u * kJobs) << out;
  std::vector<int> reply_at(kJobs, -1);
  for (std::size_t i = 0; i < packets.size(); ++i) {
    const auto job = packets[i].header("Job-UUID");
    if (packets[i].header("Content-Type") == "command/reply") {
      ASSERT_TRUE(job.has_value());
      reply_at[std::stoi(std::string(job->substr(4)))] = static_cast<int>(i);
    } else {
      const std::size_t at = packets[i].body.find("\nJob-UUID: job-");
      ASSERT_NE(at, std::string::npos) << packets[i].body;
      const int n = std::stoi(packets[i].body.substr(at + 15));
      EXPECT_GE(reply_at[n], 0) << "BACKGROUND_JOB of job-" << n << " before its reply";
    }
  }
  // Replies come in command order, all of them before any event (input was one read).
  for (int i = 0; i < kJobs; ++i) {
    EXPECT_EQ(reply_at[i], i);
  }
}

// ---------------------------------------------------------------- event delivery

TEST(SessionDelivery, EventOfferedDuringACommandFollowsItsReply) {
  Harness h;
  h.authenticate();
  ASSERT_EQ(h.send(cmd("event plain CUSTOM test::order")),
            reply("+OK event listener enabled plain"));
  h.session().feed(cmd("api echo slow"));
  const Session::Step step = h.session().step();
  ASSERT_EQ(step.kind, Kind::run_api);
  h.publish_custom("test::order", "during");
  EXPECT_EQ(h.take(), "") << "nothing is written while a command runs";
  h.session().complete_api(step.api, h.sw().execute_api(step.api.command, step.api.args));
  EXPECT_EQ(h.drive(), Kind::idle);
  const auto packets = packets_of(h.take());
  ASSERT_EQ(packets.size(), 2u);
  EXPECT_EQ(packets[0].block + packets[0].body, api_response("slow"));
  EXPECT_EQ(packets[1].header("Content-Type"), "text/event-plain");
  EXPECT_NE(packets[1].body.find("\nX-Marker: during\n"), std::string::npos);
}

TEST(SessionDelivery, ApiEventOfTheCommandItselfFollowsTheResponse) {
  Harness h;
  h.authenticate();
  ASSERT_EQ(h.send(cmd("event plain API")), reply("+OK event listener enabled plain"));
  const auto packets = packets_of(h.send(cmd("api echo x")));
  ASSERT_EQ(packets.size(), 2u);
  EXPECT_EQ(packets[0].header("Content-Type"), "api/response");
  EXPECT_EQ(packets[1].header("Content-Type"), "text/event-plain");
  EXPECT_TRUE(packets[1].body.starts_with("Event-Name: API\n")) << packets[1].body;
}

TEST(SessionDelivery, EventsWaitWhileACommandIsHalfRead) {
  Harness h;
  h.authenticate();
  ASSERT_EQ(h.send(cmd("event plain CUSTOM test::half")),
            reply("+OK event listener enabled plain"));
  h.session().feed("api echo a\n\napi ec");  // one command complete, the next half read
  h.drive();
  h.publish_custom("test::half", "waiting");
  EXPECT_EQ(h.take(), api_response("a"));
  const auto packets = packets_of(h.send("ho b\n\n"));
  ASSERT_EQ(packets.size(), 2u);
  EXPECT_EQ(packets[0].block + packets[0].body, api_response("b"));
  EXPECT_EQ(packets[1].header("Content-Type"), "text/event-plain");
}

TEST(SessionDelivery, FormatIsAppliedWhenTheEventIsWritten) {
  Harness h;
  h.authenticate();
  ASSERT_EQ(h.send(cmd("event plain CUSTOM test::fmt")), reply("+OK event listener enabled plain"));
  h.publish_custom("test::fmt", "queued-as-plain");  // queued, not yet taken
  h.session().feed(cmd("event json CUSTOM test::fmt"));
  h.drive();
  const auto packets = packets_of(h.take());
  ASSERT_EQ(packets.size(), 2u);
  EXPECT_EQ(packets[0].header("Content-Type"), "text/event-json");
  EXPECT_TRUE(packets[0].body.starts_with("{\"Event-Subclass\":\"test::fmt\",")) << packets[0].body;
  EXPECT_NE(packets[0].body.find("\"X-Marker\":\"queued-as-plain\""), std::string::npos);
  EXPECT_EQ(packets[1].block, reply("+OK event listener enabled json"));
}

TEST(SessionDelivery, NoeventsDiscardsQueuedEvents) {
  Harness h;
  h.authenticate();
  ASSERT_EQ(h.send(cmd("event plain CUSTOM test::drop")),
            reply("+OK event listener enabled plain"));
  h.publish_custom("test::drop");
  h.publish_custom("test::drop");
  EXPECT_EQ(h.send(cmd("noevents")), reply("+OK no longer listening for events"));
}

TEST(SessionDelivery, ExitDiscardsQueuedEvents) {
  Harness h;
  h.authenticate();
  ASSERT_EQ(h.send(cmd("event plain CUSTOM test::drop")),
            reply("+OK event listener enabled plain"));
  h.publish_custom("test::drop");
  EXPECT_EQ(h.send(cmd("exit")), reply("+OK bye") + kGoodbye);
  EXPECT_TRUE(h.close_after());
}

// ---------------------------------------------------------------- framing limits

TEST(SessionFraming, NegativeContentLengthClosesWithoutReply) {
  Harness h;
  h.authenticate();
  EXPECT_EQ(h.send("sendevent CUSTOM\nContent-Length: -1\n\n"), kGoodbye);
  EXPECT_TRUE(h.close_after());
  EXPECT_EQ(h.session().state(), Session::State::closing);
  EXPECT_EQ(h.drive(), Kind::close);
}

TEST(SessionFraming, ContentLengthAbove16MiBClosesWithoutReply) {
  Harness h;
  h.authenticate();
  EXPECT_EQ(h.send("sendevent CUSTOM\nContent-Length: 16777217\n\n"), kGoodbye);
  EXPECT_TRUE(h.close_after());
}

TEST(SessionFraming, RepliesBeforeTheBrokenPacketAreKept) {
  Harness h;
  h.authenticate();
  EXPECT_EQ(h.send(cmd("api echo first") + "sendevent CUSTOM\nContent-Length: -1\n\n"),
            api_response("first") + kGoodbye);
}

// ---------------------------------------------------------------- slow consumers

SessionOptions tiny_queue() {
  SessionOptions o;
  o.max_queued_items = 3;
  o.max_consecutive_drops = 2;
  return o;
}

TEST(SessionSlowConsumer, TooManyConsecutiveDropsKillTheListener) {
  Harness h(tiny_queue());
  // Commands run but nothing is ever taken: replies wait in the queue with the events.
  h.session().feed(cmd("auth ClueCon") + cmd("event plain CUSTOM test::flood"));
  EXPECT_EQ(h.drive(), Kind::idle);
  for (int i = 0; i < 5; ++i) {  // 3 queued, 2 dropped: still alive
    h.publish_custom("test::flood");
  }
  EXPECT_EQ(h.session().stats().events_dropped, 2u);
  EXPECT_EQ(h.session().state(), Session::State::authenticated);
  h.publish_custom("test::flood");  // the third drop in a row kills
  EXPECT_EQ(h.session().stats().events_dropped, 3u);
  for (int i = 0; i < 10; ++i) {  // a dead listener takes nothing more
    h.publish_custom("test::flood");
  }
  EXPECT_EQ(h.session().stats().events_dropped, 3u);
  // Replies stay, queued events are discarded, and the kill notice replaces the goodbye.
  EXPECT_EQ(h.take(), reply("+OK accepted") + reply("+OK event listener enabled plain") +
                          notice("killed listener because of lost events\n"));
  EXPECT_TRUE(h.close_after());
  EXPECT_EQ(h.drive(), Kind::close);
  EXPECT_EQ(h.session().stats().events_sent, 0u);
}

TEST(SessionSlowConsumer, DiscardedEventsGiveTheirRoomBack) {
  // noevents (and a format change before writing) must not leave phantom bytes counted
  // against the queue, or a long-lived client would eventually drop everything.
  Harness h(tiny_queue());
  h.session().feed(cmd("auth ClueCon") + cmd("event xml CUSTOM test::room"));
  EXPECT_EQ(h.drive(), Kind::idle);
  for (int i = 0; i < 3; ++i) {
    h.publish_custom("test::room");
  }
  h.session().feed(cmd("noevents") + cmd("event plain CUSTOM test::room"));
  EXPECT_EQ(h.drive(), Kind::idle);
  for (int i = 0; i < 3; ++i) {
    h.publish_custom("test::room");
  }
  EXPECT_EQ(h.session().stats().events_dropped, 0u);
  h.take();  // written in plain although counted as xml: the room must still come back
  for (int i = 0; i < 3; ++i) {
    h.publish_custom("test::room");
  }
  EXPECT_EQ(h.session().stats().events_dropped, 0u);
}

TEST(SessionSlowConsumer, ASuccessfulEnqueueResetsTheDropCount) {
  Harness h(tiny_queue());
  h.authenticate();
  ASSERT_EQ(h.send(cmd("event plain CUSTOM test::flood")),
            reply("+OK event listener enabled plain"));
  for (int i = 0; i < 5; ++i) {  // 3 queued, 2 dropped
    h.publish_custom("test::flood");
  }
  EXPECT_EQ(packets_of(h.take()).size(), 3u);
  for (int i = 0; i < 5; ++i) {  // 3 queued (the first resets the count), 2 dropped
    h.publish_custom("test::flood");
  }
  EXPECT_EQ(h.session().stats().events_dropped, 4u);
  EXPECT_EQ(packets_of(h.take()).size(), 3u);
  EXPECT_FALSE(h.close_after());
  EXPECT_EQ(h.session().state(), Session::State::authenticated);
  EXPECT_EQ(h.session().stats().events_sent, 6u);
}

}  // namespace
}  // namespace eventsocket::server

// ---------------------------------------------------------------- a bound connection

namespace eventsocket::server {
namespace {

class BoundSession : public ::testing::Test {
 protected:
  BoundSession() {
    core::ChannelData d;
    d.uuid = kUuid;
    d.name = "loopback/9196-a";
    d.set_variable("channel_name", "loopback/9196-a");
    d.set_variable("spaced", "a b  c");
    h_.sw().channels().add(d);
    h_.session().feed(cmd("auth ClueCon"));
    h_.drive();
    h_.take();
  }
  std::string run(const std::string& command) {
    h_.session().feed(command);
    h_.drive();
    return h_.take();
  }
  static constexpr const char* kUuid = "0e0f8b05-060c-4546-8bf7-0a8647e9ef44";
  Harness h_;
};

TEST_F(BoundSession, MyeventsWithALiveChannelBindsTheConnection) {
  // Before binding, the channel commands answer as for an unbound connection.
  EXPECT_EQ(run(cmd("linger")), reply("-ERR not controlling a session"));
  EXPECT_EQ(run(cmd("getvar channel_name")), reply("-ERR command not found"));
  EXPECT_EQ(run(cmd(std::string("myevents ") + kUuid + " json")), reply("+OK Events Enabled"));
  EXPECT_EQ(run(cmd("getvar channel_name")), reply("loopback/9196-a"));
  EXPECT_EQ(run(cmd("getvar spaced")), reply("a b  c"));
  EXPECT_EQ(run(cmd("getvar unset_variable")), reply("-ERR command not found"));
  EXPECT_EQ(run(cmd("getvar")), reply("-ERR command not found"));
  EXPECT_EQ(run(cmd("myevents")), reply("-ERR aready enabled."));
}

TEST_F(BoundSession, LingerNolingerDivertAndResume) {
  ASSERT_EQ(run(cmd(std::string("myevents ") + kUuid)), reply("+OK Events Enabled"));
  EXPECT_EQ(run(cmd("linger 10")), reply("+OK will linger 10 seconds"));
  EXPECT_EQ(run(cmd("linger abc")), reply("+OK will linger 0 seconds"));
  EXPECT_EQ(run(cmd("linger")), reply("+OK will linger"));
  EXPECT_EQ(run(cmd("nolinger")), reply("+OK will not linger"));
  EXPECT_EQ(run(cmd("divert_events")), reply("-ERR missing value."));
  EXPECT_EQ(run(cmd("divert_events ON")), reply("+OK events diverted"));
  EXPECT_EQ(run(cmd("divert_events off")), reply("+OK events not diverted"));
  EXPECT_EQ(run(cmd("resume")), reply("+OK"));
  EXPECT_EQ(h_.sw().channels().find(kUuid)->variable("socket_resume"), "true");
}

TEST_F(BoundSession, BoundMyeventsDeliversOnlyThatChannelsEvents) {
  ASSERT_EQ(run(cmd(std::string("myevents ") + kUuid)), reply("+OK Events Enabled"));
  event::Event mine(event::EventType::CHANNEL_ANSWER);
  mine.add_header("Event-Name", "CHANNEL_ANSWER");
  mine.add_header("Unique-ID", kUuid);
  event::Event other(event::EventType::CHANNEL_ANSWER);
  other.add_header("Event-Name", "CHANNEL_ANSWER");
  other.add_header("Unique-ID", "11111111-2222-3333-4444-555555555555");
  h_.sw().publish(other);
  h_.sw().publish(mine);
  const std::string out = h_.take();
  EXPECT_NE(out.find(kUuid), std::string::npos);
  EXPECT_EQ(out.find("11111111-2222-3333-4444-555555555555"), std::string::npos);
}

}  // namespace
}  // namespace eventsocket::server

// ---------------------------------------------------------------- gap notices (ours)

namespace eventsocket::server {
namespace {

TEST(SessionGapNotices, DropsAreReportedBeforeTheNextEventInsteadOfKilling) {
  Harness h(tiny_queue());  // 3 queued at most, killed after 2 drops in a row by default
  h.authenticate();
  ASSERT_EQ(h.send(cmd("gap_notices")), reply("-ERR usage: gap_notices on|off"));
  ASSERT_EQ(h.send(cmd("gap_notices on")), reply("+OK gap notices on"));
  ASSERT_EQ(h.send(cmd("event plain CUSTOM test::gap")), reply("+OK event listener enabled plain"));
  for (int i = 0; i < 10; ++i) {  // 3 queued, 7 dropped: no kill, the client asked to know
    h.publish_custom("test::gap");
  }
  EXPECT_EQ(h.session().stats().events_dropped, 7u);
  EXPECT_EQ(h.session().state(), Session::State::authenticated);
  const auto first = packets_of(h.take());
  ASSERT_EQ(first.size(), 3u);
  h.publish_custom("test::gap");  // room again: the notice, then the event
  const auto next = packets_of(h.take());
  ASSERT_EQ(next.size(), 2u);
  event::Event gap;
  ASSERT_TRUE(event::decode_plain(next[0].body, gap));
  EXPECT_EQ(gap.subclass(), "eventsocket::gap");
  EXPECT_EQ(gap.header_or_empty("Dropped-Events"), "7");
  event::Event last_kept, after;
  ASSERT_TRUE(event::decode_plain(first[2].body, last_kept));
  ASSERT_TRUE(event::decode_plain(next[1].body, after));
  // The dropped range lies exactly between what was delivered.
  const auto number = [&](std::string_view name) {
    return std::stoull(std::string(gap.header_or_empty(name)));
  };
  EXPECT_EQ(number("Dropped-First-Sequence"), *last_kept.sequence() + 1);
  EXPECT_EQ(number("Dropped-Last-Sequence"), *after.sequence() - 1);
  EXPECT_FALSE(h.close_after());
}

TEST(SessionGapNotices, OffKeepsFreeSwitchsPolicy) {
  Harness h(tiny_queue());
  h.authenticate();
  ASSERT_EQ(h.send(cmd("gap_notices on")), reply("+OK gap notices on"));
  ASSERT_EQ(h.send(cmd("gap_notices off")), reply("+OK gap notices off"));
  ASSERT_EQ(h.send(cmd("event plain CUSTOM test::gap")), reply("+OK event listener enabled plain"));
  for (int i = 0; i < 6; ++i) {
    h.publish_custom("test::gap");
  }
  EXPECT_NE(h.take().find("killed listener because of lost events"), std::string::npos);
  EXPECT_TRUE(h.close_after());  // killed after too many drops in a row
}

}  // namespace
}  // namespace eventsocket::server
