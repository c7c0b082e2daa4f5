// The client's state machine without sockets: scripted server bytes in, completions, events,
// log lines and goodbyes out. Also the bookkeeping a reconnect restores from.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "eventsocket/client/protocol.hpp"
#include "eventsocket/event/codec.hpp"

namespace eventsocket::client {
namespace {

constexpr std::string_view kGreeting = "Content-Type: auth/request\n\n";

std::string command_reply(std::string_view text) {
  return "Content-Type: command/reply\nReply-Text: " + std::string(text) + "\n\n";
}

std::string api_response(std::string_view body) {
  return "Content-Type: api/response\nContent-Length: " + std::to_string(body.size()) + "\n\n" +
         std::string(body);
}

// A text/event-plain packet around a plain event with these headers (values URL-safe).
std::string plain_event(const std::vector<std::pair<std::string, std::string>>& headers,
                        std::string_view body = {}) {
  std::string inner;
  for (const auto& [n, v] : headers) {
    inner += n + ": " + v + "\n";
  }
  if (!body.empty()) {
    inner += "Content-Length: " + std::to_string(body.size()) + "\n\n" + std::string(body);
  } else {
    inner += "\n";
  }
  return "Content-Length: " + std::to_string(inner.size()) +
         "\nContent-Type: text/event-plain\n\n" + inner;
}

std::string json_event(std::string_view json) {
  return "Content-Length: " + std::to_string(json.size()) + "\nContent-Type: text/event-json\n\n" +
         std::string(json);
}

TEST(ClientProtocol, RepliesAnswerTheirCommandsInOrderWhateverTheReadBoundaries) {
  const std::string stream = std::string(kGreeting) + command_reply("+OK accepted") +
                             api_response("hello") + command_reply("-ERR no");
  for (const std::size_t chunk : {std::size_t{1}, std::size_t{3}, stream.size()}) {
    Protocol p;
    const auto greeting = p.expect_reply();
    const auto auth = p.expect_reply();
    const auto api = p.expect_reply();
    const auto bad = p.expect_reply();
    std::vector<Protocol::Completion> done;
    for (std::size_t i = 0; i < stream.size(); i += chunk) {
      ASSERT_FALSE(p.feed(std::string_view(stream).substr(i, chunk)));
      for (auto& c : p.take_completions()) {
        done.push_back(std::move(c));
      }
    }
    ASSERT_EQ(done.size(), 4u) << "chunk " << chunk;
    EXPECT_EQ(done[0].token, greeting);
    EXPECT_EQ(done[0].reply->content_type, "auth/request");
    EXPECT_EQ(done[1].token, auth);
    EXPECT_EQ(done[1].reply->text(), "+OK accepted");
    EXPECT_TRUE(done[1].reply->ok());
    EXPECT_EQ(done[2].token, api);
    EXPECT_EQ(done[2].reply->body, "hello");
    EXPECT_TRUE(done[2].reply->ok());
    EXPECT_EQ(done[3].token, bad);
    EXPECT_FALSE(done[3].reply->ok());
    EXPECT_FALSE(p.mid_packet());
  }
}

TEST(ClientProtocol, AnAbandonedCommandsReplyIsDroppedInItsPlace) {
  Protocol p;
  const auto slow = p.expect_reply();
  const auto next = p.expect_reply();
  p.abandon(slow);  // its deadline passed
  ASSERT_FALSE(p.feed(api_response("late") + api_response("mine")));
  const auto done = p.take_completions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].token, next);
  EXPECT_EQ(done[0].reply->body, "mine");
}

