#include "eventsocket/core/socket_application.hpp"

#include <charconv>

#include "eventsocket/core/calls.hpp"
#include "eventsocket/core/dial_string.hpp"
#include "eventsocket/core/log.hpp"
#include "eventsocket/core/switch.hpp"
#include "eventsocket/wire/message.hpp"

namespace eventsocket::core {
namespace {

constexpr std::uint16_t kDefaultPort = 8084;
// FreeSWITCH's async socket application polls for `connect` at its timer's tick, so
// CHANNEL_PARK comes a moment after the connect reply (captures 20 and 21 show it after the
// program's next few commands). The same settling time keeps that order here.
constexpr std::chrono::milliseconds kParkSettle{20};
constexpr std::chrono::seconds kConnectTimeout{10};

void log_error(CallContext& call, int line, const std::string& text) {
  call.core().logger().log(LogLevel::err, "mod_event_socket.c", "socket_function", line, text,
                           call.uuid());
}

// The socket application on one channel.
void socket_application(CallContext& call, std::string_view data) {
  const std::optional<SocketArgs> args = parse_socket_args(data);
  if (!args) {
    log_error(call, 380, "Bad Args!");
    return;
  }
  CallEngine& engine = call.engine();
  const CallEngine::SocketConnector connect = engine.socket_connector();
  if (!connect) {
    log_error(call, 380, "Socket Error! (no Event Socket server runs in this process)");
    return;
  }
  const ChannelPtr& channel = call.channel();
  bool connected = false;
  for (const SocketTarget& target : args->targets) {
    call.set_variable("socket_host", target.host);
    if (!target.path.empty()) {
      call.set_variable("socket_path", target.path);
    }
    if (target.port == 0 || target.host.empty()) {
      log_error(call, 413, "Socket Error! Invalid address " + target.host);
      continue;
    }
    channel->control([&](Channel::Control& c, ChannelData&) {
      c.socket = Channel::SocketLink{};
      c.socket.in_application = true;
      c.socket.static_mode = !args->async;
      return 0;
    });
    connect({channel, target.host, target.port, args->async, args->full});
    const bool done = channel->wait_until(std::chrono::steady_clock::now() + kConnectTimeout,
                                          [](const Channel::Control& c, const ChannelData&) {
                                            return c.socket.connect_done || c.hangup;
                                          });
    channel->control([&](Channel::Control& c, ChannelData&) {
      connected = done && c.socket.connect_ok && !c.hangup;
      if (!connected) {
        c.socket.in_application = false;  // a late connection is refused
      }
      return 0;
    });
    if (connected) {
      break;
    }
    if (!call.ready()) {
      return;
    }
    log_error(
        call, 413,
        "Socket Error! Could not connect to " + target.host + ":" + std::to_string(target.port));
  }
  if (!connected) {
    return;  // the dialplan goes on
  }
  if (args->async) {
    // The program drives the call from its own side; the channel parks once it has said
    // `connect`, running what is queued until the session ends.
    channel->wait([](const Channel::Control& c, const ChannelData&) {
      return c.socket.connected || c.socket.ended || c.hangup || c.leave;
    });
    channel->wait_until(std::chrono::steady_clock::now() + kParkSettle,
                        [](const Channel::Control& c, const ChannelData&) {
                          return c.socket.ended || c.hangup || c.leave;
                        });
    if (call.ready()) {
      engine.park_here(channel);
    }
  } else {
    // Static: the session's sendmsg messages run here, one at a time, each answered when done.
    for (;;) {
      std::optional<std::pair<Channel::QueuedApplication, std::function<void()>>> next;
      bool over = false;
      channel->wait([](const Channel::Control& c, const ChannelData&) {
        return !c.socket.inline_messages.empty() || c.socket.ended || c.hangup || c.leave;
      });
      channel->control([&](Channel::Control& c, ChannelData&) {
        if (!c.socket.inline_messages.empty()) {
          next = std::move(c.socket.inline_messages.front());
          c.socket.inline_messages.pop_front();
        } else {
          over = true;
        }
        return 0;
      });
      if (over) {
        break;
      }
      engine.run_message(channel, next->first, false);
      if (next->second) {
        next->second();
      }
    }
  }
  // Messages still waiting for an inline run are answered: the session must not hang.
  std::deque<std::pair<Channel::QueuedApplication, std::function<void()>>> orphans;
  channel->control([&](Channel::Control& c, ChannelData&) {
    c.socket.in_application = false;
    orphans.swap(c.socket.inline_messages);
    return 0;
  });
  for (auto& [message, done] : orphans) {
    if (done) {
      done();
    }
  }
}

}  // namespace

std::optional<SocketArgs> parse_socket_args(std::string_view data) {
  const std::vector<std::string> words = split_api_args(data);
  if (words.empty() || words.front().empty()) {
    return std::nullopt;
  }
  SocketArgs args;
  for (std::size_t i = 1; i < words.size(); ++i) {
    if (wire::iequals(words[i], "async")) {
      args.async = true;
    } else if (wire::iequals(words[i], "full")) {
      args.full = true;
    }
  }
  std::uint16_t port = kDefaultPort;
  std::string_view list = words.front();
  while (true) {
    const std::size_t bar = list.find('|');
    std::string_view item = list.substr(0, bar);
    SocketTarget target;
    if (const std::size_t slash = item.find('/'); slash != std::string_view::npos) {
      target.path = std::string(item.substr(slash + 1));
      item = item.substr(0, slash);
    }
    if (const std::size_t colon = item.rfind(':'); colon != std::string_view::npos) {
      const std::string_view digits = item.substr(colon + 1);
      unsigned value = 0;
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
      // atoi: leading digits count, anything else is 0 (no connection possible).
      port = (ec == std::errc{} && end != digits.data() && value <= 65535)
                 ? static_cast<std::uint16_t>(value)
                 : 0;
      item = item.substr(0, colon);
    }
    target.host = std::string(item);
    target.port = port;
    if (!target.host.empty()) {  // an empty alternative names nothing to connect to
      args.targets.push_back(std::move(target));
    }
    if (bar == std::string_view::npos) {
      break;
    }
    list.remove_prefix(bar + 1);
  }
  if (args.targets.empty()) {
    return std::nullopt;
  }
  return args;
}

void register_socket_application(CallEngine& engine) {
  engine.register_application("socket", "Connect to a socket", socket_application);
}

}  // namespace eventsocket::core
