#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eventsocket::core {

class CallEngine;

// One `host[:port][/path]` of the socket application's target list.
struct SocketTarget {
  std::string host;
  std::uint16_t port = 0;  // 0: not a usable port
  std::string path;
};

// `socket <host[:port][/path]>[|<alternative>...] [async] [full]` as FreeSWITCH reads it:
// words split at spaces (quotes group), the words after the first compared with `async` and
// `full` ignoring case, other words ignored. The port is what follows the last `:` of an
// alternative (default 8084) and carries over to later alternatives without one.
struct SocketArgs {
  std::vector<SocketTarget> targets;
  bool async = false;
  bool full = false;
};
// nullopt when there is no target at all.
std::optional<SocketArgs> parse_socket_args(std::string_view data);

// Registers the `socket` application (outbound Event Socket).
void register_socket_application(CallEngine& engine);

}  // namespace eventsocket::core