TEST(ClientProtocol, ABackgroundJobInTheSameReadAsItsReplyFindsItsWaiter) {
  Protocol p;
  const auto job = p.expect_job("7f4db78a-0000-4000-8000-000000000001");
  const auto reply = p.expect_reply();
  const std::string bytes = command_reply("+OK Job-UUID: 7f4db78a-0000-4000-8000-000000000001") +
                            plain_event({{"Event-Name", "BACKGROUND_JOB"},
                                         {"Job-UUID", "7f4db78a-0000-4000-8000-000000000001"},
                                         {"Job-Command", "status"}},
                                        "+OK up\n");
  ASSERT_FALSE(p.feed(bytes));
  const auto done = p.take_completions();
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].token, reply);
  EXPECT_EQ(done[1].token, job);
  ASSERT_TRUE(done[1].job);
  EXPECT_EQ(done[1].job->body, "+OK up\n");
  EXPECT_EQ(done[1].job->event.header_or_empty("Job-Command"), "status");
  EXPECT_TRUE(p.events().empty()) << "a job's event goes to its waiter, not the queue";
}

TEST(ClientProtocol, SomebodyElsesBackgroundJobIsAnOrdinaryEvent) {
  Protocol p;
  p.expect_job("mine");
  ASSERT_FALSE(p.feed(plain_event({{"Event-Name", "BACKGROUND_JOB"}, {"Job-UUID", "theirs"}})));
  EXPECT_TRUE(p.take_completions().empty());
  ASSERT_EQ(p.events().size(), 1u);
  EXPECT_EQ(p.events().front().header_or_empty("Job-UUID"), "theirs");
}

TEST(ClientProtocol, ExecuteCompletesOnItsApplicationUuidAndTheEventIsQueuedToo) {
  Protocol p;
  const auto exec = p.expect_execution("app-1");
  ASSERT_FALSE(p.feed(plain_event({{"Event-Name", "CHANNEL_EXECUTE_COMPLETE"},
                                   {"Application-UUID", "other"},
                                   {"Application", "answer"}}) +
                      plain_event({{"Event-Name", "CHANNEL_EXECUTE_COMPLETE"},
                                   {"Application-UUID", "app-1"},
                                   {"Application", "playback"},
                                   {"Application-Response", "FILE%20PLAYED"}})));
  const auto done = p.take_completions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].token, exec);
  EXPECT_EQ(done[0].executed->header_or_empty("Application-Response"), "FILE PLAYED");
  EXPECT_EQ(p.events().size(), 2u);
}

TEST(ClientProtocol, EventsKeepTheirOrderPerChannelAcrossFormats) {
  Protocol p;
  std::string bytes;
  for (int i = 0; i < 30; ++i) {
    const std::string channel = "chan-" + std::to_string(i % 3);
    const std::string sequence = std::to_string(100 + i);
    if (i % 2 == 0) {
      bytes += plain_event(
          {{"Event-Name", "CHANNEL_STATE"}, {"Unique-ID", channel}, {"Event-Sequence", sequence}});
    } else {
      bytes += json_event(R"({"Event-Name":"CHANNEL_STATE","Unique-ID":")" + channel +
                          R"(","Event-Sequence":")" + sequence + R"("})");
    }
  }
  ASSERT_FALSE(p.feed(bytes));
  ASSERT_EQ(p.events().size(), 30u);
  std::map<std::string, int> last;
  for (const event::Event& e : p.events()) {
    const std::string channel(e.header_or_empty("Unique-ID"));
    const int sequence = std::stoi(std::string(e.header_or_empty("Event-Sequence")));
    EXPECT_GT(sequence, last[channel]) << channel;
    last[channel] = sequence;
  }
}

TEST(ClientProtocol, AFullQueueCountsItsDropsAndSaysSoInAGapEvent) {
  Protocol p(4);
  std::string bytes;
  for (int i = 0; i < 10; ++i) {
    bytes += plain_event(
        {{"Event-Name", "CUSTOM"}, {"Event-Subclass", "test::seq"}, {"Seq", std::to_string(i)}});
  }
  ASSERT_FALSE(p.feed(bytes));
  EXPECT_EQ(p.dropped_events(), 6u);
  ASSERT_EQ(p.events().size(), 4u);
  p.events().clear();  // the program caught up
  ASSERT_FALSE(p.feed(
      plain_event({{"Event-Name", "CUSTOM"}, {"Event-Subclass", "test::seq"}, {"Seq", "10"}})));
  ASSERT_EQ(p.events().size(), 2u);
  EXPECT_EQ(p.events()[0].subclass(), kGapSubclass);
  EXPECT_EQ(p.events()[0].header_or_empty("Dropped-Events"), "6");
  EXPECT_EQ(p.events()[1].header_or_empty("Seq"), "10");
}

