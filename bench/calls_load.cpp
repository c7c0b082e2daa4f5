// Sequential call commands with `event plain ALL` subscribers (calls_load.hpp).
#include "calls_load.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "load_client.hpp"

namespace eslbench {

namespace {

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

}  // namespace

CallsResult run_calls(const CallsOptions& options) {
  const int calls = options.calls;
  const int subscribers = options.subscribers;
  const bool by_name = options.by_name;
  const std::string& command = options.command;
  CallsResult result;
  const auto hard_deadline = Clock::now() + std::chrono::seconds(options.timeout_s);
  std::vector<std::unique_ptr<Client>> subs;
  for (int i = 0; i < subscribers; ++i) {
    auto c = std::make_unique<Client>(options.host, options.port);
    if (!c->ok() || !c->auth(options.password, hard_deadline)) {
      result.setup_error = "subscriber " + std::to_string(i) + " could not connect/authenticate";
      return result;
    }
    c->send("event plain ALL\n\n");
    c->read([](const MessageView&) { return false; }, hard_deadline);
    subs.push_back(std::move(c));
  }
  Client control(options.host, options.port);
  if (!control.ok() || !control.auth(options.password, hard_deadline)) {
    result.setup_error = "control connection could not connect/authenticate";
    return result;
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
  drain_deadline =
      (last_reply + std::chrono::seconds(options.drain_timeout_s)).time_since_epoch().count();
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

  result.replies = static_cast<int>(latencies.size());
  result.ok_replies = ok_replies;
  result.err_replies = err_replies;
  result.other_replies = other_replies;
  result.first_error = first_error;
  result.send_seconds = std::chrono::duration<double>(last_reply - start).count();
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    return latencies.empty() ? 0.0
                             : latencies[std::min(latencies.size() - 1,
                                                  static_cast<std::size_t>(p * latencies.size()))];
  };
  result.p50_us = pct(0.50);
  result.p99_us = pct(0.99);
  result.max_us = latencies.empty() ? 0.0 : latencies.back();
  result.by_uuid = by_uuid;
  result.own_calls = own.size();
  bool complete = result.replies == calls;
  double drained = 0;  // when the last subscriber had all the CHANNEL_DESTROY events it needed
  for (const SubscriberCount& c : counts) {
    CallsSubscriberResult& r = result.subscribers.emplace_back();
    r.events = c.events;
    r.creates = c.creates;
    r.destroys = c.destroys;
    r.hangup_completes = c.hangup_completes;
    r.by_name = c.by_name;
    r.own_complete = c.own_complete;
    r.foreign_channels = c.foreign_channels;
    r.all = by_uuid ? c.own_complete == static_cast<long>(own.size()) &&
                          static_cast<long>(own.size()) == calls
                    : c.creates == calls && c.destroys == calls && c.hangup_completes == calls;
    complete = complete && r.all && c.done_at;
    if (c.done_at) {
      drained = std::max(drained, std::chrono::duration<double>(*c.done_at - start).count());
    }
  }
  result.complete = complete;
  result.drained_seconds = drained;
  return result;
}

}  // namespace eslbench
