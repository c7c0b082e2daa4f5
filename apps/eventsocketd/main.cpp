// eventsocketd: the Event Socket server with its built-in switch core.
#include <signal.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "eventsocket/acl/acl.hpp"
#include "eventsocket/core/call_conf.hpp"
#include "eventsocket/core/switch.hpp"
#include "eventsocket/server/config.hpp"
#include "eventsocket/server/server.hpp"
#include "eventsocket/server/stats.hpp"
#include "metrics_http.hpp"

namespace {

namespace fs = std::filesystem;
using namespace eventsocket;

std::optional<std::string> read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool is_loopback(const std::string& ip) {
  return ip.rfind("127.", 0) == 0 || ip == "::1" || ip == "localhost";
}

struct Loaded {
  server::EventSocketSettings settings;
  server::SwitchSettings switch_settings;
  std::shared_ptr<acl::AclRegistry> acl = std::make_shared<acl::AclRegistry>();
  std::shared_ptr<server::Directory> directory = std::make_shared<server::Directory>();
};

// Reads event_socket.conf.xml, acl.conf.xml and the directory from a FreeSWITCH-style conf
// folder. Missing files mean defaults; broken ones are fatal at startup.
bool load_conf(const fs::path& conf, Loaded& out, core::Logger& log) {
  std::vector<std::string> warnings;
  const fs::path es = conf / "autoload_configs" / "event_socket.conf.xml";
  if (auto text = read_text(es)) {
    auto settings = server::parse_event_socket_conf(*text, &warnings);
    if (!settings) {
      for (auto& w : warnings) {
        std::cerr << "eventsocketd: " << w << "\n";
      }
      return false;
    }
    out.settings = *settings;
  }
  const fs::path sw = conf / "autoload_configs" / "switch.conf.xml";
  if (auto text = read_text(sw)) {
    auto settings = server::parse_switch_conf(*text, &warnings);
    if (!settings) {
      for (auto& w : warnings) {
        std::cerr << "eventsocketd: " << w << "\n";
      }
      return false;
    }
    out.switch_settings = *settings;
  }
  const fs::path acl_file = conf / "autoload_configs" / "acl.conf.xml";
  if (fs::exists(acl_file)) {
    if (auto error = out.acl->load_file(acl_file, &warnings)) {
      std::cerr << "eventsocketd: " << acl_file.string() << ": " << error->message << "\n";
      return false;
    }
  }
  out.directory->load_folder((conf / "directory").string(), &warnings);
  for (auto& w : warnings) {
    log.log(core::LogLevel::warning, "main.cpp", "load_conf", __LINE__, w);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "eventsocketd: a FreeSWITCH-compatible Event Socket server with a built-in switch core"};
  std::string conf_dir;
  std::optional<std::string> listen_ip;
  std::optional<int> listen_port;
  std::optional<std::string> password;
  bool allow_default_password = false;
  std::size_t io_threads = std::max(1u, std::thread::hardware_concurrency());
  std::size_t api_threads = 4;
  std::string log_level = "info";
  int heartbeat_seconds = 20;
  app.add_option("--conf", conf_dir,
                 "FreeSWITCH-style conf folder (reads autoload_configs/ and directory/)");
  app.add_option("--listen-ip", listen_ip, "address to listen on (overrides the conf file)");
  app.add_option("--listen-port", listen_port, "port to listen on (overrides the conf file)")
      ->check(CLI::Range(0, 65535));
  app.add_option("--password", password, "password for `auth` (overrides the conf file)");
  app.add_flag("--allow-default-password", allow_default_password,
               "allow the well-known password ClueCon (or none) on a non-loopback address");
  app.add_option("--threads", io_threads, "I/O threads")->check(CLI::Range(1, 256));
  app.add_option("--api-threads", api_threads, "threads running api and bgapi commands")
      ->check(CLI::Range(1, 1024));
  app.add_option("--log-level", log_level,
                 "console log level (debug, info, notice, warning, err, ...)");
  app.add_option("--heartbeat", heartbeat_seconds, "HEARTBEAT interval in seconds (0: off)")
      ->check(CLI::Range(0, 86400));
  // Limits (ours; docs/RELIABILITY.md): flags win over event_socket.conf.xml.
  std::optional<std::size_t> max_connections;
  std::optional<int> auth_timeout_ms;
  std::optional<int> login_timeout_ms;
  std::optional<double> connection_rate_per_ip;
  std::optional<double> command_rate;
  std::optional<std::string> event_queue_bytes;
  std::optional<int> limit_log_interval;
  std::optional<std::string> stats_listen;
  app.add_option("--max-connections", max_connections, "most inbound connections at once")
      ->check(CLI::Range(std::size_t{1}, std::size_t{10000000}));
  app.add_option("--auth-timeout-ms", auth_timeout_ms,
                 "close a new connection that sent no complete packet by then (FreeSWITCH: 25000)")
      ->check(CLI::Range(1, 3600000));
  app.add_option("--login-timeout-ms", login_timeout_ms,
                 "close a connection not logged in by then, whatever it sent (0: off)")
      ->check(CLI::Range(0, 86400000));
  app.add_option("--connection-rate-per-ip", connection_rate_per_ip,
                 "new connections per second from one address (0: no limit)")
      ->check(CLI::Range(0.0, 1e9));
  app.add_option("--command-rate", command_rate,
                 "commands per second on one connection; more are delayed (0: no limit)")
      ->check(CLI::Range(0.0, 1e9));
  app.add_option("--event-queue-bytes", event_queue_bytes,
                 "bytes of events and log lines queued for one client (k, m, g suffixes)");
  app.add_option("--limit-log-interval", limit_log_interval,
                 "seconds between two log lines about the same limit")
      ->check(CLI::Range(1, 86400));
  app.add_option("--stats-listen", stats_listen,
                 "serve Prometheus metrics at http://<ip:port>/metrics (loopback only; off)");
  CLI11_PARSE(app, argc, argv);

  // Signals are taken by sigwait() below, not by whichever thread they hit.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  core::Logger startup_log;  // warnings while reading the conf, before the switch exists
  startup_log.set_console_level(core::LogLevel::warning);
  Loaded loaded;
  if (!conf_dir.empty() && !load_conf(conf_dir, loaded, startup_log)) {
    return 1;
  }
  const server::SwitchSettings& ss = loaded.switch_settings;
  core::SwitchOptions switch_options;
  switch_options.api_threads = api_threads;
  if (!app.get_option("--heartbeat")->count() && ss.heartbeat_interval_seconds) {
    heartbeat_seconds = *ss.heartbeat_interval_seconds;
  }
  switch_options.heartbeat_interval = std::chrono::seconds(std::max(0, heartbeat_seconds));
  if (ss.max_sessions) {
    switch_options.max_sessions = *ss.max_sessions;
  }
  if (ss.sessions_per_second) {
    switch_options.sessions_per_second = *ss.sessions_per_second;
  }
  if (ss.switchname) {
    switch_options.switchname = *ss.switchname;
  }
  if (!app.get_option("--log-level")->count() && ss.loglevel) {
    log_level = *ss.loglevel;
  }
  std::string call_error;
  const auto sofia =
      core::load_sofia_conf(conf_dir.empty() ? fs::path() : fs::path(conf_dir), call_error);
  if (!sofia) {
    std::cerr << "eventsocketd: " << call_error << "\n";
    return 2;
  }
  if (!conf_dir.empty()) {
    switch_options.sip_profiles = sofia->profiles;
  }
  core::Switch sw(switch_options);
  if (!conf_dir.empty() && !core::configure_calls(sw, conf_dir, *sofia, call_error)) {
    std::cerr << "eventsocketd: " << call_error << "\n";
    return 2;
  }
  // user/<name>@<domain> calls the directory's user at the simulated SIP profile.
  sw.calls().set_user_resolver(
      [directory = loaded.directory, &sw](std::string_view user, std::string_view domain) {
        if (!directory->find(user, domain)) {
          return std::string();
        }
        const auto& profiles = sw.options().sip_profiles;
        const std::string profile = profiles.empty() ? "internal" : profiles.front().name;
        return "sofia/" + profile + "/" + std::string(user) + "@" + std::string(domain);
      });
  if (auto level = core::parse_log_level(log_level); level && *level >= 0 && *level <= 7) {
    sw.logger().set_console_level(static_cast<core::LogLevel>(*level));
  } else {
    std::cerr << "eventsocketd: unknown log level " << log_level << "\n";
    return 2;
  }
  server::ServerOptions options;
  options.settings = loaded.settings;
  if (listen_ip) {
    options.settings.listen_ip = *listen_ip;
  }
  if (listen_port) {
    options.settings.listen_port = *listen_port;
  }
  if (password) {
    options.settings.password = *password;
  }
  if (!is_loopback(options.settings.listen_ip) &&
      (options.settings.password.empty() || options.settings.password == "ClueCon") &&
      !allow_default_password) {
    std::cerr << "eventsocketd: refusing to listen on " << options.settings.listen_ip
              << " with the well-known password \"ClueCon\": anyone who can reach the port "
                 "could control the switch.\n"
                 "Set a password (--password or event_socket.conf.xml), or pass "
                 "--allow-default-password if you really mean it.\n";
    return 2;
  }
  options.io_threads = io_threads;
  const server::EventSocketSettings& es = options.settings;
  if (auto n = max_connections ? max_connections : es.max_connections) {
    options.max_connections = *n;
  }
  if (auto n = auth_timeout_ms ? auth_timeout_ms : es.auth_timeout_ms) {
    options.auth_timeout = std::chrono::milliseconds(*n);
  }
  if (auto n = login_timeout_ms ? login_timeout_ms : es.login_timeout_ms) {
    options.login_timeout = std::chrono::milliseconds(*n);
  }
  if (auto n = connection_rate_per_ip ? connection_rate_per_ip : es.connection_rate_per_ip) {
    options.connection_rate_per_ip = *n;
  }
  if (auto n = command_rate ? command_rate : es.command_rate) {
    options.command_rate = *n;
  }
  if (event_queue_bytes) {
    const auto bytes = server::parse_byte_size(*event_queue_bytes);
    if (!bytes || *bytes < 1024) {
      std::cerr << "eventsocketd: --event-queue-bytes must be at least 1024 (k, m, g suffixes "
                   "allowed), not \""
                << *event_queue_bytes << "\"\n";
      return 2;
    }
    options.session.max_queued_bytes = *bytes;
  } else if (es.event_queue_bytes) {
    options.session.max_queued_bytes = *es.event_queue_bytes;
  }
  if (auto n = limit_log_interval ? limit_log_interval : es.limit_log_interval) {
    options.limit_log_interval = std::chrono::seconds(*n);
  }
  options.session.directory = loaded.directory;

  server::Server server(sw, options, loaded.acl);

  // Commands that need the configuration live here, where the conf folder is known.
  sw.api().add("reloadacl", "Reload XML", "",
               [&](core::Switch&, const core::ApiRequest&, std::string& out) {
                 auto fresh = std::make_shared<acl::AclRegistry>();
                 const fs::path file = fs::path(conf_dir) / "autoload_configs" / "acl.conf.xml";
                 if (!conf_dir.empty() && fs::exists(file)) {
                   if (auto error = fresh->load_file(file)) {
                     out += "-ERR [" + error->message + "]\n";
                     return core::ApiStatus::success;
                   }
                 }
                 server.set_acl(fresh);
                 out += "+OK acl reloaded\n";
                 return core::ApiStatus::success;
               });
  sw.api().add("reloadxml", "Reload XML", "",
               [](core::Switch&, const core::ApiRequest&, std::string& out) {
                 out += "+OK [Success]\n";
                 return core::ApiStatus::success;
               });

  for (;;) {
    const std::error_code ec = server.listen();
    if (!ec) {
      break;
    }
    if (options.settings.stop_on_bind_error) {
      std::cerr << "eventsocketd: cannot listen on " << options.settings.listen_ip << ":"
                << options.settings.listen_port << ": " << ec.message() << "\n";
      return 1;
    }
    // FreeSWITCH retries until the address frees up (stop-on-bind-error false).
    sw.logger().log(core::LogLevel::err, "main.cpp", "main", __LINE__,
                    "cannot listen on " + options.settings.listen_ip + ":" +
                        std::to_string(options.settings.listen_port) + ": " + ec.message() +
                        ", retrying");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // fsctl shutdown: the same path as SIGTERM.
  sw.set_shutdown_handler([] { ::kill(::getpid(), SIGTERM); });
  sw.start();
  server.start();
  apps::MetricsHttpServer metrics;
  const std::string metrics_address = stats_listen ? *stats_listen : es.stats_listen;
  if (!metrics_address.empty()) {
    if (auto error = metrics.start(
            metrics_address, [&server] { return server::format_prometheus(server.snapshot()); });
        !error.empty()) {
      std::cerr << "eventsocketd: " << error << "\n";
      server.stop();
      sw.stop();
      return 2;
    }
    sw.logger().log(core::LogLevel::notice, "main.cpp", "main", __LINE__,
                    "metrics at http://" + metrics_address + "/metrics (port " +
                        std::to_string(metrics.port()) + ")");
  }
  sw.logger().log(core::LogLevel::notice, "main.cpp", "main", __LINE__,
                  "eventsocketd listening on " + options.settings.listen_ip + ":" +
                      std::to_string(server.port()));

  int received = 0;
  sigwait(&signals, &received);
  sw.logger().log(core::LogLevel::notice, "main.cpp", "main", __LINE__, "shutting down");
  metrics.stop();
  server.stop();
  sw.stop();
  return 0;
}
