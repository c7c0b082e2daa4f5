#pragma once

// A fake Event Socket server for client tests: it listens on a free loopback port and runs a
// script (a function given the socket and the connection's index) for each connection, in a
// thread of its own. For the behaviour eventsocketd never shows: closing in the middle of a
// packet, stalling, refusing a reconnect.

#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace eventsocket::client::test {

class ScriptedServer {
 public:
  using Script = std::function<void(asio::ip::tcp::socket&, int index)>;

  explicit ScriptedServer(Script script, unsigned short port = 0)
      : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), port}), script_(std::move(script)) {
    acceptor_thread_ = std::thread([this] {
      for (int index = 0;; ++index) {
        asio::ip::tcp::socket socket(io_);
        std::error_code ec;
        acceptor_.accept(socket, ec);
        if (ec || stopping_) {
          return;
        }
        std::lock_guard lock(mutex_);
        sessions_.emplace_back([this, index, s = std::move(socket)]() mutable {
          try {
            script_(s, index);
          } catch (const std::exception&) {
            // The client went away mid-script: that is the client's business in these tests.
          }
        });
      }
    });
  }

  ~ScriptedServer() { stop(); }

  unsigned short port() const { return port_; }

  // Stops accepting (the port is closed) and waits for the scripts to end.
  void stop() {
    if (stopping_.exchange(true)) {
      return;
    }
    // Wake the blocking accept() with a connection of our own; it sees stopping_ and ends.
    std::error_code ignored;
    asio::ip::tcp::socket poke(io_);
    poke.connect({asio::ip::make_address("127.0.0.1"), port_}, ignored);
    acceptor_thread_.join();
    acceptor_.close(ignored);
    std::lock_guard lock(mutex_);
    for (std::thread& t : sessions_) {
      t.join();
    }
  }

  // Reads one command (up to the blank line; a Content-Length body is read too) and returns
  // its first line, or nullopt when the client closed. Waits at most `timeout`.
  // `whole` receives the header block.
  static std::optional<std::string> read_command(
      asio::ip::tcp::socket& s, std::chrono::milliseconds timeout = std::chrono::seconds(5),
      std::string* whole = nullptr) {
    std::string data;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char c;
    while (data.size() < 2 || data.compare(data.size() - 2, 2, "\n\n") != 0) {
      if (std::chrono::steady_clock::now() > deadline || !read_byte(s, c, deadline)) {
        return std::nullopt;
      }
      data += c;
    }
    const std::size_t length_at = data.find("Content-Length: ");
    if (length_at != std::string::npos) {
      std::size_t length = std::stoul(data.substr(length_at + 16));
      while (length-- > 0 && read_byte(s, c, deadline)) {
      }
    }
    if (whole) {
      *whole = data;
    }
    return data.substr(0, data.find('\n'));
  }

  static void send(asio::ip::tcp::socket& s, std::string_view bytes) {
    asio::write(s, asio::buffer(bytes));
  }

  // The greeting, then `auth ...` answered with +OK accepted. False if the client left.
  static bool greet_and_accept(asio::ip::tcp::socket& s, std::string* auth_line = nullptr) {
    send(s, "Content-Type: auth/request\n\n");
    const auto auth = read_command(s);
    if (!auth) {
      return false;
    }
    if (auth_line) {
      *auth_line = *auth;
    }
    send(s, "Content-Type: command/reply\nReply-Text: +OK accepted\n\n");
    return true;
  }

 private:
  static bool read_byte(asio::ip::tcp::socket& s, char& c,
                        std::chrono::steady_clock::time_point deadline) {
    // Polls so that a silent client cannot hang the script past its deadline.
    s.non_blocking(true);
    for (;;) {
      std::error_code ec;
      const std::size_t n = s.read_some(asio::buffer(&c, 1), ec);
      if (n == 1) {
        return true;
      }
      if (ec != asio::error::would_block || std::chrono::steady_clock::now() > deadline) {
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  unsigned short port_ = acceptor_.local_endpoint().port();
  Script script_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::vector<std::thread> sessions_;
  std::thread acceptor_thread_;
};

inline std::string reply(std::string_view text) {
  return "Content-Type: command/reply\nReply-Text: " + std::string(text) + "\n\n";
}

}  // namespace eventsocket::client::test
