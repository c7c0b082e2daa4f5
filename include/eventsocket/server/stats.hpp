#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "eventsocket/server/server.hpp"

namespace eventsocket::server {

// The server process's memory. RSS keeps what the allocator holds on to after a peak;
// the heap in use is what live objects hold, so a leak shows in it and noise does not.
struct ProcessMemory {
  std::uint64_t resident_bytes = 0;     // VmRSS; 0 where /proc is not there
  std::uint64_t heap_in_use_bytes = 0;  // malloc'ed and not freed; 0 where unknown
};
ProcessMemory process_memory();

// Everything `event_socket_stats` and the /metrics endpoint show, taken at one moment.
struct StatsSnapshot {
  ServerStats server;  // counters; events and commands include the live connections
  std::vector<ListenerStats> listeners;
  std::uint64_t events_published = 0;      // by the switch's event bus, since start
  double events_published_per_second = 0;  // since the previous snapshot
  std::uint64_t bus_subscribers = 0;       // sessions that want events right now
  double uptime_seconds = 0;
  std::uint64_t max_queued_bytes = 0;  // the per-listener byte limit (event-queue-bytes)
  ProcessMemory memory;
};

// `event_socket_stats`: global counters, then one line per live connection.
std::string format_stats_text(const StatsSnapshot& stats);
// `event_socket_stats json`: the same as one JSON object.
std::string format_stats_json(const StatsSnapshot& stats);
// The Prometheus text exposition format (version 0.0.4).
std::string format_prometheus(const StatsSnapshot& stats);

}  // namespace eventsocket::server
