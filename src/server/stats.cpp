#include "eventsocket/server/stats.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "eventsocket/event/codec.hpp"

namespace eventsocket::server {

namespace {

const char* mode_of(const ListenerStats& l) {
  return l.outbound ? "outbound" : "inbound";
}

// Prometheus label values escape backslash, double quote and newline.
std::string label_value(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

struct Metric {
  const char* name;
  const char* type;
  const char* help;
};

void header(std::string& out, const Metric& m) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", m.name, m.help, m.name,
                 m.type);
}

void sample(std::string& out, const Metric& m, double value) {
  header(out, m);
  fmt::format_to(std::back_inserter(out), "{} {}\n", m.name, value);
}

}  // namespace

ProcessMemory process_memory() {
  ProcessMemory memory;
  std::ifstream statm("/proc/self/statm");
  std::uint64_t pages = 0;
  std::uint64_t resident_pages = 0;
  if (statm >> pages >> resident_pages) {
    memory.resident_bytes = resident_pages * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
  }
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
  // Walks every arena under its lock: fine for a stats call, not for a hot path.
  const struct mallinfo2 info = mallinfo2();
  memory.heap_in_use_bytes = info.uordblks + info.hblkhd;
#endif
  return memory;
}

std::string format_stats_text(const StatsSnapshot& s) {
  const ServerStats& g = s.server;
  std::string out;
  auto o = std::back_inserter(out);
  std::size_t outbound = 0;
  for (const auto& l : s.listeners) {
    outbound += l.outbound ? 1 : 0;
  }
  fmt::format_to(o, "uptime: {:.0f} s\n", s.uptime_seconds);
  fmt::format_to(o, "connections: {} live ({} inbound, {} outbound), {} subscribed to events\n",
                 s.listeners.size(), s.listeners.size() - outbound, outbound, s.bus_subscribers);
  fmt::format_to(o,
                 "accepted: {}; refused: {} by acl, {} over max-connections, {} over "
                 "connection-rate-per-ip; auth timeouts: {}; command throttles: {}\n",
                 g.accepted, g.rejected_by_acl, g.rejected_over_limit, g.rejected_connection_rate,
                 g.auth_timeouts, g.command_throttles);
  fmt::format_to(o, "events: {} published ({:.1f}/s), {} sent, {} dropped; log lines dropped: {}\n",
                 s.events_published, s.events_published_per_second, g.events_sent, g.events_dropped,
                 g.logs_dropped);
  fmt::format_to(o, "commands: {}\nevent-queue-bytes: {}\n", g.commands, s.max_queued_bytes);
  fmt::format_to(o, "memory: {} bytes resident, {} bytes of heap in use\n", s.memory.resident_bytes,
                 s.memory.heap_in_use_bytes);
  fmt::format_to(o, "\n{:<8} {:<40} {:<8} {:<4} {:>10} {:>12} {:>10} {:>8} {:>12} {:>10} {:>8}\n",
                 "id", "peer", "mode", "auth", "events/s", "sent", "dropped", "queued",
                 "queued-bytes", "commands", "age-s");
  for (const auto& l : s.listeners) {
    fmt::format_to(
        o, "{:<8} {:<40} {:<8} {:<4} {:>10.1f} {:>12} {:>10} {:>8} {:>12} {:>10} {:>8.0f}\n", l.id,
        l.peer, mode_of(l), l.authenticated ? "yes" : "no", l.events_per_second,
        l.session.events_sent, l.session.events_dropped, l.session.queued_items,
        l.session.queued_bytes, l.session.commands, l.age_seconds);
  }
  return out;
}

std::string format_stats_json(const StatsSnapshot& s) {
  const ServerStats& g = s.server;
  std::string out;
  auto o = std::back_inserter(out);
  fmt::format_to(o,
                 "{{\"uptime_seconds\":{:.3f},\"connections\":{},\"bus_subscribers\":{},"
                 "\"accepted\":{},\"refused_acl\":{},\"refused_max_connections\":{},"
                 "\"refused_connection_rate\":{},\"auth_timeouts\":{},\"command_throttles\":{},"
                 "\"events_published\":{},\"events_published_per_second\":{:.3f},"
                 "\"events_sent\":{},\"events_dropped\":{},\"log_lines_dropped\":{},"
                 "\"commands\":{},\"event_queue_bytes\":{},\"resident_bytes\":{},"
                 "\"heap_in_use_bytes\":{},\"listeners\":[",
                 s.uptime_seconds, s.listeners.size(), s.bus_subscribers, g.accepted,
                 g.rejected_by_acl, g.rejected_over_limit, g.rejected_connection_rate,
                 g.auth_timeouts, g.command_throttles, s.events_published,
                 s.events_published_per_second, g.events_sent, g.events_dropped, g.logs_dropped,
                 g.commands, s.max_queued_bytes, s.memory.resident_bytes,
                 s.memory.heap_in_use_bytes);
  bool first = true;
  for (const auto& l : s.listeners) {
    out += first ? "{\"id\":" : ",{\"id\":";
    first = false;
    fmt::format_to(o, "{},\"peer\":", l.id);
    event::append_json_string(out, l.peer);
    fmt::format_to(o,
                   ",\"mode\":\"{}\",\"authenticated\":{},\"events_per_second\":{:.3f},"
                   "\"events_sent\":{},\"events_dropped\":{},\"log_lines_dropped\":{},"
                   "\"queued\":{},\"queued_bytes\":{},\"commands\":{},\"age_seconds\":{:.3f}}}",
                   mode_of(l), l.authenticated, l.events_per_second, l.session.events_sent,
                   l.session.events_dropped, l.session.logs_dropped, l.session.queued_items,
                   l.session.queued_bytes, l.session.commands, l.age_seconds);
  }
  out += "]}\n";
  return out;
}

