#include "eventsocket/wire/parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "eventsocket/wire/errc.hpp"
#include "support/transcript.hpp"

namespace eventsocket::wire {
namespace {

// What a message looks like after parsing, owned, for comparisons across feeds.
struct Parsed {
  std::string block;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool has_body = false;
  bool operator==(const Parsed&) const = default;
};

Parsed own(const MessageView& m) {
  Parsed p{std::string(m.block), {}, std::string(m.body), m.has_body};
  for (const auto& h : m.headers) {
    p.headers.emplace_back(std::string(h.name), std::string(h.value));
  }
  return p;
}

// Feeds `input` in slices of `step` bytes (0 = all at once), collecting every message.
std::vector<Parsed> parse_all(Direction dir, const std::string& input, std::size_t step,
                              std::error_code* last = nullptr, Limits limits = {}) {
  Parser parser(dir, limits);
  std::vector<Parsed> out;
  std::error_code ec;
  std::size_t pos = 0;
  do {
    const std::size_t n = step == 0 ? input.size() : std::min(step, input.size() - pos);
    parser.feed(std::string_view(input).substr(pos, n));
    pos += n;
    MessageView m;
    while (!(ec = parser.next(m))) {
      out.push_back(own(m));
    }
    if (ec != errc::need_more) {
      break;
    }
  } while (pos < input.size());
  if (last != nullptr) {
    *last = ec;
  }
  return out;
}

TEST(CommandParser, SimpleCommand) {
  const auto msgs = parse_all(Direction::command, "auth ClueCon\n\n", 0);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].block, "auth ClueCon\n\n");
  EXPECT_TRUE(msgs[0].headers.empty());
  EXPECT_FALSE(msgs[0].has_body);
}

TEST(CommandParser, LeadingBlankLinesAreSkipped) {
  const auto msgs = parse_all(Direction::command, "\r\n\n\r\napi status\n\n\n\n", 0);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].block, "api status\n\n");
}

TEST(CommandParser, EveryLineBreakPairEndsTheBlock) {
  for (const std::string ending : {"\n\n", "\r\n\r\n", "\n\r\n", "\r\n\n", "\n\r\r\n"}) {
    const auto msgs = parse_all(Direction::command, "exit" + ending, 0);
    ASSERT_EQ(msgs.size(), 1u) << "ending " << ending.size();
    EXPECT_EQ(msgs[0].block, "exit" + ending);
  }
}

TEST(CommandParser, SpaceLineAndLoneCrDoNotEndTheBlock) {
  std::error_code ec;
  EXPECT_TRUE(parse_all(Direction::command, "exit\n \n", 0, &ec).empty());
  EXPECT_EQ(ec, errc::need_more);
  EXPECT_TRUE(parse_all(Direction::command, "exit\r\r\r", 0, &ec).empty());
  EXPECT_EQ(ec, errc::need_more);
}

TEST(CommandParser, HeadersKeepOrderDuplicatesAndNameCase) {
  const auto msgs = parse_all(
      Direction::command, "sendevent CUSTOM\nX-A: 1\nx-a: 2\nNo colon here\nB:   spaced\t \n\n", 0);
  ASSERT_EQ(msgs.size(), 1u);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"X-A", "1"}, {"x-a", "2"}, {"B", "spaced\t "}};
  EXPECT_EQ(msgs[0].headers, expected);
}

TEST(CommandParser, EmptyValueDeletesEarlierHeadersOfThatName) {
  const auto msgs = parse_all(Direction::command, "sendevent\nA: 1\nB: 2\na:\nC: 3\n\n", 0);
  ASSERT_EQ(msgs.size(), 1u);
  const std::vector<std::pair<std::string, std::string>> expected = {{"B", "2"}, {"C", "3"}};
  EXPECT_EQ(msgs[0].headers, expected);
}

TEST(CommandParser, MixedLineEndingsMergeLfLinesIntoTheCommand) {
  // PROTOCOL.md §16: `api echo mixed\nX-A: 1\r\n\r\n` echoes `mixed\nX-A: 1`.
  Parser parser(Direction::command);
  parser.feed("api echo mixed\nX-A: 1\r\n\r\n");
  MessageView m;
  ASSERT_FALSE(parser.next(m));
  EXPECT_EQ(m.first_line(), "api echo mixed\nX-A: 1");
  EXPECT_TRUE(m.headers.empty());
}

TEST(CommandParser, CrlfCommandStripsAtCr) {
  Parser parser(Direction::command);
  parser.feed("api echo crlf\r\nX: y\r\n\r\n");
  MessageView m;
  ASSERT_FALSE(parser.next(m));
  EXPECT_EQ(m.first_line(), "api echo crlf");
  ASSERT_EQ(m.headers.size(), 1u);
  EXPECT_EQ(m.headers[0].value, "y");
}

