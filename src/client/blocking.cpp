#include "eventsocket/client/blocking.hpp"

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/use_future.hpp>

#include <sys/socket.h>

#include "eventsocket/wire/message.hpp"
#include "eventsocket/wire/parser.hpp"

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

// -----------------------------------------------------------------------------------------
// For the libesl-compatible ESLconnection (esl_oop.hpp): see the header.

namespace {

constexpr auto as_tuple_awaitable = asio::experimental::as_tuple(asio::use_awaitable);

// Connects and reads the greeting here, then lets Connection::adopt authenticate. Safe
// because the server sends nothing after `auth/request` until it has read `auth`: every
// byte read here belongs to the greeting, none to the Connection.
asio::awaitable<std::shared_ptr<Connection>> connect_and_adopt(asio::any_io_executor executor,
                                                               ConnectOptions options,
                                                               int& native_handle) {
  using namespace asio::experimental::awaitable_operators;
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  const std::string where = options.host + ":" + std::to_string(options.port);
  asio::ip::tcp::resolver resolver(executor);
  auto [rec, endpoints] = co_await resolver.async_resolve(
      options.host, std::to_string(options.port), as_tuple_awaitable);
  if (rec) {
    throw ClientError("cannot resolve " + options.host + ": " + rec.message());
  }
  asio::ip::tcp::socket socket(executor);
  asio::steady_timer timer(executor);
  timer.expires_at(deadline);
  auto connected = co_await (asio::async_connect(socket, endpoints, as_tuple_awaitable) ||
                             timer.async_wait(as_tuple_awaitable));
  if (connected.index() == 1) {
    throw ClientError("cannot connect to " + where + ": timed out");
  }
  if (auto [ec, ep] = std::get<0>(connected); ec) {
    throw ClientError("cannot connect to " + where + ": " + ec.message());
  }
  wire::Parser parser(wire::Direction::packet);
  std::vector<char> buffer(4096);
  wire::MessageView greeting;
  while (parser.next(greeting) == wire::errc::need_more) {
    timer.expires_at(deadline);
    auto read = co_await (socket.async_read_some(asio::buffer(buffer), as_tuple_awaitable) ||
                          timer.async_wait(as_tuple_awaitable));
    if (read.index() == 1) {
      throw ClientError("waiting for the greeting: no answer within " +
                        std::to_string(options.timeout.count()) + " ms");
    }
    auto [ec, n] = std::get<0>(read);
    if (ec) {
      throw ClientError("waiting for the greeting: " + ec.message());
    }
    parser.feed(std::string_view(buffer.data(), n));
  }
  if (!wire::iequals(greeting.header("Content-Type").value_or(""), "auth/request") ||
      parser.buffered_bytes() != 0) {
    throw ClientError("the server at " + where + " did not ask for authentication");
  }
  native_handle = socket.native_handle();
  std::shared_ptr<Connection> c = Connection::adopt(std::move(socket), options);
  const std::string login = options.user.empty()
                                ? "auth " + options.password
                                : "userauth " + options.user + ":" + options.password;
  const auto left =
      std::max(std::chrono::milliseconds(1), std::chrono::duration_cast<std::chrono::milliseconds>(
                                                 deadline - std::chrono::steady_clock::now()));
  const Reply r = co_await c->command(login, {}, {}, left);
  if (r.text() != "+OK accepted") {
    c->close();
    throw ClientError("authentication refused: " + r.text());
  }
  co_return c;
}

}  // namespace

BlockingConnection::BlockingConnection(NotConnected) {
  work_.emplace(io_.get_executor());
  thread_ = std::thread([this] { io_.run(); });
}

std::unique_ptr<BlockingConnection> BlockingConnection::connect_keeping_handle(
    ConnectOptions options) {
  std::unique_ptr<BlockingConnection> b(new BlockingConnection(NotConnected{}));
  int handle = -1;
  b->connection_ = b->run(connect_and_adopt(b->io_.get_executor(), std::move(options), handle));
  b->native_handle_ = handle;
  return b;
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
  b->connection_ = asio::post(b->io_, asio::use_future([&] {
                                asio::ip::tcp::socket socket(b->io_);
                                std::error_code ec;
                                socket.assign(local.ss_family == AF_INET6 ? asio::ip::tcp::v6()
                                                                          : asio::ip::tcp::v4(),
                                              native_socket, ec);
                                if (ec) {
                                  throw ClientError("adopt: " + ec.message());
                                }
                                return Connection::adopt(std::move(socket), options);
                              }))
                       .get();
  b->native_handle_ = native_socket;
  return b;
}

event::Event BlockingConnection::channel_data(std::optional<std::chrono::milliseconds> timeout) {
  return run(connection_->channel_data(timeout));
}

std::future<Reply> BlockingConnection::command_async(
    std::string command, std::vector<std::pair<std::string, std::string>> headers, std::string body,
    std::optional<std::chrono::milliseconds> timeout) {
  // co_spawn posts in call order to the one I/O thread, so commands are written in order.
  return asio::co_spawn(
      io_, connection_->command(std::move(command), std::move(headers), std::move(body), timeout),
      asio::use_future);
}

}  // namespace eventsocket::client
