#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "eventsocket/server/server.hpp"

namespace eventsocket::server {

// Everything `event_socket_stats` and the /metrics endpoint show, taken at one moment.
struct StatsSnapshot {
  ServerStats server;  // counters; events and commands include the live connections
  std::vector<ListenerStats> listeners;
  std::uint64_t events_published = 0;      // by the switch's event bus, since start
  double events_published_per_second = 0;  // since the previous snapshot
  std::uint64_t bus_subscribers = 0;       // sessions that want events right now
  double uptime_seconds = 0;
  std::uint64_t max_queued_bytes = 0;  // the per-listener byte limit (event-queue-bytes)
};

// `event_socket_stats`: global counters, then one line per live connection.
std::string format_stats_text(const StatsSnapshot& stats);
// `event_socket_stats json`: the same as one JSON object.
std::string format_stats_json(const StatsSnapshot& stats);
// The Prometheus text exposition format (version 0.0.4).
std::string format_prometheus(const StatsSnapshot& stats);

}  // namespace eventsocket::server
