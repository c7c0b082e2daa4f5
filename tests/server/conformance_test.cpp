// Byte-level replay of the real FreeSWITCH captures in tests/data/conformance against a live
// eventsocket server on a loopback port.
//
// For each client chunk of a capture the test sends the same bytes, then reads as many
// packets as FreeSWITCH sent before the next client chunk, and compares them packet by
// packet. Values that differ between any two runs are normalized on both sides first (the
// same way): generated UUIDs (numbered by first appearance), event dates, sequence numbers,
// Core-UUID, the host's names and addresses, calling line numbers, `status` counters and the
// product/version lines, a channel's non-zero timestamps, durations and session id, the
// date-times and epochs in `show` output, and every length derived from them. Everything
// else must be equal: packet order, content types, header names and order, reply texts and
// bodies.
//
// The call captures (08-10, 15-17) were recorded while a second connection that was never
// saved (the capture script's "K") originated and killed a loopback call; the tests replay
// those steps on a control connection at the same points of the conversation.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "eventsocket/event/codec.hpp"
#include "eventsocket/event/event.hpp"
#include "eventsocket/wire/message.hpp"
#include "eventsocket/wire/parser.hpp"
#include "server/test_server.hpp"
#include "support/transcript.hpp"

namespace eventsocket::test {
namespace {

using namespace std::chrono_literals;

const std::regex kUuidRe(
    "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

// Shows control bytes, so a difference in line endings is visible in a failure message.
std::string visible(std::string_view bytes) {
  std::string out;
  for (char c : bytes) {
    if (c == '\n') {
      out += "\\n\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned char>(c));
      out += hex;
    } else {
      out += c;
    }
  }
  return out;
}

// Splits a stream of server bytes into packets (as libesl frames them), checking that the
// packets cover the stream exactly: no byte skipped between packets.
class PacketSplitter {
 public:
  void feed(std::string_view bytes) {
    raw_.append(bytes);
    parser_.feed(bytes);
  }

  // The next complete packet's raw bytes, or nullopt when more bytes are needed.
  std::optional<std::string> next() {
    wire::MessageView view;
    if (parser_.next(view)) {
      return std::nullopt;
    }
    std::string packet(view.block);
    packet.append(view.body);
    if (raw_.compare(consumed_, packet.size(), packet) != 0) {
      ADD_FAILURE() << "bytes between packets were skipped by the framing: "
                    << visible(raw_.substr(consumed_, packet.size() + 16));
      const std::size_t at = raw_.find(packet, consumed_);
      consumed_ = at == std::string::npos ? raw_.size() : at;
    }
    consumed_ += packet.size();
    return packet;
  }

  std::size_t pending_bytes() const { return raw_.size() - consumed_; }

 private:
  wire::Parser parser_{wire::Direction::packet};
  std::string raw_;
  std::size_t consumed_ = 0;
};

// ---------------------------------------------------------------- the capture side

// One client chunk and the packets FreeSWITCH sent after it, before the next client chunk.
// The first exchange has no client bytes: what the server sent on connect.
struct Exchange {
  std::string client_bytes;
  std::vector<std::string> packets;
};

std::vector<Exchange> exchanges_of(const Transcript& t) {
  std::vector<Exchange> out(1);
  PacketSplitter splitter;
  for (const Transcript::Chunk& chunk : t.chunks) {
    if (chunk.client_to_server) {
      out.push_back({chunk.bytes, {}});
      continue;
    }
    splitter.feed(chunk.bytes);
    while (auto packet = splitter.next()) {
      out.back().packets.push_back(std::move(*packet));
    }
  }
  EXPECT_EQ(splitter.pending_bytes(), 0u) << t.name << ": capture ends inside a packet";
  return out;
}

// UUIDs the client itself sent (a chosen Job-UUID): not live values, kept verbatim.
std::set<std::string> client_uuids(const std::vector<const Transcript*>& captures) {
  std::set<std::string> out;
  for (const Transcript* t : captures) {
    const std::string bytes = t->client_bytes();
    for (std::sregex_iterator it(bytes.begin(), bytes.end(), kUuidRe), end; it != end; ++it) {
      out.insert(it->str());
    }
  }
  return out;
}

// ---------------------------------------------------------------- normalization

// Replaces the values that differ from run to run. One Normalizer per side (capture or
// live); both see the same packets in the same order, so equal streams normalize equally.
class Normalizer {
 public:
  Normalizer(std::string side, std::set<std::string> client_uuids)
      : side_(std::move(side)), client_uuids_(std::move(client_uuids)) {}

  // A whole packet: its header block with normalized values and a recomputed
  // Content-Length, then its normalized body.
  std::string packet(std::string_view raw) {
    wire::Parser parser(wire::Direction::packet);
    parser.feed(raw);
    wire::MessageView view;
    if (parser.next(view)) {
      problems_.push_back(side_ + ": not a packet: " + visible(raw));
      return std::string(raw);
    }
    if (view.block.starts_with("Event-Name: ")) {
      // The outbound connect reply: a plain event with no envelope (PROTOCOL.md §9.4).
      return event_body(raw, wire::EventFormat::plain);
    }
    const std::string content_type(view.header("Content-Type").value_or(""));
    std::string body;
    if (const auto format = wire::event_format_from_content_type(content_type)) {
      body = event_body(view.body, *format);
    } else {
      body = text(view.body);
    }
    // Header lines, in order, as sent.
    std::string block;
    std::string_view rest = view.block;
    while (!rest.empty()) {
      const std::size_t eol = rest.find('\n');
      std::string_view line = rest.substr(0, eol == std::string_view::npos ? rest.size() : eol + 1);
      rest.remove_prefix(line.size());
      const std::size_t colon = line.find(": ");
      if (colon == std::string_view::npos) {
        block.append(line);  // the blank line (or a malformed one, kept as is)
        continue;
      }
      const std::string_view name = line.substr(0, colon);
      std::string_view value = line.substr(colon + 2);
      std::string_view ending;
      if (value.ends_with('\n')) {
        value.remove_suffix(1);
        ending = "\n";
      }
      block.append(name);
      block.append(": ");
      if (wire::iequals(name, "Content-Length") && view.has_body) {
        block.append(std::to_string(body.size()));
      } else {
        block.append(text(value));
      }
      block.append(ending);
    }
    return block + body;
  }

  const std::vector<std::string>& problems() const { return problems_; }

  // The outbound captures name the capture script's listener (127.0.0.1:9999); the tests
  // listen on a free port. Either becomes 127.0.0.1:<socket-port>.
  void normalize_socket_port() { socket_port_ = true; }

 private:
  // Generated UUIDs become <uuid-N>, N counting distinct UUIDs in order of appearance.
  // Date-times and epoch seconds or microseconds (the `show channels` columns `created` and
  // `created_epoch`) become <date-time> and <epoch>.
  std::string text(std::string_view in) {
    static const std::regex epoch(R"((^|[^0-9])1\d{9}(?:\d{6})?(?![0-9]))");
    const std::string s = lines(in);
    std::string out;
    std::size_t last = 0;
    for (std::sregex_iterator it(s.begin(), s.end(), kUuidRe), end; it != end; ++it) {
      out.append(s, last, static_cast<std::size_t>(it->position()) - last);
      out += uuid(it->str());
      last = static_cast<std::size_t>(it->position() + it->length());
    }
    out.append(s, last);
    if (socket_port_) {
      static const std::regex address(R"(127\.0\.0\.1(:|%3A)\d+)");
      out = std::regex_replace(out, address, "127.0.0.1$1<socket-port>");
    }
    return std::regex_replace(date_times(out), epoch, "$1<epoch>");
  }

  static std::string date_times(const std::string& in) {
    static const std::regex date_time(R"(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?)");
    return std::regex_replace(in, date_time, "<date-time>");
  }

  std::string uuid(const std::string& u) {
    if (client_uuids_.contains(u)) {
      return u;
    }
    auto [it, added] = uuids_.try_emplace(u, uuids_.size() + 1);
    return "<uuid-" + std::to_string(it->second) + ">";
  }

  // Line-wise: the product lines anywhere; uptime and counters in a `status` body.
  static std::string lines(std::string_view in) {
    static const std::regex ready(R"(^\S+ \(Version .+\) is ready$)");
    static const std::regex version(R"(^\S+ Version \S+ \(.+\)$)");
    static const std::vector<std::pair<std::regex, std::string>> status = {
        {std::regex(R"(^UP \d+ years?, \d+ days?, \d+ hours?, \d+ minutes?, \d+ seconds?, )"
                    R"(\d+ milliseconds?, \d+ microseconds?$)"),
         "UP <uptime>"},
        {std::regex(R"(^\d+ session\(s\) since startup$)"), "<n> session(s) since startup"},
        {std::regex(R"(^\d+ session\(s\) - peak \d+, last 5min \d+ $)"),
         "<n> session(s) - peak <n>, last 5min <n> "},
        {std::regex(R"(^\d+ session\(s\) per Sec out of max (\d+), peak \d+, last 5min \d+ $)"),
         "<n> session(s) per Sec out of max $1, peak <n>, last 5min <n> "},
        {std::regex(R"(^min idle cpu \d+\.\d\d/\d+\.\d\d$)"), "min idle cpu <n>/<n>"},
        {std::regex(R"(^Current Stack Size/Max \d+K/\d+K$)"), "Current Stack Size/Max <n>K/<n>K"},
    };
    const bool is_status = in.starts_with("UP ");
    std::string out;
    while (!in.empty()) {
      const std::size_t eol = in.find('\n');
      const std::string line(in.substr(0, eol));
      in.remove_prefix(eol == std::string_view::npos ? in.size() : eol + 1);
      std::string normalized = line;
      if (std::regex_match(line, ready)) {
        normalized = "<product> (Version <version>) is ready";
      } else if (std::regex_match(line, version)) {
        normalized = "<product> Version <version> (<build>)";
      } else if (is_status) {
        for (const auto& [re, replacement] : status) {
          if (std::regex_match(line, re)) {
            normalized = std::regex_replace(line, re, replacement);
            break;
          }
        }
      }
      out += normalized;
      if (eol != std::string_view::npos) {
        out += '\n';
      }
    }
    return out;
  }

  // A header of the switch's identity or of the moment: replaced when it has its shape.
  std::optional<std::string> live_value(std::string_view name, std::string_view value) {
    static const std::regex digits(R"(\d+)");
    static const std::map<std::string, std::regex, std::less<>> shapes = {
        {"Core-UUID", kUuidRe},
        {"Event-Date-Local", std::regex(R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)")},
        {"Event-Date-GMT",
         std::regex(R"([A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT)")},
        {"Event-Date-Timestamp", digits},
        {"Event-Sequence", digits},
        {"Event-Calling-Line-Number", digits},
        {"FreeSWITCH-Hostname", std::regex(R"([^\s]+)")},
        {"FreeSWITCH-Switchname", std::regex(R"([^\s]+)")},
        {"FreeSWITCH-IPv4", std::regex(R"(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})")},
        {"FreeSWITCH-IPv6", std::regex(R"([0-9a-fA-F:]*:[0-9a-fA-F:]*)")},
    };
    // A channel's clock readings: timestamps by name, where 0 ("never") is kept; every
    // number of a duration, 0 included (whether a call lasted 0 or 1 ms is timing); the
    // session counter.
    static const std::regex time_name(
        R"((?:-Time|-Epoch|_epoch|_uepoch|_stamp|_time|_created|^created)$)");
    static const std::regex duration_name(R"(^variable_(?:\w*(?:sec|seconds)|[mu]?duration)$)");
    static const std::regex number(R"(\d+(?:\.\d+)?)");
    static const std::regex long_number(R"(\d{9,})");
    const auto it = shapes.find(name);
    if (it == shapes.end()) {
      const std::string v(value);
      if (name == "variable_session_id" ||
          std::regex_match(name.begin(), name.end(), duration_name)) {
        return std::regex_replace(v, number, "<n>");
      }
      if (std::regex_search(name.begin(), name.end(), time_name)) {
        return text(std::regex_replace(date_times(v), long_number, "<time>"));
      }
      return std::nullopt;
    }
    if (!std::regex_match(value.begin(), value.end(), it->second)) {
      return std::string(value);  // not the expected shape: left as is, to show up
    }
    return "<" + it->first + ">";
  }

  // An event: decoded, normalized header by header, then encoded again in its format
  // (which also recomputes the body's own Content-Length). The received text must be what
  // the encoder writes for what was decoded, or bytes could be lost by this round trip.
  std::string event_body(std::string_view serialized, wire::EventFormat format) {
    event::Event decoded;
    std::string error;
    if (!event::decode(serialized, format, decoded, &error)) {
      problems_.push_back(side_ + ": undecodable " + std::string(wire::event_format_name(format)) +
                          " event (" + error + "): " + visible(serialized));
      return "<undecodable>" + std::string(serialized);
    }
    std::string again;
    event::encode(decoded, format, again);
    if (again != serialized) {
      problems_.push_back(side_ + ": the " + std::string(wire::event_format_name(format)) +
                          " event does not survive decode+encode:\n" + visible(serialized) +
                          "\nre-encoded:\n" + visible(again));
    }
    event::Event normalized(decoded.type(), decoded.subclass());
    for (std::size_t i = 0; i < decoded.header_count(); ++i) {
      const event::Header h = decoded.header_at(i);
      const auto live = live_value(h.name, h.value);
      normalized.add_header(h.name, live ? *live : text(h.value));
    }
    if (decoded.has_body()) {
      normalized.set_body(text(decoded.body()));
    }
    std::string out;
    event::encode(normalized, format, out);
    return out;
  }

  std::string side_;
  bool socket_port_ = false;
  std::set<std::string> client_uuids_;
  std::map<std::string, std::size_t> uuids_;
  std::vector<std::string> problems_;
};

// ---------------------------------------------------------------- the live side

// A raw TCP client on loopback that keeps every byte the server sends.
class RawClient {
 public:
  explicit RawClient(unsigned short port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  // A connection the server made to us (outbound mode).
  struct Adopt {};
  RawClient(int fd, Adopt) : fd_(fd) {}
  ~RawClient() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return fd_ >= 0; }

  void send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        return;
      }
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  std::optional<std::string> next_packet(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (auto packet = splitter_.next()) {
        return packet;
      }
      if (!fill(deadline)) {
        return std::nullopt;
      }
    }
  }

  // True when the server closes the connection with nothing more sent.
  bool closes(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (fill(deadline)) {
    }
    return eof_ && splitter_.pending_bytes() == 0;
  }

  // True when nothing arrives within `quiet`.
  bool stays_quiet(std::chrono::milliseconds quiet) {
    return !fill(std::chrono::steady_clock::now() + quiet) && splitter_.pending_bytes() == 0;
  }

  std::size_t pending_bytes() const { return splitter_.pending_bytes(); }

 private:
  bool fill(std::chrono::steady_clock::time_point deadline) {
    if (fd_ < 0 || eof_) {
      return false;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd_, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      return false;
    }
    char buffer[65536];
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    splitter_.feed(std::string_view(buffer, static_cast<std::size_t>(n)));
    return true;
  }

  int fd_ = -1;
  bool eof_ = false;
  PacketSplitter splitter_;
};

// ---------------------------------------------------------------- replay

TestServerOptions vm_options() {
  TestServerOptions o;
  o.core.hostname = "vm";  // the captures' host; `api eval ${FreeSWITCH-Switchname}` says vm
  return o;
}

struct Sides {
  Normalizer expected;
  Normalizer actual;
};

// Reads `packets.size()` packets and compares each with the captured one. False when the
// server sent fewer packets than FreeSWITCH (the rest of the replay would be meaningless).
bool expect_packets(RawClient& client, const std::vector<std::string>& packets, Sides& sides,
                    const std::string& context) {
  for (std::size_t i = 0; i < packets.size(); ++i) {
    SCOPED_TRACE(context + ", packet " + std::to_string(i + 1) + " of " +
                 std::to_string(packets.size()));
    const std::optional<std::string> got = client.next_packet();
    const std::string want = sides.expected.packet(packets[i]);
    if (!got) {
      ADD_FAILURE() << "no packet from the server; FreeSWITCH sent:\n" << visible(packets[i]);
      return false;
    }
    const std::string have = sides.actual.packet(*got);
    EXPECT_EQ(visible(have), visible(want)) << "received bytes:\n"
                                            << visible(*got) << "\ncaptured bytes:\n"
                                            << visible(packets[i]);
  }
  return true;
}

std::string describe(std::string_view client_bytes) {
  return client_bytes.empty() ? std::string("on connect")
                              : "after C->S \"" + visible(client_bytes) + "\"";
}

void expect_no_problems(const Sides& sides) {
  for (const std::string& p : sides.expected.problems()) {
    ADD_FAILURE() << p;
  }
  for (const std::string& p : sides.actual.problems()) {
    ADD_FAILURE() << p;
  }
}

// A goodbye: the connection ends after it (a linger notice keeps it open).
bool is_disconnect_notice(std::string_view packet) {
  return packet.starts_with("Content-Type: text/disconnect-notice\n") &&
         packet.find("Content-Disposition: linger\n") == std::string_view::npos;
}

// Replays one single-connection capture.
void replay(const std::string& name) {
  const Transcript t = load_transcript(name);
  const std::vector<Exchange> exchanges = exchanges_of(t);
  const std::set<std::string> kept = client_uuids({&t});
  Sides sides{Normalizer("captured", kept), Normalizer("received", kept)};

  TestServer server(vm_options());
  RawClient client(server.port());
  ASSERT_TRUE(client.connected());
  std::string last_packet;
  for (const Exchange& x : exchanges) {
    if (!x.client_bytes.empty()) {
      client.send(x.client_bytes);
    }
    if (!expect_packets(client, x.packets, sides, name + " " + describe(x.client_bytes))) {
      break;
    }
    if (!x.packets.empty()) {
      last_packet = x.packets.back();
    }
  }
  // FreeSWITCH's stream ends here: after a goodbye the socket closes; otherwise nothing
  // more may come (an extra packet would be one FreeSWITCH did not send).
  if (is_disconnect_notice(last_packet)) {
    EXPECT_TRUE(client.closes()) << name << ": the server did not close after the goodbye";
  } else {
    EXPECT_TRUE(client.stays_quiet(200ms))
        << name << ": the server sent more than FreeSWITCH did; next packet:\n"
        << visible(client.next_packet(100ms).value_or("(incomplete)"));
  }
  expect_no_problems(sides);
}

TEST(Conformance, AuthThenExitSaysByeGoodbyeAndCloses) {
  replay("01_auth_ok_exit");
}
TEST(Conformance, BadPasswordGetsInvalidGoodbyeAndClose) {
  replay("02_auth_bad_password");
}
TEST(Conformance, CommandsBeforeAuthAreNotFound) {
  replay("03_command_before_auth");
}
TEST(Conformance, ApiStatusHasFreeSwitchLayout) {
  replay("04_api_status");
}
TEST(Conformance, ApiVersionHasFreeSwitchLayout) {
  replay("05_api_version");
}
TEST(Conformance, ApiUnknownCommandAndEchoBodies) {
  replay("06_api_unknown_and_echo");
}
TEST(Conformance, MiscCommandRepliesOnUnboundConnection) {
  replay("07_misc_command_replies");
}
TEST(Conformance, BgapiReplyThenPlainBackgroundJob) {
  replay("11_bgapi_background_job");
}
TEST(Conformance, BgapiBackgroundJobInJsonAndXml) {
  replay("12_bgapi_background_job_json_xml");
}
TEST(Conformance, FilterPassesOnlyMatchingEventsAndItsReplies) {
  replay("13_filter");
}
TEST(Conformance, CrLfLineEndingsAreAccepted) {
  replay("22_crlf_line_endings");
}
TEST(Conformance, PipelinedCommandsAreAnsweredInOrder) {
  replay("23_pipelined");
}
TEST(Conformance, EventSubscriptionVariantReplies) {
  replay("24_event_subscription_variants");
}
TEST(Conformance, ApiSofiaStatusHasVanillaProfiles) {
  replay("25_api_sofia_status");
}

// 14a publishes three events with sendevent; 14b, subscribed first on another connection,
// receives them. One normalization across both, so the Event-UUID of each `+OK <uuid>` reply
// must be the one in the matching event.
TEST(Conformance, SendeventReachesAnotherSubscribedConnection) {
  const Transcript publisher = load_transcript("14a_sendevent_publisher");
  const Transcript subscriber = load_transcript("14b_sendevent_subscriber");
  const std::vector<Exchange> pub = exchanges_of(publisher);
  const std::vector<Exchange> sub = exchanges_of(subscriber);
  ASSERT_FALSE(sub.empty());
  ASSERT_FALSE(sub.back().packets.empty());
  const std::set<std::string> kept = client_uuids({&publisher, &subscriber});
  Sides sides{Normalizer("captured", kept), Normalizer("received", kept)};

  TestServer server(vm_options());
  RawClient subscriber_client(server.port());
  RawClient publisher_client(server.port());
  ASSERT_TRUE(subscriber_client.connected());
  ASSERT_TRUE(publisher_client.connected());

  // The subscriber connects, authenticates and subscribes: everything up to the reply of
  // its last command (the events that follow it in its capture come from the publisher).
  for (std::size_t i = 0; i < sub.size(); ++i) {
    const Exchange& x = sub[i];
    if (!x.client_bytes.empty()) {
      subscriber_client.send(x.client_bytes);
    }
    const bool last = i + 1 == sub.size();
    const std::vector<std::string> packets =
        last ? std::vector<std::string>(x.packets.begin(), x.packets.begin() + 1) : x.packets;
    ASSERT_TRUE(expect_packets(subscriber_client, packets, sides,
                               subscriber.name + " " + describe(x.client_bytes)));
  }
  for (const Exchange& x : pub) {
    if (!x.client_bytes.empty()) {
      publisher_client.send(x.client_bytes);
    }
    ASSERT_TRUE(expect_packets(publisher_client, x.packets, sides,
                               publisher.name + " " + describe(x.client_bytes)));
  }
  const std::vector<std::string> events(sub.back().packets.begin() + 1, sub.back().packets.end());
  EXPECT_EQ(events.size(), 3u);
  expect_packets(subscriber_client, events, sides, subscriber.name + " events");
  EXPECT_TRUE(subscriber_client.stays_quiet(200ms));
  EXPECT_TRUE(publisher_client.stays_quiet(50ms));
  expect_no_problems(sides);
}

// ---------------------------------------------------------------- calls

// A server packet's Content-Type and body; nullopt when it is not a packet.
std::optional<std::pair<std::string, std::string>> type_and_body(std::string_view raw) {
  wire::Parser parser(wire::Direction::packet);
  parser.feed(raw);
  wire::MessageView view;
  if (parser.next(view)) {
    return std::nullopt;
  }
  return std::make_pair(std::string(view.header("Content-Type").value_or("")),
                        std::string(view.body));
}

// The capture script's control connection K: authenticated, never saved, so what it
// receives is not compared with anything; its api replies are only checked for success.
//
// It also listens to CHANNEL_ANSWER, CHANNEL_EXECUTE and CHANNEL_PARK, so a test can wait
// until a new call has settled before the recorded connection subscribes: `originate`
// replies once the a-leg is marked answered, and the a-leg's CHANNEL_ANSWER (fired by the
// b-leg's thread after the mark, as in FreeSWITCH), its `park` and the b-leg's `echo` may
// still be on their way, even after the a-leg's CHANNEL_PARK. The capture script's slower
// steps left time for all of that; the events are a sure sign.
class Control {
 public:
  explicit Control(unsigned short port) : client_(port) {}

