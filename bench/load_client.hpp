#pragma once

// The client side shared by the load tools (esl_load, esl-bench): one TCP connection to an
// Event Socket server, framed with wire::Parser (packet direction). Blocking use (one
// connection per thread, reads bounded by a deadline) and non-blocking use (many connections
// on one epoll loop) share the same framing.

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

#include "eventsocket/wire/errc.hpp"
#include "eventsocket/wire/parser.hpp"

namespace eslbench {

using Clock = std::chrono::steady_clock;
using eventsocket::wire::MessageView;

// A TCP connection to host:port (the host is used exactly as given: a name or a numeric
// address), with TCP_NODELAY; -1 when no address of the host accepts.
int connect_tcp(const std::string& host, int port);

// The value of header `name` in a text/event-plain body ("Name: value" lines, the first
// match; values are returned URL-encoded, as sent).
std::string_view plain_header(std::string_view body, std::string_view name);

class Client {
 public:
  Client(const std::string& host, int port);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  // The server closed the connection (or reading failed).
  bool eof() const { return eof_; }
  // The server's bytes broke the framing (a limit of wire::Parser); nothing more is read.
  bool broken() const { return broken_; }

  // Writes all of `bytes` (blocking, even on a non-blocking socket: it waits for room).
  bool send(std::string_view bytes);

  // Blocking reads. `read` calls `on_packet` for each packet until it returns false; false on
  // EOF, broken framing or the deadline. `read_some` delivers every packet already buffered or,
  // if there is none, waits for bytes and delivers the packets they complete (at least one).
  template <typename F>
  bool read(F&& on_packet, Clock::time_point deadline) {
    for (;;) {
      while (next()) {
        if (!on_packet(view_)) {
          return true;
        }
      }
      if (broken_ || !wait_and_fill(deadline)) {
        return false;
      }
    }
  }
  template <typename F>
  bool read_some(F&& on_packet, Clock::time_point deadline) {
    for (;;) {
      bool any = false;
      while (next()) {
        any = true;
        on_packet(view_);
      }
      if (any) {
        return true;
      }
      if (broken_ || !wait_and_fill(deadline)) {
        return false;
      }
    }
  }

  // Reads the greeting, sends `auth <password>` and checks for `+OK accepted`.
  bool auth(const std::string& password, Clock::time_point deadline);

  // Waits (until the deadline) for bytes and feeds them to the framing; false on EOF or at
  // the deadline. Blocking sockets only.
  bool wait_and_fill(Clock::time_point deadline);

  // Non-blocking use: after set_nonblocking(), `fill` reads what the socket has (false once
  // it is closed or would block: check eof()) and `drain` delivers every complete packet.
  void set_nonblocking();
  bool fill();
  template <typename F>
  void drain(F&& on_packet) {
    while (next()) {
      on_packet(view_);
    }
  }

 private:
  bool next();
  bool feed_from_socket(int flags);

  int fd_ = -1;
  bool eof_ = false;
  bool broken_ = false;
  eventsocket::wire::Parser parser_{eventsocket::wire::Direction::packet};
  MessageView view_;  // reused, so its header vector keeps its capacity
};

}  // namespace eslbench
