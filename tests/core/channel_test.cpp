// The channel's part of every channel event, checked against every channel event that a real
// FreeSWITCH sent in the captures: rebuilt from its values, it must give the same bytes.
#include "eventsocket/core/channel.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "eventsocket/event/codec.hpp"
#include "eventsocket/wire/parser.hpp"
#include "support/transcript.hpp"

namespace eventsocket::core {
namespace {

std::int64_t number(std::string_view s) {
  return std::stoll(std::string(s));
}

// Reads a caller profile back from `<prefix>-*` headers.
CallerProfile read_profile(const event::Event& e, const std::string& p) {
  auto get = [&](const char* field) { return std::string(e.header_or_empty(p + "-" + field)); };
  CallerProfile c;
  c.direction = get("Direction");
  c.logical_direction = get("Logical-Direction");
  c.username = get("Username");
  c.dialplan = get("Dialplan");
  c.caller_id_name = get("Caller-ID-Name");
  c.caller_id_number = get("Caller-ID-Number");
  c.orig_caller_id_name = get("Orig-Caller-ID-Name");
  c.orig_caller_id_number = get("Orig-Caller-ID-Number");
  c.callee_id_name = get("Callee-ID-Name");
  c.callee_id_number = get("Callee-ID-Number");
  c.network_addr = get("Network-Addr");
  c.ani = get("ANI");
  c.aniii = get("ANI-II");
  c.destination_number = get("Destination-Number");
  c.uuid = get("Unique-ID");
  c.source = get("Source");
  c.transfer_source = get("Transfer-Source");
  c.context = get("Context");
  c.rdnis = get("RDNIS");
  c.channel_name = get("Channel-Name");
  c.profile_index = static_cast<int>(number(get("Profile-Index")));
  c.profile_created = number(get("Profile-Created-Time"));
  c.created = number(get("Channel-Created-Time"));
  c.answered = number(get("Channel-Answered-Time"));
  c.progress = number(get("Channel-Progress-Time"));
  c.progress_media = number(get("Channel-Progress-Media-Time"));
  c.hungup = number(get("Channel-Hangup-Time"));
  c.transferred = number(get("Channel-Transfer-Time"));
  c.resurrected = number(get("Channel-Resurrect-Time"));
  c.bridged = number(get("Channel-Bridged-Time"));
  c.last_hold = number(get("Channel-Last-Hold"));
  c.hold_accum = number(get("Channel-Hold-Accum"));
  c.screen_bit = get("Screen-Bit") == "true";
  c.privacy_hide_name = get("Privacy-Hide-Name") == "true";
  c.privacy_hide_number = get("Privacy-Hide-Number") == "true";
  return c;
}

ChannelState state_from(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(ChannelState::CS_NONE); ++i) {
    if (channel_state_name(static_cast<ChannelState>(i)) == name) {
      return static_cast<ChannelState>(i);
    }
  }
  ADD_FAILURE() << "unknown state " << name;
  return ChannelState::CS_NONE;
}

CallState call_state_from(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(CallState::UNHELD); ++i) {
    if (call_state_name(static_cast<CallState>(i)) == name) {
      return static_cast<CallState>(i);
    }
  }
  ADD_FAILURE() << "unknown call state " << name;
  return CallState::DOWN;
}

// Reads the channel back from a captured event.
ChannelData read_channel(const event::Event& e) {
  ChannelData ch;
  ch.running_state = state_from(e.header_or_empty("Channel-State"));
  ch.state = static_cast<ChannelState>(number(e.header_or_empty("Channel-State-Number")));
  ch.call_state = call_state_from(e.header_or_empty("Channel-Call-State"));
  ch.name = e.header_or_empty("Channel-Name");
  ch.uuid = e.header_or_empty("Unique-ID");
  ch.direction = e.header_or_empty("Call-Direction");
  ch.hit_dialplan = e.header_or_empty("Channel-HIT-Dialplan") == "true";
  ch.answer_state = e.header_or_empty("Answer-State");
  // Hangup-Cause may also be an event header before the channel block (HANGUP_COMPLETE):
  // the channel's own copy is the one right after Answer-State.
  for (std::size_t i = 0; i + 1 < e.header_count(); ++i) {
    if (e.header_at(i).name == "Answer-State" && e.header_at(i + 1).name == "Hangup-Cause") {
      ch.hangup_cause = std::string(e.header_at(i + 1).value);
    }
  }
  if (auto n = e.header("Channel-Read-Codec-Name")) {
    ch.read_codec = Codec{
        std::string(*n), static_cast<int>(number(e.header_or_empty("Channel-Read-Codec-Rate"))),
        static_cast<int>(number(e.header_or_empty("Channel-Read-Codec-Bit-Rate")))};
  }
  if (auto n = e.header("Channel-Write-Codec-Name")) {
    ch.write_codec = Codec{
        std::string(*n), static_cast<int>(number(e.header_or_empty("Channel-Write-Codec-Rate"))),
        static_cast<int>(number(e.header_or_empty("Channel-Write-Codec-Bit-Rate")))};
  }
  ch.caller = read_profile(e, "Caller");
  if (auto type = e.header("Other-Type")) {
    ch.other_leg = std::make_pair(std::string(*type), read_profile(e, "Other-Leg"));
  }
  for (std::size_t i = 0; i < e.header_count(); ++i) {
    const auto h = e.header_at(i);
    if (h.name.starts_with("variable_")) {
      ch.set_variable(h.name.substr(9), h.value);
    }
  }
  return ch;
}