  bool start() {
    const auto greeting = client_.next_packet();
    if (!greeting || !greeting->starts_with("Content-Type: auth/request\n")) {
      return false;
    }
    client_.send("auth ClueCon\n\nevent plain CHANNEL_ANSWER CHANNEL_EXECUTE CHANNEL_PARK\n\n");
    for (const char* reply : {"+OK accepted", "+OK event listener enabled plain"}) {
      const auto packet = client_.next_packet();
      if (!packet ||
          packet->find("Reply-Text: " + std::string(reply) + "\n") == std::string::npos) {
        return false;
      }
    }
    return true;
  }

  // The body of the api/response to `api <command>` (events that come first are kept).
  std::string api(const std::string& command) {
    client_.send("api " + command + "\n\n");
    for (;;) {
      const auto packet = client_.next_packet(15s);  // the capture script's originate timeout
      const auto parsed = packet ? type_and_body(*packet) : std::nullopt;
      if (!parsed) {
        ADD_FAILURE() << "control connection: no reply to api " << command;
        return {};
      }
      if (parsed->first == "api/response") {
        return parsed->second;
      }
      keep(*parsed);
    }
  }

  // `originate {origination_uuid=A}loopback/9196 &park`: the a-leg parks, the b-leg runs
  // the dialplan (extension 9196: answer, echo).
  void originate_park(const std::string& uuid) {
    EXPECT_EQ(api("originate {origination_uuid=" + uuid + "}loopback/9196 &park"),
              "+OK " + uuid + "\n");
  }

