#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "eventsocket/core/api.hpp"
#include "eventsocket/core/calls.hpp"
#include "eventsocket/core/channel_registry.hpp"
#include "eventsocket/core/event_bus.hpp"
#include "eventsocket/core/job_pool.hpp"
#include "eventsocket/core/log.hpp"
#include "eventsocket/event/event.hpp"
#include "eventsocket/event/standard_headers.hpp"

namespace eventsocket::core {

// What eventsocket says it is, wherever a value names the software (`version`, `status`,
// the HEARTBEAT's version header). We name ourselves honestly, in FreeSWITCH's layouts.
inline constexpr std::string_view kProductName = "eventsocket";
inline constexpr std::string_view kProductVersion = "0.1.0";

// A SIP profile as `sofia status` reports it. There is no SIP stack behind it: these are the
// names the simulated remote-party endpoint answers to.
struct SipProfile {
  std::string name;
  std::string ip = "127.0.0.1";
  int port = 5060;
  std::string context = "public";
  int ws_port = 0;    // 0: no WebSocket transport
  int wss_port = 0;   // 0: no secure WebSocket transport
  std::string alias;  // another name the profile answers to ("" for none)
};

struct SwitchOptions {
  std::string hostname;    // empty: the machine's host name
  std::string switchname;  // empty: the host name
  std::string ipv4;        // empty: 127.0.0.1
  std::string ipv6;        // empty: ::1
  std::string core_uuid;   // empty: a fresh random UUID
  // HEARTBEAT period (FreeSWITCH's event-heartbeat-interval); zero disables it.
  std::chrono::milliseconds heartbeat_interval{std::chrono::seconds(20)};
  std::size_t api_threads = 4;
  std::size_t api_queue_limit = 1024;
  int max_sessions = 1000;
  int sessions_per_second = 30;
  // FreeSWITCH's vanilla profiles.
  std::vector<SipProfile> sip_profiles = {
      {"internal", "127.0.0.1", 5060, "public", 5066, 7443, "127.0.0.1"},
      {"external", "127.0.0.1", 5080, "public", 0, 0, ""}};
};

struct ApiResult {
  bool ok = false;  // the command exists and reported success
  std::string output;
};

// The switch core: identity, the event stream, the API commands and the global variables.
// One object, no globals, so a test can run several switches in one process. Thread-safe.
class Switch {
 public:
  explicit Switch(SwitchOptions options = {});
  ~Switch();
  Switch(const Switch&) = delete;
  Switch& operator=(const Switch&) = delete;

  // Starts the timers (HEARTBEAT). Stops them and drains the API workers.
  void start();
  void stop();

  const event::Origin& origin() const { return origin_; }
  const SwitchOptions& options() const { return options_; }
  // The session limits, changeable at run time (fsctl max_sessions, fsctl sps).
  int max_sessions() const { return max_sessions_.load(); }
  void set_max_sessions(int n) { max_sessions_.store(n); }
  int sessions_per_second() const { return sessions_per_second_.load(); }
  void set_sessions_per_second(int n) { sessions_per_second_.store(n); }
  // What `fsctl shutdown` does; without a handler the command reports it cannot.
  void set_shutdown_handler(std::function<void()> handler);
  bool request_shutdown();

  // A new event with the 13 standard headers (and Event-Subclass for a subclassed CUSTOM).
  event::Event make_event(event::EventType type, const event::CallSite& site,
                          std::string_view subclass = {});
  // Appends the standard headers to an event built elsewhere (sendevent).
  void add_standard_headers(event::Event& event, const event::CallSite& site);
  // Freezes and delivers an event to every subscriber.
  void publish(event::Event event);
  EventBus& bus() { return bus_; }

  // CUSTOM subclasses known to the switch (snapshotted by `event ALL`). Every `sendevent`
  // with a new subclass adds one, so the registry is bounded: past kMaxSubclasses new names
  // are not remembered (their events are still delivered; only `event ALL`'s snapshot, which
  // matters after a `nixevent`, misses them). Logged once.
  static constexpr std::size_t kMaxSubclasses = 10000;
  void register_subclass(std::string_view subclass);
  std::vector<std::string> custom_subclasses() const;

  ApiRegistry& api() { return api_; }
  // Runs an API command now, on the calling thread, and fires the API event.
  ApiResult execute_api(std::string_view command, std::string_view args,
                        std::string_view session_uuid = {});
  JobPool& jobs() { return jobs_; }

  std::optional<std::string> global_var(std::string_view name) const;
  void set_global_var(std::string_view name, std::string_view value);
  std::vector<std::pair<std::string, std::string>> global_vars() const;
  // Expands ${name} from the given event's headers, then from the global variables;
  // $${name} from the global variables.
  std::string expand(std::string_view text, const event::Event* headers = nullptr) const;

  Logger& logger() { return logger_; }

  std::chrono::microseconds uptime() const;
  // Sleeps for `duration` or until stop(), whichever comes first; false when stopped. Blocking
  // commands wait here so that a `bgapi msleep 3600000` cannot hold up a shutdown for an hour.
  bool sleep_for(std::chrono::milliseconds duration);
  ChannelRegistry& channels() { return channels_; }
  const ChannelRegistry& channels() const { return channels_; }
  // Calls: endpoints, dialplan, applications, the channel state machine.
  CallEngine& calls() { return *calls_; }
  std::uint64_t sessions_since_startup() const { return channels_.created_total(); }
  std::uint64_t session_count() const { return channels_.size(); }
  // "0 years, 0 days, 0 hours, 3 minutes, 47 seconds, 44 milliseconds, 510 microseconds"
  std::string uptime_text(bool plural_always) const;
  std::string version_full() const;  // "0.1.0 (eventsocket 0.1.0 64bit)"

 private:
  void heartbeat_loop();
  void fire_heartbeat();

  struct IdleMeter {
    double sample();  // only the timer thread samples
    unsigned long long last_total_ = 0;
    unsigned long long last_idle_ = 0;
  };

  SwitchOptions options_;
  event::Origin origin_;
  std::chrono::steady_clock::time_point started_steady_;
  std::chrono::system_clock::time_point started_;
  std::atomic<std::uint64_t> sequence_{0};
  std::atomic<int> max_sessions_;
  std::atomic<int> sessions_per_second_;
  std::mutex shutdown_mutex_;
  std::function<void()> shutdown_handler_;

  EventBus bus_;
  ApiRegistry api_;
  ChannelRegistry channels_;
  JobPool jobs_;
  Logger logger_;

  mutable std::mutex vars_mutex_;
  std::map<std::string, std::string, std::less<>> globals_;
  std::set<std::string, std::less<>> subclasses_;
  bool subclasses_full_logged_ = false;

  std::mutex timer_mutex_;
  std::condition_variable timer_wake_;
  bool stopping_ = false;
  std::thread timer_thread_;
  IdleMeter idle_meter_;
  // Last, so it is destroyed first: its channel threads use everything above.
  std::unique_ptr<CallEngine> calls_;
};

// Registers the built-in API commands (status, version, echo, ...).
void register_builtin_commands(Switch& sw);

}  // namespace eventsocket::core
