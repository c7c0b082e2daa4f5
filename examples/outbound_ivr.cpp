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
#include <string>
#include <utility>
#include <vector>

#include "eventsocket/client/connection.hpp"

using eventsocket::client::ClientError;
using eventsocket::client::Connection;
using eventsocket::client::OutboundServer;

// One call. Runs as its own coroutine: many calls can be in progress at once.
asio::awaitable<void> handle_call(std::shared_ptr<Connection> call) {
  try {
    // `connect`: the first command of an outbound session, answered with the channel's data.
    const auto data = co_await call->channel_data();
    const std::string uuid(data.header_or_empty("Unique-ID"));
    std::printf("call %s from %s\n", uuid.c_str(),
                std::string(data.header_or_empty("Caller-Caller-ID-Number")).c_str());

    // This channel's events (execute() waits for each application's EXECUTE_COMPLETE).
    co_await call->command("myevents");
    co_await call->execute("answer");
    const auto played = co_await call->execute("playback", "silence_stream://500");
    std::printf("call %s: playback %s\n", uuid.c_str(),
                std::string(played.header_or_empty("Application-Response")).c_str());

    // Hang up with sendmsg. The headers are a named vector: GCC 12 cannot keep a
    // braced list alive across co_await.
    std::vector<std::pair<std::string, std::string>> hangup;
    hangup.emplace_back("call-command", "hangup");
    hangup.emplace_back("hangup-cause", "NORMAL_CLEARING");
    co_await call->command("sendmsg", std::move(hangup));
    std::printf("call %s: hung up\n", uuid.c_str());
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