TEST(CommandParser, BodyFollowsContentLengthAndNextCommandFollowsBody) {
  const auto msgs = parse_all(Direction::command,
                              "sendevent CUSTOM\ncontent-length: 5\n\nhelloapi status\n\n", 0);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_TRUE(msgs[0].has_body);
  EXPECT_EQ(msgs[0].body, "hello");
  EXPECT_EQ(msgs[1].block, "api status\n\n");
}

TEST(CommandParser, TwoContentLengthsReadTwoBodiesAndKeepTheSecond) {
  const auto msgs = parse_all(
      Direction::command, "sendevent\nContent-Length: 3\nContent-Length: 4\n\nabcdefgexit\n\n", 0);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0].body, "defg");
  EXPECT_EQ(msgs[0].headers.size(), 2u);
  EXPECT_EQ(msgs[1].block, "exit\n\n");
}

TEST(CommandParser, NonNumericOrZeroContentLengthMeansNoBody) {
  for (const std::string value : {"abc", "0", " 0x10"}) {
    const auto msgs =
        parse_all(Direction::command, "sendevent\nContent-Length: " + value + "\n\nexit\n\n", 0);
    ASSERT_EQ(msgs.size(), 2u) << value;
    EXPECT_FALSE(msgs[0].has_body);
  }
}

TEST(CommandParser, NegativeContentLengthIsAnError) {
  std::error_code ec;
  parse_all(Direction::command, "sendevent\nContent-Length: -1\n\n", 0, &ec);
  EXPECT_EQ(ec, errc::bad_content_length);
}

TEST(CommandParser, ContentLengthAboveSixteenMebibytesIsAnError) {
  std::error_code ec;
  parse_all(Direction::command, "sendevent\nContent-Length: 16777217\n\n", 0, &ec);
  EXPECT_EQ(ec, errc::content_length_too_large);
  // Exactly 16 MiB is accepted; the parser then waits for the body.
  parse_all(Direction::command, "sendevent\nContent-Length: 16777216\n\nshort", 0, &ec);
  EXPECT_EQ(ec, errc::need_more);
}

TEST(CommandParser, ErrorIsSticky) {
  Parser parser(Direction::command);
  parser.feed("x\nContent-Length: -5\n\n");
  MessageView m;
  EXPECT_EQ(parser.next(m), errc::bad_content_length);
  parser.feed("exit\n\n");
  EXPECT_EQ(parser.next(m), errc::bad_content_length);
}

TEST(CommandParser, LongArgumentAndLongHeaderLineAreFine) {
  const std::string arg(20000, 'x');
  const std::string header(9000, 'y');
  const auto msgs =
      parse_all(Direction::command, "api echo " + arg + "\nX-Long: " + header + "\n\n", 0);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].headers.at(0).second, header);
}

// One test per limit, each with a tiny value.
TEST(ParserLimits, LineTooLong) {
  Limits limits;
  limits.max_line_bytes = 8;
  std::error_code ec;
  parse_all(Direction::command, "api status please\n\n", 0, &ec, limits);
  EXPECT_EQ(ec, errc::line_too_long);
  // A partial line is refused before its end arrives.
  parse_all(Direction::command, "api status please", 0, &ec, limits);
  EXPECT_EQ(ec, errc::line_too_long);
  // At the limit it is fine.
  EXPECT_EQ(parse_all(Direction::command, "12345678\n\n", 0, &ec, limits).size(), 1u);
}

TEST(ParserLimits, CrRunInsideTheTerminatorCountsAgainstTheLimits) {
  // Found by the fuzzer: CRs between the two LFs that end a block used to slip past both
  // limits when the whole terminator arrived in one feed.
  Limits limits;
  limits.max_line_bytes = 128;
  limits.max_header_block_bytes = 512;
  std::error_code ec;
  parse_all(Direction::command, "api status\n" + std::string(2000, '\r') + "\n", 0, &ec, limits);
  EXPECT_EQ(ec, errc::line_too_long);
  limits.max_line_bytes = 100000;
  parse_all(Direction::packet, "A: b\n" + std::string(2000, '\r') + "\n", 0, &ec, limits);
  EXPECT_EQ(ec, errc::header_block_too_large);
}

TEST(ParserLimits, TooManyHeaders) {
  Limits limits;
  limits.max_header_count = 3;
  std::error_code ec;
  parse_all(Direction::command, "sendevent\nA: 1\nB: 2\nC: 3\n\n", 0, &ec, limits);
  EXPECT_EQ(ec, errc::too_many_headers);
  EXPECT_EQ(parse_all(Direction::command, "sendevent\nA: 1\nB: 2\n\n", 0, &ec, limits).size(), 1u);
}

