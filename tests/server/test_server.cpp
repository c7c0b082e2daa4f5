#include "server/test_server.hpp"

#include "eventsocket/core/call_conf.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

namespace eventsocket::test {

TestServerOptions::TestServerOptions() {
  server.settings.listen_ip = "127.0.0.1";
  server.settings.listen_port = 0;
  server.io_threads = 2;
  core.hostname = "testhost";
  core.heartbeat_interval = std::chrono::milliseconds(0);
  core.api_threads = 4;
}

TestServer::TestServer(TestServerOptions options) : switch_(nullptr) {
  std::string error;
  const auto sofia = core::load_sofia_conf(options.conf_dir, error);
  if (!sofia) {
    throw std::runtime_error(error);
  }
  options.core.sip_profiles = sofia->profiles;
  switch_ = std::make_unique<core::Switch>(options.core);
  if (!core::configure_calls(*switch_, options.conf_dir, *sofia, error)) {
    throw std::runtime_error(error);
  }
  switch_->calls().set_user_resolver([](std::string_view user, std::string_view domain) {
    // The test directory: users 1000-1019 in any domain.
    const bool known = user.size() == 4 && user.starts_with("10") && user[2] >= '0' &&
                       user[2] <= '1' && user[3] >= '0' && user[3] <= '9';
    return known ? "sofia/internal/" + std::string(user) + "@" + std::string(domain)
                 : std::string();
  });
  switch_->logger().set_console_level(core::LogLevel::crit);
  server_ = std::make_unique<server::Server>(*switch_, options.server, options.acl);
  if (auto ec = server_->listen()) {
    throw std::runtime_error("listen: " + ec.message());
  }
  switch_->start();
  server_->start();
}

TestServer::~TestServer() {
  server_->stop();
  switch_->stop();
}

TestClient::TestClient(unsigned short port, const std::string& host) {
  fd_ = ::socket(host.find(':') != std::string::npos ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
  int rc = -1;
  if (host.find(':') != std::string::npos) {
    sockaddr_in6 addr{};
    addr.sin6_family = AF_INET6;
    addr.sin6_port = htons(port);
    inet_pton(AF_INET6, host.c_str(), &addr.sin6_addr);
    rc = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  } else {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
    rc = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  }
  if (rc != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

OutboundListener::OutboundListener() {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  socklen_t len = sizeof addr;
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd_, 1024) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error("cannot listen on loopback");
  }
  port_ = ntohs(addr.sin_port);
}

OutboundListener::~OutboundListener() {
  close();
}

void OutboundListener::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

std::string OutboundListener::address() const {
  return "127.0.0.1:" + std::to_string(port_);
}

int OutboundListener::accept(std::chrono::milliseconds timeout) {
  pollfd p{fd_, POLLIN, 0};
  if (fd_ < 0 || ::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) {
    return -1;
  }
  return ::accept(fd_, nullptr, nullptr);
}

TestClient::~TestClient() {
  close();
}

void TestClient::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

void TestClient::send(std::string_view bytes) {
  while (!bytes.empty() && fd_ >= 0) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) {
        continue;
      }
      return;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

bool TestClient::fill(std::chrono::steady_clock::time_point deadline) {
  if (fd_ < 0 || eof_) {
    return false;
  }
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) {
    return false;
  }
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
    return false;
  }
  char buffer[65536];
  const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
  if (n <= 0) {
    eof_ = true;
    return false;
  }
  parser_.feed(std::string_view(buffer, static_cast<std::size_t>(n)));
  return true;
}

std::optional<wire::Message> TestClient::read_packet(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    wire::MessageView m;
    if (!parser_.next(m)) {
      return wire::Message::from_view(m);
    }
    if (!fill(deadline)) {
      return std::nullopt;
    }
  }
}

std::optional<wire::Message> TestClient::command(std::string_view command,
                                                 std::chrono::milliseconds timeout) {
  send(std::string(command) + "\n\n");
  return read_packet(timeout);
}

bool TestClient::auth(std::string_view password) {
  auto greeting = read_packet();
  if (!greeting || greeting->header("Content-Type") != "auth/request") {
    return false;
  }
  return reply_text(command("auth " + std::string(password))) == "+OK accepted";
}

std::string TestClient::read_until_closed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string out;
  for (;;) {
    wire::MessageView m;
    while (!parser_.next(m)) {
      out.append(m.block);
      out.append(m.body);
    }
    if (!fill(deadline)) {
      break;
    }
  }
  return out;
}

std::string body_of(const std::optional<wire::Message>& m) {
  return m ? m->body : std::string();
}

std::string reply_text(const std::optional<wire::Message>& m) {
  return m ? std::string(m->header("Reply-Text").value_or("")) : std::string();
}

}  // namespace eventsocket::test