  void kill(const std::string& uuid) { EXPECT_EQ(api("uuid_kill " + uuid), "+OK\n"); }

  // `bgapi <command>`: true on its +OK Job-UUID reply.
  bool bgapi(const std::string& command) {
    client_.send("bgapi " + command + "\n\n");
    for (;;) {
      const auto packet = client_.next_packet(5s);
      const auto parsed = packet ? type_and_body(*packet) : std::nullopt;
      if (!parsed) {
        return false;
      }
      if (parsed->first == "command/reply") {
        return packet->find("Reply-Text: +OK Job-UUID: ") != std::string::npos;
      }
      keep(*parsed);
    }
  }

  // Waits until the call has settled: the a-leg answered and parked, the b-leg echoes.
  void wait_settled(const std::string& uuid) {
    const auto a_leg = [&](event::EventType type) {
      return [&, type](const event::Event& e) {
        return e.type() == type && e.header_or_empty("Unique-ID") == uuid;
      };
    };
    EXPECT_TRUE(wait_for(a_leg(event::EventType::CHANNEL_ANSWER))) << uuid << " was not answered";
    EXPECT_TRUE(wait_for(a_leg(event::EventType::CHANNEL_PARK))) << uuid << " did not park";
    EXPECT_TRUE(wait_for([&](const event::Event& e) {
      return e.type() == event::EventType::CHANNEL_EXECUTE &&
             e.header_or_empty("variable_other_loopback_leg_uuid") == uuid &&
             e.header_or_empty("Application") == "echo";
    })) << "the b-leg of "
        << uuid << " did not start echo";
  }

