// esl_load: a load generator for an Event Socket server (eventsocketd or FreeSWITCH).
//
//   esl_load api    --port P [--clients N] [--requests M] [--command "api echo hi"]
//       N connections, each sends M commands one after another (waiting for each reply);
//       reports replies per second and latency percentiles.
//   esl_load events --port P [--subscribers N] [--events M]
//       N connections subscribe to `event plain CUSTOM esl_load::tick`; one publisher
//       pipelines M `sendevent CUSTOM` commands; reports events delivered per second
//       (all subscribers together) and how long the last subscriber took.
//   esl_load calls  --port P [--calls N] [--command "api originate null/x &hangup()"]
//                   [--subscribers S] [--drain-timeout SECONDS] [--by-name]
//       S connections subscribe to `event plain ALL` and count every event; one control
//       connection sends the command N times one after another (waiting for each reply,
//       counting +OK and -ERR). Each subscriber must see CHANNEL_CREATE, HANGUP_COMPLETE and
//       DESTROY of every channel named by a `+OK <uuid>` reply (other channels on the switch
//       are reported, not counted; replies naming no channel fall back to counts of N).
//       Reports calls/s (N over first send to last reply), reply latency, events per
//       subscriber and per call, and the drain: how long after the last reply every
//       subscriber has all those CHANNEL_DESTROY events. Exits non-zero on any -ERR or when
//       events are missing at the deadline.
//   esl_load outbound --port P [--calls N] [--hold-ms MS] [--rounds R] [--server-pid PID]
//       The tool listens as the program of the `socket` application; N calls are originated
//       at once and each outbound session runs connect, myevents, linger, answer, playback
//       (MS of silence, so the calls overlap), hangup (outbound_load.cpp). Reports the
//       sessions completed and, with --server-pid, the server's threads, fds and RSS before,
//       at the peak and after each round.
//
// Loopback only: the host is always 127.0.0.1. Every run is bounded in count and time.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "eventsocket/wire/parser.hpp"
#include "outbound_load.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using eventsocket::wire::Direction;
using eventsocket::wire::MessageView;
using eventsocket::wire::Parser;

constexpr auto kDeadline = std::chrono::seconds(120);  // no run may take longer

class Client {
 public:
  explicit Client(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~Client() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  bool ok() const { return fd_ >= 0; }
  bool eof() const { return eof_; }
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        return false;
      }
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  // Calls `on_packet` for each packet until it returns false; false on EOF or timeout.
  template <typename F>
  bool read(F&& on_packet, Clock::time_point deadline) {
    for (;;) {
      MessageView m;
      while (!parser_.next(m)) {
        if (!on_packet(m)) {
          return true;
        }
      }
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
        return false;
      }
      const ssize_t n = ::recv(fd_, buffer_, sizeof buffer_, 0);
      if (n <= 0) {
        eof_ = true;
        return false;
      }
      parser_.feed(std::string_view(buffer_, static_cast<std::size_t>(n)));
    }
  }
  bool auth(const std::string& password, Clock::time_point deadline) {
    bool ok = false;
    int packets = 0;
    send("auth " + password + "\n\n");
    read(
        [&](const MessageView& m) {
          if (++packets == 2) {
            ok = m.header("Reply-Text") == "+OK accepted";
            return false;
          }
          return true;
        },
        deadline);
    return ok;
  }

 private:
  int fd_ = -1;
  bool eof_ = false;
  Parser parser_{Direction::packet};
  char buffer_[65536];
};