std::string format_prometheus(const StatsSnapshot& s) {
  const ServerStats& g = s.server;
  std::string out;
  auto o = std::back_inserter(out);
  sample(out, {"eventsocket_uptime_seconds", "gauge", "Seconds since the server started."},
         s.uptime_seconds);
  sample(out, {"eventsocket_connections", "gauge", "Live Event Socket connections."},
         static_cast<double>(s.listeners.size()));
  sample(out, {"eventsocket_event_subscribers", "gauge", "Connections that currently want events."},
         static_cast<double>(s.bus_subscribers));
  sample(out,
         {"eventsocket_connections_accepted_total", "counter", "Inbound connections accepted."},
         static_cast<double>(g.accepted));
  const Metric refused{"eventsocket_connections_refused_total", "counter",
                       "Inbound connections refused, by reason."};
  header(out, refused);
  fmt::format_to(o, "{}{{reason=\"acl\"}} {}\n", refused.name, g.rejected_by_acl);
  fmt::format_to(o, "{}{{reason=\"max-connections\"}} {}\n", refused.name, g.rejected_over_limit);
  fmt::format_to(o, "{}{{reason=\"connection-rate-per-ip\"}} {}\n", refused.name,
                 g.rejected_connection_rate);
  sample(out,
         {"eventsocket_auth_timeouts_total", "counter",
          "Connections closed for not authenticating in time."},
         static_cast<double>(g.auth_timeouts));
  sample(out,
         {"eventsocket_command_throttles_total", "counter",
          "Times a connection waited for its command rate."},
         static_cast<double>(g.command_throttles));
  sample(out, {"eventsocket_events_published_total", "counter", "Events published by the switch."},
         static_cast<double>(s.events_published));
  sample(out,
         {"eventsocket_events_sent_total", "counter", "Events written to Event Socket clients."},
         static_cast<double>(g.events_sent));
  sample(out,
         {"eventsocket_events_dropped_total", "counter",
          "Events dropped because a client's queue was full."},
         static_cast<double>(g.events_dropped));
  sample(out,
         {"eventsocket_log_lines_dropped_total", "counter",
          "Log lines dropped because a client's queue was full."},
         static_cast<double>(g.logs_dropped));
  sample(out, {"eventsocket_commands_total", "counter", "Commands received from clients."},
         static_cast<double>(g.commands));
  sample(out,
         {"eventsocket_event_queue_limit_bytes", "gauge",
          "Bytes of events a client may have queued (event-queue-bytes)."},
         static_cast<double>(s.max_queued_bytes));
  sample(out, {"process_resident_memory_bytes", "gauge", "Resident memory size in bytes."},
         static_cast<double>(s.memory.resident_bytes));
  sample(out,
         {"eventsocket_heap_in_use_bytes", "gauge",
          "Bytes allocated with malloc and not yet freed (0 where unknown)."},
         static_cast<double>(s.memory.heap_in_use_bytes));

  const Metric per_listener[] = {
      {"eventsocket_listener_queued_events", "gauge", "Packets waiting to be written."},
      {"eventsocket_listener_queued_bytes", "gauge", "Bytes of events and logs waiting."},
      {"eventsocket_listener_events_sent_total", "counter", "Events written to this client."},
      {"eventsocket_listener_events_dropped_total", "counter", "Events dropped for this client."},
      {"eventsocket_listener_events_per_second", "gauge",
       "Events written per second since the previous scrape."},
  };
  for (std::size_t m = 0; m < std::size(per_listener); ++m) {
    header(out, per_listener[m]);
    for (const auto& l : s.listeners) {
      double value = 0;
      switch (m) {
        case 0:
          value = static_cast<double>(l.session.queued_items);
          break;
        case 1:
          value = static_cast<double>(l.session.queued_bytes);
          break;
        case 2:
          value = static_cast<double>(l.session.events_sent);
          break;
        case 3:
          value = static_cast<double>(l.session.events_dropped);
          break;
        default:
          value = l.events_per_second;
          break;
      }
      fmt::format_to(o, "{}{{id=\"{}\",peer=\"{}\",mode=\"{}\"}} {}\n", per_listener[m].name, l.id,
                     label_value(l.peer), mode_of(l), value);
    }
  }
  return out;
}

}  // namespace eventsocket::server
