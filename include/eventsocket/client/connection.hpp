#pragma once

// The inbound Event Socket client: one connection to eventsocketd or FreeSWITCH, driven by
// Asio C++20 coroutines. Replies are matched to commands in order; `bgapi` registers its
// Job-UUID before sending so its BACKGROUND_JOB can never be missed; events are decoded
// (plain, json or xml) into a bounded queue that reports what it had to drop.

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eventsocket/event/event.hpp"

namespace eventsocket::client {

// Every failure of the client: refused input, connection lost, authentication refused,
// a deadline passed.
class ClientError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ConnectOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8021;
  std::string password = "ClueCon";
  std::string user;                         // "user@domain": userauth instead of auth
  std::chrono::milliseconds timeout{5000};  // connecting and authenticating; commands' default
  std::size_t max_queued_events = 10000;    // beyond this, events are dropped and counted
};

// What the server answered a command with.
struct Reply {
  std::string content_type;  // "command/reply" or "api/response"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // Reply-Text of a command/reply ("" for api/response).
  std::string text() const;
  std::optional<std::string> header(std::string_view name) const;
  // "+OK ..." (command/reply) or a body that does not start with "-ERR" (api/response).
  bool ok() const;
};

// The result of `bgapi`: the BACKGROUND_JOB event of its Job-UUID.
struct BackgroundJob {
  std::string job_uuid;
  std::string body;  // the command's output
  event::Event event;
};

// One `log/data` packet (after `log <level>`).
struct LogLine {
  int level = 7;  // 0 console ... 7 debug
  std::string file;
  std::string function;
  int line = 0;
  std::string user_data;  // the channel's uuid when the line is about one
  std::string text;
};

// Sent down the event queue, as a CUSTOM event of subclass `eventsocket::gap`, where events
// had to be dropped: header `Dropped-Events` says how many. Never silent loss.
inline constexpr std::string_view kGapSubclass = "eventsocket::gap";

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // Connects and authenticates; throws ClientError on failure. The connection works on
  // `executor` (wrapped in a strand: the caller's io_context may have several threads).
  static asio::awaitable<std::shared_ptr<Connection>> connect(asio::any_io_executor executor,
                                                              ConnectOptions options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends one command (headers and body optional) and returns its reply. A CR or LF inside
  // the command line or a header is refused (ClientError) before anything is written.
  asio::awaitable<Reply> command(std::string command,
                                 std::vector<std::pair<std::string, std::string>> headers = {},
                                 std::string body = {},
                                 std::optional<std::chrono::milliseconds> timeout = {});
  // `api <command>`: the response body.
  asio::awaitable<std::string> api(std::string command,
                                   std::optional<std::chrono::milliseconds> timeout = {});
  // `bgapi <command>`: waits for its BACKGROUND_JOB (subscribed on first use).
  asio::awaitable<BackgroundJob> bgapi(std::string command,
                                       std::optional<std::chrono::milliseconds> timeout = {});
  // Outbound: sends `connect` and returns the channel data it answers with, decoded.
  asio::awaitable<event::Event> channel_data(std::optional<std::chrono::milliseconds> timeout = {});
  // sendmsg execute of `application` on channel `uuid` (empty: the bound channel, outbound)
  // with a fresh Event-UUID; completes with the application's CHANNEL_EXECUTE_COMPLETE
  // (matched by its Application-UUID), so the connection must receive that event
  // (`myevents`, or `event ... CHANNEL_EXECUTE_COMPLETE`). The timeout covers the whole run.
  asio::awaitable<event::Event> execute(std::string application, std::string argument = {},
                                        std::string uuid = {},
                                        std::optional<std::chrono::milliseconds> timeout = {});
  // The next event, in arrival order; nullopt when the timeout passes first. Throws
  // ClientError once the connection is closed and the queue is empty.
  asio::awaitable<std::optional<event::Event>> next_event(
      std::optional<std::chrono::milliseconds> timeout = {});

  // A connection the switch made to us (outbound mode, see OutboundServer): no greeting, no
  // authentication; reading starts at once.
  static std::shared_ptr<Connection> adopt(asio::ip::tcp::socket socket, ConnectOptions options);

  // The next log line (queued like events, with the same bound); nullopt on timeout.
  asio::awaitable<std::optional<LogLine>> next_log(
      std::optional<std::chrono::milliseconds> timeout = {});

  // Events dropped because the queue was full.
  std::uint64_t dropped_events() const;
  bool connected() const;
  // Closes the socket; commands in flight fail with ClientError.
  void close();

  struct State;

 private:
  explicit Connection(asio::any_io_executor executor, ConnectOptions options);
  std::shared_ptr<State> state_;
};

// Outbound mode: the switch's `socket` application connects here, and `handler` runs as a
// coroutine for each call with its Connection: channel_data() (`connect`) first, then
// `myevents`, `linger`, execute, ... as on any connection.
class OutboundServer {
 public:
  using Handler = std::function<asio::awaitable<void>(std::shared_ptr<Connection>)>;
  // Listens on host:port (port 0: a free port) and starts accepting. Throws ClientError.
  OutboundServer(asio::any_io_executor executor, std::string host, std::uint16_t port,
                 Handler handler, ConnectOptions options = {});
  ~OutboundServer();
  OutboundServer(const OutboundServer&) = delete;
  OutboundServer& operator=(const OutboundServer&) = delete;

  std::uint16_t port() const;
  void close();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

// True when `text` may be written as one line of a command (no CR, no LF).
bool is_single_line(std::string_view text) noexcept;

}  // namespace eventsocket::client
