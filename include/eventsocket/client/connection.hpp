#pragma once

// The Event Socket client: one connection to eventsocketd or FreeSWITCH, driven by Asio
// C++20 coroutines, over the socket-free state machine of protocol.hpp. Replies are matched
// to commands in order; `bgapi` registers its Job-UUID before sending so its BACKGROUND_JOB
// can never be missed; events are decoded (plain, json or xml) into a bounded queue that
// reports what it had to drop; an optional reconnect policy restores subscriptions.

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

#include "eventsocket/client/protocol.hpp"
#include "eventsocket/event/event.hpp"

namespace eventsocket::client {

class Connection;

// What to do when an established connection is lost. Off by default: the connection then
// stays closed and every call fails with ClientError.
struct ReconnectPolicy {
  bool enabled = false;
  std::chrono::milliseconds initial_delay{100};  // before the first attempt
  std::chrono::milliseconds max_delay{10000};    // the backoff stops growing here
  double multiplier = 2.0;
  double jitter = 0.1;        // +- this fraction of each delay, so clients do not stampede
  unsigned max_attempts = 0;  // in a row; 0: never give up
  // Runs on the connection's executor once a reconnect has authenticated and restored the
  // subscriptions, filters, myevents, divert_events, log level and linger (each once). Events
  // of the time in between are lost: this is where the program rebuilds its state. It must
  // not block (with BlockingConnection: it runs on the I/O thread).
  std::function<void(Connection&)> on_resync;
};

struct ConnectOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8021;
  std::string password = "ClueCon";
  std::string user;                         // "user@domain": userauth instead of auth
  std::chrono::milliseconds timeout{5000};  // connecting and authenticating; commands' default
  std::size_t max_queued_events = 10000;    // beyond this, events are dropped and counted
  ReconnectPolicy reconnect;
};

// Every awaitable here takes a deadline (`timeout`, default ConnectOptions::timeout) and can
// be cancelled the Asio way (bind a cancellation slot when co_spawning it, or race it with
// `||`): it then throws ClientError, and a reply still on its way is read and dropped, so the
// next command gets its own. A connection belongs to one thread at a time: use a
// single-threaded io_context or a strand as its executor.
//
// Events are delivered in the order the server sent them, so each channel's events (by
// Unique-ID) keep their order; nothing runs a thread per event.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // Connects and authenticates; throws ClientError on failure.
  static asio::awaitable<std::shared_ptr<Connection>> connect(asio::any_io_executor executor,
                                                              ConnectOptions options);
  // A connection the switch made to us (outbound mode, see OutboundServer): no greeting, no
  // authentication, no reconnecting; reading starts at once.
  static std::shared_ptr<Connection> adopt(asio::ip::tcp::socket socket, ConnectOptions options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  using Timeout = std::optional<std::chrono::milliseconds>;

  // Sends one command (headers and body optional) and returns its reply, whatever it says.
  // A CR or LF inside the command line or a header is refused (ClientError) before anything
  // is written. Commands that change what the server sends (event, filter, myevents, log,
  // linger, ...) are remembered when they succeed, for a reconnect.
  asio::awaitable<Reply> command(std::string command, Headers headers = {}, std::string body = {},
                                 Timeout timeout = {});
  // `api <command>`: the response body.
  asio::awaitable<std::string> api(std::string command, Timeout timeout = {});
  // `bgapi <command>`: waits for its BACKGROUND_JOB (subscribed on first use, in the format of
  // the connection's other subscriptions).
  asio::awaitable<BackgroundJob> bgapi(std::string command, Timeout timeout = {});

  // The commands below throw ClientError when the server refuses (the reply's text says why).
  // `event <format> <names>`: format "plain", "json" or "xml"; names as FreeSWITCH takes them
  // ("CHANNEL_ANSWER CUSTOM sofia::register", "ALL").
  asio::awaitable<Reply> events(std::string format, std::string names, Timeout timeout = {});
  asio::awaitable<Reply> nixevent(std::string names, Timeout timeout = {});
  asio::awaitable<Reply> noevents(Timeout timeout = {});
  asio::awaitable<Reply> filter(std::string header, std::string value, Timeout timeout = {});
  // `filter delete <header> [<value>]`; header "all" removes every filter.
  asio::awaitable<Reply> filter_delete(std::string header, std::string value = {},
                                       Timeout timeout = {});
  // `myevents [<uuid>]` (inbound: the uuid is required) with an optional format.
  asio::awaitable<Reply> myevents(std::string uuid = {}, std::string format = {},
                                  Timeout timeout = {});
  asio::awaitable<Reply> divert_events(bool on, Timeout timeout = {});
  // `sendevent <name>` with the event's headers and body; the reply's text is "+OK <uuid>".
  asio::awaitable<Reply> sendevent(std::string name, Headers headers, std::string body = {},
                                   Timeout timeout = {});
  // `sendmsg [<uuid>]` with its headers (call-command, ...) and body.
  asio::awaitable<Reply> sendmsg(std::string uuid, Headers headers, std::string body = {},
                                 Timeout timeout = {});
  // sendmsg hangup of channel `uuid` (empty: the bound channel, outbound).
  asio::awaitable<Reply> hangup(std::string cause = "NORMAL_CLEARING", std::string uuid = {},
                                Timeout timeout = {});
  // `log <level>` ("debug", "info", a number 0-7) and `nolog`.
  asio::awaitable<Reply> log(std::string level, Timeout timeout = {});
  asio::awaitable<Reply> nolog(Timeout timeout = {});
  // `linger [<seconds>]` and `nolinger`.
  asio::awaitable<Reply> linger(std::optional<int> seconds = {}, Timeout timeout = {});
  asio::awaitable<Reply> nolinger(Timeout timeout = {});

  // Outbound: sends `connect` and returns the channel data it answers with, decoded.
  asio::awaitable<event::Event> channel_data(Timeout timeout = {});
  // sendmsg execute of `application` on channel `uuid` (empty: the bound channel, outbound)
  // with a fresh Event-UUID; completes with the application's CHANNEL_EXECUTE_COMPLETE
  // (matched by its Application-UUID), so the connection must receive that event
  // (`myevents`, or `event ... CHANNEL_EXECUTE_COMPLETE`). The timeout covers the whole run.
  asio::awaitable<event::Event> execute(std::string application, std::string argument = {},
                                        std::string uuid = {}, Timeout timeout = {});

  // The next event, in arrival order; nullopt when the timeout passes first. Throws
  // ClientError once the connection is closed (and not reconnecting) and the queue is empty.
  asio::awaitable<std::optional<event::Event>> next_event(Timeout timeout = {});
  // The next log line (queued like events, with the same bound); nullopt on timeout.
  asio::awaitable<std::optional<LogLine>> next_log(Timeout timeout = {});

  // Events dropped because the queue was full.
  std::uint64_t dropped_events() const;
  bool connected() const;
  // Lost and trying again (ReconnectPolicy).
  bool reconnecting() const;
  // Successful reconnects so far.
  std::uint64_t reconnects() const;
  // The socket's descriptor, -1 when closed.
  int native_handle() const;
  // Closes the socket and stops reconnecting; commands in flight fail with ClientError.
  void close();

  struct State;

 private:
  explicit Connection(asio::any_io_executor executor, ConnectOptions options);
  asio::awaitable<Reply> checked(std::string command, Headers headers, std::string body,
                                 Timeout timeout);
  asio::awaitable<Reply> checked_line(std::string command, Timeout timeout);
  std::shared_ptr<State> state_;
};

