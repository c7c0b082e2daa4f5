#include "eventsocket/core/switch.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <utility>

#include "eventsocket/core/socket_application.hpp"
#include "eventsocket/core/uuid.hpp"
#include "eventsocket/wire/message.hpp"

namespace eventsocket::core {
namespace {

std::string machine_hostname() {
  char name[256] = {0};
  if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') {
    return "localhost";
  }
  return name;
}

}  // namespace

// Percentage of CPU time the machine spent idle since the previous sample (/proc/stat).
double Switch::IdleMeter::sample() {
  {
    std::ifstream stat("/proc/stat");
    std::string cpu;
    unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0;
    if (!(stat >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq)) {
      return 100.0;
    }
    const unsigned long long total = user + nice + system + idle + iowait + irq + softirq;
    const unsigned long long d_total = total - last_total_;
    const unsigned long long d_idle = idle - last_idle_;
    last_total_ = total;
    last_idle_ = idle;
    return d_total == 0 ? 100.0
                        : 100.0 * static_cast<double>(d_idle) / static_cast<double>(d_total);
  }
}

Switch::Switch(SwitchOptions options)
    : options_(std::move(options)),
      started_steady_(std::chrono::steady_clock::now()),
      started_(std::chrono::system_clock::now()),
      max_sessions_(options_.max_sessions),
      sessions_per_second_(options_.sessions_per_second),
      jobs_(options_.api_threads, options_.api_queue_limit) {
  origin_.hostname = options_.hostname.empty() ? machine_hostname() : options_.hostname;
  origin_.switchname = options_.switchname.empty() ? origin_.hostname : options_.switchname;
  origin_.ipv4 = options_.ipv4.empty() ? "127.0.0.1" : options_.ipv4;
  origin_.ipv6 = options_.ipv6.empty() ? "::1" : options_.ipv6;
  origin_.core_uuid = options_.core_uuid.empty() ? make_uuid() : options_.core_uuid;
  globals_["hostname"] = origin_.hostname;
  globals_["switchname"] = origin_.switchname;
  globals_["local_ip_v4"] = origin_.ipv4;
  globals_["local_ip_v6"] = origin_.ipv6;
  globals_["domain"] = origin_.ipv4;
  globals_["core_uuid"] = origin_.core_uuid;
  register_builtin_commands(*this);
  calls_ = std::make_unique<CallEngine>(*this);
  register_builtin_applications(*calls_);
  register_socket_application(*calls_);
  register_call_commands(*this);
}

Switch::~Switch() {
  stop();
}

void Switch::start() {
  std::lock_guard lock(timer_mutex_);
  if (timer_thread_.joinable() || options_.heartbeat_interval.count() <= 0) {
    return;
  }
  stopping_ = false;
  timer_thread_ = std::thread([this] { heartbeat_loop(); });
}

void Switch::stop() {
  {
    std::lock_guard lock(timer_mutex_);
    stopping_ = true;
  }
  timer_wake_.notify_all();
  if (timer_thread_.joinable()) {
    timer_thread_.join();
  }
  calls_->shutdown();
  jobs_.stop();
}

bool Switch::sleep_for(std::chrono::milliseconds duration) {
  std::unique_lock lock(timer_mutex_);
  return !timer_wake_.wait_for(lock, duration, [this] { return stopping_; });
}

event::Event Switch::make_event(event::EventType type, const event::CallSite& site,
                                std::string_view subclass) {
  event::Event e(type, subclass);
  e.reserve(32, 1024);
  event::add_standard_headers(e, origin_, site, ++sequence_, std::chrono::system_clock::now());
  return e;
}

void Switch::add_standard_headers(event::Event& event, const event::CallSite& site) {
  // The subclass header is the caller's business here (sendevent places it itself).
  const std::string subclass(event.subclass());
  event.set_subclass({});
  event::add_standard_headers(event, origin_, site, ++sequence_, std::chrono::system_clock::now());
  event.set_subclass(subclass);
}

void Switch::set_shutdown_handler(std::function<void()> handler) {
  std::lock_guard lock(shutdown_mutex_);
  shutdown_handler_ = std::move(handler);
}

bool Switch::request_shutdown() {
  std::function<void()> handler;
  {
    std::lock_guard lock(shutdown_mutex_);
    handler = shutdown_handler_;
  }
  if (!handler) {
    return false;
  }
  handler();
  return true;
}

void Switch::publish(event::Event event) {
  bus_.publish(event::FrozenEvent::freeze(std::move(event)));
}

void Switch::register_subclass(std::string_view subclass) {
  {
    std::lock_guard lock(vars_mutex_);
    if (subclasses_.size() < kMaxSubclasses || subclasses_.contains(subclass)) {
      subclasses_.emplace(subclass);
      return;
    }
    if (std::exchange(subclasses_full_logged_, true)) {
      return;
    }
  }
  logger_.log(LogLevel::warning, "switch.cpp", "register_subclass", __LINE__,
              "more than " + std::to_string(kMaxSubclasses) +
                  " CUSTOM subclasses: later ones are not remembered for `event ALL`");
}

std::vector<std::string> Switch::custom_subclasses() const {
  std::lock_guard lock(vars_mutex_);
  return {subclasses_.begin(), subclasses_.end()};
}

ApiResult Switch::execute_api(std::string_view command, std::string_view args,
                              std::string_view session_uuid) {
  command = strip_api_whitespace(command);
  args = strip_api_whitespace(args);
  ApiResult result;
  if (auto found = api_.find(command)) {
    const ApiRequest request{command, args, session_uuid};
    result.ok = found->handler(*this, request, result.output) == ApiStatus::success;
  }
  event::Event e =
      make_event(event::EventType::API, {"switch_loadable_module.c", "switch_api_execute", 2954});
  e.add_header("API-Command", command);
  e.add_header("API-Command-Argument", args);
  publish(std::move(e));
  return result;
}

