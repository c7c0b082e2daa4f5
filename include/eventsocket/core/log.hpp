#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eventsocket::core {

// FreeSWITCH's log levels; `log/data` packets carry the number.
enum class LogLevel : int {
  disable = -1,
  console = 0,
  alert = 1,
  crit = 2,
  err = 3,
  warning = 4,
  notice = 5,
  info = 6,
  debug = 7,
};

std::string_view log_level_name(LogLevel level) noexcept;  // "WARNING"

// FreeSWITCH's switch_log_str2level as the `log` command sees it: a number (optional sign,
// digits and dots) is atoi'd and clamped (below 0 -> 0, above 64 -> 63; 64 itself is
// invalid), or one of DISABLE CONSOLE ALERT CRIT ERR WARNING NOTICE INFO DEBUG in any case.
// Returns nullopt for anything else.
std::optional<int> parse_log_level(std::string_view word) noexcept;

// One log line, as `log/data` subscribers receive it.
struct LogRecord {
  LogLevel level = LogLevel::info;
  int text_channel = 0;  // 0 plain log, 3 session log
  std::string file;
  std::string function;
  int line = 0;
  std::string user_data;  // channel UUID for session logs
  std::string text;       // the formatted line, ending in "\n"
};

// The daemon's logger: formats lines the way FreeSWITCH does
// (`YYYY-MM-DD HH:MM:SS.uuuuuu 99.00% [LEVEL] file.c:line message`), writes those at or
// above the console level to stderr, and hands every line to the sinks (the Event Socket
// sessions that asked for `log`).
class Logger {
 public:
  using Sink = std::function<void(const LogRecord&)>;

  void set_console_level(LogLevel level) { console_level_ = level; }
  LogLevel console_level() const { return console_level_; }

  // `text_channel`: FreeSWITCH's log channel (0 plain log, 3 session log); by default 3
  // when the line belongs to a channel, else 0.
  void log(LogLevel level, std::string_view file, std::string_view function, int line,
           std::string_view message, std::string_view channel_uuid = {}, int text_channel = -1);

  // Sinks are called on the logging thread; they must not block. Returns an id for remove.
  int add_sink(Sink sink);
  void remove_sink(int id);

 private:
  // Recursive, and removal during delivery leaves a tombstone: a sink may end the last
  // reference to its owner (a session whose connection just closed), whose destructor then
  // removes the sink from inside log() on the same thread.
  std::recursive_mutex mutex_;
  struct SinkEntry {
    int id;
    Sink sink;
    bool removed;  // removed while delivering: erased (destroyed) once delivery is over
  };
  std::deque<SinkEntry> sinks_;  // deque: references survive add_sink from inside a sink
  int delivering_ = 0;
  int next_id_ = 1;
  LogLevel console_level_ = LogLevel::info;
};

// Logs with the caller's file and line, as FreeSWITCH's SWITCH_CHANNEL_LOG does.
#define ES_LOG(logger, level, message)                                                      \
  (logger).log((level), ::eventsocket::core::source_basename(__FILE__), __func__, __LINE__, \
               (message))

constexpr std::string_view source_basename(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace eventsocket::core
