#include "eventsocket/wire/url.hpp"

#include <gtest/gtest.h>

namespace eventsocket::wire {
namespace {

struct UrlCase {
  const char* label;
  std::string raw;
  std::string encoded;
};

// EVENTS.md §4 and the live checks of PROTOCOL.md §16.
const UrlCase kCases[] = {
    {"date", "Tue, 14 May 2024 08:15:30 GMT", "Tue,%2014%20May%202024%2008%3A15%3A30%20GMT"},
    {"ipv6", "::1", "%3A%3A1"},
    {"reply text with newline", "+OK\n", "%2BOK%0A"},
    {"utf8 per byte", "caf\xC3\xA9", "caf%C3%A9"},
    {"at sign", "sofia/internal/1001@pbx01.example.net", "sofia/internal/1001%40pbx01.example.net"},
    {"never encoded", "AZaz09!$'()*,-./_~", "AZaz09!$'()*,-./_~"},
    {"every special", " #%&+:;<=>?@[\\]^`{|}\"",
     "%20%23%25%26%2B%3A%3B%3C%3D%3E%3F%40%5B%5C%5D%5E%60%7B%7C%7D%22"},
    {"existing uppercase escape kept", "%41", "%41"},
    {"lowercase escape encoded", "%4a", "%254a"},
    {"not hex", "%zz", "%25zz"},
    {"trailing percent", "50%", "50%25"},
    {"percent one before end", "%4", "%254"},
    {"tab and del", "a\tb\x7F", "a%09b%7F"},
    {"cr lf", "a\r\nb", "a%0D%0Ab"},
    {"empty", "", ""},
};

TEST(UrlEncode, MatchesFreeSwitch) {
  for (const auto& c : kCases) {
    EXPECT_EQ(url_encode(c.raw), c.encoded) << c.label;
    EXPECT_EQ(url_encoding_is_identity(c.raw), c.raw == c.encoded) << c.label;
  }
}

TEST(UrlDecode, DecodesEitherCaseAndLeavesTheRest) {
  EXPECT_EQ(url_decode("a%20b"), "a b");
  EXPECT_EQ(url_decode("%3a%3A"), "::");
  EXPECT_EQ(url_decode("100%"), "100%");
  EXPECT_EQ(url_decode("%zz%4"), "%zz%4");
  EXPECT_EQ(url_decode("a+b"), "a+b");
  EXPECT_EQ(url_decode("caf%C3%A9"), "caf\xC3\xA9");
}

TEST(UrlRoundTrip, DecodeOfEncodeIsIdentityWithoutExistingEscapes) {
  std::string all;
  for (int c = 1; c < 256; ++c) {
    if (c != '%') {
      all.push_back(static_cast<char>(c));
    }
  }
  EXPECT_EQ(url_decode(url_encode(all)), all);
}

}  // namespace
}  // namespace eventsocket::wire
