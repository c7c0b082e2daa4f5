#include "load_client.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace eslbench {

namespace {

// One receive buffer per thread, shared by every connection that thread reads: the parser
// copies what it is fed, so 10,000 idle connections do not hold 10,000 buffers.
char* receive_buffer(std::size_t& size) {
  thread_local std::vector<char> buffer(256 * 1024);
  size = buffer.size();
  return buffer.data();
}

// A blocking recv wakes up this often to look at the caller's deadline.
constexpr timeval kReceiveTick{0, 100 * 1000};

}  // namespace

int connect_tcp(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) {
    return -1;
  }
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd >= 0 && ::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd >= 0) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return fd;
}

std::string_view plain_header(std::string_view body, std::string_view name) {
  std::size_t at = 0;
  while (at < body.size()) {
    std::size_t end = body.find('\n', at);
    if (end == std::string_view::npos) {
      end = body.size();
    }
    const std::string_view line = body.substr(at, end - at);
    if (line.empty()) {
      break;  // end of the headers
    }
    if (line.size() > name.size() + 1 && line.substr(0, name.size()) == name &&
        line[name.size()] == ':') {
      std::string_view value = line.substr(name.size() + 1);
      if (!value.empty() && value.front() == ' ') {
        value.remove_prefix(1);
      }
      return value;
    }
    at = end + 1;
  }
  return {};
}

Client::Client(const std::string& host, int port) : fd_(connect_tcp(host, port)) {
  if (fd_ >= 0) {
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &kReceiveTick, sizeof kReceiveTick);
  }
}

Client::~Client() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

bool Client::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      pollfd p{fd_, POLLOUT, 0};
      ::poll(&p, 1, 100);
      continue;
    }
    return false;
  }
  return true;
}

bool Client::auth(const std::string& password, Clock::time_point deadline) {
  bool ok = false;
  int packets = 0;
  if (!send("auth " + password + "\n\n")) {
    return false;
  }
  read(
      [&](const MessageView& m) {
        if (++packets == 2) {  // the first is the auth/request greeting
          ok = m.header("Reply-Text") == "+OK accepted";
          return false;
        }
        return true;
      },
      deadline);
  return ok;
}

void Client::set_nonblocking() {
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
}

bool Client::fill() {
  return feed_from_socket(MSG_DONTWAIT);
}

bool Client::next() {
  if (broken_) {
    return false;
  }
  const std::error_code ec = parser_.next(view_);
  if (!ec) {
    return true;
  }
  if (ec != eventsocket::wire::errc::need_more) {
    broken_ = true;
  }
  return false;
}

bool Client::wait_and_fill(Clock::time_point deadline) {
  while (!eof_) {
    if (feed_from_socket(0)) {
      return true;
    }
    if (Clock::now() >= deadline) {
      return false;
    }
  }
  return false;
}

bool Client::feed_from_socket(int flags) {
  std::size_t size = 0;
  char* buffer = receive_buffer(size);
  const ssize_t n = ::recv(fd_, buffer, size, flags);
  if (n > 0) {
    parser_.feed(std::string_view(buffer, static_cast<std::size_t>(n)));
    return true;
  }
  if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
    eof_ = true;
  }
  return false;
}

}  // namespace eslbench