// The program's side of one call in outbound mode: the switch's `socket` application
// connected to an OutboundServer. A thin layer over Connection with the outbound verbs.
class OutboundSession {
 public:
  explicit OutboundSession(std::shared_ptr<Connection> connection);

  // `connect`: the channel's data (also kept, see channel()). Always the first command.
  asio::awaitable<event::Event> connect(Connection::Timeout timeout = {});
  const event::Event& channel() const { return channel_; }
  // The channel's Unique-ID (after connect).
  std::string uuid() const;
  // `myevents [format]`: this channel's events to this connection.
  asio::awaitable<Reply> myevents(std::string format = {}, Connection::Timeout timeout = {});
  asio::awaitable<Reply> linger(std::optional<int> seconds = {}, Connection::Timeout timeout = {});
  // Runs an application on the channel and waits for its CHANNEL_EXECUTE_COMPLETE (needs
  // myevents first).
  asio::awaitable<event::Event> execute(std::string application, std::string argument = {},
                                        Connection::Timeout timeout = {});
  asio::awaitable<Reply> hangup(std::string cause = "NORMAL_CLEARING",
                                Connection::Timeout timeout = {});
  // `resume`: the dialplan goes on when this session ends.
  asio::awaitable<Reply> resume(Connection::Timeout timeout = {});
  // `getvar <name>`: the channel variable, nullopt when unset.
  asio::awaitable<std::optional<std::string>> getvar(std::string name,
                                                     Connection::Timeout timeout = {});
  // `exit`: the switch ends the session (and the dialplan goes on if resumed).
  asio::awaitable<Reply> exit(Connection::Timeout timeout = {});

  Connection& connection() { return *connection_; }

 private:
  std::shared_ptr<Connection> connection_;
  event::Event channel_;
};

// Outbound mode: the switch's `socket` application connects here, and `handler` runs as a
// coroutine for each call with its OutboundSession: connect() first, then myevents, linger,
// execute, ...
class OutboundServer {
 public:
  using Handler = std::function<asio::awaitable<void>(std::shared_ptr<OutboundSession>)>;
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

}  // namespace eventsocket::client
