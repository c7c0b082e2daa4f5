// FreeSWITCH's dialplan applications (mod_dptools), without media: each takes the time the
// real one would take and fires the same events.
#include <sys/stat.h>

#include <charconv>
#include <cstdlib>
#include <map>
#include <mutex>

#include "eventsocket/core/calls.hpp"
#include "eventsocket/core/switch.hpp"

namespace eventsocket::core {
namespace {

using event::EventType;
using namespace std::chrono_literals;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

std::string_view first_word(std::string_view s, std::string_view* rest = nullptr) {
  s = trim(s);
  const std::size_t space = s.find_first_of(" \t");
  if (rest != nullptr) {
    *rest = space == std::string_view::npos ? std::string_view{} : trim(s.substr(space + 1));
  }
  return s.substr(0, space);
}

std::optional<long long> to_number(std::string_view s) {
  long long v = 0;
  s = trim(s);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) {
    return std::nullopt;
  }
  return v;
}

// A cause given by name or Q.850 number; NORMAL_CLEARING when it is neither.
std::string cause_from(std::string_view text) {
  return std::string(
      hangup_cause_from_text(text).value_or(HangupCause{"NORMAL_CLEARING", 16}).name);
}

// How long a simulated playback lasts; nullopt for a file that does not exist, a negative
// value for "until interrupted".
std::optional<std::chrono::milliseconds> playback_length(std::string_view file) {
  if (file.starts_with("silence_stream://")) {
    std::string_view ms = file.substr(17);
    ms = ms.substr(0, ms.find(','));
    const auto n = to_number(ms).value_or(0);
    return std::chrono::milliseconds(n <= 0 ? -1 : n);
  }
  if (file.starts_with("local_stream://")) {
    return std::chrono::milliseconds(-1);  // music on hold plays until interrupted
  }
  if (file.starts_with("tone_stream://")) {
    // %(on,off,freq...) segments, repeated `loops` times (-1: forever).
    std::string_view spec = file.substr(14);
    long long loops = 1;
    if (const std::size_t l = spec.find("loops="); l != std::string_view::npos) {
      loops = to_number(spec.substr(l + 6, spec.find(';', l) - l - 6)).value_or(1);
    }
    long long once = 0;
    std::size_t pos = 0;
    while ((pos = spec.find("%(", pos)) != std::string_view::npos) {
      const std::size_t close = spec.find(')', pos);
      const std::string_view args = spec.substr(pos + 2, close - pos - 2);
      const std::size_t c1 = args.find(',');
      const std::size_t c2 = args.find(',', c1 + 1);
      once += to_number(args.substr(0, c1)).value_or(0);
      if (c1 != std::string_view::npos) {
        once += to_number(args.substr(c1 + 1, c2 - c1 - 1)).value_or(0);
      }
      pos = close == std::string_view::npos ? spec.size() : close;
    }
    if (loops < 0)
      return std::chrono::milliseconds(-1);
    return std::chrono::milliseconds(once * loops);
  }
  // A real file: no media here, so 8 kHz 16-bit linear is assumed for its length.
  struct stat st {};
  const std::string path(file.starts_with("file://") ? file.substr(7) : file);
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return std::nullopt;
  }
  return std::chrono::milliseconds(st.st_size / 16);
}

void playback(CallContext& call, std::string_view file) {
  constexpr event::CallSite kStart{"switch_ivr_play_say.c", "switch_ivr_play_file", 1628};
  constexpr event::CallSite kStop{"switch_ivr_play_say.c", "switch_ivr_play_file", 2062};
  const auto length = playback_length(file);
  if (!length) {
    call.log(3, "Can't open " + std::string(file));
    call.set_variable("current_application_response", "FILE NOT FOUND");
    return;
  }
  const std::string path(file);
  call.engine().fire(call.channel(), EventType::PLAYBACK_START, kStart, {},
                     [&](event::Event& e) { e.add_header("Playback-File-Path", path); });
  const auto started = std::chrono::steady_clock::now();
  bool complete = true;
  if (length->count() < 0) {
    while (call.pause(1h)) {
    }
    complete = false;
  } else {
    complete = call.pause(*length);
  }
  const auto played = complete ? *length
                               : std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::steady_clock::now() - started);
  const long long samples = played.count() * 8;
  call.engine().fire(call.channel(), EventType::PLAYBACK_STOP, kStop, {}, [&](event::Event& e) {
    e.add_header("Playback-File-Path", path);
    e.add_header("Playback-Status", complete ? "done" : "break");
  });
  call.set_variable("playback_last_offset_pos", std::to_string(samples));
  call.set_variable("playback_seconds", std::to_string(played.count() / 1000));
  call.set_variable("playback_ms", std::to_string(played.count()));
  call.set_variable("playback_samples", std::to_string(samples));
  call.set_variable("current_application_response", "FILE PLAYED");
}

