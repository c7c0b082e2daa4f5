#include "metrics_http.hpp"

#include <httplib.h>

#include <thread>

namespace eventsocket::apps {

struct MetricsHttpServer::Impl {
  httplib::Server http;
  std::thread thread;
};

MetricsHttpServer::MetricsHttpServer() : impl_(std::make_unique<Impl>()) {}

MetricsHttpServer::~MetricsHttpServer() {
  stop();
}

std::string MetricsHttpServer::start(const std::string& address, Render render) {
  std::string host;
  std::string port_text;
  if (!address.empty() && address.front() == '[') {
    const auto close = address.find("]:");
    if (close == std::string::npos) {
      return "stats-listen must be ip:port or [ipv6]:port, not \"" + address + "\"";
    }
    host = address.substr(1, close - 1);
    port_text = address.substr(close + 2);
  } else {
    const auto colon = address.rfind(':');
    if (colon == std::string::npos || address.find(':') != colon) {
      return "stats-listen must be ip:port or [ipv6]:port, not \"" + address + "\"";
    }
    host = address.substr(0, colon);
    port_text = address.substr(colon + 1);
  }
  if (host.rfind("127.", 0) != 0 && host != "::1") {
    return "stats-listen must be a loopback address (127.0.0.0/8 or ::1), not \"" + host + "\"";
  }
  if (port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port_text) > 65535) {
    return "stats-listen: bad port \"" + port_text + "\"";
  }
  const int port = std::stoi(port_text);
  impl_->http.new_task_queue = [] { return new httplib::ThreadPool(1); };
  impl_->http.Get("/metrics", [render = std::move(render)](const httplib::Request&,
                                                           httplib::Response& response) {
    response.set_content(render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  port_ = port == 0 ? impl_->http.bind_to_any_port(host) : port;
  if (port_ <= 0 || (port != 0 && !impl_->http.bind_to_port(host, port))) {
    port_ = 0;
    return "stats-listen: cannot listen on " + address;
  }
  impl_->thread = std::thread([this] { impl_->http.listen_after_bind(); });
  return {};
}

void MetricsHttpServer::stop() {
  if (impl_->thread.joinable()) {
    impl_->http.stop();
    impl_->thread.join();
  }
}

}  // namespace eventsocket::apps
