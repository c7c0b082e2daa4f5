// event_monitor: prints every event the switch fires, one line each (Event-Name and, for
// channel events, Unique-ID), with the coroutine API (client::Connection). Ctrl-C stops it.
//
//   event_monitor [host] [port] [password]      (defaults: 127.0.0.1 8021 ClueCon)

#include <asio.hpp>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "eventsocket/client/connection.hpp"

using eventsocket::client::ClientError;
using eventsocket::client::Connection;
using eventsocket::client::ConnectOptions;

asio::awaitable<void> monitor(ConnectOptions options) {
  const auto executor = co_await asio::this_coro::executor;
  std::shared_ptr<Connection> connection = co_await Connection::connect(executor, options);
  // Ctrl-C closes the connection: next_event() then throws and the loop below ends.
  auto signals = std::make_shared<asio::signal_set>(executor, SIGINT, SIGTERM);
  signals->async_wait([connection, signals](const std::error_code&, int) { connection->close(); });

  const auto reply = co_await connection->command("event plain ALL");
  if (!reply.ok()) {
    std::fprintf(stderr, "event plain ALL: %s\n", reply.text().c_str());
    co_return;
  }
  std::printf("subscribed to every event on %s:%u\n", options.host.c_str(),
              static_cast<unsigned>(options.port));
  try {
    for (;;) {
      // No timeout: wait as long as it takes for the next event.
      const auto event = co_await connection->next_event();
      if (!event) {
        continue;
      }
      const auto uuid = event->header("Unique-ID");
      std::printf("%-28s %s\n", std::string(event->header_or_empty("Event-Name")).c_str(),
                  uuid ? std::string(*uuid).c_str() : "");
      std::fflush(stdout);
    }
  } catch (const ClientError& e) {
    std::printf("stopped: %s\n", e.what());  // Ctrl-C, or the server went away
  }
  signals->cancel();
}

int main(int argc, char** argv) {
  ConnectOptions options;
  options.host = argc > 1 ? argv[1] : "127.0.0.1";
  options.port = static_cast<std::uint16_t>(argc > 2 ? std::atoi(argv[2]) : 8021);
  options.password = argc > 3 ? argv[3] : "ClueCon";

  asio::io_context io;
  int status = 0;
  asio::co_spawn(io, monitor(options), [&status](std::exception_ptr error) {
    try {
      if (error) {
        std::rethrow_exception(error);
      }
    } catch (const std::exception& e) {  // could not connect or authenticate
      std::fprintf(stderr, "event_monitor: %s\n", e.what());
      status = 1;
    }
  });
  io.run();
  return status;
}