int run_api(int port, const std::string& password, int clients, int requests,
            const std::string& command) {
  const auto deadline = Clock::now() + kDeadline;
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(clients));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      Client client(port);
      if (!client.ok() || !client.auth(password, deadline)) {
        ++failures;
        return;
      }
      auto& mine = latencies[static_cast<std::size_t>(c)];
      mine.reserve(static_cast<std::size_t>(requests));
      const std::string wire = command + "\n\n";
      for (int i = 0; i < requests; ++i) {
        const auto t0 = Clock::now();
        client.send(wire);
        if (!client.read([](const MessageView&) { return false; }, deadline)) {
          ++failures;
          return;
        }
        mine.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& l : latencies) {
    all.insert(all.end(), l.begin(), l.end());
  }
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    return all.empty() ? 0.0
                       : all[std::min(all.size() - 1, static_cast<std::size_t>(p * all.size()))];
  };
  std::printf(
      "api: %d clients x %d \"%s\": %zu replies in %.2f s = %.0f replies/s; latency us p50 %.0f "
      "p99 %.0f max %.0f; failures %d\n",
      clients, requests, command.c_str(), all.size(), seconds, all.size() / seconds, pct(0.50),
      pct(0.99), all.empty() ? 0.0 : all.back(), failures.load());
  return failures.load() == 0 ? 0 : 1;
}

int run_events(int port, const std::string& password, int subscribers, int events) {
  const auto deadline = Clock::now() + kDeadline;
  std::vector<std::unique_ptr<Client>> subs;
  for (int i = 0; i < subscribers; ++i) {
    auto c = std::make_unique<Client>(port);
    if (!c->ok() || !c->auth(password, deadline)) {
      std::fprintf(stderr, "esl_load: subscriber %d could not connect/authenticate\n", i);
      return 1;
    }
    c->send("event plain CUSTOM esl_load::tick\n\n");
    c->read([](const MessageView&) { return false; }, deadline);
    subs.push_back(std::move(c));
  }
  Client publisher(port);
  if (!publisher.ok() || !publisher.auth(password, deadline)) {
    std::fprintf(stderr, "esl_load: publisher could not connect/authenticate\n");
    return 1;
  }
  std::atomic<long> delivered{0};
  std::vector<double> finish(static_cast<std::size_t>(subscribers), 0.0);
  const auto start = Clock::now();
  std::vector<std::thread> readers;
  for (int i = 0; i < subscribers; ++i) {
    readers.emplace_back([&, i] {
      int got = 0;
      subs[static_cast<std::size_t>(i)]->read(
          [&](const MessageView& m) {
            if (m.header("Content-Type") == "text/event-plain") {
              ++got;
              ++delivered;
            }
            return got < events;
          },
          deadline);
      finish[static_cast<std::size_t>(i)] =
          std::chrono::duration<double>(Clock::now() - start).count();
    });
  }
  std::thread replies([&] {
    int got = 0;
    publisher.read([&](const MessageView&) { return ++got < events; }, deadline);
  });
  const std::string one =
      "sendevent CUSTOM\nEvent-Subclass: esl_load::tick\nX-Load: a value with spaces & symbols\n\n";
  std::string batch;
  for (int i = 0; i < events; ++i) {
    batch += one;
    if (batch.size() > 64 * 1024 || i + 1 == events) {
      publisher.send(batch);
      batch.clear();
    }
  }
  replies.join();
  for (auto& t : readers) {
    t.join();
  }
  const double seconds = *std::max_element(finish.begin(), finish.end());
  std::printf(
      "events: %d subscribers x %d events: %ld delivered in %.2f s = %.0f events/s delivered (%.0f "
      "published/s)\n",
      subscribers, events, delivered.load(), seconds, delivered.load() / seconds, events / seconds);
  return delivered.load() == static_cast<long>(subscribers) * events ? 0 : 1;
}

// The value of header `name` in a text/event-plain body ("Name: value" lines; the values
// looked at here, Event-Name and Unique-ID, need no URL decoding).
std::string_view plain_header(std::string_view body, std::string_view name) {
  std::size_t at = 0;
  while (at < body.size()) {
    std::size_t end = body.find('\n', at);
    if (end == std::string_view::npos) {
      end = body.size();
    }
    const std::string_view line = body.substr(at, end - at);
    if (line.empty()) {
      break;  // end of the headers
    }
    if (line.size() > name.size() + 1 && line.substr(0, name.size()) == name &&
        line[name.size()] == ':') {
      std::string_view value = line.substr(name.size() + 1);
      if (!value.empty() && value.front() == ' ') {
        value.remove_prefix(1);
      }
      return value;
    }
    at = end + 1;
  }
  return {};
}

