#pragma once

// A blocking facade over client::Connection for programs that are not asynchronous: it runs
// its own I/O thread, and every call waits for its result (or throws ClientError).

#include <asio/io_context.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "eventsocket/client/connection.hpp"

namespace eventsocket::client {

class BlockingConnection {
 public:
  // Connects and authenticates; throws ClientError.
  explicit BlockingConnection(ConnectOptions options);
  ~BlockingConnection();
  BlockingConnection(const BlockingConnection&) = delete;
  BlockingConnection& operator=(const BlockingConnection&) = delete;

  Reply command(std::string command, std::vector<std::pair<std::string, std::string>> headers = {},
                std::string body = {}, std::optional<std::chrono::milliseconds> timeout = {});
  std::string api(std::string command, std::optional<std::chrono::milliseconds> timeout = {});
  BackgroundJob bgapi(std::string command, std::optional<std::chrono::milliseconds> timeout = {});
  std::optional<event::Event> next_event(std::optional<std::chrono::milliseconds> timeout = {});
  std::optional<LogLine> next_log(std::optional<std::chrono::milliseconds> timeout = {});
  std::uint64_t dropped_events();
  bool connected();
  void close();

 private:
  template <typename Op>
  auto run(Op op);

  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
  std::shared_ptr<Connection> connection_;

  // ---------------------------------------------------------------------------------------
  // For the libesl-compatible ESLconnection (esl_oop.hpp), which needs the socket's
  // descriptor, outbound mode over a descriptor accepted elsewhere, and replies that are
  // collected after the call that sent their command has returned.
 public:
  // Inbound, like the constructor, except that this side makes the TCP connection and reads
  // the greeting itself before handing the socket to Connection::adopt (which then
  // authenticates), so that native_handle() is known. Throws ClientError.
  static std::unique_ptr<BlockingConnection> connect_keeping_handle(ConnectOptions options);
  // Outbound: takes over `native_socket`, a connected TCP socket that the switch's `socket`
  // application opened to this program. On success the descriptor belongs to the connection
  // (closed with it); on failure (ClientError) it is left to the caller. Nothing is sent:
  // channel_data() sends `connect`.
  static std::unique_ptr<BlockingConnection> adopt(int native_socket, ConnectOptions options);
  // The socket's descriptor, or -1 when it is not known (made by the constructor). It stays
  // the connection's: only for identification, never read from it.
  int native_handle() const noexcept { return native_handle_; }
  // Outbound: `connect`, answered with the channel's data (Connection::channel_data).
  event::Event channel_data(std::optional<std::chrono::milliseconds> timeout = {});
  // Sends the command now, in order with every other command, without waiting: the future
  // holds the reply (or the ClientError) once it comes.
  std::future<Reply> command_async(std::string command,
                                   std::vector<std::pair<std::string, std::string>> headers = {},
                                   std::string body = {},
                                   std::optional<std::chrono::milliseconds> timeout = {});

 private:
  struct NotConnected {};
  // Starts the I/O thread only; the factories above make the connection.
  explicit BlockingConnection(NotConnected);

  int native_handle_ = -1;
};

}  // namespace eventsocket::client
