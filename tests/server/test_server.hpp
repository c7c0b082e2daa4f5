#pragma once

// Test helpers for the server layer: a real eventsocketd (switch + server) on an ephemeral
// loopback port, and a blocking client that frames what it reads with wire::Parser.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eventsocket/core/switch.hpp"
#include "eventsocket/server/server.hpp"
#include "eventsocket/wire/message.hpp"
#include "eventsocket/wire/parser.hpp"

namespace eventsocket::test {

struct TestServerOptions {
  server::ServerOptions server;
  core::SwitchOptions core;
  std::shared_ptr<const acl::AclRegistry> acl = std::make_shared<acl::AclRegistry>();
  // The dialplan and the simulated SIP parties come from here (the repo's conf by default).
  std::string conf_dir = EVENTSOCKET_TEST_CONF_DIR;
  TestServerOptions();
};

// Starts in the constructor, stops in the destructor.
class TestServer {
 public:
  explicit TestServer(TestServerOptions options = {});
  ~TestServer();
  unsigned short port() const { return server_->port(); }
  core::Switch& core() { return *switch_; }
  server::Server& server() { return *server_; }

 private:
  std::unique_ptr<core::Switch> switch_;
  std::unique_ptr<server::Server> server_;
};

// A blocking Event Socket client for tests. Every read has a timeout so a broken server
// fails the test instead of hanging it.
class TestClient {
 public:
  explicit TestClient(unsigned short port, const std::string& host = "127.0.0.1");
  // A connection the server made (outbound mode), accepted by an OutboundListener.
  struct AdoptFd {};
  TestClient(int fd, AdoptFd) : fd_(fd) {}
  ~TestClient();
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  void send(std::string_view bytes);
  // The next packet, or nullopt on timeout or EOF.
  std::optional<wire::Message> read_packet(
      std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Sends a command (adds the blank line) and returns the next packet.
  std::optional<wire::Message> command(std::string_view command,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Reads the greeting and authenticates with ClueCon; true on "+OK accepted".
  bool auth(std::string_view password = "ClueCon");
  // Everything until the server closes (or the timeout): raw bytes.
  std::string read_until_closed(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // True when the server closed the connection (EOF seen, nothing buffered).
  bool closed() const { return eof_; }
  // Stops reading: the kernel buffers fill and the server sees a slow consumer.
  int fd() const { return fd_; }
  void close();

 private:
  bool fill(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  bool eof_ = false;
  wire::Parser parser_{wire::Direction::packet};
};

// The program the socket application calls: a listening socket on a free loopback port.
class OutboundListener {
 public:
  OutboundListener();
  ~OutboundListener();
  OutboundListener(const OutboundListener&) = delete;
  OutboundListener& operator=(const OutboundListener&) = delete;

  unsigned short port() const { return port_; }
  // "127.0.0.1:<port>"
  std::string address() const;
  // The next connection from the switch, or -1 after the timeout.
  int accept(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  void close();

 private:
  int fd_ = -1;
  unsigned short port_ = 0;
};

// What the server writes before it closes a connection that said `exit` (or timed out).
constexpr std::string_view kGoodbye =
    "Content-Type: text/disconnect-notice\nContent-Length: 67\n\n"
    "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n";

std::string body_of(const std::optional<wire::Message>& m);
std::string reply_text(const std::optional<wire::Message>& m);

}  // namespace eventsocket::test
