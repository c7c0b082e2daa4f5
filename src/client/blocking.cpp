#include "eventsocket/client/blocking.hpp"

#include <asio.hpp>
#include <asio/use_future.hpp>

namespace eventsocket::client {

template <typename Op>
auto BlockingConnection::run(Op op) {
  // Everything happens on the one I/O thread; this thread only waits for the result.
  return asio::co_spawn(io_, std::move(op), asio::use_future).get();
}

BlockingConnection::BlockingConnection(ConnectOptions options) {
  work_.emplace(io_.get_executor());
  thread_ = std::thread([this] { io_.run(); });
  try {
    connection_ = run(Connection::connect(io_.get_executor(), std::move(options)));
  } catch (...) {
    work_.reset();
    io_.stop();
    thread_.join();
    throw;
  }
}

BlockingConnection::~BlockingConnection() {
  if (connection_) {
    asio::post(io_, asio::use_future([c = connection_] { c->close(); })).get();
  }
  work_.reset();
  io_.stop();
  thread_.join();
}

Reply BlockingConnection::command(std::string command,
                                  std::vector<std::pair<std::string, std::string>> headers,
                                  std::string body,
                                  std::optional<std::chrono::milliseconds> timeout) {
  return run(
      connection_->command(std::move(command), std::move(headers), std::move(body), timeout));
}

std::string BlockingConnection::api(std::string command,
                                    std::optional<std::chrono::milliseconds> timeout) {
  return run(connection_->api(std::move(command), timeout));
}

BackgroundJob BlockingConnection::bgapi(std::string command,
                                        std::optional<std::chrono::milliseconds> timeout) {
  return run(connection_->bgapi(std::move(command), timeout));
}

std::optional<event::Event> BlockingConnection::next_event(
    std::optional<std::chrono::milliseconds> timeout) {
  return run(connection_->next_event(timeout));
}

std::optional<LogLine> BlockingConnection::next_log(
    std::optional<std::chrono::milliseconds> timeout) {
  return run(connection_->next_log(timeout));
}

std::uint64_t BlockingConnection::dropped_events() {
  return asio::post(io_, asio::use_future([c = connection_] { return c->dropped_events(); })).get();
}

bool BlockingConnection::connected() {
  return asio::post(io_, asio::use_future([c = connection_] { return c->connected(); })).get();
}

void BlockingConnection::close() {
  asio::post(io_, asio::use_future([c = connection_] { c->close(); })).get();
}

}  // namespace eventsocket::client