TEST(ParserLimits, HeaderBlockTooLarge) {
  Limits limits;
  limits.max_header_block_bytes = 16;
  std::error_code ec;
  parse_all(Direction::command, "sendevent\nA: 1\nB: 2\nC: 3\n\n", 0, &ec, limits);
  EXPECT_EQ(ec, errc::header_block_too_large);
  parse_all(Direction::command, "abcdefghijklmnopqrstuvwxyz", 0, &ec, limits);
  EXPECT_EQ(ec, errc::header_block_too_large);
}

TEST(ParserLimits, ContentLengthTooLarge) {
  Limits limits;
  limits.max_content_length = 4;
  std::error_code ec;
  parse_all(Direction::command, "sendevent\nContent-Length: 5\n\nhello", 0, &ec, limits);
  EXPECT_EQ(ec, errc::content_length_too_large);
  parse_all(Direction::packet, "Content-Type: api/response\nContent-Length: 5\n\nhello", 0, &ec,
            limits);
  EXPECT_EQ(ec, errc::content_length_too_large);
}

TEST(ParserLimits, BufferLimit) {
  Limits limits;
  limits.max_buffered_bytes = 10;
  std::error_code ec;
  parse_all(Direction::command, "sendevent\nContent-Length: 50\n\n0123456789abc", 0, &ec, limits);
  EXPECT_EQ(ec, errc::buffer_limit);
}

TEST(PacketParser, ApiResponseWithBody) {
  const auto msgs = parse_all(Direction::packet,
                              "Content-Type: api/response\nContent-Length: 4\n\ncrlfContent-Type: "
                              "command/reply\nReply-Text: +OK\n\n",
                              0);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0].body, "crlf");
  const std::vector<std::pair<std::string, std::string>> h1 = {{"Content-Type", "command/reply"},
                                                               {"Reply-Text", "+OK"}};
  EXPECT_EQ(msgs[1].headers, h1);
}

TEST(PacketParser, CrlfLinesAreAccepted) {
  const auto msgs = parse_all(Direction::packet, "Content-Type: auth/request\r\n\r\n", 0);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].headers.at(0).second, "auth/request");
}

// Every capture, in both directions, parsed whole, one byte at a time, and split at every
// byte into two feeds: all three must agree (Beast's "grind").
class TranscriptGrind : public ::testing::TestWithParam<std::string> {};

void grind(Direction dir, const std::string& bytes) {
  std::error_code ec;
  const auto whole = parse_all(dir, bytes, 0, &ec);
  EXPECT_EQ(ec, errc::need_more);
  EXPECT_EQ(parse_all(dir, bytes, 1), whole);
  for (std::size_t split = 1; split < bytes.size(); ++split) {
    Parser parser(dir);
    std::vector<Parsed> got;
    MessageView m;
    parser.feed(std::string_view(bytes).substr(0, split));
    while (!parser.next(m)) {
      got.push_back(own(m));
    }
    parser.feed(std::string_view(bytes).substr(split));
    while (!parser.next(m)) {
      got.push_back(own(m));
    }
    ASSERT_EQ(got, whole) << "split at " << split;
  }
}

TEST_P(TranscriptGrind, ClientBytes) {
  const auto t = test::load_transcript(GetParam());
  const std::string bytes = t.client_bytes();
  grind(Direction::command, bytes);
  // Every command in the captures ends with a blank line, so every byte is consumed.
  const auto msgs = parse_all(Direction::command, bytes, 0);
  EXPECT_FALSE(msgs.empty());
}

TEST_P(TranscriptGrind, ServerBytes) {
  const auto t = test::load_transcript(GetParam());
  const std::string bytes = t.server_bytes();
  // Whole stream one byte at a time, then each packet split at every byte.
  EXPECT_EQ(parse_all(Direction::packet, bytes, 1), parse_all(Direction::packet, bytes, 0));
  for (const Parsed& p : parse_all(Direction::packet, bytes, 0)) {
    grind(Direction::packet, p.block + p.body);
  }
  // The parsed packets put back together give the bytes again: nothing lost or invented.
  Parser parser(Direction::packet);
  parser.feed(bytes);
  std::string rebuilt;
  MessageView m;
  while (!parser.next(m)) {
    rebuilt.append(m.block);
    rebuilt.append(m.body);
  }
  EXPECT_EQ(rebuilt, bytes);
  EXPECT_EQ(parser.buffered_bytes(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Conformance, TranscriptGrind,
                         ::testing::ValuesIn(test::transcript_names()),
                         [](const auto& info) { return info.param; });

TEST(PacketParser, TrickleIsLinear) {
  // A large header block fed one byte at a time: the parser must not rescan (this would
  // take minutes if it did; it is a correctness test of the resume offset, not a timer).
  std::string big = "Content-Type: text/event-plain\n";
  for (int i = 0; i < 5000; ++i) {
    big += "X-Header-" + std::to_string(i) + ": value\n";
  }
  big += "\n";
  const auto msgs = parse_all(Direction::packet, big, 1);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].headers.size(), 5001u);
}

}  // namespace
}  // namespace eventsocket::wire