 private:
  void keep(const std::pair<std::string, std::string>& packet) {
    event::Event e;
    if (packet.first == "text/event-plain" &&
        event::decode(packet.second, wire::EventFormat::plain, e)) {
      events_.push_back(std::move(e));
    } else {
      ADD_FAILURE() << "control connection: unexpected " << packet.first << " packet";
    }
  }

  template <typename Match>
  bool wait_for(const Match& match) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    for (std::size_t seen = 0;;) {
      for (; seen < events_.size(); ++seen) {
        if (match(events_[seen])) {
          return true;
        }
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      const auto packet = left.count() > 0 ? client_.next_packet(left) : std::nullopt;
      const auto parsed = packet ? type_and_body(*packet) : std::nullopt;
      if (!parsed) {
        return false;
      }
      keep(*parsed);
    }
  }

  RawClient client_;
  std::vector<event::Event> events_;
};

// The call the capture script originated: the UUID its note names, otherwise the first
// one the recorded client sent (myevents <uuid>).
std::string call_uuid_of(const Transcript& t) {
  const std::string file = read_file(data_dir() + "/conformance/" + t.name + ".txt");
  const std::string note = file.substr(0, file.find("\n=== "));
  const std::string client = t.client_bytes();
  std::smatch m;
  if (std::regex_search(note, m, kUuidRe) || std::regex_search(client, m, kUuidRe)) {
    return m.str();
  }
  ADD_FAILURE() << t.name << ": no call UUID in the capture";
  return {};
}

// Replays a capture exchange by exchange, and packet by packet within an exchange, so that
// a test can act on the control connection exactly where the capture script did. All
// packets of a capture must be read, in order, before finish().
class StepReplay {
 public:
  static constexpr std::size_t kAll = static_cast<std::size_t>(-1);

