#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "eventsocket/acl/acl.hpp"
#include "eventsocket/core/switch.hpp"
#include "eventsocket/server/config.hpp"
#include "eventsocket/server/session.hpp"

namespace eventsocket::server {

struct ServerOptions {
  EventSocketSettings settings;
  SessionOptions session;  // password comes from settings
  // One event loop (io_context) and thread each: a connection stays on one thread for its
  // whole life, so its reads, commands and writes never hop between threads.
  std::size_t io_threads = 2;
  // Until authenticated (outbound: until the program's first packet). FreeSWITCH: 25 s.
  std::chrono::milliseconds auth_timeout{25000};
  // Ours: an inbound connection not logged in by then is closed even if it keeps sending
  // other commands (FreeSWITCH lets those stay forever). 0: off.
  std::chrono::milliseconds login_timeout{0};
  std::size_t max_connections = 10000;
  double connection_rate_per_ip = 0;  // new connections per second from one address; 0: off
  double command_rate = 0;            // commands per second on one connection; 0: off
  // Each limit logs its first refusal at once, then at most one summary per interval.
  std::chrono::seconds limit_log_interval{10};
};

struct ServerStats {
  std::uint64_t accepted = 0;
  std::uint64_t rejected_by_acl = 0;
  std::uint64_t rejected_over_limit = 0;       // max_connections
  std::uint64_t rejected_connection_rate = 0;  // connection_rate_per_ip
  std::uint64_t auth_timeouts = 0;             // auth_timeout and login_timeout
  std::uint64_t command_throttles = 0;         // times a connection waited for command_rate
  std::uint64_t active = 0;
  std::uint64_t outbound_total = 0;  // connections the socket application made
  // Summed over connections that have ended.
  std::uint64_t commands = 0;
  std::uint64_t events_sent = 0;
  std::uint64_t events_dropped = 0;
  std::uint64_t logs_dropped = 0;
};

// One live connection, for `event_socket_stats` and /metrics.
struct ListenerStats {
  std::uint64_t id = 0;  // in the order connections were made
  std::string peer;
  bool outbound = false;
  bool authenticated = false;
  SessionStats session;
  double events_per_second = 0;  // since the previous snapshot (or since connecting)
  double age_seconds = 0;
};

class Connection;
struct StatsSnapshot;

// The Event Socket server: accepts inbound TCP connections, applies the ACL, and runs one
// Connection (a Session driven by Asio coroutines) per client on a pool of I/O threads;
// it also makes the outbound connections of the switch's socket application.
class Server {
 public:
  Server(core::Switch& sw, ServerOptions options,
         std::shared_ptr<const acl::AclRegistry> acl = std::make_shared<acl::AclRegistry>());
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the listening socket (port 0 picks a free port). Returns the bind error, if any.
  std::error_code listen();
  // The bound port (after listen()).
  unsigned short port() const { return port_; }
  // Starts the I/O threads. Non-blocking.
  void start();
  // Sends every client the shutdown notice, closes, and joins the threads.
  void stop();

  // `reloadacl`: later connections are checked against the new lists.
  void set_acl(std::shared_ptr<const acl::AclRegistry> acl);
  // `reloadxml`: later connections log in against the new user directory.
  void set_directory(std::shared_ptr<const Directory> directory);
  // Counters of the server, the live connections included.
  ServerStats stats() const;
  // Every live connection (each session's lock taken in turn, briefly).
  std::vector<ListenerStats> listeners() const;
  // Counters, live connections and the event bus at one moment (event_socket_stats,
  // /metrics); the per-second rates are since the previous snapshot.
  StatsSnapshot snapshot() const;

 private:
  friend class Connection;
  struct Impl;
  void on_connection_closed(Connection* connection, const SessionStats& stats);
  // A limit refused or slowed someone: counted, and logged at most once per interval.
  void note_limit(std::string_view limit, const std::string& detail);
  bool take_connection_token(const std::string& peer);  // connection-rate-per-ip
  // The socket application's connection to its program (runs on the I/O threads).
  void connect_outbound(const core::CallEngine::SocketConnectRequest& request);

  core::Switch& switch_;
  ServerOptions options_;
  std::unique_ptr<Impl> impl_;
  unsigned short port_ = 0;
};

}  // namespace eventsocket::server
