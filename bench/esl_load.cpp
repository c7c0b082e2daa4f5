// esl_load: a load generator for an Event Socket server (eventsocketd or FreeSWITCH).
//
//   esl_load api    --port P [--clients N] [--requests M] [--command "api echo hi"]
//       N connections, each sends M commands one after another (waiting for each reply);
//       reports replies per second and latency percentiles.
//   esl_load events --port P [--subscribers N] [--events M]
//       N connections subscribe to `event plain CUSTOM esl_load::tick`; one publisher
//       pipelines M `sendevent CUSTOM` commands; reports events delivered per second
//       (all subscribers together) and how long the last subscriber took.
//
// Loopback only: the host is always 127.0.0.1. Every run is bounded in count and time.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "eventsocket/wire/parser.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using eventsocket::wire::Direction;
using eventsocket::wire::MessageView;
using eventsocket::wire::Parser;

constexpr auto kDeadline = std::chrono::seconds(120);  // no run may take longer

class Client {
 public:
  explicit Client(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~Client() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  bool ok() const { return fd_ >= 0; }
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        return false;
      }
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  // Calls `on_packet` for each packet until it returns false; false on EOF or timeout.
  template <typename F>
  bool read(F&& on_packet, Clock::time_point deadline) {
    for (;;) {
      MessageView m;
      while (!parser_.next(m)) {
        if (!on_packet(m)) {
          return true;
        }
      }
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
        return false;
      }
      const ssize_t n = ::recv(fd_, buffer_, sizeof buffer_, 0);
      if (n <= 0) {
        return false;
      }
      parser_.feed(std::string_view(buffer_, static_cast<std::size_t>(n)));
    }
  }
  bool auth(const std::string& password, Clock::time_point deadline) {
    bool ok = false;
    int packets = 0;
    send("auth " + password + "\n\n");
    read(
        [&](const MessageView& m) {
          if (++packets == 2) {
            ok = m.header("Reply-Text") == "+OK accepted";
            return false;
          }
          return true;
        },
        deadline);
    return ok;
  }

 private:
  int fd_ = -1;
  Parser parser_{Direction::packet};
  char buffer_[65536];
};

int run_api(int port, const std::string& password, int clients, int requests,
            const std::string& command) {
  const auto deadline = Clock::now() + kDeadline;
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(clients));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      Client client(port);
      if (!client.ok() || !client.auth(password, deadline)) {
        ++failures;
        return;
      }
      auto& mine = latencies[static_cast<std::size_t>(c)];
      mine.reserve(static_cast<std::size_t>(requests));
      const std::string wire = command + "\n\n";
      for (int i = 0; i < requests; ++i) {
        const auto t0 = Clock::now();
        client.send(wire);
        if (!client.read([](const MessageView&) { return false; }, deadline)) {
          ++failures;
          return;
        }
        mine.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& l : latencies) {
    all.insert(all.end(), l.begin(), l.end());
  }
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    return all.empty() ? 0.0
                       : all[std::min(all.size() - 1, static_cast<std::size_t>(p * all.size()))];
  };
  std::printf(
      "api: %d clients x %d \"%s\": %zu replies in %.2f s = %.0f replies/s; latency us p50 %.0f "
      "p99 %.0f max %.0f; failures %d\n",
      clients, requests, command.c_str(), all.size(), seconds, all.size() / seconds, pct(0.50),
      pct(0.99), all.empty() ? 0.0 : all.back(), failures.load());
  return failures.load() == 0 ? 0 : 1;
}

int run_events(int port, const std::string& password, int subscribers, int events) {
  const auto deadline = Clock::now() + kDeadline;
  std::vector<std::unique_ptr<Client>> subs;
  for (int i = 0; i < subscribers; ++i) {
    auto c = std::make_unique<Client>(port);
    if (!c->ok() || !c->auth(password, deadline)) {
      std::fprintf(stderr, "esl_load: subscriber %d could not connect/authenticate\n", i);
      return 1;
    }
    c->send("event plain CUSTOM esl_load::tick\n\n");
    c->read([](const MessageView&) { return false; }, deadline);
    subs.push_back(std::move(c));
  }
  Client publisher(port);
  if (!publisher.ok() || !publisher.auth(password, deadline)) {
    std::fprintf(stderr, "esl_load: publisher could not connect/authenticate\n");
    return 1;
  }
  std::atomic<long> delivered{0};
  std::vector<double> finish(static_cast<std::size_t>(subscribers), 0.0);
  const auto start = Clock::now();
  std::vector<std::thread> readers;
  for (int i = 0; i < subscribers; ++i) {
    readers.emplace_back([&, i] {
      int got = 0;
      subs[static_cast<std::size_t>(i)]->read(
          [&](const MessageView& m) {
            if (m.header("Content-Type") == "text/event-plain") {
              ++got;
              ++delivered;
            }
            return got < events;
          },
          deadline);
      finish[static_cast<std::size_t>(i)] =
          std::chrono::duration<double>(Clock::now() - start).count();
    });
  }
  std::thread replies([&] {
    int got = 0;
    publisher.read([&](const MessageView&) { return ++got < events; }, deadline);
  });
  const std::string one =
      "sendevent CUSTOM\nEvent-Subclass: esl_load::tick\nX-Load: a value with spaces & symbols\n\n";
  std::string batch;
  for (int i = 0; i < events; ++i) {
    batch += one;
    if (batch.size() > 64 * 1024 || i + 1 == events) {
      publisher.send(batch);
      batch.clear();
    }
  }
  replies.join();
  for (auto& t : readers) {
    t.join();
  }
  const double seconds = *std::max_element(finish.begin(), finish.end());
  std::printf(
      "events: %d subscribers x %d events: %ld delivered in %.2f s = %.0f events/s delivered (%.0f "
      "published/s)\n",
      subscribers, events, delivered.load(), seconds, delivered.load() / seconds, events / seconds);
  return delivered.load() == static_cast<long>(subscribers) * events ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"esl_load: load generator for an Event Socket server on 127.0.0.1"};
  app.require_subcommand(1);
  int port = 8021;
  std::string password = "ClueCon";
  app.add_option("--port", port, "server port on 127.0.0.1");
  app.add_option("--password", password, "auth password");
  int clients = 8;
  int requests = 10000;
  std::string command = "api echo hi";
  auto* api = app.add_subcommand("api", "sequential commands on N connections");
  api->add_option("--clients", clients)->check(CLI::Range(1, 5000));
  api->add_option("--requests", requests)->check(CLI::Range(1, 10000000));
  api->add_option("--command", command);
  int subscribers = 4;
  int events = 100000;
  auto* ev = app.add_subcommand("events", "one publisher, N subscribers");
  ev->add_option("--subscribers", subscribers)->check(CLI::Range(1, 5000));
  ev->add_option("--events", events)->check(CLI::Range(1, 10000000));
  CLI11_PARSE(app, argc, argv);
  if (api->parsed()) {
    return run_api(port, password, clients, requests, command);
  }
  return run_events(port, password, subscribers, events);
}
