#pragma once

// A blocking facade over client::Connection for programs that are not asynchronous: it runs
// its own I/O thread, and every call waits for its result (or throws ClientError). The
// methods are Connection's, with the same meaning.

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
  using Timeout = Connection::Timeout;

  // Connects and authenticates; throws ClientError. A reconnect policy's on_resync runs on
  // the I/O thread: it must not call this object's blocking methods.
  explicit BlockingConnection(ConnectOptions options);
  // Outbound: takes over `native_socket`, a connected TCP socket that the switch's `socket`
  // application opened to this program. On success the descriptor belongs to the connection
  // (closed with it); on failure (ClientError) it is left to the caller. Nothing is sent:
  // channel_data() sends `connect`.
  static std::unique_ptr<BlockingConnection> adopt(int native_socket, ConnectOptions options);
  ~BlockingConnection();
  BlockingConnection(const BlockingConnection&) = delete;
  BlockingConnection& operator=(const BlockingConnection&) = delete;

  Reply command(std::string command, Headers headers = {}, std::string body = {},
                Timeout timeout = {});
  // Sends the command now, in order with every other command, without waiting: the future
  // holds the reply (or the ClientError) once it comes.
  std::future<Reply> command_async(std::string command, Headers headers = {}, std::string body = {},
                                   Timeout timeout = {});
  std::string api(std::string command, Timeout timeout = {});
  BackgroundJob bgapi(std::string command, Timeout timeout = {});

  Reply events(std::string format, std::string names, Timeout timeout = {});
  Reply nixevent(std::string names, Timeout timeout = {});
  Reply noevents(Timeout timeout = {});
  Reply filter(std::string header, std::string value, Timeout timeout = {});
  Reply filter_delete(std::string header, std::string value = {}, Timeout timeout = {});
  Reply myevents(std::string uuid = {}, std::string format = {}, Timeout timeout = {});
  Reply divert_events(bool on, Timeout timeout = {});
  Reply sendevent(std::string name, Headers headers, std::string body = {}, Timeout timeout = {});
  Reply sendmsg(std::string uuid, Headers headers, std::string body = {}, Timeout timeout = {});
  Reply hangup(std::string cause = "NORMAL_CLEARING", std::string uuid = {}, Timeout timeout = {});
  Reply log(std::string level, Timeout timeout = {});
  Reply nolog(Timeout timeout = {});
  Reply linger(std::optional<int> seconds = {}, Timeout timeout = {});
  Reply nolinger(Timeout timeout = {});
  event::Event execute(std::string application, std::string argument = {}, std::string uuid = {},
                       Timeout timeout = {});
  // Outbound: `connect`, answered with the channel's data.
  event::Event channel_data(Timeout timeout = {});

  std::optional<event::Event> next_event(Timeout timeout = {});
  std::optional<LogLine> next_log(Timeout timeout = {});
  std::uint64_t dropped_events();
  bool connected();
  bool reconnecting();
  std::uint64_t reconnects();
  // The socket's descriptor (-1 when closed): for identification, never to read from.
  int native_handle();
  void close();

 private:
  struct NotConnected {};
  // Starts the I/O thread only (adopt() makes the connection).
  explicit BlockingConnection(NotConnected);
  template <typename Op>
  auto run(Op op);
  template <typename F>
  auto on_io_thread(F f);

  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
  std::shared_ptr<Connection> connection_;
};

}  // namespace eventsocket::client