  explicit StepReplay(const std::string& name)
      : t_(load_transcript(name)),
        exchanges_(exchanges_of(t_)),
        call_uuid_(call_uuid_of(t_)),
        sides_{Normalizer("captured", client_uuids({&t_})),
               Normalizer("received", client_uuids({&t_}))},
        server_(vm_options()),
        control_(server_.port()) {
    EXPECT_TRUE(control_.start()) << "the control connection was not accepted";
  }

  const std::string& call_uuid() const { return call_uuid_; }
  Control& control() { return control_; }

  // The recorded connection connects; the server's greeting.
  bool connect() {
    client_.emplace(server_.port());
    if (!client_->connected()) {
      ADD_FAILURE() << "cannot connect";
      return false;
    }
    return more();
  }

  // Sends the next client chunk and expects the first `count` packets FreeSWITCH sent
  // after it (all of them by default).
  bool next(std::size_t count = kAll) {
    if (x_ + 1 >= exchanges_.size()) {
      ADD_FAILURE() << t_.name << ": the capture has no more client chunks";
      return false;
    }
    expect_exchange_done();
    ++x_;
    p_ = 0;
    client_->send(exchanges_[x_].client_bytes);
    return more(count);
  }

  // The next `count` packets of the current exchange (all that are left by default).
  bool more(std::size_t count = kAll) {
    const std::vector<std::string>& packets = exchanges_[x_].packets;
    if (count == kAll) {
      count = packets.size() - p_;
    }
    if (p_ + count > packets.size()) {
      ADD_FAILURE() << t_.name << ": the capture has only " << packets.size() - p_
                    << " more packets " << describe(exchanges_[x_].client_bytes);
      return false;
    }
    const std::vector<std::string> want(packets.begin() + static_cast<std::ptrdiff_t>(p_),
                                        packets.begin() + static_cast<std::ptrdiff_t>(p_ + count));
    const std::string context = t_.name + " " + describe(exchanges_[x_].client_bytes) +
                                ", from packet " + std::to_string(p_ + 1);
    p_ += count;
    if (!want.empty()) {
      last_packet_ = want.back();
    }
    return expect_packets(*client_, want, sides_, context);
  }