// A channel UUID as 128 bits (hex digits, dashes ignored); nullopt if it is not one.
using UuidKey = std::pair<std::uint64_t, std::uint64_t>;
std::optional<UuidKey> uuid_key(std::string_view text) {
  UuidKey key{0, 0};
  int digits = 0;
  for (const char ch : text) {
    if (ch == '-') {
      continue;
    }
    int v = -1;
    if (ch >= '0' && ch <= '9') {
      v = ch - '0';
    } else if (ch >= 'a' && ch <= 'f') {
      v = ch - 'a' + 10;
    } else if (ch >= 'A' && ch <= 'F') {
      v = ch - 'A' + 10;
    }
    if (v < 0 || digits == 32) {
      return std::nullopt;
    }
    std::uint64_t& half = digits < 16 ? key.first : key.second;
    half = (half << 4) | static_cast<std::uint64_t>(v);
    ++digits;
  }
  return digits == 32 ? std::optional<UuidKey>(key) : std::nullopt;
}

struct UuidKeyHash {
  std::size_t operator()(const UuidKey& k) const {
    return static_cast<std::size_t>(k.first * 0x9E3779B97F4A7C15ULL ^ k.second);
  }
};

// What one subscriber saw of one channel.
struct Seen {
  std::uint8_t mask = 0;  // kCreate | kHangupComplete | kDestroy
  Clock::time_point destroyed;
};
constexpr std::uint8_t kCreate = 1;
constexpr std::uint8_t kHangupComplete = 2;
constexpr std::uint8_t kDestroy = 4;

// Per-channel tracking costs memory per call and subscriber; above this many (calls x
// subscribers) only the counts are checked.
constexpr long kMaxTracked = 2000000;

struct SubscriberCount {
  long events = 0;
  long creates = 0;
  long destroys = 0;
  long hangup_completes = 0;
  std::map<std::string, long, std::less<>> by_name;         // filled with --by-name only
  std::unordered_map<UuidKey, Seen, UuidKeyHash> channels;  // when tracking
  // Results, filled once the run is over.
  std::optional<Clock::time_point> done_at;  // when it had the last CHANNEL_DESTROY it needed
  long own_complete = 0;                     // tracked: calls with all three events
  long foreign_channels = 0;                 // tracked: channels no reply named
};

