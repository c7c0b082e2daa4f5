// outbound_ivr: the program side of outbound mode. The switch's `socket` application
// connects to it for each call; here each call is answered, hears half a second of silence
// and is hung up. Use it with a dialplan action such as
//
//   <action application="socket" data="127.0.0.1:8084 async full"/>
//
// or, from any Event Socket client:
//
//   api originate null/1000 '&socket(127.0.0.1:8084 async full)'
//
//   outbound_ivr [listen address] [port]      (defaults: 127.0.0.1 8084). Ctrl-C stops it.

#include <asio.hpp>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "eventsocket/client/connection.hpp"

using eventsocket::client::ClientError;
using eventsocket::client::OutboundServer;
using eventsocket::client::OutboundSession;

// One call. Runs as its own coroutine: many calls can be in progress at once.
asio::awaitable<void> handle_call(std::shared_ptr<OutboundSession> call) {
  try {
    // `connect`: the first command of an outbound session, answered with the channel's data.
    const auto data = co_await call->connect();
    std::printf("call %s from %s\n", call->uuid().c_str(),
                std::string(data.caller_id_number()).c_str());

    // This channel's events (execute() waits for each application's EXECUTE_COMPLETE).
    co_await call->myevents();
    co_await call->execute("answer");
    const auto played = co_await call->execute("playback", "silence_stream://500");
    std::printf("call %s: playback %s\n", call->uuid().c_str(),
                std::string(played.application_response()).c_str());

    co_await call->hangup("NORMAL_CLEARING");
    std::printf("call %s: hung up\n", call->uuid().c_str());
  } catch (const ClientError& e) {  // the caller hung up first, or the switch went away
    std::printf("call ended: %s\n", e.what());
  }
}

int main(int argc, char** argv) {
  const std::string address = argc > 1 ? argv[1] : "127.0.0.1";
  const auto port = static_cast<std::uint16_t>(argc > 2 ? std::atoi(argv[2]) : 8084);
  asio::io_context io;
  try {
    OutboundServer server(io.get_executor(), address, port, handle_call);
    std::printf("waiting for calls on %s:%u\n", address.c_str(),
                static_cast<unsigned>(server.port()));
    std::fflush(stdout);
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const std::error_code&, int) { io.stop(); });
    io.run();
  } catch (const ClientError& e) {  // e.g. the port is taken
    std::fprintf(stderr, "outbound_ivr: %s\n", e.what());
    return 1;
  }
  return 0;
}
