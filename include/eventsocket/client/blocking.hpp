#pragma once

// A blocking facade over client::Connection for programs that are not asynchronous: it runs
// its own I/O thread, and every call waits for its result (or throws ClientError).

#include <asio/io_context.hpp>
#include <chrono>
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
};

}  // namespace eventsocket::client