  bool has_next() const { return x_ + 1 < exchanges_.size(); }

  // Packets of the current exchange not read yet.
  std::size_t left() const { return exchanges_[x_].packets.size() - p_; }

  // Nothing arrives for `quiet` (FreeSWITCH sent nothing there either).
  void expect_quiet(std::chrono::milliseconds quiet, const std::string& when) {
    EXPECT_TRUE(client_->stays_quiet(quiet))
        << t_.name << ": the server sent more than FreeSWITCH did " << when << "; next packet:\n"
        << visible(client_->next_packet(100ms).value_or("(incomplete)"));
  }

  // The capture ends here: after a goodbye the socket closes; otherwise nothing more comes.
  void finish() {
    expect_exchange_done();
    EXPECT_EQ(x_ + 1, exchanges_.size()) << t_.name << ": the test stopped before the capture";
    if (is_disconnect_notice(last_packet_)) {
      EXPECT_TRUE(client_->closes()) << t_.name << ": the server did not close after the goodbye";
    } else {
      expect_quiet(200ms, "at the end");
    }
    expect_no_problems(sides_);
  }

 private:
  void expect_exchange_done() {
    EXPECT_EQ(left(), 0u) << t_.name << ": the test skipped captured packets "
                          << describe(exchanges_[x_].client_bytes);
  }

