#pragma once

#include <functional>
#include <memory>
#include <string>

namespace eventsocket::apps {

// The Prometheus endpoint: `GET /metrics` on a loopback address, answered by one thread of
// its own (cpp-httplib), so scrapes never touch the Event Socket's I/O threads.
class MetricsHttpServer {
 public:
  using Render = std::function<std::string()>;
  MetricsHttpServer();
  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  // `address` is "ip:port" or "[ipv6]:port"; only loopback addresses are accepted (the
  // numbers tell who is connected from where). Returns an error message, empty on success.
  std::string start(const std::string& address, Render render);
  // The bound port (port 0 in the address picks a free one).
  int port() const { return port_; }
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace eventsocket::apps