struct CapturedChannelEvent {
  std::string where;
  std::string plain;
};

std::vector<CapturedChannelEvent> captured_channel_events() {
  std::vector<CapturedChannelEvent> out;
  for (const std::string& name : test::transcript_names()) {
    const auto t = test::load_transcript(name);
    wire::Parser parser(wire::Direction::packet);
    parser.feed(t.server_bytes());
    wire::MessageView m;
    int index = 0;
    while (!parser.next(m)) {
      ++index;
      std::string text;
      wire::EventFormat format = wire::EventFormat::plain;
      const auto type = m.header("Content-Type").value_or("");
      if (type == "text/event-plain") {
        text = m.body;
      } else if (type == "text/event-json") {
        text = m.body;
        format = wire::EventFormat::json;
      } else if (type == "text/event-xml") {
        text = m.body;
        format = wire::EventFormat::xml;
      } else {
        continue;
      }
      event::Event e;
      if (!event::decode(text, format, e) || !e.header("Channel-State")) {
        continue;
      }
      std::string plain;
      event::encode_plain(e, plain);
      out.push_back({name + " packet " + std::to_string(index), plain});
    }
  }
  return out;
}

TEST(ChannelData, CapturesHoldManyChannelEvents) {  // 34 event packets in tests/data/conformance
                                                    // carry a channel (08-10, 16, 17, 19-21).
  EXPECT_EQ(captured_channel_events().size(), 34u);
}

TEST(ChannelData, RebuildsEveryCapturedChannelEventByteForByte) {
  for (const auto& captured : captured_channel_events()) {
    SCOPED_TRACE(captured.where);
    event::Event original;
    ASSERT_TRUE(event::decode_plain(captured.plain, original));
    // The channel block runs from Channel-State to the last channel header.
    std::size_t first = 0;
    while (original.header_at(first).name != "Channel-State") {
      ++first;
    }
    std::size_t last = first;
    for (std::size_t i = first; i < original.header_count(); ++i) {
      const auto n = original.header_at(i).name;
      if (n.starts_with("variable_") || n.ends_with("-Privacy-Hide-Number")) {
        last = i;
      }
    }
    event::Event rebuilt(original.type(), original.subclass());
    for (std::size_t i = 0; i < first; ++i) {
      rebuilt.add_header(original.header_at(i).name, original.header_at(i).value);
    }
    read_channel(original).add_event_headers(rebuilt);
    for (std::size_t i = last + 1; i < original.header_count(); ++i) {
      rebuilt.add_header(original.header_at(i).name, original.header_at(i).value);
    }
    if (original.has_body()) {
      rebuilt.set_body(original.body());
    }
    std::string plain;
    event::encode_plain(rebuilt, plain);
    EXPECT_EQ(plain, captured.plain);
  }
}

TEST(ChannelData, SettingAVariableMovesItToTheEndAndEmptyUnsets) {
  ChannelData ch;
  ch.set_variable("a", "1");
  ch.set_variable("b", "2");
  ch.set_variable("c", "3");
  ch.set_variable("a", "1");  // same value: still moves to the end (captures 17, 20)
  ch.set_variable("b", "");
  ASSERT_EQ(ch.variables().size(), 2u);
  EXPECT_EQ(ch.variables()[0].first, "c");
  EXPECT_EQ(ch.variables()[1].first, "a");
  EXPECT_FALSE(ch.variable("b"));
}

TEST(ChannelData, StateAndCallStateEventsCarryNoVariables) {
  EXPECT_FALSE(event_carries_variables(event::EventType::CHANNEL_STATE));
  EXPECT_FALSE(event_carries_variables(event::EventType::CHANNEL_CALLSTATE));
  EXPECT_TRUE(event_carries_variables(event::EventType::CHANNEL_CREATE));
  EXPECT_TRUE(event_carries_variables(event::EventType::CHANNEL_HANGUP_COMPLETE));
}

TEST(HangupCauses, NamesAndQ850Codes) {
  EXPECT_EQ(hangup_cause_by_name("NORMAL_CLEARING")->q850, 16);
  EXPECT_EQ(hangup_cause_by_name("USER_BUSY")->q850, 17);
  EXPECT_EQ(hangup_cause_by_name("NO_ANSWER")->q850, 19);
  EXPECT_EQ(hangup_cause_by_name("ORIGINATOR_CANCEL")->q850, 487);
  EXPECT_EQ(hangup_cause_by_code(16)->name, "NORMAL_CLEARING");
  EXPECT_FALSE(hangup_cause_by_name("NOT_A_CAUSE"));
  EXPECT_EQ(channel_state_name(ChannelState::CS_EXECUTE), "CS_EXECUTE");
  EXPECT_EQ(static_cast<int>(ChannelState::CS_DESTROY), 12);
}

}  // namespace
}  // namespace eventsocket::core
