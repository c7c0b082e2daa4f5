#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "eventsocket/event/event.hpp"

namespace eventsocket::event {

// Who fired an event: the values FreeSWITCH puts in every event's standard headers.
struct Origin {
  std::string core_uuid;   // constant for the switch's lifetime
  std::string hostname;    // FreeSWITCH-Hostname
  std::string switchname;  // FreeSWITCH-Switchname (defaults to the host name)
  std::string ipv4;        // FreeSWITCH-IPv4
  std::string ipv6;        // FreeSWITCH-IPv6
};

// Where in the code an event was fired (Event-Calling-File/-Function/-Line-Number).
// FreeSWITCH names its C sources here; we name ours, and keep FreeSWITCH's names where a
// client could reasonably test them (e.g. mod_event_socket.c for sendevent).
struct CallSite {
  std::string_view file;
  std::string_view function;
  int line = 0;
};

// Appends the 13 standard headers in FreeSWITCH's order (EVENTS.md §2): Event-Name, Core-UUID,
// FreeSWITCH-Hostname/-Switchname/-IPv4/-IPv6, Event-Date-Local/-GMT/-Timestamp,
// Event-Calling-File/-Function/-Line-Number, Event-Sequence. Then, for a CUSTOM event with a
// subclass, `Event-Subclass`.
void add_standard_headers(Event& event, const Origin& origin, const CallSite& site,
                          std::uint64_t sequence, std::chrono::system_clock::time_point now);

// "2026-11-26 07:35:54" in the local time zone.
std::string format_date_local(std::chrono::system_clock::time_point now);
// "Thu, 26 Nov 2026 07:35:54 GMT".
std::string format_date_gmt(std::chrono::system_clock::time_point now);

}  // namespace eventsocket::event