std::optional<std::string> Switch::global_var(std::string_view name) const {
  std::lock_guard lock(vars_mutex_);
  auto it = globals_.find(name);
  if (it == globals_.end()) {
    return std::nullopt;
  }
  return it->second;
}

void Switch::set_global_var(std::string_view name, std::string_view value) {
  std::lock_guard lock(vars_mutex_);
  if (value.empty()) {
    if (auto it = globals_.find(name); it != globals_.end()) {
      globals_.erase(it);
    }
    return;
  }
  globals_.insert_or_assign(std::string(name), std::string(value));
}

std::vector<std::pair<std::string, std::string>> Switch::global_vars() const {
  std::lock_guard lock(vars_mutex_);
  return {globals_.begin(), globals_.end()};
}

std::string Switch::expand(std::string_view text, const event::Event* headers) const {
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t dollar = text.find('$', pos);
    if (dollar == std::string_view::npos) {
      break;
    }
    const bool global_only = text.substr(dollar, 3) == "$${";
    const std::size_t open = dollar + (global_only ? 2 : 1);
    if (open >= text.size() || text[open] != '{') {
      out.append(text.substr(pos, open - pos));
      pos = open;
      continue;
    }
    const std::size_t close = text.find('}', open);
    if (close == std::string_view::npos) {
      break;
    }
    out.append(text.substr(pos, dollar - pos));
    const std::string_view name = text.substr(open + 1, close - open - 1);
    std::optional<std::string> value;
    if (!global_only && headers != nullptr) {
      if (auto h = headers->header(name)) {
        value = std::string(*h);
      }
    }
    if (!value) {
      value = global_var(name);
    }
    out.append(value.value_or(""));
    pos = close + 1;
  }
  out.append(text.substr(pos));
  return out;
}

std::chrono::microseconds Switch::uptime() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               started_steady_);
}

std::string Switch::uptime_text(bool plural_always) const {
  long long us = uptime().count();
  const long long micros = us % 1000;
  us /= 1000;
  const long long millis = us % 1000;
  us /= 1000;
  const long long seconds = us % 60;
  us /= 60;
  const long long minutes = us % 60;
  us /= 60;
  const long long hours = us % 24;
  us /= 24;
  const long long days = us % 365;
  const long long years = us / 365;
  std::string out;
  auto part = [&](long long n, const char* unit, bool last) {
    out += std::to_string(n) + " " + unit + ((n != 1 || plural_always) ? "s" : "");
    if (!last) {
      out += ", ";
    }
  };
  part(years, "year", false);
  part(days, "day", false);
  part(hours, "hour", false);
  part(minutes, "minute", false);
  part(seconds, "second", false);
  part(millis, "millisecond", false);
  part(micros, "microsecond", true);
  return out;
}

std::string Switch::version_full() const {
  return std::string(kProductVersion) + " (" + std::string(kProductName) + " " +
         std::string(kProductVersion) + " 64bit)";
}

void Switch::heartbeat_loop() {
  std::unique_lock lock(timer_mutex_);
  auto next = std::chrono::steady_clock::now() + options_.heartbeat_interval;
  while (!stopping_) {
    if (timer_wake_.wait_until(lock, next, [this] { return stopping_; })) {
      return;
    }
    lock.unlock();
    fire_heartbeat();
    lock.lock();
    next += options_.heartbeat_interval;
  }
}

void Switch::fire_heartbeat() {
  char idle[32];
  std::snprintf(idle, sizeof idle, "%f", idle_meter_.sample());
  const auto up_ms = std::chrono::duration_cast<std::chrono::milliseconds>(uptime()).count();

  event::Event hb =
      make_event(event::EventType::HEARTBEAT, {"switch_core.c", "send_heartbeat", 95});
  hb.add_header("Event-Info", "System Ready");
  hb.add_header("Up-Time", uptime_text(false));
  hb.add_header("FreeSWITCH-Version",
                std::string(kProductVersion) + "+" + std::string(kProductName));
  hb.add_header("Uptime-msec", std::to_string(up_ms));
  hb.add_header("Session-Count", std::to_string(session_count()));
  hb.add_header("Max-Sessions", std::to_string(max_sessions()));
  hb.add_header("Session-Per-Sec", std::to_string(sessions_per_second()));
  hb.add_header("Session-Per-Sec-Last", "0");
  hb.add_header("Session-Per-Sec-Max", "0");
  hb.add_header("Session-Per-Sec-FiveMin", "0");
  hb.add_header("Session-Since-Startup", std::to_string(sessions_since_startup()));
  hb.add_header("Session-Peak-Max", "0");
  hb.add_header("Session-Peak-FiveMin", "0");
  hb.add_header("Idle-CPU", idle);
  publish(std::move(hb));

  // The heartbeat is a scheduled task that re-schedules itself, hence RE_SCHEDULE.
  const auto next_run =
      std::chrono::duration_cast<std::chrono::seconds>(
          (std::chrono::system_clock::now() + options_.heartbeat_interval).time_since_epoch())
          .count();
  event::Event rs = make_event(event::EventType::RE_SCHEDULE,
                               {"switch_scheduler.c", "switch_scheduler_execute", 103});
  rs.add_header("Task-ID", "1");  // the heartbeat is the core's first scheduled task
  rs.add_header("Task-Desc", "heartbeat");
  rs.add_header("Task-Group", "core");
  rs.add_header("Task-Runtime", std::to_string(next_run));
  publish(std::move(rs));
}

}  // namespace eventsocket::core
