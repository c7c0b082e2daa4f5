#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "eventsocket/event/codec.hpp"
#include "eventsocket/event/event.hpp"

namespace eventsocket::event {
namespace {

// The CUSTOM event of EVENTS.md §4-6 (a `sendevent CUSTOM` with body "hello\n").
Event spec_custom_event() {
  Event e(EventType::CUSTOM, "example::ping");
  e.add_header("Command", "sendevent CUSTOM");
  e.add_header("Content-Length", "6");
  e.add_header("Event-UUID", "c0ffee00-1234-4abc-8def-0123456789ab");
  e.add_header("Event-Name", "CUSTOM");
  e.add_header("Core-UUID", "3f6e1c2a-9b7d-4e21-8c55-0a1b2c3d4e5f");
  e.add_header("FreeSWITCH-Hostname", "pbx01.example.net");
  e.add_header("FreeSWITCH-Switchname", "pbx01.example.net");
  e.add_header("FreeSWITCH-IPv4", "192.0.2.10");
  e.add_header("FreeSWITCH-IPv6", "::1");
  e.add_header("Event-Date-Local", "2024-05-14 10:16:02");
  e.add_header("Event-Date-GMT", "Tue, 14 May 2024 08:16:02 GMT");
  e.add_header("Event-Date-Timestamp", "1715674562500000");
  e.add_header("Event-Calling-File", "mod_event_socket.c");
  e.add_header("Event-Calling-Function", "parse_command");
  e.add_header("Event-Calling-Line-Number", "2283");
  e.add_header("Event-Sequence", "5200");
  // sendevent re-adds the subclass header after the client's: the delivery copy moves it.
  e.add_header("Event-Subclass", "example::ping");
  e.set_body("hello\n");
  return e;
}

TEST(EncodePlain, SpecExample) {
  std::string out;
  encode_plain(spec_custom_event(), out);
  const std::string expected =
      "Event-Subclass: example%3A%3Aping\n"
      "Command: sendevent%20CUSTOM\n"
      "Content-Length: 6\n"
      "Event-UUID: c0ffee00-1234-4abc-8def-0123456789ab\n"
      "Event-Name: CUSTOM\n"
      "Core-UUID: 3f6e1c2a-9b7d-4e21-8c55-0a1b2c3d4e5f\n"
      "FreeSWITCH-Hostname: pbx01.example.net\n"
      "FreeSWITCH-Switchname: pbx01.example.net\n"
      "FreeSWITCH-IPv4: 192.0.2.10\n"
      "FreeSWITCH-IPv6: %3A%3A1\n"
      "Event-Date-Local: 2024-05-14%2010%3A16%3A02\n"
      "Event-Date-GMT: Tue,%2014%20May%202024%2008%3A16%3A02%20GMT\n"
      "Event-Date-Timestamp: 1715674562500000\n"
      "Event-Calling-File: mod_event_socket.c\n"
      "Event-Calling-Function: parse_command\n"
      "Event-Calling-Line-Number: 2283\n"
      "Event-Sequence: 5200\n"
      "Content-Length: 6\n"
      "\n"
      "hello\n";
  EXPECT_EQ(out, expected);
  EXPECT_EQ(out.size(), 627u);  // the envelope's Content-Length in EVENTS.md §4
}

TEST(EncodeJson, SpecExample) {
  std::string out;
  encode_json(spec_custom_event(), out);
  EXPECT_EQ(out.size(), 663u);  // EVENTS.md §5
  EXPECT_TRUE(
      out.starts_with("{\"Event-Subclass\":\"example::ping\",\"Command\":\"sendevent "
                      "CUSTOM\",\"Content-Length\":\"6\","))
      << out;
  const std::string tail =
      "\"Event-Sequence\":\"5200\",\"Content-Length\":\"6\",\"_body\":\"hello\\n\"}";
  EXPECT_EQ(out.substr(out.size() - tail.size()), tail);
}

TEST(EncodeXml, SpecExampleBodyQuirk) {
  std::string out;
  encode_xml(spec_custom_event(), out);
  EXPECT_TRUE(out.starts_with(
      "<event>\n  <headers>\n    <Event-Subclass>example%3A%3Aping</Event-Subclass>\n"))
      << out;
  const std::string tail =
      "    <Event-Sequence>5200</Event-Sequence>\n  </headers>\n"
      "  <Content-Length>6</Content-Length>\n  <body>hello\n  </body>\n</event>\n";
  EXPECT_EQ(out.substr(out.size() - tail.size()), tail);
}

TEST(EncodePlain, NoBodyEndsWithBlankLine) {
  Event e(EventType::HEARTBEAT);
  e.add_header("Event-Name", "HEARTBEAT");
  std::string out;
  encode_plain(e, out);
  EXPECT_EQ(out, "Event-Name: HEARTBEAT\n\n");
  // An empty body is no body in plain and xml (strlen(body) == 0) ...
  e.set_body("");
  out.clear();
  encode_plain(e, out);
  EXPECT_EQ(out, "Event-Name: HEARTBEAT\n\n");
  out.clear();
  encode_xml(e, out);
  EXPECT_EQ(
      out,
      "<event>\n  <headers>\n    <Event-Name>HEARTBEAT</Event-Name>\n  </headers>\n</event>\n");
  // ... but json still appends Content-Length and _body.
  out.clear();
  encode_json(e, out);
  EXPECT_EQ(out, "{\"Event-Name\":\"HEARTBEAT\",\"Content-Length\":\"0\",\"_body\":\"\"}");
}

TEST(EncodePlain, RawKeepsSubclassWhereItIs) {
  Event e(EventType::CUSTOM, "a::b");
  e.add_header("X-First", "1");
  e.add_header("Event-Subclass", "a::b");
  std::string delivered;
  std::string raw;
  encode_plain(e, delivered);
  encode_plain_raw(e, raw);
  EXPECT_EQ(delivered, "Event-Subclass: a%3A%3Ab\nX-First: 1\n\n");
  EXPECT_EQ(raw, "X-First: 1\nEvent-Subclass: a%3A%3Ab\n\n");
}

TEST(EncodePlain, LineBreaksInHeaderNamesAreEscaped) {
  // A name with LF (sendevent's mixed line endings, or a json key) must not end the header
  // block early for every subscriber.
  Event e;
  e.add_header("a\nb", "1");
  e.add_header("c\rd", "2");
  std::string out;
  encode_plain(e, out);
  EXPECT_EQ(out, "a%0Ab: 1\nc%0Dd: 2\n\n");
  Event back;
  ASSERT_TRUE(decode_plain(out, back));
  EXPECT_EQ(back.header_count(), 2u);
}

TEST(EncodeJson, EscapesLikeCJson) {
  Event e;
  e.add_header("k",
               std::string("q\" b\\ t\t r\r n\n bs\b ff\f c\x01 u\x1f del\x7f sl/ caf\xC3\xA9"));
  std::string out;
  encode_json(e, out);
  EXPECT_EQ(out,
            "{\"k\":\"q\\\" b\\\\ t\\t r\\r n\\n bs\\b ff\\f c\\u0001 u\\u001f del\x7f sl/ "
            "caf\xC3\xA9\"}");
}

TEST(Arrays, EachFormatWritesArraysItsOwnWay) {
  Event e;
  e.add_header("X-Arr", "ARRAY::a b|:c");
  std::string plain, json, xml;
  encode_plain(e, plain);
  encode_json(e, json);
  encode_xml(e, xml);
  EXPECT_EQ(plain, "X-Arr: ARRAY%3A%3Aa%20b%7C%3Ac\n\n");
  EXPECT_EQ(json, "{\"X-Arr\":[\"a b\",\"c\"]}");
  EXPECT_EQ(xml,
            "<event>\n  <headers>\n    <X-Arr>a%20b</X-Arr>\n    <X-Arr>c</X-Arr>\n"
            "  </headers>\n</event>\n");
  Event back;
  ASSERT_TRUE(decode_json(json, back));
  EXPECT_EQ(back.header("X-Arr"), "ARRAY::a b|:c");
}

std::string xml_body(std::string_view body) {
  Event e;
  e.add_header("A", "1");
  e.set_body(body);
  std::string out;
  encode_xml(e, out);
  const std::size_t start = out.find("<body>") + 6;
  return out.substr(start, out.find("</body>") - start);
}

TEST(EncodeXml, BodyEscaping) {
  EXPECT_EQ(xml_body("a<b>&c"), "a&lt;b&gt;&amp;c");
  EXPECT_EQ(xml_body("cr\r \"q\" tab\t"), "cr&#xD; \"q\" tab\t");
  EXPECT_EQ(xml_body("caf\xC3\xA9 \xE2\x82\xAC"), "caf&#xE9; &#x20AC;");
  EXPECT_EQ(xml_body("\xF0\x9F\x98\x80"), "&#x1F600;");
  // `<!` stops all escaping for the rest of the text.
  EXPECT_EQ(xml_body("x<!-- <a&b> -->"), "x<!-- <a&b> -->");
  // A stray continuation byte is dropped.
  EXPECT_EQ(xml_body("a\x80z"), "az");
  // A broken sequence drops the byte that broke it and leaves later high bytes raw.
  EXPECT_EQ(xml_body("\xC3z\xC3\xA9"), "\xC3\xA9");
  EXPECT_EQ(xml_body("line\n"), "line\n  ");
  EXPECT_EQ(xml_body("line\nx"), "line\nx");
}

TEST(Decode, PlainKeepsClientContentLengthAndTakesTheLastAsBody) {
  const std::string text =
      "Event-Subclass: a%3A%3Ab\nContent-Length: 3\nEvent-Name: CUSTOM\nContent-Length: 3\n\nabc";
  Event e;
  ASSERT_TRUE(decode_plain(text, e));
  EXPECT_EQ(e.type(), EventType::CUSTOM);
  EXPECT_EQ(e.subclass(), "a::b");
  EXPECT_EQ(e.header_count(), 3u);
  EXPECT_EQ(e.body(), "abc");
}

TEST(Decode, RejectsMalformedInput) {
  Event e;
  std::string error;
  EXPECT_FALSE(decode_plain("A: 1\n\nbody without length", e, &error));
  EXPECT_FALSE(error.empty());
  EXPECT_FALSE(decode_plain("A: 1\nContent-Length: 99\n\nshort", e));
  EXPECT_FALSE(decode_json("{\"a\":", e));
  EXPECT_FALSE(decode_json("[1,2]", e));
  EXPECT_FALSE(decode_json("{\"a\":1}", e));
  EXPECT_FALSE(decode_xml("<event><headers>", e));
  EXPECT_FALSE(decode_xml("<other/>", e));
}

TEST(Decode, UnknownEventNameIsCustom) {
  Event e;
  ASSERT_TRUE(decode_plain("Event-Name: NOT_A_TYPE\n\n", e));
  EXPECT_EQ(e.type(), EventType::CUSTOM);
  ASSERT_TRUE(decode_plain("Event-Name: HEARTBEAT\n\n", e));
  EXPECT_EQ(e.type(), EventType::HEARTBEAT);
}

TEST(FrozenEvent, EachFormatIsEncodedOnceAndShared) {
  const EventPtr frozen = FrozenEvent::freeze(spec_custom_event());
  std::vector<std::thread> threads;
  std::vector<const char*> seen(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] { seen[i] = frozen->packet(wire::EventFormat::json).data(); });
  }
  for (auto& t : threads) {
    t.join();
  }
  for (const char* p : seen) {
    EXPECT_EQ(p, seen[0]);  // the very same bytes, not copies
  }
  const std::string_view packet = frozen->packet(wire::EventFormat::plain);
  EXPECT_TRUE(packet.starts_with("Content-Length: 627\nContent-Type: text/event-plain\n\n"));
  EXPECT_EQ(frozen->serialized(wire::EventFormat::plain).size(), 627u);
  EXPECT_EQ(packet.substr(packet.size() - 627), frozen->serialized(wire::EventFormat::plain));
}

}  // namespace
}  // namespace eventsocket::event