TEST(ClientProtocol, LogLinesNoticesAndRejections) {
  Protocol p;
  ASSERT_FALSE(
      p.feed("Content-Type: log/data\nContent-Length: 6\nLog-Level: 3\nLog-File: switch.c\n"
             "Log-Func: main\nLog-Line: 42\nUser-Data: chan-1\n\nerror\n"));
  ASSERT_EQ(p.logs().size(), 1u);
  EXPECT_EQ(p.logs().front().level, 3);
  EXPECT_EQ(p.logs().front().file, "switch.c");
  EXPECT_EQ(p.logs().front().function, "main");
  EXPECT_EQ(p.logs().front().line, 42);
  EXPECT_EQ(p.logs().front().user_data, "chan-1");
  EXPECT_EQ(p.logs().front().text, "error\n");

  // A linger notice is not a goodbye: events keep coming.
  ASSERT_FALSE(p.feed(
      "Content-Type: text/disconnect-notice\nChannel-Name: null/x\nContent-Disposition: linger\n"
      "Controlled-Session-UUID: chan-1\nContent-Length: 0\n\n"));
  EXPECT_EQ(p.goodbye(), "");
  const std::string bye = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n";
  ASSERT_FALSE(p.feed("Content-Type: text/disconnect-notice\nContent-Length: " +
                      std::to_string(bye.size()) + "\n\n" + bye));
  EXPECT_EQ(p.goodbye(), "the server disconnected");

  Protocol rejected;
  ASSERT_FALSE(
      rejected.feed("Content-Type: text/rude-rejection\nContent-Length: 34\n\nAccess Denied, go "
                    "away.\n\n\n\n\n\n\n\n\n\n\n"));
  EXPECT_EQ(rejected.goodbye(), "access denied by the server's ACL");
}

TEST(ClientProtocol, BrokenFramingIsAnErrorAndAHalfPacketIsNoticed) {
  Protocol lying;
  lying.expect_reply();
  EXPECT_TRUE(lying.feed("Content-Type: api/response\nContent-Length: 99999999999\n\n"));

  Protocol cut;
  cut.expect_reply();
  ASSERT_FALSE(cut.feed("Content-Type: api/response\nContent-Length: 100\n\nonly part"));
  EXPECT_TRUE(cut.take_completions().empty());
  EXPECT_TRUE(cut.mid_packet());
}

TEST(ClientProtocol, ResetForgetsWhatWasAwaitedButKeepsQueuedEvents) {
  Protocol p;
  p.expect_reply();
  p.expect_job("j");
  ASSERT_FALSE(p.feed(plain_event({{"Event-Name", "HEARTBEAT"}}) + "Content-Type: api/resp"));
  p.reset();
  EXPECT_FALSE(p.mid_packet());
  const auto fresh = p.expect_reply();
  ASSERT_FALSE(p.feed(std::string(kGreeting)));
  const auto done = p.take_completions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].token, fresh);
  EXPECT_EQ(p.events().size(), 1u);
}

