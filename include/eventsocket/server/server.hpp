#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
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
  std::size_t io_threads = 2;
  std::chrono::milliseconds auth_timeout{25000};  // FreeSWITCH: 25 s for the first packet
  std::size_t max_connections = 10000;
};

struct ServerStats {
  std::uint64_t accepted = 0;
  std::uint64_t rejected_by_acl = 0;
  std::uint64_t rejected_over_limit = 0;
  std::uint64_t active = 0;
  std::uint64_t outbound_total = 0;  // connections the socket application made
  // Summed over connections that have ended.
  std::uint64_t commands = 0;
  std::uint64_t events_sent = 0;
  std::uint64_t events_dropped = 0;
  std::uint64_t logs_dropped = 0;
};

class Connection;

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
  ServerStats stats() const;

 private:
  friend class Connection;
  struct Impl;
  void on_connection_closed(Connection* connection, const SessionStats& stats);
  // The socket application's connection to its program (runs on the I/O threads).
  void connect_outbound(const core::CallEngine::SocketConnectRequest& request);

  core::Switch& switch_;
  ServerOptions options_;
  std::unique_ptr<Impl> impl_;
  unsigned short port_ = 0;
};

}  // namespace eventsocket::server
