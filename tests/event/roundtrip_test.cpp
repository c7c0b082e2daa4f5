// Every event captured from a real FreeSWITCH decodes, and encodes back to the same bytes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "eventsocket/event/codec.hpp"
#include "eventsocket/wire/parser.hpp"
#include "support/transcript.hpp"

namespace eventsocket::event {
namespace {

struct CapturedEvent {
  std::string transcript;
  int index;
  wire::EventFormat format;
  std::string text;  // the serialized event (packet body), or a connect reply's block
};

std::vector<CapturedEvent> captured_events() {
  std::vector<CapturedEvent> events;
  for (const std::string& name : test::transcript_names()) {
    const auto t = test::load_transcript(name);
    wire::Parser parser(wire::Direction::packet);
    parser.feed(t.server_bytes());
    wire::MessageView m;
    int index = 0;
    while (!parser.next(m)) {
      const std::string_view type = m.header("Content-Type").value_or("");
      if (type == "text/event-plain") {
        events.push_back({name, index, wire::EventFormat::plain, std::string(m.body)});
      } else if (type == "text/event-json") {
        events.push_back({name, index, wire::EventFormat::json, std::string(m.body)});
      } else if (type == "text/event-xml") {
        events.push_back({name, index, wire::EventFormat::xml, std::string(m.body)});
      } else if (m.header("Event-Name")) {
        // The outbound `connect` reply: a plain CHANNEL_DATA event with no envelope.
        events.push_back({name, index, wire::EventFormat::plain, std::string(m.block)});
      }
      ++index;
    }
  }
  return events;
}

TEST(RoundTrip, TheCapturesHoldEventsOfEveryFormat) {
  int counts[3] = {0, 0, 0};
  for (const auto& e : captured_events()) {
    ++counts[static_cast<int>(e.format)];
  }
  // Counted in tests/data/conformance: 38 plain packets plus 3 outbound connect replies,
  // 4 json, 3 xml.
  EXPECT_EQ(counts[0], 41);
  EXPECT_EQ(counts[1], 4);
  EXPECT_EQ(counts[2], 3);
}

TEST(RoundTrip, DecodeThenEncodeGivesTheCapturedBytes) {
  for (const auto& captured : captured_events()) {
    SCOPED_TRACE(captured.transcript + " packet " + std::to_string(captured.index));
    Event event;
    std::string error;
    ASSERT_TRUE(decode(captured.text, captured.format, event, &error)) << error;
    std::string encoded;
    encode(event, captured.format, encoded);
    EXPECT_EQ(encoded, captured.text);
  }
}

TEST(RoundTrip, EveryFormatCarriesTheSameEvent) {
  // plain -> json -> xml -> plain: the event survives each conversion unchanged.
  for (const auto& captured : captured_events()) {
    SCOPED_TRACE(captured.transcript + " packet " + std::to_string(captured.index));
    Event original;
    ASSERT_TRUE(decode(captured.text, captured.format, original));
    std::string plain;
    encode_plain(original, plain);
    for (auto format : {wire::EventFormat::json, wire::EventFormat::xml}) {
      std::string other;
      encode(original, format, other);
      Event back;
      std::string error;
      ASSERT_TRUE(decode(other, format, back, &error)) << error;
      std::string plain_again;
      encode_plain(back, plain_again);
      EXPECT_EQ(plain_again, plain);
      EXPECT_EQ(back.type(), original.type());
      EXPECT_EQ(back.subclass(), original.subclass());
    }
  }
}

TEST(RoundTrip, ConnectReplyKeepsItsReplyHeaders) {
  const auto t = test::load_transcript("19_outbound_static");
  wire::Parser parser(wire::Direction::packet);
  parser.feed(t.server_bytes());
  wire::MessageView m;
  ASSERT_FALSE(parser.next(m));
  Event event;
  ASSERT_TRUE(decode_plain(m.block, event));
  EXPECT_EQ(event.type(), EventType::CHANNEL_DATA);
  EXPECT_EQ(event.header("Reply-Text"), "+OK\n");
  EXPECT_EQ(event.header("Socket-Mode"), "static");
  EXPECT_EQ(event.header("Control"), "single-channel");
}

}  // namespace
}  // namespace eventsocket::event