TEST(ClientProtocol, SerializedCommandsRefuseAnythingThatWouldBreakTheFraming) {
  EXPECT_EQ(serialize_command("api status", {}, {}), "api status\n\n");
  EXPECT_EQ(serialize_command("sendevent CUSTOM", {{"Event-Subclass", "a::b"}}, "hi"),
            "sendevent CUSTOM\nEvent-Subclass: a::b\nContent-Length: 2\n\nhi");
  EXPECT_THROW(serialize_command("api status\n\nexit", {}, {}), ClientError);
  EXPECT_THROW(serialize_command("api status\r", {}, {}), ClientError);
  EXPECT_THROW(serialize_command("", {}, {}), ClientError);
  EXPECT_THROW(serialize_command("sendmsg", {{"a", "b\nc: d"}}, {}), ClientError);
  EXPECT_THROW(serialize_command("sendmsg", {{"a: b", "c"}}, {}), ClientError);
  EXPECT_THROW(serialize_command("sendmsg", {{"", "c"}}, {}), ClientError);
  // A body may hold anything: its length frames it.
  EXPECT_NO_THROW(serialize_command("sendmsg", {}, "line1\nline2\n\n"));
}

std::vector<std::string> restore(const std::vector<std::string>& accepted) {
  Subscriptions s;
  for (const std::string& line : accepted) {
    s.note(line);
  }
  return s.restore_commands();
}

using Lines = std::vector<std::string>;

TEST(ClientSubscriptions, RestoreAsksForTheNetStateOnce) {
  EXPECT_EQ(restore({}), Lines{});
  EXPECT_EQ(restore({"event plain CHANNEL_ANSWER", "event plain CHANNEL_ANSWER CHANNEL_HANGUP"}),
            Lines{"event plain CHANNEL_ANSWER CHANNEL_HANGUP"});
  EXPECT_EQ(restore({"event json CHANNEL_ANSWER", "nixevent CHANNEL_ANSWER"}), Lines{});
  EXPECT_EQ(restore({"event json ALL", "nixevent HEARTBEAT RE_SCHEDULE"}),
            (Lines{"event json ALL", "nixevent HEARTBEAT RE_SCHEDULE"}));
  EXPECT_EQ(restore({"event plain ALL", "nixevent HEARTBEAT", "event plain HEARTBEAT"}),
            Lines{"event plain ALL"});
  EXPECT_EQ(
      restore({"event plain CUSTOM a::b c::d", "event xml BACKGROUND_JOB", "nixevent CUSTOM c::d"}),
      Lines{"event xml BACKGROUND_JOB CUSTOM a::b"});
  EXPECT_EQ(restore({"event plain ALL CUSTOM x::y"}), Lines{"event plain ALL CUSTOM x::y"});
  EXPECT_EQ(restore({"event plain CHANNEL_ANSWER", "noevents"}), Lines{});
}

TEST(ClientSubscriptions, FiltersAndTheRestAreRestoredAfterTheEvents) {
  EXPECT_EQ(
      restore({"filter Unique-ID abc", "filter Event-Name CHANNEL_ANSWER", "filter Unique-ID abc",
               "filter delete Event-Name CHANNEL_ANSWER", "filter Caller-Caller-ID-Name John Smith",
               "myevents abc json", "event plain CHANNEL_ANSWER", "divert_events on", "log 7",
               "linger 30", "nolinger", "linger 5"}),
      (Lines{"myevents abc json", "event plain CHANNEL_ANSWER", "filter Unique-ID abc",
             "filter Caller-Caller-ID-Name John Smith", "divert_events on", "log 7", "linger 5"}));
  EXPECT_EQ(restore({"filter Unique-ID a", "filter Unique-ID b", "filter delete Unique-ID"}),
            Lines{});
  EXPECT_EQ(restore({"filter Unique-ID a", "filter delete all", "log debug", "nolog"}), Lines{});
}

TEST(ClientSubscriptions, KnowsWhetherAnEventIsSubscribed) {
  Subscriptions s;
  EXPECT_FALSE(s.subscribed("BACKGROUND_JOB"));
  s.note("event json BACKGROUND_JOB");
  EXPECT_TRUE(s.subscribed("background_job"));
  EXPECT_EQ(s.format(), "json");
  s.note("event plain ALL");
  s.note("nixevent HEARTBEAT");
  EXPECT_TRUE(s.subscribed("CHANNEL_ANSWER"));
  EXPECT_FALSE(s.subscribed("HEARTBEAT"));
}

}  // namespace
}  // namespace eventsocket::client