int run_calls(int port, const std::string& password, int calls, const std::string& command,
              int subscribers, int drain_timeout_s, bool by_name) {
  const auto hard_deadline = Clock::now() + kDeadline;
  std::vector<std::unique_ptr<Client>> subs;
  for (int i = 0; i < subscribers; ++i) {
    auto c = std::make_unique<Client>(port);
    if (!c->ok() || !c->auth(password, hard_deadline)) {
      std::fprintf(stderr, "esl_load: subscriber %d could not connect/authenticate\n", i);
      return 1;
    }
    c->send("event plain ALL\n\n");
    c->read([](const MessageView&) { return false; }, hard_deadline);
    subs.push_back(std::move(c));
  }
  Client control(port);
  if (!control.ok() || !control.auth(password, hard_deadline)) {
    std::fprintf(stderr, "esl_load: control connection could not connect/authenticate\n");
    return 1;
  }

  // With tracking, each subscriber records CHANNEL_CREATE / HANGUP_COMPLETE / DESTROY per
  // Unique-ID, and the calls are the channels named by the `+OK <uuid>` replies: a channel
  // somebody else made on the same switch is neither counted as ours nor mistaken for a
  // missing one. Without tracking (replies name no channel, or too many calls), a subscriber
  // is done at its N-th CHANNEL_DESTROY and the counts must equal N.
  const bool track = static_cast<long>(calls) * std::max(1, subscribers) <= kMaxTracked;
  std::vector<UuidKey> own;  // written by the control loop, read once `replies_done` is set
  own.reserve(track ? static_cast<std::size_t>(calls) : 0);
  bool by_uuid = false;
  std::atomic<bool> replies_done{false};

  // Subscribers read until they have what they need, until the drain deadline (set once the
  // last reply is in) or until the hard deadline, whichever comes first.
  std::atomic<Clock::rep> drain_deadline{Clock::time_point::max().time_since_epoch().count()};
  std::vector<SubscriberCount> counts(static_cast<std::size_t>(subscribers));
  std::vector<std::thread> readers;
  for (int i = 0; i < subscribers; ++i) {
    readers.emplace_back([&, i] {
      Client& c = *subs[static_cast<std::size_t>(i)];
      SubscriberCount& mine = counts[static_cast<std::size_t>(i)];
      bool done = false;
      long missing = -1;  // by_uuid: our calls still without CHANNEL_DESTROY (-1: not known yet)
      std::unordered_set<UuidKey, UuidKeyHash> waiting;  // by_uuid: ours, not destroyed
      auto check_done = [&] {
        if (!replies_done.load(std::memory_order_acquire)) {
          return;
        }
        if (!by_uuid) {
          done = mine.destroys >= calls;
          return;
        }
        if (missing < 0) {
          for (const UuidKey& k : own) {
            auto it = mine.channels.find(k);
            if (it == mine.channels.end() || !(it->second.mask & kDestroy)) {
              waiting.insert(k);
            }
          }
          missing = static_cast<long>(waiting.size());
        }
        done = missing == 0;
      };
      while (!done && !c.eof()) {
        check_done();
        if (done) {
          break;
        }
        const auto limit =
            std::min({hard_deadline, Clock::time_point(Clock::duration(drain_deadline.load()))});
        const auto now = Clock::now();
        if (now >= limit) {
          break;
        }
        c.read(
            [&](const MessageView& m) {
              if (m.header("Content-Type") != "text/event-plain") {
                return true;
              }
              ++mine.events;
              const std::string_view name = plain_header(m.body, "Event-Name");
              if (by_name) {
                auto it = mine.by_name.find(name);
                if (it == mine.by_name.end()) {
                  it = mine.by_name.emplace(std::string(name), 0).first;
                }
                ++it->second;
              }
              std::uint8_t bit = 0;
              if (name == "CHANNEL_CREATE") {
                ++mine.creates;
                bit = kCreate;
              } else if (name == "CHANNEL_HANGUP_COMPLETE") {
                ++mine.hangup_completes;
                bit = kHangupComplete;
              } else if (name == "CHANNEL_DESTROY") {
                ++mine.destroys;
                bit = kDestroy;
                if (mine.destroys == calls) {  // count mode's end (by uuid: recomputed)
                  mine.done_at = Clock::now();
                }
              }
              if (bit == 0) {
                return true;
              }
              if (track) {
                if (auto key = uuid_key(plain_header(m.body, "Unique-ID"))) {
                  Seen& seen = mine.channels[*key];
                  seen.mask |= bit;
                  if (bit == kDestroy) {
                    seen.destroyed = Clock::now();
                    if (missing > 0 && waiting.erase(*key) > 0) {
                      --missing;
                    }
                  }
                }
              }
              if (bit == kDestroy) {
                check_done();
                return !done;
              }
              return true;
            },
            std::min(limit, now + std::chrono::milliseconds(200)));
      }
    });
  }

  std::vector<double> latencies;
  latencies.reserve(static_cast<std::size_t>(calls));
  int ok_replies = 0;
  int err_replies = 0;
  int other_replies = 0;
  bool every_ok_names_a_channel = true;
  std::string first_error;
  const std::string wire = command + "\n\n";
  const auto start = Clock::now();
  for (int i = 0; i < calls; ++i) {
    const auto t0 = Clock::now();
    if (!control.send(wire)) {
      break;
    }
    std::string text;
    const bool got = control.read(
        [&](const MessageView& m) {
          // api/response carries the result in its body; command/reply (bgapi, ...) in
          // Reply-Text.
          if (m.header("Content-Type") == "api/response") {
            text = std::string(m.body);
          } else {
            text = std::string(m.header("Reply-Text").value_or(""));
          }
          return false;
        },
        hard_deadline);
    if (!got) {
      break;
    }
    latencies.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    if (text.substr(0, 3) == "+OK") {
      ++ok_replies;
      // "+OK <uuid>" (originate): the channel the subscribers must see.
      std::string_view rest = std::string_view(text).substr(3);
      while (!rest.empty() && rest.front() == ' ') {
        rest.remove_prefix(1);
      }
      rest = rest.substr(0, rest.find_first_of(" \r\n"));
      if (auto key = uuid_key(rest); key && track) {
        own.push_back(*key);
      } else {
        every_ok_names_a_channel = false;
      }
    } else {
      if (text.substr(0, 4) == "-ERR") {
        ++err_replies;
      } else {
        ++other_replies;
      }
      if (first_error.empty()) {
        first_error = text.substr(0, text.find('\n'));
      }
    }
  }
  const auto last_reply = Clock::now();
  by_uuid = track && ok_replies > 0 && every_ok_names_a_channel;
  replies_done.store(true, std::memory_order_release);
  drain_deadline = (last_reply + std::chrono::seconds(drain_timeout_s)).time_since_epoch().count();
  for (auto& t : readers) {
    t.join();
  }

  // Per subscriber: which of our calls it saw completely, and when it had the last of their
  // CHANNEL_DESTROY events.
  if (by_uuid) {
    std::unordered_set<UuidKey, UuidKeyHash> ours(own.begin(), own.end());
    for (SubscriberCount& c : counts) {
      Clock::time_point last{};
      bool all_destroyed = true;
      for (const UuidKey& k : own) {
        auto it = c.channels.find(k);
        if (it == c.channels.end()) {
          all_destroyed = false;
          continue;
        }
        if (it->second.mask == (kCreate | kHangupComplete | kDestroy)) {
          ++c.own_complete;
        }
        if (it->second.mask & kDestroy) {
          last = std::max(last, it->second.destroyed);
        } else {
          all_destroyed = false;
        }
      }
      c.done_at = all_destroyed ? std::optional<Clock::time_point>(last) : std::nullopt;
      for (const auto& [k, seen] : c.channels) {
        c.foreign_channels += ours.count(k) ? 0 : 1;
      }
    }
  }

  const int replies = static_cast<int>(latencies.size());
  const double send_seconds = std::chrono::duration<double>(last_reply - start).count();
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    return latencies.empty() ? 0.0
                             : latencies[std::min(latencies.size() - 1,
                                                  static_cast<std::size_t>(p * latencies.size()))];
  };
  std::printf("calls: %d x \"%s\", %d subscriber(s) on `event plain ALL`\n", calls, command.c_str(),
              subscribers);
  std::printf(
      "  replies: %d (+OK %d, -ERR %d, other %d) in %.3f s = %.0f calls/s; latency us p50 %.0f "
      "p99 %.0f max %.0f\n",
      replies, ok_replies, err_replies, other_replies, send_seconds, replies / send_seconds,
      pct(0.50), pct(0.99), latencies.empty() ? 0.0 : latencies.back());
  if (!first_error.empty()) {
    std::printf("  first non-+OK reply: %s\n", first_error.c_str());
  }
  if (subscribers > 0) {
    std::printf("  completeness checked %s\n",
                by_uuid ? "per channel (the uuid of each +OK reply)"
                        : "by counts only (replies name no channel, or too many calls to track)");
  }
  bool complete = replies == calls;
  double drained = 0;  // when the last subscriber had all the CHANNEL_DESTROY events it needed
  for (int i = 0; i < subscribers; ++i) {
    const SubscriberCount& c = counts[static_cast<std::size_t>(i)];
    const bool all = by_uuid
                         ? c.own_complete == static_cast<long>(own.size()) &&
                               static_cast<long>(own.size()) == calls
                         : c.creates == calls && c.destroys == calls && c.hangup_completes == calls;
    complete = complete && all && c.done_at;
    if (c.done_at) {
      drained = std::max(drained, std::chrono::duration<double>(*c.done_at - start).count());
    }
    std::printf(
        "  subscriber %d: %ld events = %.1f events/call; CHANNEL_CREATE %ld, "
        "CHANNEL_HANGUP_COMPLETE %ld, CHANNEL_DESTROY %ld",
        i, c.events, static_cast<double>(c.events) / calls, c.creates, c.hangup_completes,
        c.destroys);
    if (by_uuid) {
      std::printf("; all three for %ld of %zu calls", c.own_complete, own.size());
      if (c.foreign_channels > 0) {
        std::printf("; %ld other channel(s) seen", c.foreign_channels);
      }
    } else {
      std::printf(" (expected %d each)", calls);
    }
    std::printf("%s\n", all ? "" : " (MISSING EVENTS)");
    for (const auto& [name, n] : c.by_name) {
      std::printf("    %-28s %8ld = %.3f/call\n", name.c_str(), n, static_cast<double>(n) / calls);
    }
  }
  if (subscribers > 0 && complete) {
    std::printf(
        "  drain: every subscriber had all %d CHANNEL_DESTROY %.3f s after the first send "
        "(%+.1f ms from the last reply) = %.0f calls/s including drain\n",
        calls, drained, (drained - send_seconds) * 1000, replies / std::max(drained, send_seconds));
  } else if (subscribers > 0) {
    std::printf(
        "  drain: INCOMPLETE, events still missing %d s after the last reply (or at the %d s "
        "deadline)\n",
        drain_timeout_s, static_cast<int>(kDeadline.count()));
  }
  return err_replies == 0 && other_replies == 0 && complete ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"esl_load: load generator for an Event Socket server on 127.0.0.1"};
  app.require_subcommand(1);
  app.fallthrough();  // --port and --password also after the subcommand
  int port = 8021;
  std::string password = "ClueCon";
  app.add_option("--port", port, "server port on 127.0.0.1");
  app.add_option("--password", password, "auth password");
  int clients = 8;
  int requests = 10000;
  std::string command = "api echo hi";
  auto* api = app.add_subcommand("api", "sequential commands on N connections");
  api->add_option("--clients", clients)->check(CLI::Range(1, 5000));
  api->add_option("--requests", requests)->check(CLI::Range(1, 10000000));
  api->add_option("--command", command);
  int subscribers = 4;
  int events = 100000;
  auto* ev = app.add_subcommand("events", "one publisher, N subscribers");
  ev->add_option("--subscribers", subscribers)->check(CLI::Range(1, 5000));
  ev->add_option("--events", events)->check(CLI::Range(1, 10000000));
  int calls = 10000;
  std::string call_command = "api originate null/x &hangup()";
  int call_subscribers = 1;
  int drain_timeout = 30;
  bool by_name = false;
  auto* cl =
      app.add_subcommand("calls", "sequential call commands, S `event plain ALL` subscribers");
  cl->add_option("--calls", calls)->check(CLI::Range(1, 1000000));
  cl->add_option("--command", call_command);
  cl->add_option("--subscribers", call_subscribers)->check(CLI::Range(0, 100));
  cl->add_option("--drain-timeout", drain_timeout,
                 "seconds to wait for events after the last reply")
      ->check(CLI::Range(1, 120));
  cl->add_flag("--by-name", by_name, "also count every Event-Name (each subscriber)");
  int outbound_calls = 1000;
  int hold_ms = 3000;
  int rounds = 1;
  int server_pid = 0;
  auto* out = app.add_subcommand("outbound", "N concurrent outbound sessions (socket application)");
  out->add_option("--calls", outbound_calls)->check(CLI::Range(1, 20000));
  out->add_option("--hold-ms", hold_ms, "silence each call plays while all are up")
      ->check(CLI::Range(0, 60000));
  out->add_option("--rounds", rounds)->check(CLI::Range(1, 100));
  out->add_option("--server-pid", server_pid, "sample this process's threads, fds and RSS");
  CLI11_PARSE(app, argc, argv);
  if (out->parsed()) {
    return run_outbound(port, password, outbound_calls, hold_ms, rounds, server_pid);
  }
  if (api->parsed()) {
    return run_api(port, password, clients, requests, command);
  }
  if (cl->parsed()) {
    return run_calls(port, password, calls, call_command, call_subscribers, drain_timeout, by_name);
  }
  return run_events(port, password, subscribers, events);
}