  const Transcript t_;
  const std::vector<Exchange> exchanges_;
  const std::string call_uuid_;
  Sides sides_;
  TestServer server_;
  Control control_;
  std::optional<RawClient> client_;
  std::size_t x_ = 0;  // the current exchange
  std::size_t p_ = 0;  // its packets read so far
  std::string last_packet_;
};

// 08-10: `event <format> CHANNEL_CREATE`, then K originates a parked loopback call: the
// a-leg's CHANNEL_CREATE, then the b-leg's. K's uuid_kill creates nothing; `noevents`.
void replay_channel_create(const std::string& name) {
  StepReplay r(name);
  ASSERT_TRUE(r.connect());
  ASSERT_TRUE(r.next());   // auth
  ASSERT_TRUE(r.next(1));  // event <format> CHANNEL_CREATE: the reply only
  ASSERT_EQ(r.left(), 2u);
  r.control().originate_park(r.call_uuid());
  ASSERT_TRUE(r.more());  // a-leg, b-leg
  r.expect_quiet(500ms, "after the two CHANNEL_CREATEs");
  r.control().kill(r.call_uuid());
  r.expect_quiet(500ms, "after uuid_kill");
  ASSERT_TRUE(r.next());  // noevents
  r.finish();
}

TEST(Conformance, ChannelCreateOfBothLoopbackLegsAsPlainEvents) {
  replay_channel_create("08_event_plain_channel_create");
}
TEST(Conformance, ChannelCreateOfBothLoopbackLegsAsJsonEvents) {
  replay_channel_create("09_event_json_channel_create");
}
TEST(Conformance, ChannelCreateOfBothLoopbackLegsAsXmlEvents) {
  replay_channel_create("10_event_xml_channel_create");
}

// 15: with one parked loopback call (K originated it; the b-leg echoes): show channels,
// show channels as json, show channels count, show calls, uuid_exists, uuid_getvar,
// uuid_kill, uuid_kill again (gone), uuid_kill without arguments, all from the recorded
// connection. No events.
TEST(Conformance, ShowChannelsAndUuidCommandsOnAParkedCall) {
  StepReplay r("15_show_channels_uuid_kill");
  r.control().originate_park(r.call_uuid());
  r.control().wait_settled(r.call_uuid());
  ASSERT_TRUE(r.connect());
  while (r.has_next()) {
    ASSERT_TRUE(r.next());
  }
  r.finish();
}

// 16: inbound `myevents A` on the parked a-leg (a second one: already enabled); K kills the
// call 0.2 s later: CHANNEL_HANGUP, the goodbye, and the socket closes (no linger).
// FreeSWITCH races the rest of the hangup events against the close (diffcheck accepts from
// none to all of them before the goodbye); this server stops at the first, as captured,
// every time, so the test is strict.
TEST(Conformance, MyeventsWithoutLingerSaysGoodbyeAfterTheHangup) {
  StepReplay r("16_myevents_inbound");
  r.control().originate_park(r.call_uuid());
  r.control().wait_settled(r.call_uuid());
  ASSERT_TRUE(r.connect());
  ASSERT_TRUE(r.next());   // auth
  ASSERT_TRUE(r.next());   // myevents A: +OK Events Enabled
  ASSERT_TRUE(r.next(1));  // myevents A again: -ERR aready enabled.
  ASSERT_EQ(r.left(), 2u);
  std::this_thread::sleep_for(200ms);
  r.control().kill(r.call_uuid());
  ASSERT_TRUE(r.more());  // CHANNEL_HANGUP, disconnect notice
  r.finish();
}

// 17: inbound `myevents A json` (events stay plain: FreeSWITCH's quirk), `linger 3`; K kills
// the call 0.2 s later: CHANNEL_HANGUP, the linger notice, CHANNEL_UNPARK,
// CHANNEL_EXECUTE_COMPLETE (park), CHANNEL_STATE CS_HANGUP, CHANNEL_STATE CS_REPORTING,
// CHANNEL_HANGUP_COMPLETE, and only when the 3 s are over the goodbye and the close.
// FreeSWITCH may swap an event and a reply by one place (diffcheck's window); no reply
// races here, and this server's order is fixed, so the test is strict.
TEST(Conformance, MyeventsWithLingerGetsTheWholeHangupThenGoodbyeAfterThreeSeconds) {
  StepReplay r("17_myevents_json_linger");
  r.control().originate_park(r.call_uuid());
  r.control().wait_settled(r.call_uuid());
  ASSERT_TRUE(r.connect());
  ASSERT_TRUE(r.next());   // auth
  ASSERT_TRUE(r.next());   // myevents A json: +OK Events Enabled
  ASSERT_TRUE(r.next(1));  // linger 3: +OK will linger 3 seconds
  ASSERT_EQ(r.left(), 8u);
  std::this_thread::sleep_for(200ms);
  const auto killed = std::chrono::steady_clock::now();
  r.control().kill(r.call_uuid());
  ASSERT_TRUE(r.more(7));  // the events and the linger notice, at once
  EXPECT_LT(std::chrono::steady_clock::now() - killed, 1s);
  ASSERT_TRUE(r.more());  // the goodbye, when the linger time is over
  const auto after = std::chrono::steady_clock::now() - killed;
  EXPECT_GE(after, 3s) << "the goodbye came before the 3 s linger was over";
  EXPECT_LT(after, 4s) << "the goodbye came long after the 3 s linger";
  r.finish();
}

// ---------------------------------------------------------------- outbound

// 19-21: K runs `bgapi originate {origination_uuid=A}loopback/9196 '&socket(<listener>
// <mode>)'`; the switch connects to the listener, which plays the captured program:
// connect, myevents, [linger,] getvar twice, api echo, sendmsg playback (event-lock),
// sendmsg hangup, then reads until the end.
//
// CHANNEL_PARK (async mode) may come a few replies earlier than captured: both switches
// park a moment after `connect` (FreeSWITCH polls at its timer's tick), so where it lands
// among the program's quick replies is timing. It must come before the first sendmsg's
// CHANNEL_EXECUTE and be byte-equal; every other packet keeps its captured place.
void replay_outbound(const std::string& name, const std::string& mode) {
  const Transcript t = load_transcript(name);
  const std::vector<Exchange> exchanges = exchanges_of(t);
  Sides sides{Normalizer("captured", {}), Normalizer("received", {})};
  sides.expected.normalize_socket_port();
  sides.actual.normalize_socket_port();
  const std::string uuid = call_uuid_of(t);

  TestServer server(vm_options());
  Control control(server.port());
  ASSERT_TRUE(control.start());
  OutboundListener listener;
  ASSERT_TRUE(control.bgapi("originate {origination_uuid=" + uuid +
                            "}loopback/9196 '&socket(127.0.0.1:" + std::to_string(listener.port()) +
                            mode + ")'"));
  const int fd = listener.accept();
  ASSERT_GE(fd, 0) << "the socket application did not connect";
  RawClient program(fd, RawClient::Adopt{});
  ASSERT_TRUE(exchanges.front().packets.empty()) << "the switch says nothing first";

  std::optional<std::string> early_park;
  const auto is_park = [](std::string_view packet) {
    return packet.find("\nEvent-Name: CHANNEL_PARK\n") != std::string_view::npos;
  };
  // The program answers at once and the packets are compared afterwards: normalizing them
  // is slow under the sanitizers, and a slow program would see the channel park before its
  // `myevents` (which the captured program sent within FreeSWITCH's 20 ms tick).
  struct Received {
    std::string where;
    const std::string* captured;
    std::string got;
  };
  std::vector<Received> received;
  std::string last_packet;
  for (std::size_t x = 1; x < exchanges.size(); ++x) {
    program.send(exchanges[x].client_bytes);
    const std::string context = name + " " + describe(exchanges[x].client_bytes);
    for (std::size_t i = 0; i < exchanges[x].packets.size(); ++i) {
      SCOPED_TRACE(context + ", packet " + std::to_string(i + 1));
      const std::string& captured = exchanges[x].packets[i];
      std::optional<std::string> got;
      if (is_park(captured) && early_park) {
        got = std::move(early_park);
        early_park.reset();
      } else {
        got = program.next_packet();
        if (got && is_park(*got) && !is_park(captured) && !early_park) {
          early_park = std::move(got);
          got = program.next_packet();
        }
      }
      ASSERT_TRUE(got) << "no packet from the server; FreeSWITCH sent:\n" << visible(captured);
      received.push_back({context + ", packet " + std::to_string(i + 1), &captured, *got});
      last_packet = captured;
    }
  }
  for (const Received& r : received) {
    SCOPED_TRACE(r.where);
    EXPECT_EQ(visible(sides.actual.packet(r.got)), visible(sides.expected.packet(*r.captured)))
        << "received bytes:\n"
        << visible(r.got);
  }
  EXPECT_FALSE(early_park) << "a CHANNEL_PARK FreeSWITCH did not send";
  if (is_disconnect_notice(last_packet)) {
    EXPECT_TRUE(program.closes()) << name << ": the server did not close after the goodbye";
  } else {
    EXPECT_TRUE(program.stays_quiet(300ms)) << name << ": more than FreeSWITCH sent";
  }
  expect_no_problems(sides);
}

TEST(Conformance, OutboundStaticSingleChannelSession) {
  replay_outbound("19_outbound_static", "");
}
TEST(Conformance, OutboundAsyncFullSessionLingersAfterTheHangup) {
  replay_outbound("20_outbound_async_full_linger", " async full");
}
TEST(Conformance, OutboundAsyncFullSessionWithoutLingerSaysGoodbye) {
  replay_outbound("21_outbound_async_full_nolinger", " async full");
}

}  // namespace
}  // namespace eventsocket::test
