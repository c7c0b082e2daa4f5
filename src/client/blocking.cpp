#include "eventsocket/client/blocking.hpp"

#include <asio.hpp>
#include <asio/use_future.hpp>

#include <sys/socket.h>

namespace eventsocket::client {

template <typename Op>
auto BlockingConnection::run(Op op) {
  // Everything happens on the one I/O thread; this thread only waits for the result.
  return asio::co_spawn(io_, std::move(op), asio::use_future).get();
}

template <typename F>
auto BlockingConnection::on_io_thread(F f) {
  return asio::post(io_, asio::use_future(std::move(f))).get();
}

BlockingConnection::BlockingConnection(NotConnected) {
  work_.emplace(io_.get_executor());
  thread_ = std::thread([this] { io_.run(); });
}

BlockingConnection::BlockingConnection(ConnectOptions options)
    : BlockingConnection(NotConnected{}) {
  // If this throws, the destructor runs (the delegated constructor completed) and stops the
  // I/O thread.
  connection_ = run(Connection::connect(io_.get_executor(), std::move(options)));
}

std::unique_ptr<BlockingConnection> BlockingConnection::adopt(int native_socket,
                                                              ConnectOptions options) {
  sockaddr_storage local{};
  socklen_t size = sizeof local;
  if (::getsockname(native_socket, reinterpret_cast<sockaddr*>(&local), &size) != 0 ||
      (local.ss_family != AF_INET && local.ss_family != AF_INET6)) {
    throw ClientError("adopt: descriptor " + std::to_string(native_socket) +
                      " is not a TCP/IP socket");
  }
  std::unique_ptr<BlockingConnection> b(new BlockingConnection(NotConnected{}));
  // Made on the I/O thread, where everything of the connection happens.
  b->connection_ = b->on_io_thread([&] {
    asio::ip::tcp::socket socket(b->io_);
    std::error_code ec;
    socket.assign(local.ss_family == AF_INET6 ? asio::ip::tcp::v6() : asio::ip::tcp::v4(),
                  native_socket, ec);
    if (ec) {
      throw ClientError("adopt: " + ec.message());
    }
    return Connection::adopt(std::move(socket), options);
  });
  return b;
}

BlockingConnection::~BlockingConnection() {
  if (connection_) {
    on_io_thread([c = connection_] { c->close(); });
  }
  work_.reset();
  io_.stop();
  thread_.join();
}

Reply BlockingConnection::command(std::string command, Headers headers, std::string body,
                                  Timeout timeout) {
  return run(
      connection_->command(std::move(command), std::move(headers), std::move(body), timeout));
}

std::future<Reply> BlockingConnection::command_async(std::string command, Headers headers,
                                                     std::string body, Timeout timeout) {
  // co_spawn posts in call order to the one I/O thread, so commands are written in order.
  return asio::co_spawn(
      io_, connection_->command(std::move(command), std::move(headers), std::move(body), timeout),
      asio::use_future);
}

std::string BlockingConnection::api(std::string command, Timeout timeout) {
  return run(connection_->api(std::move(command), timeout));
}

BackgroundJob BlockingConnection::bgapi(std::string command, Timeout timeout) {
  return run(connection_->bgapi(std::move(command), timeout));
}

Reply BlockingConnection::events(std::string format, std::string names, Timeout timeout) {
  return run(connection_->events(std::move(format), std::move(names), timeout));
}

Reply BlockingConnection::nixevent(std::string names, Timeout timeout) {
  return run(connection_->nixevent(std::move(names), timeout));
}

Reply BlockingConnection::noevents(Timeout timeout) {
  return run(connection_->noevents(timeout));
}

Reply BlockingConnection::filter(std::string header, std::string value, Timeout timeout) {
  return run(connection_->filter(std::move(header), std::move(value), timeout));
}

Reply BlockingConnection::filter_delete(std::string header, std::string value, Timeout timeout) {
  return run(connection_->filter_delete(std::move(header), std::move(value), timeout));
}

Reply BlockingConnection::myevents(std::string uuid, std::string format, Timeout timeout) {
  return run(connection_->myevents(std::move(uuid), std::move(format), timeout));
}

Reply BlockingConnection::divert_events(bool on, Timeout timeout) {
  return run(connection_->divert_events(on, timeout));
}

Reply BlockingConnection::sendevent(std::string name, Headers headers, std::string body,
                                    Timeout timeout) {
  return run(connection_->sendevent(std::move(name), std::move(headers), std::move(body), timeout));
}

Reply BlockingConnection::sendmsg(std::string uuid, Headers headers, std::string body,
                                  Timeout timeout) {
  return run(connection_->sendmsg(std::move(uuid), std::move(headers), std::move(body), timeout));
}

Reply BlockingConnection::hangup(std::string cause, std::string uuid, Timeout timeout) {
  return run(connection_->hangup(std::move(cause), std::move(uuid), timeout));
}

Reply BlockingConnection::log(std::string level, Timeout timeout) {
  return run(connection_->log(std::move(level), timeout));
}

Reply BlockingConnection::nolog(Timeout timeout) {
  return run(connection_->nolog(timeout));
}

Reply BlockingConnection::linger(std::optional<int> seconds, Timeout timeout) {
  return run(connection_->linger(seconds, timeout));
}

Reply BlockingConnection::nolinger(Timeout timeout) {
  return run(connection_->nolinger(timeout));
}

event::Event BlockingConnection::execute(std::string application, std::string argument,
                                         std::string uuid, Timeout timeout) {
  return run(
      connection_->execute(std::move(application), std::move(argument), std::move(uuid), timeout));
}

event::Event BlockingConnection::channel_data(Timeout timeout) {
  return run(connection_->channel_data(timeout));
}

std::optional<event::Event> BlockingConnection::next_event(Timeout timeout) {
  return run(connection_->next_event(timeout));
}

std::optional<LogLine> BlockingConnection::next_log(Timeout timeout) {
  return run(connection_->next_log(timeout));
}

std::uint64_t BlockingConnection::dropped_events() {
  return on_io_thread([c = connection_] { return c->dropped_events(); });
}

bool BlockingConnection::connected() {
  return on_io_thread([c = connection_] { return c->connected(); });
}

bool BlockingConnection::reconnecting() {
  return on_io_thread([c = connection_] { return c->reconnecting(); });
}

std::uint64_t BlockingConnection::reconnects() {
  return on_io_thread([c = connection_] { return c->reconnects(); });
}

int BlockingConnection::native_handle() {
  return on_io_thread([c = connection_] { return c->native_handle(); });
}

void BlockingConnection::close() {
  on_io_thread([c = connection_] { c->close(); });
}

}  // namespace eventsocket::client
