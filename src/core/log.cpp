#include "eventsocket/core/log.hpp"

#include <cstdio>
#include <ctime>

namespace eventsocket::core {

std::string_view log_level_name(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::disable:
      return "DISABLE";
    case LogLevel::console:
      return "CONSOLE";
    case LogLevel::alert:
      return "ALERT";
    case LogLevel::crit:
      return "CRIT";
    case LogLevel::err:
      return "ERR";
    case LogLevel::warning:
      return "WARNING";
    case LogLevel::notice:
      return "NOTICE";
    case LogLevel::info:
      return "INFO";
    case LogLevel::debug:
      return "DEBUG";
  }
  return "DEBUG";
}

std::optional<int> parse_log_level(std::string_view word) noexcept {
  if (word.empty()) {
    return std::nullopt;
  }
  bool numeric = true;
  for (std::size_t i = 0; i < word.size(); ++i) {
    const char c = word[i];
    if (!((c >= '0' && c <= '9') || c == '.' || (i == 0 && (c == '-' || c == '+')))) {
      numeric = false;
      break;
    }
  }
  if (numeric) {
    long value = 0;
    std::size_t i = (word[0] == '-' || word[0] == '+') ? 1 : 0;
    for (; i < word.size() && word[i] >= '0' && word[i] <= '9'; ++i) {
      value = value * 10 + (word[i] - '0');
      if (value > 1000) {
        value = 1000;
      }
    }
    if (word[0] == '-') {
      value = -value;
    }
    if (value < 0) {
      return 0;
    }
    if (value == 64) {
      return std::nullopt;  // FreeSWITCH's SWITCH_LOG_INVALID
    }
    return value > 64 ? 63 : static_cast<int>(value);
  }
  static constexpr std::pair<std::string_view, int> kNames[] = {
      {"DISABLE", -1}, {"CONSOLE", 0}, {"ALERT", 1}, {"CRIT", 2},  {"ERR", 3},
      {"WARNING", 4},  {"NOTICE", 5},  {"INFO", 6},  {"DEBUG", 7},
  };
  for (const auto& [name, level] : kNames) {
    if (word.size() == name.size()) {
      bool same = true;
      for (std::size_t i = 0; i < name.size() && same; ++i) {
        char c = word[i];
        if (c >= 'a' && c <= 'z') {
          c = static_cast<char>(c - 'a' + 'A');
        }
        same = c == name[i];
      }
      if (same) {
        return level;
      }
    }
  }
  return std::nullopt;
}

void Logger::log(LogLevel level, std::string_view file, std::string_view function, int line,
                 std::string_view message, std::string_view channel_uuid, int text_channel) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
      1000000;
  std::tm parts{};
  localtime_r(&seconds, &parts);
  char stamp[64];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &parts);

  LogRecord record;
  record.level = level;
  record.text_channel = text_channel >= 0 ? text_channel : (channel_uuid.empty() ? 0 : 3);
  record.file.assign(file);
  record.function.assign(function);
  record.line = line;
  record.user_data.assign(channel_uuid);
  char prefix[128];
  const int n = std::snprintf(prefix, sizeof prefix, "%s.%06lld 100.00%% [%s] ", stamp,
                              static_cast<long long>(micros), log_level_name(level).data());
  record.text.assign(prefix, static_cast<std::size_t>(n > 0 ? n : 0));
  record.text.append(file);
  record.text.push_back(':');
  record.text.append(std::to_string(line));
  record.text.push_back(' ');
  record.text.append(message);
  if (record.text.back() != '\n') {
    record.text.push_back('\n');
  }

  if (static_cast<int>(level) <= static_cast<int>(console_level_)) {
    std::fwrite(record.text.data(), 1, record.text.size(), stderr);
  }
  std::lock_guard lock(mutex_);
  ++delivering_;
  for (std::size_t i = 0; i < sinks_.size(); ++i) {
    if (!sinks_[i].removed) {
      sinks_[i].sink(record);
    }
  }
  if (--delivering_ == 0) {
    std::erase_if(sinks_, [](const SinkEntry& entry) { return entry.removed; });
  }
}

int Logger::add_sink(Sink sink) {
  std::lock_guard lock(mutex_);
  const int id = next_id_++;
  sinks_.push_back({id, std::move(sink), false});
  return id;
}

void Logger::remove_sink(int id) {
  std::lock_guard lock(mutex_);
  if (delivering_ > 0) {
    // Inside log() on this thread: its loop must not see the deque change under it.
    for (SinkEntry& entry : sinks_) {
      entry.removed = entry.removed || entry.id == id;
    }
    return;
  }
  std::erase_if(sinks_, [id](const SinkEntry& entry) { return entry.id == id; });
}

}  // namespace eventsocket::core
