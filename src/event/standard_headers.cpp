#include "eventsocket/event/standard_headers.hpp"

#include <ctime>
#include <string>

namespace eventsocket::event {
namespace {

std::string format_time(std::chrono::system_clock::time_point now, bool utc, const char* pattern) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  std::tm parts{};
  if (utc) {
    gmtime_r(&seconds, &parts);
  } else {
    localtime_r(&seconds, &parts);
  }
  char text[64];
  const std::size_t size = std::strftime(text, sizeof text, pattern, &parts);
  return std::string(text, size);
}

}  // namespace

std::string format_date_local(std::chrono::system_clock::time_point now) {
  return format_time(now, false, "%Y-%m-%d %H:%M:%S");
}

std::string format_date_gmt(std::chrono::system_clock::time_point now) {
  // strftime's %a and %b follow the C locale, which a program has unless it calls setlocale.
  return format_time(now, true, "%a, %d %b %Y %H:%M:%S GMT");
}

void add_standard_headers(Event& event, const Origin& origin, const CallSite& site,
                          std::uint64_t sequence, std::chrono::system_clock::time_point now) {
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  event.add_header("Event-Name", event_type_name(event.type()));
  event.add_header("Core-UUID", origin.core_uuid);
  event.add_header("FreeSWITCH-Hostname", origin.hostname);
  event.add_header("FreeSWITCH-Switchname", origin.switchname);
  event.add_header("FreeSWITCH-IPv4", origin.ipv4);
  event.add_header("FreeSWITCH-IPv6", origin.ipv6);
  event.add_header("Event-Date-Local", format_date_local(now));
  event.add_header("Event-Date-GMT", format_date_gmt(now));
  event.add_header("Event-Date-Timestamp", std::to_string(micros));
  event.add_header("Event-Calling-File", site.file);
  event.add_header("Event-Calling-Function", site.function);
  event.add_header("Event-Calling-Line-Number", std::to_string(site.line));
  event.add_header("Event-Sequence", std::to_string(sequence));
  if (event.type() == EventType::CUSTOM && !event.subclass().empty()) {
    event.add_header("Event-Subclass", event.subclass());
  }
}

}  // namespace eventsocket::event