// `set name=value`: an empty value unsets.
std::pair<std::string, std::string> split_assignment(std::string_view data) {
  const std::size_t eq = data.find('=');
  if (eq == std::string_view::npos) {
    return {std::string(trim(data)), ""};
  }
  return {std::string(trim(data.substr(0, eq))), std::string(data.substr(eq + 1))};
}

int log_level_from(std::string_view name) {
  static const std::pair<std::string_view, int> kLevels[] = {
      {"CONSOLE", 0}, {"ALERT", 1},  {"CRIT", 2}, {"ERR", 3},
      {"WARNING", 4}, {"NOTICE", 5}, {"INFO", 6}, {"DEBUG", 7}};
  for (const auto& [n, l] : kLevels) {
    if (name.size() == n.size() && std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
          return a == std::toupper(static_cast<unsigned char>(b));
        })) {
      return l;
    }
  }
  return -1;
}

// The `hash` application's and API's store: realm -> key -> value.
struct HashStore {
  std::mutex mutex;
  std::map<std::string, std::string, std::less<>> values;
};

}  // namespace

void register_builtin_applications(CallEngine& engine) {
  auto& e = engine;
  e.register_application("answer", "Answer the call", [](CallContext& call, std::string_view) {
    call.engine().answer(call.channel());
  });
  e.register_application(
      "pre_answer", "Pre-Answer the call",
      [](CallContext& call, std::string_view) { call.engine().pre_answer(call.channel()); });
  e.register_application(
      "ring_ready", "Indicate Ring_Ready",
      [](CallContext& call, std::string_view) { call.engine().ring_ready(call.channel()); });
  e.register_application("hangup", "Hangup the call", [](CallContext& call, std::string_view data) {
    call.engine().hangup(call.channel(), data.empty() ? "NORMAL_CLEARING" : cause_from(data));
  });
  e.register_application("park", "Park", [](CallContext& call, std::string_view) {
    call.engine().park_here(call.channel());
  });
  e.register_application("sleep", "Pause a channel", [](CallContext& call, std::string_view data) {
    const auto ms = to_number(first_word(data)).value_or(0);
    if (ms > 0) {
      call.pause(std::chrono::milliseconds(ms));
    }
  });
  e.register_application("playback", "Playback File", [](CallContext& call, std::string_view data) {
    playback(call, trim(data));
  });
  e.register_application(
      "echo", "Echo audio and video back to the channel",
      [](CallContext& call, std::string_view) { call.service_until_released(); });
  e.register_application(
      "delay_echo", "echo audio at a specified delay",
      [](CallContext& call, std::string_view) { call.service_until_released(); });
  e.register_application("set", "Set a channel variable",
                         [](CallContext& call, std::string_view data) {
                           auto [name, value] = split_assignment(data);
                           if (!name.empty()) {
                             call.set_variable(name, value);
                           }
                         });
  e.register_application("multiset", "Set many channel variables",
                         [](CallContext& call, std::string_view data) {
                           std::string_view rest = data;
                           while (!trim(rest).empty()) {
                             std::string_view next;
                             const std::string_view item = first_word(rest, &next);
                             auto [name, value] = split_assignment(item);
                             if (!name.empty())
                               call.set_variable(name, value);
                             rest = next;
                           }
                         });
  e.register_application(
      "unset", "Unset a channel variable",
      [](CallContext& call, std::string_view data) { call.set_variable(trim(data), ""); });
  e.register_application("export", "Export a channel variable across a bridge",
                         [](CallContext& call, std::string_view data) {
                           // `export name=value` sets it here and on every leg this channel
                           // calls later; `nolocal:name=value` only there (kept under the
                           // prefixed name until then).
                           auto [name, value] = split_assignment(data);
                           const bool local = !name.starts_with("nolocal:");
                           const std::string bare = local ? name : name.substr(8);
                           if (bare.empty()) {
                             return;
                           }
                           call.set_variable(local ? bare : name, value);
                           std::string list = call.variable("export_vars").value_or("");
                           bool listed = false;
                           for (std::size_t pos = 0; pos <= list.size();) {
                             const std::size_t comma = std::min(list.find(',', pos), list.size());
                             listed = listed || list.substr(pos, comma - pos) == bare;
                             pos = comma + 1;
                           }
                           if (!listed) {
                             call.set_variable("export_vars",
                                               list.empty() ? bare : list + "," + bare);
                           }
                         });
  e.register_application("set_global", "Set a global variable",
                         [](CallContext& call, std::string_view data) {
                           auto [name, value] = split_assignment(data);
                           if (!name.empty())
                             call.core().set_global_var(name, value);
                         });
  e.register_application("log", "Logs to the logger", [](CallContext& call, std::string_view data) {
    std::string_view rest;
    const std::string_view word = first_word(data, &rest);
    const int level = log_level_from(word);
    call.log(level < 0 ? 7 : level, level < 0 ? trim(data) : rest);
  });
  e.register_application("info", "Display Call Info", [](CallContext& call, std::string_view) {
    event::Event dump(EventType::CHANNEL_DATA);
    call.channel()->add_event_headers(dump);
    std::string text = "CHANNEL_DATA:\n";
    for (std::size_t i = 0; i < dump.header_count(); ++i) {
      const event::Header h = dump.header_at(i);
      text += std::string(h.name) + ": [" + std::string(h.value) + "]\n";
    }
    call.log(6, text);
  });
  e.register_application("event", "Fire an event", [](CallContext& call, std::string_view data) {
    constexpr event::CallSite kSite{"mod_dptools.c", "event_function", 1418};
    event::EventType type = EventType::CHANNEL_APPLICATION;
    std::string subclass;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string_view rest = data;
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      auto [name, value] = split_assignment(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      if (name == "Event-Name") {
        if (auto t = event::event_type_from_name(value))
          type = *t;
      } else if (name == "Event-Subclass") {
        subclass = value;
      } else if (!name.empty()) {
        headers.emplace_back(name, value);
      }
    }
    event::Event ev = call.core().make_event(type, kSite, subclass);
    for (const auto& [n, v] : headers)
      ev.add_header(n, v);
    call.channel()->add_event_headers(ev);
    call.core().publish(std::move(ev));
  });
  e.register_application("send_dtmf", "Send dtmf to be sent",
                         [](CallContext& call, std::string_view data) {
                           // The digits reach whoever is on the other end of the call.
                           std::string other;
                           call.channel()->control([&](Channel::Control& c, ChannelData&) {
                             other = c.partner;
                             return 0;
                           });
                           if (!other.empty()) {
                             call.engine().receive_dtmf(other, first_word(data));
                           }
                         });
  e.register_application("transfer", "Transfer a channel",
                         [](CallContext& call, std::string_view data) {
                           std::string_view rest;
                           const std::string_view dest = first_word(data, &rest);
                           std::string_view context;
                           const std::string_view plan = first_word(rest, &context);
                           call.engine().transfer(call.uuid(), dest, plan, first_word(context));
                         });
  e.register_application("bridge", "Bridge Audio", [](CallContext& call, std::string_view data) {
    const std::string cause = call.engine().bridge_out(call.channel(), trim(data));
    if (cause.empty()) {
      return;
    }
    call.log(6, "Originate Failed.  Cause: " + cause);
    const std::string cont = call.variable("continue_on_fail").value_or("");
    const bool carry_on = cont == "true" || cont.find(cause) != std::string::npos;
    if (!carry_on) {
      call.engine().hangup(call.channel(), cause);
    }
  });
  e.register_application("_uuid_bridge", "Bridge to a live channel (uuid_bridge)",
                         [](CallContext& call, std::string_view data) {
                           call.engine().bridge_with(call.channel(), trim(data));
                         });
  e.register_application(
      "sched_hangup", "Schedule a hangup", [](CallContext& call, std::string_view data) {
        std::string_view rest;
        std::string_view when = first_word(data, &rest);
        const bool relative = when.starts_with('+');
        if (relative)
          when.remove_prefix(1);
        const auto secs = to_number(when).value_or(0);
        const auto at = relative
                            ? std::chrono::system_clock::now() + std::chrono::seconds(secs)
                            : std::chrono::system_clock::time_point(std::chrono::seconds(secs));
        const std::string uuid = call.uuid();
        const std::string cause = rest.empty() ? "ALLOTTED_TIMEOUT" : cause_from(rest);
        CallEngine* eng = &call.engine();
        eng->schedule(at, uuid, [eng, uuid, cause] { eng->hangup(uuid, cause); });
      });

  auto store = std::make_shared<HashStore>();
  e.register_application(
      "hash", "Insert into the hashtable", [store](CallContext& call, std::string_view data) {
        // insert/realm/key/value, insert_ifempty/..., delete/realm/key,
        // delete_ifmatch/realm/key/value
        std::vector<std::string> parts;
        std::string_view rest = data;
        for (int i = 0; i < 3 && !rest.empty(); ++i) {
          const std::size_t slash = rest.find('/');
          parts.emplace_back(rest.substr(0, slash));
          rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
        }
        parts.emplace_back(rest);
        if (parts.size() < 3) {
          call.log(
              4, "Usage: hash insert|insert_ifempty|delete|delete_ifmatch/<realm>/<key>[/<value>]");
          return;
        }
        const std::string key = parts[1] + "/" + parts[2];
        const std::string value = parts.size() > 3 ? parts[3] : "";
        std::lock_guard lock(store->mutex);
        if (parts[0] == "insert") {
          store->values.insert_or_assign(key, value);
        } else if (parts[0] == "insert_ifempty") {
          store->values.emplace(key, value);
        } else if (parts[0] == "delete") {
          store->values.erase(key);
        } else if (parts[0] == "delete_ifmatch") {
          if (auto it = store->values.find(key); it != store->values.end() && it->second == value) {
            store->values.erase(it);
          }
        }
      });
  e.core().api().add("hash", "hash get/set", "[insert|delete|select]/<realm>/<key>/<value>",
                     [store](Switch&, const ApiRequest& req, std::string& out) {
                       std::string_view rest = req.args;
                       std::vector<std::string> parts;
                       for (int i = 0; i < 3 && !rest.empty(); ++i) {
                         const std::size_t slash = rest.find('/');
                         parts.emplace_back(rest.substr(0, slash));
                         rest = slash == std::string_view::npos ? std::string_view{}
                                                                : rest.substr(slash + 1);
                       }
                       parts.emplace_back(rest);
                       if (parts.size() < 3) {
                         out += "-ERR Usage: hash [insert|delete|select]/<realm>/<key>/<value>\n";
                         return ApiStatus::success;
                       }
                       const std::string key = parts[1] + "/" + parts[2];
                       std::lock_guard lock(store->mutex);
                       if (parts[0] == "select") {
                         if (auto it = store->values.find(key); it != store->values.end()) {
                           out += it->second;
                         }
                       } else if (parts[0] == "insert") {
                         store->values.insert_or_assign(key, parts.size() > 3 ? parts[3] : "");
                         out += "+OK\n";
                       } else if (parts[0] == "delete") {
                         out += store->values.erase(key) ? "+OK\n" : "-ERR Not found\n";
                       } else {
                         out += "-ERR Usage: hash [insert|delete|select]/<realm>/<key>/<value>\n";
                       }
                       return ApiStatus::success;
                     });
}

}  // namespace eventsocket::core
