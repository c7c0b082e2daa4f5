#include "eventsocket/event/event.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "eventsocket/event/codec.hpp"
#include "eventsocket/event/standard_headers.hpp"

namespace eventsocket::event {
namespace {

TEST(Event, HeadersKeepOrderAndDuplicatesAndLookupIsCaseInsensitive) {
  Event e;
  e.add_header("Unique-ID", "first");
  e.add_header("X", "1");
  e.add_header("unique-id", "second");
  ASSERT_EQ(e.header_count(), 3u);
  EXPECT_EQ(e.header("UNIQUE-ID"), "first");
  EXPECT_EQ(e.header_at(2).name, "unique-id");
  EXPECT_FALSE(e.header("missing"));
  EXPECT_EQ(e.header_or_empty("missing"), "");
}

TEST(Event, EmptyValueRemovesInsteadOfAdding) {
  Event e;
  e.add_header("A", "1");
  e.add_header("B", "2");
  e.add_header("a", "");
  ASSERT_EQ(e.header_count(), 1u);
  EXPECT_EQ(e.header_at(0).name, "B");
}

TEST(Event, FrontSetAndRemove) {
  Event e;
  e.add_header("B", "2");
  e.add_header_front("A", "1");
  e.set_header("b", "3");
  e.set_header("C", "4");
  ASSERT_EQ(e.header_count(), 3u);
  EXPECT_EQ(e.header_at(0).name, "A");
  EXPECT_EQ(e.header_at(1).value, "3");
  EXPECT_EQ(e.header_at(2).name, "C");
  EXPECT_EQ(e.remove_header("a"), 1u);
  e.remove_header_at(0);
  ASSERT_EQ(e.header_count(), 1u);
  EXPECT_EQ(e.header_at(0).name, "C");
}

TEST(Event, BodyPresenceIsKeptApartFromEmptiness) {
  Event e;
  EXPECT_FALSE(e.has_body());
  e.set_body("");
  EXPECT_TRUE(e.has_body());
  e.clear_body();
  EXPECT_FALSE(e.has_body());
}

TEST(StandardHeaders, OrderAndFormats) {
  Event e(EventType::CUSTOM, "anchor::probe");
  Origin origin{"44e6b4ed-31ca-4ff0-adab-5170e297afa3", "vm", "vm", "192.0.2.2", "fd00::2"};
  // 2026-11-26 07:35:54.154150 UTC, the time of capture 08.
  const auto when =
      std::chrono::system_clock::time_point(std::chrono::microseconds(1795678554154150));
  add_standard_headers(e, origin, {"mod_event_socket.c", "parse_command", 2283}, 1486158, when);
  const char* names[] = {"Event-Name",
                         "Core-UUID",
                         "FreeSWITCH-Hostname",
                         "FreeSWITCH-Switchname",
                         "FreeSWITCH-IPv4",
                         "FreeSWITCH-IPv6",
                         "Event-Date-Local",
                         "Event-Date-GMT",
                         "Event-Date-Timestamp",
                         "Event-Calling-File",
                         "Event-Calling-Function",
                         "Event-Calling-Line-Number",
                         "Event-Sequence",
                         "Event-Subclass"};
  ASSERT_EQ(e.header_count(), std::size(names));
  for (std::size_t i = 0; i < std::size(names); ++i) {
    EXPECT_EQ(e.header_at(i).name, names[i]);
  }
  EXPECT_EQ(e.header("Event-Name"), "CUSTOM");
  EXPECT_EQ(e.header("Event-Date-GMT"), "Thu, 26 Nov 2026 07:35:54 GMT");
  EXPECT_EQ(e.header("Event-Date-Timestamp"), "1795678554154150");
  EXPECT_EQ(e.header("Event-Sequence"), "1486158");
  EXPECT_EQ(e.header("Event-Date-Local")->size(), 19u);
  std::string plain;
  encode_plain(e, plain);
  EXPECT_TRUE(
      plain.starts_with("Event-Subclass: anchor%3A%3Aprobe\nEvent-Name: CUSTOM\nCore-UUID"));
}

}  // namespace
TEST(Event, TypedAccessorsReadTheCommonHeadersCaseInsensitively) {
  Event e(EventType::CHANNEL_EXECUTE_COMPLETE);
  e.add_header("Event-Name", "CHANNEL_EXECUTE_COMPLETE");
  e.add_header("unique-id", "4f3c");
  e.add_header("Event-Sequence", "9001");
  e.add_header("Event-Date-Timestamp", "1764142554000123");
  e.add_header("Application", "playback");
  e.add_header("Application-Response", "FILE PLAYED");
  e.add_header("Caller-Destination-Number", "1000");
  e.add_header("variable_sip_user", "alice");
  EXPECT_EQ(e.name(), "CHANNEL_EXECUTE_COMPLETE");
  EXPECT_EQ(e.unique_id(), "4f3c");
  EXPECT_EQ(e.sequence(), 9001u);
  EXPECT_EQ(e.timestamp_us(), 1764142554000123);
  EXPECT_EQ(e.application(), "playback");
  EXPECT_EQ(e.application_response(), "FILE PLAYED");
  EXPECT_EQ(e.destination_number(), "1000");
  EXPECT_EQ(e.variable("sip_user"), "alice");
  EXPECT_EQ(e.variable("nope"), std::nullopt);
  EXPECT_EQ(e.hangup_cause(), "");
  e.set_header("Event-Sequence", "12x");
  EXPECT_EQ(e.sequence(), std::nullopt);
}

}  // namespace eventsocket::event
