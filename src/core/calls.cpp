#include "eventsocket/core/calls.hpp"

#include <algorithm>
#include <atomic>
#include <ctime>
#include <thread>

#include "eventsocket/core/fiber_scheduler.hpp"
#include "eventsocket/core/switch.hpp"
#include "eventsocket/core/uuid.hpp"

namespace eventsocket::core {
namespace {

using event::EventType;
using Clock = std::chrono::steady_clock;

constexpr event::CallSite kSetRunningState{"switch_channel.c",
                                           "switch_channel_perform_set_running_state", 2409};
constexpr event::CallSite kSessionRun{"switch_core_state_machine.c", "switch_core_session_run",
                                      626};
constexpr event::CallSite kReporting{"switch_core_state_machine.c",
                                     "switch_core_session_reporting_state", 943};
constexpr event::CallSite kHangup{"switch_channel.c", "switch_channel_perform_hangup", 3447};
constexpr event::CallSite kCallState{"switch_channel.c", "switch_channel_perform_set_callstate",
                                     294};
constexpr event::CallSite kAnswered{"switch_channel.c", "switch_channel_perform_mark_answered",
                                    3788};
constexpr event::CallSite kPreAnswered{"switch_channel.c",
                                       "switch_channel_perform_mark_pre_answered", 3591};
constexpr event::CallSite kRingReady{"switch_channel.c",
                                     "switch_channel_perform_mark_ring_ready_value", 3521};
constexpr event::CallSite kOutgoing{"switch_core_session.c", "switch_core_session_outgoing_channel",
                                    734};
constexpr event::CallSite kOriginate{"switch_ivr_originate.c", "switch_ivr_originate", 4066};
constexpr event::CallSite kExecute{"switch_core_session.c", "switch_core_session_exec", 2949};
constexpr event::CallSite kExecuteComplete{"switch_core_session.c", "switch_core_session_exec",
                                           2972};
constexpr event::CallSite kDestroy{"switch_core_session.c", "switch_core_session_perform_destroy",
                                   1658};
constexpr event::CallSite kBridge{"switch_ivr_bridge.c", "switch_ivr_multi_threaded_bridge", 1717};
constexpr event::CallSite kUnbridge{"switch_ivr_bridge.c", "switch_ivr_multi_threaded_bridge",
                                    1848};
constexpr event::CallSite kDtmf{"switch_channel.c", "switch_channel_queue_dtmf", 519};
constexpr event::CallSite kHold{"switch_channel.c", "switch_channel_perform_mark_hold", 1165};

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string local_stamp(std::int64_t us) {
  const std::time_t t = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

// Which kind of endpoint a leg belongs to: it decides names, codecs and who answers.
enum class Endpoint { null, loopback_a, loopback_b, sofia };

// What a leg's thread knows about its own call.
struct LegPlan {
  Endpoint endpoint = Endpoint::null;
  std::optional<RemoteParty> remote;  // sofia: how the far end behaves
  std::chrono::milliseconds timeout{60000};
  std::function<void()> after_create;  // loopback: start the b-leg once the a-leg exists
  bool begun = false;  // CS_INIT and CHANNEL_CREATE already done (by the originator)
};

}  // namespace

struct CallEngine::Impl {
  explicit Impl(CallEngine& e) : engine(e) {}
  CallEngine& engine;

  mutable std::mutex mutex;
  std::shared_ptr<const dialplan::Dialplan> routes;
  std::vector<RemoteParty> parties;
  std::vector<event::Filter> party_matchers;
  std::function<std::string(std::string_view, std::string_view)> user_resolver;
  SocketConnector socket_connector;
  std::map<std::string, std::pair<std::string, Application>, std::less<>> apps;

  std::atomic<std::uint64_t> session_ids{0};

  std::mutex threads_mutex;
  std::condition_variable threads_done;
  std::size_t threads = 0;  // channels whose thread has not finished
  bool shutting_down = false;

  // Every channel runs on a fiber of this scheduler: a parked or sleeping call holds a
  // small stack, not a thread (many outbound calls wait on their programs for long).
  std::unique_ptr<FiberScheduler> fibers =
      std::make_unique<FiberScheduler>(std::max(4u, 2 * std::thread::hardware_concurrency()));
  void run_on_thread(std::function<void()> job) { fibers->spawn(std::move(job)); }
  void stop_pool() { fibers.reset(); }

  void start_leg(ChannelPtr channel, LegPlan plan);
  void run_leg(const ChannelPtr& channel, const LegPlan& plan);
  void begin_leg(const ChannelPtr& channel, const LegPlan& plan);
  void run_states(const ChannelPtr& channel, const LegPlan& plan, std::string& last_app,
                  std::string& last_arg);
  void set_running(const ChannelPtr& channel, ChannelState state);
  void run_routing(const ChannelPtr& channel);
  void run_execute(const ChannelPtr& channel, std::string& last_app, std::string& last_arg);
  void run_consume_media(const ChannelPtr& channel, const LegPlan& plan);
  void run_park_state(const ChannelPtr& channel, std::string& last_app, std::string& last_arg);
  void run_hangup(const ChannelPtr& channel, const LegPlan& plan, const std::string& last_app,
                  const std::string& last_arg);
  void set_call_state(const ChannelPtr& channel, CallState state);
  void mark_answered(const ChannelPtr& channel);
  void mark_pre_answered(const ChannelPtr& channel);
  void mark_ring_ready(const ChannelPtr& channel);
  // The other leg of a loopback pair (not a bridged leg), if any.
  ChannelPtr loopback_twin(const ChannelPtr& channel);
  std::optional<RemoteParty> remote_for(std::string_view destination) const;
  // Creates and rings the legs of a dial string; the first to answer wins. `originator` is
  // the bridging channel (nullptr for the originate API).
  ChannelPtr dial(const ChannelPtr& originator, const OriginateRequest& request,
                  std::string& cause);
  ChannelPtr create_leg(const ChannelPtr& originator, const OriginateRequest& request,
                        const DialTarget& target, const VariableList& vars, int depth,
                        std::string& cause);

  // The scheduler (sched_api, sched_hangup, simulated remote parties).
  struct Task {
    std::uint64_t id;
    std::string group;
    std::function<void()> run;
  };
  std::mutex sched_mutex;
  std::condition_variable sched_wake;
  std::multimap<std::chrono::system_clock::time_point, Task> tasks;
  std::uint64_t next_task_id = 1;
  bool sched_stop = false;
  std::thread sched_thread;
  void scheduler_loop();
};

namespace {

// Points the channel at a new extension (transfer): a new caller profile generation, then
// routing. Called under the channel's lock.
void route_to(Channel::Control& c, ChannelData& d, std::string_view extension,
              std::string_view dialplan_name, std::string_view context) {
  d.caller.destination_number = std::string(extension);
  if (!dialplan_name.empty()) {
    d.caller.dialplan = std::string(dialplan_name);
  }
  if (!context.empty()) {
    d.caller.context = std::string(context);
  }
  d.caller.transferred = now_us();
  d.caller.profile_index += 1;
  d.state = ChannelState::CS_ROUTING;
  c.extension.clear();
  c.leave = true;
  c.held_by_originator = false;
}

ChannelData new_leg_data(std::string uuid, std::string name, std::string direction,
                         std::string source, std::uint64_t session_id,
                         const CallerProfile& profile_template, const Codec& codec) {
  ChannelData d;
  d.uuid = std::move(uuid);
  d.name = std::move(name);
  d.direction = direction;
  d.running_state = ChannelState::CS_NEW;
  d.state = ChannelState::CS_NEW;
  d.read_codec = codec;
  d.write_codec = codec;
  d.caller = profile_template;
  d.caller.direction = direction;
  d.caller.logical_direction = direction;
  d.caller.uuid = d.uuid;
  d.caller.source = std::move(source);
  d.caller.channel_name = d.name;
  const std::int64_t now = now_us();
  d.caller.profile_created = now;
  d.caller.created = now;
  d.hit_dialplan = direction == "inbound";
  d.set_variable("direction", direction);
  if (direction == "outbound") {
    d.set_variable("is_outbound", "true");
  }
  d.set_variable("session_id", std::to_string(session_id));
  d.set_variable("read_codec", codec.name);
  d.set_variable("read_rate", std::to_string(codec.rate));
  d.set_variable("write_codec", codec.name);
  d.set_variable("write_rate", std::to_string(codec.rate));
  d.set_variable("channel_name", d.name);
  d.set_variable("uuid", d.uuid);
  d.set_variable("call_uuid", d.uuid);
  return d;
}

}  // namespace

CallEngine::CallEngine(Switch& sw) : switch_(sw), impl_(std::make_unique<Impl>(*this)) {}

CallEngine::~CallEngine() {
  shutdown();
}

void CallEngine::shutdown() {
  {
    std::lock_guard lock(impl_->threads_mutex);
    impl_->shutting_down = true;
  }
  for (const ChannelPtr& c : switch_.channels().list()) {
    hangup(c, "SYSTEM_SHUTDOWN");
  }
  {
    std::unique_lock lock(impl_->threads_mutex);
    impl_->threads_done.wait(lock, [&] { return impl_->threads == 0; });
  }
  impl_->stop_pool();
  std::thread scheduler;
  {
    std::lock_guard lock(impl_->sched_mutex);
    impl_->sched_stop = true;
    impl_->tasks.clear();
    scheduler = std::move(impl_->sched_thread);
  }
  impl_->sched_wake.notify_all();
  if (scheduler.joinable()) {
    scheduler.join();
  }
}

std::size_t CallEngine::running_threads() const {
  std::lock_guard lock(impl_->threads_mutex);
  return impl_->threads;
}

void CallEngine::set_dialplan(std::shared_ptr<const dialplan::Dialplan> plan) {
  std::lock_guard lock(impl_->mutex);
  impl_->routes = std::move(plan);
}

std::shared_ptr<const dialplan::Dialplan> CallEngine::dialplan() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->routes;
}

void CallEngine::set_remote_parties(std::vector<RemoteParty> parties) {
  std::vector<event::Filter> matchers;
  for (const RemoteParty& p : parties) {
    matchers.push_back(event::Filter::make("destination", "/" + p.pattern + "/"));
  }
  std::lock_guard lock(impl_->mutex);
  impl_->parties = std::move(parties);
  impl_->party_matchers = std::move(matchers);
}

std::optional<RemoteParty> CallEngine::Impl::remote_for(std::string_view destination) const {
  std::lock_guard lock(mutex);
  for (std::size_t i = 0; i < parties.size(); ++i) {
    if (party_matchers[i].matches(destination)) {
      return parties[i];
    }
  }
  return std::nullopt;
}

void CallEngine::set_user_resolver(
    std::function<std::string(std::string_view, std::string_view)> resolver) {
  std::lock_guard lock(impl_->mutex);
  impl_->user_resolver = std::move(resolver);
}

void CallEngine::register_application(std::string name, std::string description, Application app) {
  std::lock_guard lock(impl_->mutex);
  impl_->apps.insert_or_assign(std::move(name),
                               std::make_pair(std::move(description), std::move(app)));
}

bool CallEngine::has_application(std::string_view name) const {
  std::lock_guard lock(impl_->mutex);
  return impl_->apps.find(name) != impl_->apps.end();
}

std::vector<std::pair<std::string, std::string>> CallEngine::applications() const {
  std::lock_guard lock(impl_->mutex);
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, app] : impl_->apps) {
    out.emplace_back(name, app.first);
  }
  return out;
}

void CallEngine::fire(const ChannelPtr& channel, EventType type, const event::CallSite& site,
                      const std::function<void(event::Event&)>& before,
                      const std::function<void(event::Event&)>& after) {
  event::Event e = switch_.make_event(type, site);
  if (before) {
    before(e);
  }
  channel->add_event_headers(e);
  if (after) {
    after(e);
  }
  switch_.publish(std::move(e));
}

// --- state changes -------------------------------------------------------------------------

void CallEngine::Impl::set_running(const ChannelPtr& channel, ChannelState state) {
  channel->update([&](ChannelData& d) { d.running_state = state; });
  engine.fire(channel, EventType::CHANNEL_STATE, kSetRunningState);
}

void CallEngine::Impl::set_call_state(const ChannelPtr& channel, CallState state) {
  CallState old = state;
  channel->update([&](ChannelData& d) {
    old = d.call_state;
    d.call_state = state;
  });
  if (old == state) {
    return;
  }
  engine.fire(channel, EventType::CHANNEL_CALLSTATE, kCallState, {}, [&](event::Event& e) {
    e.add_header("Original-Channel-Call-State", call_state_name(old));
    e.add_header("Channel-Call-State-Number", std::to_string(static_cast<int>(state)));
  });
}

void CallEngine::Impl::mark_ring_ready(const ChannelPtr& channel) {
  bool changed = false;
  channel->update([&](ChannelData& d) {
    if (d.caller.progress == 0 && d.answer_state == "ringing") {
      d.caller.progress = now_us();
      changed = true;
    }
  });
  if (changed) {
    set_call_state(channel, CallState::RINGING);
    engine.fire(channel, EventType::CHANNEL_PROGRESS, kRingReady);
    if (ChannelPtr twin = loopback_twin(channel)) {
      mark_ring_ready(twin);  // the caller of a loopback pair hears its other leg ring
    }
  }
}

bool CallEngine::ring_ready(const ChannelPtr& channel) {
  impl_->mark_ring_ready(channel);
  return true;
}

bool CallEngine::pre_answer(const ChannelPtr& channel) {
  impl_->mark_pre_answered(channel);
  return true;
}

void CallEngine::Impl::mark_pre_answered(const ChannelPtr& channel) {
  bool changed = false;
  channel->update([&](ChannelData& d) {
    if (d.answer_state == "ringing" && d.state < ChannelState::CS_HANGUP) {
      d.answer_state = "early";
      d.caller.progress_media = now_us();
      changed = true;
    }
  });
  if (!changed) {
    return;
  }
  set_call_state(channel, CallState::EARLY);
  engine.fire(channel, EventType::CHANNEL_PROGRESS_MEDIA, kPreAnswered);
  if (ChannelPtr twin = loopback_twin(channel)) {
    mark_pre_answered(twin);  // early media flows through the loopback pair
  }
}

ChannelPtr CallEngine::Impl::loopback_twin(const ChannelPtr& channel) {
  std::string partner;
  channel->control([&](Channel::Control& c, ChannelData&) {
    partner = c.bridged ? "" : c.partner;
    return 0;
  });
  return partner.empty() ? nullptr : engine.core().channels().find(partner);
}

void CallEngine::Impl::mark_answered(const ChannelPtr& channel) {
  bool changed = false;
  // The answer and its events happen under the channel's lock (as a hangup does): whoever
  // waits for the answer (originate) is released only once CHANNEL_ANSWER is out, so the
  // events of what runs next cannot overtake it.
  channel->control([&](Channel::Control& c, ChannelData& d) {
    if (d.answer_state == "answered" || d.answer_state == "hangup" || c.hangup) {
      return 0;
    }
    changed = true;
    d.answer_state = "answered";
    d.caller.answered = now_us();
    d.set_variable("endpoint_disposition", "ANSWER");
    const CallState old = d.call_state;
    d.call_state = CallState::ACTIVE;
    if (old != CallState::ACTIVE) {
      event::Event e = engine.core().make_event(EventType::CHANNEL_CALLSTATE, kCallState);
      d.add_event_headers(e);
      e.add_header("Original-Channel-Call-State", call_state_name(old));
      e.add_header("Channel-Call-State-Number",
                   std::to_string(static_cast<int>(CallState::ACTIVE)));
      engine.core().publish(std::move(e));
    }
    event::Event e = engine.core().make_event(EventType::CHANNEL_ANSWER, kAnswered);
    d.add_event_headers(e);
    engine.core().publish(std::move(e));
    return 0;
  });
  if (!changed) {
    return;
  }
  // A loopback leg answering answers its twin: the call is up end to end.
  if (ChannelPtr twin = loopback_twin(channel)) {
    mark_answered(twin);
  }
}

bool CallEngine::answer(const ChannelPtr& channel) {
  if (channel->snapshot().answer_state == "answered") {
    return false;
  }
  impl_->mark_answered(channel);
  return true;
}

bool CallEngine::hangup(const ChannelPtr& channel, std::string_view cause) {
  std::string cause_name(cause);
  if (!hangup_cause_by_name(cause_name)) {
    cause_name = "NORMAL_CLEARING";
  }
  bool first = false;
  std::string partner;
  bool bridged = false;
  bool bridge_originator = false;
  // CHANNEL_HANGUP is built and published under the channel's lock: the channel's thread,
  // woken by the hangup, cannot publish anything about it (CHANNEL_UNPARK, ...) before it.
  // Lock order: channel, then the bus and the sessions (which never take a channel lock
  // while holding their own).
  channel->control([&](Channel::Control& c, ChannelData& d) {
    if (c.hangup) {
      return 0;
    }
    first = true;
    c.hangup = true;
    partner = c.partner;
    bridged = c.bridged;
    bridge_originator = d.other_leg && d.other_leg->first == "originatee";
    d.state = ChannelState::CS_HANGUP;
    d.answer_state = "hangup";
    d.hangup_cause = cause_name;
    event::Event e = switch_.make_event(EventType::CHANNEL_HANGUP, kHangup);
    d.add_event_headers(e);
    switch_.publish(std::move(e));
    return 0;
  });
  if (!first) {
    return false;
  }
  // The other leg of a loopback pair goes down with this one. In a bridge, the called leg
  // goes down with its caller, while a caller whose called leg hangs up leaves the bridge
  // application and carries on with its dialplan.
  if (!partner.empty()) {
    if (ChannelPtr other = switch_.channels().find(partner)) {
      if (bridged && !bridge_originator) {
        other->control([&](Channel::Control& c, ChannelData&) {
          c.leave = true;
          return 0;
        });
      } else {
        hangup(other, cause_name);
      }
    }
  }
  return true;
}

bool CallEngine::hangup(std::string_view uuid, std::string_view cause) {
  ChannelPtr channel = switch_.channels().find(uuid);
  return channel && hangup(channel, cause);
}

bool CallEngine::queue_application(std::string_view uuid, Channel::QueuedApplication app) {
  ChannelPtr channel = switch_.channels().find(uuid);
  if (!channel) {
    return false;
  }
  channel->control([&](Channel::Control& c, ChannelData&) {
    c.queue.push_back(std::move(app));
    return 0;
  });
  return true;
}

bool CallEngine::interrupt(std::string_view uuid, bool all) {
  ChannelPtr channel = switch_.channels().find(uuid);
  if (!channel) {
    return false;
  }
  channel->control([&](Channel::Control& c, ChannelData&) {
    c.interrupt = true;
    if (all) {
      c.queue.clear();
    }
    return 0;
  });
  return true;
}

bool CallEngine::transfer(std::string_view uuid, std::string_view extension,
                          std::string_view dialplan_name, std::string_view context) {
  ChannelPtr channel = switch_.channels().find(uuid);
  if (!channel) {
    return false;
  }
  bool ok = false;
  channel->control([&](Channel::Control& c, ChannelData& d) {
    ok = !c.hangup;
    if (ok) {
      route_to(c, d, extension, dialplan_name, context);
    }
    return 0;
  });
  return ok;
}

bool CallEngine::park(std::string_view uuid) {
  ChannelPtr channel = switch_.channels().find(uuid);
  if (!channel) {
    return false;
  }
  bool ok = false;
  channel->control([&](Channel::Control& c, ChannelData& d) {
    if (!c.hangup) {
      ok = true;
      d.state = ChannelState::CS_PARK;
      c.extension.clear();
      c.leave = true;
    }
    return 0;
  });
  return ok;
}

bool CallEngine::receive_dtmf(std::string_view uuid, std::string_view digits) {
  ChannelPtr channel = switch_.channels().find(uuid);
  if (!channel) {
    return false;
  }
  for (char digit : digits) {
    if (digit == 'w' || digit == 'W' || digit == ' ') {
      continue;  // pauses in a DTMF string
    }
    if (const std::size_t at = digits.find('@');
        at != std::string_view::npos && &digit >= &digits[at]) {
      break;  // "1234@500": a duration follows
    }
    channel->control([&](Channel::Control& c, ChannelData&) {
      c.dtmf.push_back(digit);
      return 0;
    });
    fire(channel, EventType::DTMF, kDtmf, {}, [&](event::Event& e) {
      e.add_header("DTMF-Digit", std::string(1, digit));
      e.add_header("DTMF-Duration", "2000");
      e.add_header("DTMF-Source", "APP");
    });
  }
  return true;
}

bool CallEngine::hold(std::string_view uuid, std::optional<bool> on) {
  ChannelPtr channel = switch_.channels().find(uuid);
  if (!channel) {
    return false;
  }
  bool now_held = false;
  bool changed = false;
  channel->control([&](Channel::Control& c, ChannelData& d) {
    const bool want = on.value_or(!c.held);
    changed = want != c.held;
    c.held = want;
    now_held = want;
    if (changed && want) {
      d.caller.last_hold = now_us();
    } else if (changed) {
      d.caller.hold_accum += now_us() - d.caller.last_hold;
    }
    return 0;
  });
  if (changed) {
    impl_->set_call_state(channel, now_held ? CallState::HELD : CallState::ACTIVE);
    fire(channel, now_held ? EventType::CHANNEL_HOLD : EventType::CHANNEL_UNHOLD, kHold);
  }
  return true;
}

// --- the channel's thread --------------------------------------------------------------------

void CallEngine::Impl::start_leg(ChannelPtr channel, LegPlan plan) {
  {
    std::lock_guard lock(threads_mutex);
    ++threads;
  }
  run_on_thread([this, channel = std::move(channel), plan = std::move(plan)] {
    run_leg(channel, plan);
    engine.core().channels().remove(channel->uuid());
    engine.cancel_scheduled(channel->uuid());
    std::lock_guard lock(threads_mutex);
    if (--threads == 0) {
      threads_done.notify_all();
    }
  });
}

void CallEngine::Impl::run_leg(const ChannelPtr& channel, const LegPlan& plan) {
  std::string last_app;
  std::string last_arg;
  if (!plan.begun) {
    begin_leg(channel, plan);
  }
  run_states(channel, plan, last_app, last_arg);
}

void CallEngine::Impl::begin_leg(const ChannelPtr& channel, const LegPlan& plan) {
  // CS_INIT: the endpoint's init handler moves the channel on to routing; CHANNEL_CREATE
  // follows (CS_INIT / 2 in the captures).
  channel->update([](ChannelData& d) { d.state = ChannelState::CS_INIT; });
  set_running(channel, ChannelState::CS_INIT);
  channel->control([](Channel::Control& c, ChannelData& d) {
    if (!c.hangup) {
      d.state = ChannelState::CS_ROUTING;
    }
    return 0;
  });
  engine.fire(channel, EventType::CHANNEL_CREATE, kSessionRun);
  if (plan.after_create) {
    plan.after_create();
  }
  if (plan.endpoint == Endpoint::null) {
    mark_answered(channel);
  }
}

void CallEngine::Impl::run_states(const ChannelPtr& channel, const LegPlan& plan,
                                  std::string& last_app, std::string& last_arg) {
  for (;;) {
    ChannelState target = ChannelState::CS_NONE;
    channel->control([&](Channel::Control& c, ChannelData& d) {
      target = c.hangup ? ChannelState::CS_HANGUP : d.state;
      c.leave = false;
      c.interrupt = false;
      return 0;
    });
    if (target >= ChannelState::CS_HANGUP) {
      break;
    }
    switch (target) {
      case ChannelState::CS_ROUTING:
        run_routing(channel);
        break;
      case ChannelState::CS_CONSUME_MEDIA:
        run_consume_media(channel, plan);
        break;
      case ChannelState::CS_EXECUTE:
        run_execute(channel, last_app, last_arg);
        break;
      case ChannelState::CS_PARK:
        run_park_state(channel, last_app, last_arg);
        break;
      default:
        // A state nobody drives here (a bridged b-leg's CS_EXCHANGE_MEDIA): run what is
        // queued for the channel until the state changes.
        {
          bool queued = false;
          channel->wait([&](const Channel::Control& c, const ChannelData& d) {
            queued = c.message_ready();
            return c.hangup || d.state != target || queued;
          });
          if (queued) {
            engine.run_queued(channel);
          }
        }
        break;
    }
  }
  run_hangup(channel, plan, last_app, last_arg);
}

void CallEngine::Impl::run_routing(const ChannelPtr& channel) {
  set_running(channel, ChannelState::CS_ROUTING);
  bool hunt = false;
  channel->control([&](Channel::Control& c, ChannelData& d) {
    if (c.hangup || d.state != ChannelState::CS_ROUTING) {
      return 0;  // sent elsewhere meanwhile (the originator decided, a hangup)
    }
    // An originated leg waits for the originator's decision (answer, route or cancel).
    if (c.held_by_originator) {
      d.state = ChannelState::CS_CONSUME_MEDIA;
    } else {
      hunt = true;
    }
    return 0;
  });
  if (!hunt) {
    return;
  }
  channel->update([](ChannelData& d) { d.hit_dialplan = true; });
  const ChannelData data = channel->snapshot();
  std::deque<std::pair<std::string, std::string>> actions;
  bool found = false;
  if (data.caller.dialplan == "inline") {
    // FreeSWITCH's inline dialplan: "app:arg,app2:arg2".
    std::string_view rest = data.caller.destination_number;
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      std::string_view item = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      const std::size_t colon = item.find(':');
      actions.emplace_back(
          std::string(item.substr(0, colon)),
          colon == std::string_view::npos ? "" : std::string(item.substr(colon + 1)));
    }
    found = !actions.empty();
  } else {
    std::shared_ptr<const dialplan::Dialplan> routes = engine.dialplan();
    if (routes) {
      CallContext ctx(engine, channel);
      dialplan::Channel view;
      view.field = [&](std::string_view field) -> std::optional<std::string> {
        const ChannelData d = channel->snapshot();
        const CallerProfile& p = d.caller;
        if (field == "destination_number")
          return p.destination_number;
        if (field == "caller_id_name")
          return p.caller_id_name;
        if (field == "caller_id_number")
          return p.caller_id_number;
        if (field == "ani")
          return p.ani;
        if (field == "aniii")
          return p.aniii;
        if (field == "rdnis")
          return p.rdnis;
        if (field == "source")
          return p.source;
        if (field == "context")
          return p.context;
        if (field == "network_addr")
          return p.network_addr;
        if (field == "chan_name")
          return d.name;
        if (field == "uuid")
          return d.uuid;
        if (field == "dialplan")
          return p.dialplan;
        if (field == "username")
          return p.username;
        if (auto v = d.variable(field))
          return std::string(*v);
        return std::nullopt;
      };
      view.expand = [&](std::string_view text) { return ctx.expand(text); };
      view.run_inline = [&](const dialplan::Action& action) {
        Application app;
        {
          std::lock_guard lock(mutex);
          if (auto it = apps.find(action.application); it != apps.end()) {
            app = it->second.second;
          }
        }
        if (app) {
          app(ctx, ctx.expand(action.data));
        }
      };
      const dialplan::RouteResult result = routes->route(data.caller.context, view);
      found = result.found;
      if (result.truncated) {
        engine.core().logger().log(
            LogLevel::warning, "mod_dialplan_xml.c", "dialplan_hunt", 0,
            "The dialplan gave more than " + std::to_string(dialplan::kMaxActionsPerRoute) +
                " actions for [" + data.caller.destination_number + "]; the rest are dropped",
            channel->uuid());
      }
      for (const dialplan::Action& a : result.actions) {
        actions.emplace_back(a.application, a.data);
      }
    }
  }
  if (!found) {
    engine.core().logger().log(LogLevel::info, "mod_dialplan_xml.c", "dialplan_hunt", 637,
                               "No Route, Aborting [" + data.caller.destination_number + "]",
                               channel->uuid());
    engine.hangup(channel, "NO_ROUTE_DESTINATION");
    return;
  }
  channel->control([&](Channel::Control& c, ChannelData& d) {
    if (!c.hangup && d.state == ChannelState::CS_ROUTING) {
      c.extension = std::move(actions);
      d.state = ChannelState::CS_EXECUTE;
    }
    return 0;
  });
}

void CallEngine::Impl::run_consume_media(const ChannelPtr& channel, const LegPlan& plan) {
  bool entered = false;  // an originated leg entered it on the originator's thread
  channel->update(
      [&](ChannelData& d) { entered = d.running_state == ChannelState::CS_CONSUME_MEDIA; });
  if (!entered) {
    set_running(channel, ChannelState::CS_CONSUME_MEDIA);
  }
  auto left = [](const Channel::Control& c, const ChannelData& d) {
    return c.hangup || d.state != ChannelState::CS_CONSUME_MEDIA;
  };
  if (plan.remote && channel->snapshot().answer_state == "ringing") {
    const RemoteParty& party = *plan.remote;
    // 180 Ringing, then the outcome after the configured ring time.
    mark_ring_ready(channel);
    if (!channel->wait_until(Clock::now() + party.ring, left)) {
      if (party.outcome == "answer") {
        mark_answered(channel);
        // What the far end does once up: hang up after a while, send digits.
        CallEngine* eng = &engine;
        const std::string uuid = channel->uuid();
        const auto now = std::chrono::system_clock::now();
        if (party.hangup_after.count() > 0) {
          engine.schedule(now + party.hangup_after, uuid,
                          [eng, uuid] { eng->hangup(uuid, "NORMAL_CLEARING"); });
        }
        if (!party.dtmf.empty()) {
          const std::string digits = party.dtmf;
          engine.schedule(now + std::chrono::milliseconds(100), uuid,
                          [eng, uuid, digits] { eng->receive_dtmf(uuid, digits); });
        }
      } else if (party.outcome != "NO_ANSWER") {
        engine.hangup(channel, party.outcome);
      }
    }
  }
  channel->wait(left);
}

bool CallEngine::execute(const ChannelPtr& channel, std::string_view application,
                         std::string_view data, std::string_view application_uuid,
                         const std::function<void()>& completing) {
  Application app;
  {
    std::lock_guard lock(impl_->mutex);
    if (auto it = impl_->apps.find(application); it != impl_->apps.end()) {
      app = it->second.second;
    }
  }
  if (!app) {
    switch_.logger().log(LogLevel::err, "switch_core_session.c",
                         "switch_core_session_execute_application_get_flags", 2753,
                         "Invalid Application " + std::string(application), channel->uuid());
    return false;
  }
  CallContext ctx(*this, channel);
  const std::string arg = ctx.expand(data);
  const std::string app_uuid =
      application_uuid.empty() ? make_uuid() : std::string(application_uuid);
  const std::string name(application);
  channel->control([&](Channel::Control& c, ChannelData& d) {
    d.set_variable("current_application", name);
    d.set_variable("current_application_data", arg);
    c.last_app = name;
    c.last_arg = arg;
    return 0;
  });
  auto describe = [&](event::Event& e) {
    e.add_header("Application", name);
    if (!arg.empty()) {
      e.add_header("Application-Data", arg);
    }
  };
  fire(channel, EventType::CHANNEL_EXECUTE, kExecute, {}, [&](event::Event& e) {
    describe(e);
    e.add_header("Application-UUID", app_uuid);
  });
  channel->set_variable("current_application", name);
  channel->set_application(name, arg);
  app(ctx, arg);
  const std::string response = channel->variable("current_application_response").value_or("_none_");
  fire(channel, EventType::CHANNEL_EXECUTE_COMPLETE, kExecuteComplete, {}, [&](event::Event& e) {
    describe(e);
    e.add_header("Application-Response", response);
    e.add_header("Application-UUID", app_uuid);
    if (completing) {
      completing();
    }
  });
  return true;
}

bool CallEngine::run_queued(const ChannelPtr& channel) {
  std::optional<Channel::QueuedApplication> next;
  channel->control([&](Channel::Control& c, ChannelData&) {
    if (c.message_ready() && !c.hangup) {
      next = std::move(c.queue.front());
      c.queue.pop_front();
    }
    return 0;
  });
  if (!next) {
    return false;
  }
  run_message(channel, *next, true);
  return true;
}

void CallEngine::run_message(const ChannelPtr& channel, const Channel::QueuedApplication& message,
                             bool fire_private_command) {
  const Channel::QueuedApplication* next = &message;
  if (next->event_lock) {
    channel->control([](Channel::Control& c, ChannelData&) {
      c.event_locked = true;
      return 0;
    });
  }
  if (next->command == "execute") {
    if (!next->event_uuid.empty()) {
      channel->set_variable("app_uuid", next->event_uuid);
    }
    // Negative loops repeat until the channel leaves; an iteration shorter than half a
    // second ends the looping (FreeSWITCH's guard against spinning).
    const bool forever = next->loops < 0;
    const int loops = forever ? -1 : std::max(1, next->loops);
    const auto end_loop = [&] {
      channel->set_variable("current_loop", "");
      channel->set_variable("total_loops", "");
    };
    for (int i = 1; forever || i <= loops; ++i) {
      channel->set_variable("current_loop", std::to_string(i));
      channel->set_variable("total_loops", std::to_string(loops));
      const auto started = Clock::now();
      // The last CHANNEL_EXECUTE_COMPLETE still shows the loop, but a program reacting to it
      // (say with a hangup, acted on at once) must find the loop over, as FreeSWITCH's
      // queued event delivery makes it find.
      if (!execute(channel, next->application, next->data, next->event_uuid,
                   i == loops ? std::function<void()>(end_loop) : std::function<void()>())) {
        break;
      }
      bool up = true;
      channel->control([&](Channel::Control& c, ChannelData&) {
        up = !c.hangup && !c.leave;
        return 0;
      });
      if (!up || (i > 1 && Clock::now() - started < std::chrono::milliseconds(500))) {
        break;
      }
    }
    end_loop();
  } else if (next->command == "hangup") {
    hangup(channel, next->hangup_cause.empty() ? "NORMAL_CLEARING" : next->hangup_cause);
  } else if (next->command == "xferext") {
    // A new extension of the given steps replaces what the channel was running.
    channel->control([&](Channel::Control& c, ChannelData& d) {
      if (c.hangup) {
        return 0;
      }
      c.extension.clear();
      for (const std::string& step : next->extension) {
        const std::size_t space = step.find(' ');
        c.extension.emplace_back(step.substr(0, space),
                                 space == std::string::npos ? "" : step.substr(space + 1));
      }
      c.leave = true;
      d.state = ChannelState::CS_EXECUTE;
      return 0;
    });
  }
  // unicast and nomedia concern media, which this switch does not carry: nothing to do.
  if (next->event_lock) {
    channel->control([](Channel::Control& c, ChannelData&) {
      c.event_locked = false;
      return 0;
    });
  }
  if (fire_private_command && !next->headers.empty()) {
    constexpr event::CallSite kPrivate{"switch_ivr.c", "switch_ivr_parse_event", 551};
    event::Event e(EventType::PRIVATE_COMMAND);
    for (const auto& [n, v] : next->headers) {
      e.add_header(n, v);
    }
    switch_.add_standard_headers(e, kPrivate);
    channel->add_event_headers(e);
    switch_.publish(std::move(e));
  }
}

void CallEngine::set_socket_connector(SocketConnector connector) {
  std::lock_guard lock(impl_->mutex);
  impl_->socket_connector = std::move(connector);
}

CallEngine::SocketConnector CallEngine::socket_connector() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->socket_connector;
}

bool CallEngine::socket_connect_result(const ChannelPtr& channel, bool ok) {
  return channel->control([&](Channel::Control& c, ChannelData&) {
    if (!c.socket.in_application || c.socket.connect_done || c.hangup) {
      return false;
    }
    c.socket.connect_done = true;
    c.socket.connect_ok = ok;
    return ok;
  });
}

void CallEngine::socket_session_connected(const ChannelPtr& channel) {
  channel->control([](Channel::Control& c, ChannelData&) {
    c.socket.connected = true;
    return 0;
  });
}

void CallEngine::socket_session_ended(const ChannelPtr& channel) {
  channel->control([](Channel::Control& c, ChannelData&) {
    if (c.socket.in_application && !c.socket.ended) {
      c.socket.ended = true;
      c.leave = true;  // ends the park of an async session
    }
    return 0;
  });
}

void CallEngine::run_inline(const ChannelPtr& channel, Channel::QueuedApplication message,
                            std::function<void()> done) {
  const bool queued = channel->control([&](Channel::Control& c, ChannelData&) {
    if (!c.socket.in_application || !c.socket.static_mode || c.socket.ended || c.hangup) {
      return false;
    }
    c.socket.inline_messages.emplace_back(std::move(message), std::move(done));
    return true;
  });
  if (!queued && done) {
    done();
  }
}

void CallEngine::park_here(const ChannelPtr& channel) {
  constexpr event::CallSite kPark{"switch_ivr.c", "switch_ivr_park", 1002};
  constexpr event::CallSite kUnpark{"switch_ivr.c", "switch_ivr_park", 1213};
  fire(channel, EventType::CHANNEL_PARK, kPark);
  CallContext ctx(*this, channel);
  ctx.service_until_released();
  fire(channel, EventType::CHANNEL_UNPARK, kUnpark);
}

void CallEngine::Impl::run_execute(const ChannelPtr& channel, std::string&, std::string&) {
  set_running(channel, ChannelState::CS_EXECUTE);
  for (;;) {
    std::optional<std::pair<std::string, std::string>> next;
    bool queued = false;
    std::string bridge_to;
    channel->control([&](Channel::Control& c, ChannelData& d) {
      if (c.hangup || d.state != ChannelState::CS_EXECUTE) {
        return 0;
      }
      c.leave = false;
      c.interrupt = false;
      if (!c.bridge_request.empty()) {
        bridge_to = std::move(c.bridge_request);
        c.bridge_request.clear();
      } else if (c.message_ready()) {
        queued = true;
      } else if (!c.extension.empty()) {
        next = std::move(c.extension.front());
        c.extension.pop_front();
      }
      return 0;
    });
    if (!bridge_to.empty()) {
      // uuid_bridge: the channel joins the other one directly, no application runs.
      engine.bridge_with(channel, bridge_to);
      bridge_to.clear();
      continue;
    }
    if (queued) {
      engine.run_queued(channel);
      continue;
    }
    if (!next) {
      break;
    }
    if (!engine.execute(channel, next->first, next->second)) {
      engine.hangup(channel, "DESTINATION_OUT_OF_ORDER");
      return;
    }
  }
  // The extension has run out: FreeSWITCH hangs up.
  bool done = false;
  channel->control([&](Channel::Control& c, ChannelData& d) {
    done = !c.hangup && d.state == ChannelState::CS_EXECUTE;
    return 0;
  });
  if (done) {
    engine.hangup(channel, "NORMAL_CLEARING");
  }
}

void CallEngine::Impl::run_park_state(const ChannelPtr& channel, std::string&, std::string&) {
  set_running(channel, ChannelState::CS_PARK);
  engine.park_here(channel);
  channel->wait([](const Channel::Control& c, const ChannelData& d) {
    return c.hangup || d.state != ChannelState::CS_PARK;
  });
}

void CallEngine::Impl::run_hangup(const ChannelPtr& channel, const LegPlan& plan,
                                  const std::string&, const std::string&) {
  set_running(channel, ChannelState::CS_HANGUP);
  set_call_state(channel, CallState::HANGUP);
  channel->update([](ChannelData& d) {
    d.caller.hungup = now_us();
    d.state = ChannelState::CS_REPORTING;
  });
  set_running(channel, ChannelState::CS_REPORTING);

  // The CDR variables, appended in FreeSWITCH's order (docs/design/CALL_EVENTS.md §2.4).
  std::string cause;
  channel->control([&](Channel::Control& c, ChannelData& d) {
    const CallerProfile& p = d.caller;
    cause = d.hangup_cause.value_or("NORMAL_CLEARING");
    const int q850 = hangup_cause_by_name(cause).value_or(HangupCause{"", 16}).q850;
    auto set = [&](std::string_view n, const std::string& v) { d.set_variable(n, v); };
    auto secs = [](std::int64_t us) { return std::to_string(us / 1000000); };
    set("hangup_cause", cause);
    set("hangup_cause_q850", std::to_string(q850));
    set("digits_dialed", "none");
    set("start_stamp", local_stamp(p.created));
    set("profile_start_stamp", local_stamp(p.profile_created));
    if (p.answered)
      set("answer_stamp", local_stamp(p.answered));
    if (p.progress)
      set("progress_stamp", local_stamp(p.progress));
    if (p.progress_media)
      set("progress_media_stamp", local_stamp(p.progress_media));
    set("end_stamp", local_stamp(p.hungup));
    auto pair = [&](std::string_view prefix, std::int64_t us) {
      set(std::string(prefix) + "_epoch", secs(us));
      set(std::string(prefix) + "_uepoch", std::to_string(us));
    };
    pair("start", p.created);
    pair("profile_start", p.profile_created);
    pair("answer", p.answered);
    pair("bridge", p.bridged);
    pair("last_hold", p.last_hold);
    set("hold_accum_seconds", secs(p.hold_accum));
    set("hold_accum_usec", std::to_string(p.hold_accum));
    set("hold_accum_ms", std::to_string(p.hold_accum / 1000));
    pair("resurrect", p.resurrected);
    pair("progress", p.progress);
    pair("progress_media", p.progress_media);
    pair("end", p.hungup);
    set("last_app", c.last_app);
    set("last_arg", c.last_arg);
    set("caller_id", "\"" + p.caller_id_name + "\" <" + p.caller_id_number + ">");
    auto diff = [](std::int64_t to, std::int64_t from) { return to && from ? to - from : 0; };
    const std::int64_t duration = diff(p.hungup, p.created);
    const std::int64_t bill = diff(p.hungup, p.answered);
    const std::int64_t progress = diff(p.progress, p.created);
    const std::int64_t answer = diff(p.answered, p.created);
    const std::int64_t wait = answer;
    const std::int64_t progress_media = diff(p.progress_media, p.created);
    const std::int64_t flow_bill = duration;
    auto ms = [](std::int64_t to, std::int64_t from) {
      return to && from ? to / 1000 - from / 1000 : 0;
    };
    set("duration", secs(duration));
    set("billsec", secs(bill));
    set("progresssec", secs(progress));
    set("answersec", secs(answer));
    set("waitsec", secs(wait));
    set("progress_mediasec", secs(progress_media));
    set("flow_billsec", secs(flow_bill));
    set("mduration", std::to_string(ms(p.hungup, p.created)));
    set("billmsec", std::to_string(ms(p.hungup, p.answered)));
    set("progressmsec", std::to_string(ms(p.progress, p.created)));
    set("answermsec", std::to_string(ms(p.answered, p.created)));
    set("waitmsec", std::to_string(ms(p.answered, p.created)));
    set("progress_mediamsec", std::to_string(ms(p.progress_media, p.created)));
    set("flow_billmsec", std::to_string(ms(p.hungup, p.created)));
    set("uduration", std::to_string(duration));
    set("billusec", std::to_string(bill));
    set("progressusec", std::to_string(progress));
    set("answerusec", std::to_string(answer));
    set("waitusec", std::to_string(wait));
    set("progress_mediausec", std::to_string(progress_media));
    set("flow_billusec", std::to_string(flow_bill));
    if (plan.endpoint == Endpoint::loopback_a || plan.endpoint == Endpoint::loopback_b) {
      set("is_loopback", "1");
    }
    return 0;
  });
  engine.fire(channel, EventType::CHANNEL_HANGUP_COMPLETE, kReporting,
              [&](event::Event& e) { e.add_header("Hangup-Cause", cause); });
  channel->update([](ChannelData& d) { d.state = ChannelState::CS_DESTROY; });
  set_running(channel, ChannelState::CS_DESTROY);
  engine.fire(channel, EventType::CHANNEL_DESTROY, kDestroy);
}

// --- originate -------------------------------------------------------------------------------

namespace {

std::string upper(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
  return out;
}

std::optional<std::string> find_var(const VariableList& vars, std::string_view name) {
  std::optional<std::string> found;
  for (const auto& [n, v] : vars) {
    if (n == name) {
      found = v;
    }
  }
  return found;
}

void add_dial_vars(ChannelData& d, const VariableList& vars) {
  for (const auto& [n, v] : vars) {
    d.set_variable(n, v);
  }
}

}  // namespace

ChannelPtr CallEngine::Impl::create_leg(const ChannelPtr& originator,
                                        const OriginateRequest& request, const DialTarget& target,
                                        const VariableList& vars, int depth, std::string& cause) {
  Switch& sw = engine.core();
  if (static_cast<int>(sw.channels().size()) >= sw.max_sessions()) {
    cause = "SWITCH_CONGESTION";
    return nullptr;
  }
  const std::string endpoint = target.endpoint;
  std::string address = target.address;
  if (endpoint == "error") {
    cause = hangup_cause_by_name(upper(address)) ? upper(address) : "NORMAL_CLEARING";
    return nullptr;
  }
  if (endpoint == "user") {
    const std::size_t at = address.find('@');
    const std::string user = address.substr(0, at);
    std::string domain = at == std::string::npos ? "" : address.substr(at + 1);
    if (domain.empty()) {
      domain = sw.global_var("domain").value_or("");
    }
    std::function<std::string(std::string_view, std::string_view)> resolver;
    {
      std::lock_guard lock(mutex);
      resolver = user_resolver;
    }
    const std::string resolved = resolver ? resolver(user, domain) : "";
    if (resolved.empty() || depth > 3) {
      cause = "SUBSCRIBER_ABSENT";
      return nullptr;
    }
    DialStringResult parsed = parse_dial_string(resolved);
    if (!parsed.value || parsed.value->groups.empty() || parsed.value->groups[0].empty()) {
      cause = "DESTINATION_OUT_OF_ORDER";
      return nullptr;
    }
    VariableList more = vars;
    more.emplace_back("dialed_user", user);
    more.emplace_back("dialed_domain", domain);
    for (const auto& v : parsed.value->global_variables)
      more.push_back(v);
    DialTarget inner = parsed.value->groups[0][0];
    for (const auto& v : inner.variables)
      more.push_back(v);
    return create_leg(originator, request, inner, more, depth + 1, cause);
  }

  CallerProfile profile;
  profile.dialplan = request.dialplan;
  profile.context = request.context;
  profile.caller_id_number = "0000000000";
  profile.orig_caller_id_number = "0000000000";
  profile.ani = "0000000000";
  if (originator) {
    // A bridged leg is called by the originating channel's caller.
    const ChannelData o = originator->snapshot();
    profile.caller_id_name = o.caller.caller_id_name;
    profile.caller_id_number = o.caller.caller_id_number;
    profile.orig_caller_id_name = o.caller.caller_id_name;
    profile.orig_caller_id_number = o.caller.caller_id_number;
    profile.ani = o.caller.ani;
    profile.context = o.caller.context;
    profile.dialplan = o.caller.dialplan;
  }
  if (auto v = find_var(vars, "origination_caller_id_name"))
    profile.caller_id_name = *v;
  if (auto v = find_var(vars, "origination_caller_id_number"))
    profile.caller_id_number = *v;

  const std::string uuid = find_var(vars, "origination_uuid").value_or(make_uuid());
  if (sw.channels().find(uuid)) {
    cause = "INVALID_NUMBER_FORMAT";  // a duplicate origination_uuid cannot be used
    return nullptr;
  }
  const std::uint64_t session_id = ++session_ids;
  LegPlan plan;

  plan.timeout = request.timeout;
  std::string name;
  std::string source;
  Codec codec{"L16", 8000, 128000};
  std::string destination = address;
  std::string b_context = "default";
  std::string b_dialplan = "xml";

  if (endpoint == "null") {
    plan.endpoint = Endpoint::null;
    name = "null/" + address;
    source = "mod_loopback";
  } else if (endpoint == "loopback") {
    plan.endpoint = Endpoint::loopback_a;
    // loopback/<dest>[/<context>[/<dialplan>]]
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (;;) {
      const std::size_t slash = address.find('/', start);
      parts.push_back(address.substr(start, slash - start));
      if (slash == std::string::npos)
        break;
      start = slash + 1;
    }
    destination = parts[0];
    if (parts.size() > 1 && !parts[1].empty())
      b_context = parts[1];
    if (parts.size() > 2 && !parts[2].empty())
      b_dialplan = parts[2];
    if (destination.empty()) {
      cause = "NO_ROUTE_DESTINATION";
      return nullptr;
    }
    name = "loopback/" + destination + "-a";
    source = "mod_loopback";
    profile.context = b_context;
    profile.dialplan = b_dialplan;
  } else if (endpoint == "sofia") {
    plan.endpoint = Endpoint::sofia;
    const std::size_t slash = address.find('/');
    const std::string profile_name = address.substr(0, slash);
    destination = slash == std::string::npos ? "" : address.substr(slash + 1);
    bool known = false;
    for (const SipProfile& sp : sw.options().sip_profiles) {
      known = known || sp.name == profile_name || (!sp.alias.empty() && sp.alias == profile_name);
    }
    if (!known || destination.empty()) {
      cause = known ? "INVALID_NUMBER_FORMAT" : "INVALID_PROFILE";
      return nullptr;
    }
    plan.remote = remote_for(destination);
    if (!plan.remote) {
      // Nobody configured answers at that address.
      cause = "NO_ROUTE_DESTINATION";
      return nullptr;
    }
    name = "sofia/" + profile_name + "/" + destination;
    source = "mod_sofia";
    codec = Codec{"PCMU", 8000, 64000};
  } else {
    cause = "CHAN_NOT_IMPLEMENTED";
    return nullptr;
  }
  // Before the originate flips it, the new leg's callee is who was dialled.
  profile.destination_number = destination;
  profile.callee_id_name =
      request.caller_id_name.empty() ? "Outbound Call" : request.caller_id_name;
  profile.callee_id_number =
      request.caller_id_number.empty() ? destination : request.caller_id_number;
  if (originator) {
    profile.callee_id_name.clear();
    profile.callee_id_number.clear();
  }

  ChannelData data = new_leg_data(uuid, name, "outbound", source, session_id, profile, codec);
  add_dial_vars(data, vars);
  data.set_variable("originate_early_media", "true");
  data.set_variable("originate_endpoint", endpoint);
  if (originator) {
    data.set_variable("originator", originator->uuid());
    data.set_variable("originating_leg_uuid", originator->uuid());
    // Exported variables follow the call to the legs it places (export_vars).
    const std::string exported = originator->variable("export_vars").value_or("");
    for (std::size_t pos = 0; pos < exported.size();) {
      const std::size_t comma = std::min(exported.find(',', pos), exported.size());
      const std::string name = exported.substr(pos, comma - pos);
      pos = comma + 1;
      auto value = originator->variable(name);
      if (!value) {
        value = originator->variable("nolocal:" + name);
      }
      if (!name.empty() && value) {
        data.set_variable(name, *value);
      }
    }
  }

  ChannelPtr b_leg;
  std::optional<ChannelData> b_data;
  LegPlan b_plan;
  if (plan.endpoint == Endpoint::loopback_a) {
    const std::string b_uuid = make_uuid();
    data.set_variable("other_loopback_leg_uuid", b_uuid);
    data.set_variable("loopback_leg", "A");
    // The b-leg is an inbound call into the dialplan, with the a-leg's caller.
    ChannelData b;
    b.uuid = b_uuid;
    b.name = "loopback/" + destination + "-b";
    b.direction = "inbound";
    b.read_codec = codec;
    b.write_codec = codec;
    b.caller = profile;
    b.caller.direction = "inbound";
    b.caller.logical_direction = "inbound";
    b.caller.uuid = b_uuid;
    b.caller.source = "mod_loopback";
    b.caller.channel_name = b.name;
    b.caller.context = b_context;
    b.caller.dialplan = b_dialplan;
    b.caller.profile_created = data.caller.profile_created;
    b.caller.created = data.caller.created;
    b.hit_dialplan = true;
    b.set_variable("direction", "inbound");
    b.set_variable("uuid", b_uuid);
    b.set_variable("call_uuid", b_uuid);
    b.set_variable("session_id", std::to_string(++session_ids));
    b.set_variable("channel_name", b.name);
    b.set_variable("read_codec", codec.name);
    b.set_variable("read_rate", std::to_string(codec.rate));
    b.set_variable("write_codec", codec.name);
    b.set_variable("write_rate", std::to_string(codec.rate));
    b.set_variable("origination_uuid", uuid);
    b.set_variable("other_loopback_leg_uuid", uuid);
    b.set_variable("loopback_leg", "B");
    b_data = std::move(b);
  }
  // The a-leg is listed first (show channels), then its twin.
  ChannelPtr channel = sw.channels().add(std::move(data));
  if (!channel) {
    cause = "INVALID_NUMBER_FORMAT";
    return nullptr;
  }
  channel->control([](Channel::Control& c, ChannelData&) {
    c.held_by_originator = true;
    return 0;
  });
  if (b_data) {
    b_leg = sw.channels().add(std::move(*b_data));
    if (!b_leg) {
      sw.channels().remove(uuid);
      cause = "NORMAL_TEMPORARY_FAILURE";
      return nullptr;
    }
    b_plan.endpoint = Endpoint::loopback_b;
    b_leg->control([&](Channel::Control& c, ChannelData&) {
      c.partner = uuid;
      return 0;
    });
    channel->control([&](Channel::Control& c, ChannelData&) {
      c.partner = b_leg->uuid();
      return 0;
    });
    plan.after_create = [this, b_leg, b_plan] { start_leg(b_leg, b_plan); };
  }
  engine.fire(channel, EventType::CHANNEL_OUTGOING, kOutgoing);
  // The first steps run here, on the originator's thread, up to the wait in
  // CS_CONSUME_MEDIA: the events come in one fixed order, and a leg that answers at once
  // (null) is ready to hand over without waiting for its thread to start.
  begin_leg(channel, plan);
  run_routing(channel);
  bool waiting = false;
  channel->update([&](ChannelData& d) { waiting = d.state == ChannelState::CS_CONSUME_MEDIA; });
  if (waiting) {
    set_running(channel, ChannelState::CS_CONSUME_MEDIA);
  }
  plan.begun = true;
  start_leg(channel, std::move(plan));
  return channel;
}

ChannelPtr CallEngine::Impl::dial(const ChannelPtr& originator, const OriginateRequest& request,
                                  std::string& cause) {
  cause = "NO_ANSWER";
  {
    std::lock_guard lock(threads_mutex);
    if (shutting_down) {
      cause = "SYSTEM_SHUTDOWN";
      return nullptr;
    }
  }
  // {originate_timeout=N} overrides the timeout argument, as in FreeSWITCH.
  auto timeout = request.timeout;
  if (auto t = find_var(request.dial.global_variables, "originate_timeout")) {
    if (const int seconds = std::atoi(t->c_str()); seconds > 0) {
      timeout = std::chrono::seconds(seconds);
    }
  }
  const auto deadline = Clock::now() + timeout;
  for (const auto& group : request.dial.groups) {
    std::vector<ChannelPtr> legs;
    std::string group_cause;
    for (const DialTarget& target : group) {
      VariableList vars = request.dial.global_variables;
      vars.insert(vars.end(), target.variables.begin(), target.variables.end());
      std::string leg_cause;
      if (ChannelPtr leg = create_leg(originator, request, target, vars, 0, leg_cause)) {
        legs.push_back(std::move(leg));
      } else {
        group_cause = leg_cause;
      }
    }
    if (legs.empty()) {
      cause = group_cause.empty() ? "NO_ROUTE_DESTINATION" : group_cause;
      continue;
    }
    // Wait for the first answer, or until every leg has failed.
    ChannelPtr winner;
    auto answered = [](const Channel::Control& c, const ChannelData& d) {
      return c.hangup || d.answer_state == "answered";
    };
    for (;;) {
      bool all_down = true;
      for (const ChannelPtr& leg : legs) {
        const ChannelData d = leg->snapshot();
        if (d.answer_state == "answered") {
          winner = leg;
          break;
        }
        if (d.state < ChannelState::CS_HANGUP) {
          all_down = false;
        } else {
          group_cause = d.hangup_cause.value_or("NORMAL_CLEARING");
        }
      }
      if (winner || all_down || Clock::now() >= deadline) {
        break;
      }
      if (originator) {
        bool gone = false;
        originator->control([&](Channel::Control& c, ChannelData&) {
          gone = c.hangup;
          return 0;
        });
        if (gone) {
          group_cause = "ORIGINATOR_CANCEL";
          break;
        }
      }
      if (legs.size() == 1 && !originator) {
        legs[0]->wait_until(deadline, answered);
      } else {
        legs[0]->wait_until(std::min(deadline, Clock::now() + std::chrono::milliseconds(5)),
                            answered);
      }
    }
    for (const ChannelPtr& leg : legs) {
      if (leg != winner) {
        const bool timed_out = !winner && Clock::now() >= deadline;
        engine.hangup(leg, winner ? "LOSE_RACE" : (timed_out ? "NO_ANSWER" : "ORIGINATOR_CANCEL"));
      }
    }
    if (winner) {
      return winner;
    }
    cause = group_cause.empty() ? "NO_ANSWER" : group_cause;
    if (Clock::now() >= deadline || cause == "ORIGINATOR_CANCEL") {
      break;
    }
  }
  return nullptr;
}

OriginateResult CallEngine::originate(const OriginateRequest& request) {
  OriginateResult result;
  ChannelPtr leg = impl_->dial(nullptr, request, result.cause);
  if (!leg) {
    return result;
  }
  fire(leg, EventType::CHANNEL_ORIGINATE, kOriginate);
  // The API has no calling channel: the answered leg becomes the caller, its caller ID the
  // one it dialled (FreeSWITCH flips the caller profile).
  leg->control([&](Channel::Control&, ChannelData& d) {
    CallerProfile& p = d.caller;
    d.set_variable("pre_transfer_caller_id_number", p.caller_id_number);
    std::swap(p.caller_id_name, p.callee_id_name);
    std::swap(p.caller_id_number, p.callee_id_number);
    d.set_variable("channel_cid_flipped", "yes");
    d.set_variable("call_uuid", d.uuid);
    d.hit_dialplan = true;
    return 0;
  });
  leg->update_listing([&](Channel::Listing& l) {
    l.callee_direction = "RECV";
    l.call_uuid = leg->uuid();
  });
  // Handed over in one step: the channel's thread must never see it released without
  // knowing what to run.
  leg->control([&](Channel::Control& c, ChannelData& d) {
    c.held_by_originator = false;
    if (c.hangup) {
      return 0;
    }
    if (!request.application.empty()) {
      c.extension.emplace_back(request.application, request.application_data);
      d.state = ChannelState::CS_EXECUTE;
    } else {
      route_to(c, d, request.extension, request.dialplan, request.context);
    }
    return 0;
  });
  result.uuid = leg->uuid();
  return result;
}

// --- bridges ---------------------------------------------------------------------------------

// Joins the calling leg `a` (running the bridge) with the answered leg `b` until one of them
// hangs up.
static void run_bridge(CallEngine& engine, const ChannelPtr& a, const ChannelPtr& b) {
  const std::int64_t now = now_us();
  const ChannelData a_data = a->snapshot();
  const ChannelData b_data = b->snapshot();
  a->control([&](Channel::Control& c, ChannelData& d) {
    c.partner = b->uuid();
    c.bridged = true;
    d.caller.bridged = now;
    d.other_leg = std::make_pair(std::string("originatee"), b_data.caller);
    d.set_variable("bridge_to", b->uuid());
    d.set_variable("last_bridge_to", b->uuid());
    d.set_variable("signal_bond", b->uuid());
    return 0;
  });
  b->control([&](Channel::Control& c, ChannelData& d) {
    c.partner = a->uuid();
    c.bridged = true;
    c.leave = true;
    c.held_by_originator = false;
    c.extension.clear();
    d.caller.bridged = now;
    d.other_leg = std::make_pair(std::string("originator"), a_data.caller);
    d.set_variable("bridge_to", a->uuid());
    d.set_variable("signal_bond", a->uuid());
    if (!c.hangup) {
      d.state = ChannelState::CS_EXCHANGE_MEDIA;
    }
    return 0;
  });
  auto ids = [&](event::Event& e) {
    e.add_header("Bridge-A-Unique-ID", a->uuid());
    e.add_header("Bridge-B-Unique-ID", b->uuid());
  };
  engine.fire(a, EventType::CHANNEL_BRIDGE, kBridge, ids);
  // Each side learns who it is talking to (CALL_UPDATE, as the bridge sends the display).
  constexpr event::CallSite kCallUpdate{"switch_ivr_bridge.c", "send_display", 2176};
  engine.fire(a, EventType::CALL_UPDATE, kCallUpdate, [&](event::Event& e) {
    e.add_header("Direction", "RECV");
    e.add_header("Callee-Name", b_data.caller.caller_id_name);
    e.add_header("Callee-Number", b_data.caller.caller_id_number);
    e.add_header("Bridged-To", b->uuid());
  });
  engine.fire(b, EventType::CALL_UPDATE, kCallUpdate, [&](event::Event& e) {
    e.add_header("Direction", "SEND");
    e.add_header("Sent-Callee-ID-Name", a_data.caller.caller_id_name);
    e.add_header("Sent-Callee-ID-Number", a_data.caller.caller_id_number);
    e.add_header("Bridged-To", a->uuid());
  });
  // While bridged, either leg still runs what is queued for it (uuid_broadcast, sendmsg).
  for (;;) {
    bool queued = false;
    a->wait([&](const Channel::Control& c, const ChannelData&) {
      queued = c.message_ready();
      return c.hangup || c.leave || queued;
    });
    if (!queued || !engine.run_queued(a)) {
      break;
    }
  }
  engine.fire(a, EventType::CHANNEL_UNBRIDGE, kUnbridge, ids);
  bool a_up = false;
  a->control([&](Channel::Control& c, ChannelData& d) {
    c.partner.clear();
    c.bridged = false;
    c.leave = false;
    d.other_leg.reset();
    a_up = !c.hangup;
    return 0;
  });
  b->control([&](Channel::Control& c, ChannelData& d) {
    c.partner.clear();
    c.bridged = false;
    d.other_leg.reset();
    return 0;
  });
  if (a_up) {
    const auto after = a->variable("hangup_after_bridge");
    if (after && (*after == "true" || *after == "yes" || *after == "1")) {
      engine.hangup(a, "NORMAL_CLEARING");
    }
  } else {
    engine.hangup(b, a->snapshot().hangup_cause.value_or("NORMAL_CLEARING"));
  }
}

std::string CallEngine::bridge_out(const ChannelPtr& channel, std::string_view dial_string) {
  DialStringResult parsed = parse_dial_string(dial_string);
  if (!parsed.value) {
    switch_.logger().log(LogLevel::err, "mod_dptools.c", "audio_bridge_function", 3415,
                         "Invalid dial string: " + parsed.error, channel->uuid());
    channel->set_variable("originate_disposition", "INVALID_NUMBER_FORMAT");
    return "INVALID_NUMBER_FORMAT";
  }
  OriginateRequest request;
  request.dial = std::move(*parsed.value);
  if (auto t = channel->variable("call_timeout")) {
    request.timeout = std::chrono::seconds(std::max(1, std::atoi(t->c_str())));
  }
  std::string cause;
  ChannelPtr b = impl_->dial(channel, request, cause);
  if (!b) {
    channel->set_variable("originate_disposition", cause);
    channel->set_variable("DIALSTATUS", cause == "USER_BUSY" ? "BUSY" : "NOANSWER");
    return cause;
  }
  fire(b, EventType::CHANNEL_ORIGINATE, kOriginate);
  channel->set_variable("originate_disposition", "SUCCESS");
  channel->set_variable("DIALSTATUS", "SUCCESS");
  answer(channel);
  run_bridge(*this, channel, b);
  return {};
}

bool CallEngine::bridge_with(const ChannelPtr& channel, std::string_view other_uuid) {
  ChannelPtr b = switch_.channels().find(other_uuid);
  if (!b || b == channel) {
    return false;
  }
  answer(channel);
  answer(b);
  run_bridge(*this, channel, b);
  return true;
}

std::string CallEngine::bridge(std::string_view a_uuid, std::string_view b_uuid) {
  ChannelPtr a = switch_.channels().find(a_uuid);
  ChannelPtr b = switch_.channels().find(b_uuid);
  if (!a || !b || a == b) {
    return "-ERR Invalid uuid\n";
  }
  bool ok = false;
  a->control([&](Channel::Control& c, ChannelData& d) {
    if (!c.hangup && !c.bridged) {
      ok = true;
      c.bridge_request = std::string(b_uuid);
      c.leave = true;
      d.state = ChannelState::CS_EXECUTE;
    }
    return 0;
  });
  return ok ? "+OK " + std::string(b_uuid) + "\n" : "-ERR Invalid uuid\n";
}

// --- the scheduler ---------------------------------------------------------------------------

std::uint64_t CallEngine::schedule(std::chrono::system_clock::time_point when, std::string group,
                                   std::function<void()> task) {
  std::lock_guard lock(impl_->sched_mutex);
  if (!impl_->sched_thread.joinable() && !impl_->sched_stop) {
    impl_->sched_thread = std::thread([this] { impl_->scheduler_loop(); });
  }
  const std::uint64_t id = impl_->next_task_id++;
  impl_->tasks.emplace(when, Impl::Task{id, std::move(group), std::move(task)});
  impl_->sched_wake.notify_all();
  return id;
}

std::size_t CallEngine::cancel_scheduled(std::string_view id_or_group) {
  std::lock_guard lock(impl_->sched_mutex);
  std::size_t n = 0;
  for (auto it = impl_->tasks.begin(); it != impl_->tasks.end();) {
    if (std::to_string(it->second.id) == id_or_group || it->second.group == id_or_group) {
      it = impl_->tasks.erase(it);
      ++n;
    } else {
      ++it;
    }
  }
  return n;
}

void CallEngine::Impl::scheduler_loop() {
  std::unique_lock lock(sched_mutex);
  while (!sched_stop) {
    if (tasks.empty()) {
      sched_wake.wait(lock);
      continue;
    }
    auto first = tasks.begin();
    // A copy: while this waits, sched_del or the shutdown may erase the task, and
    // wait_until reads the time again once woken.
    const std::chrono::system_clock::time_point when = first->first;
    if (when > std::chrono::system_clock::now()) {
      sched_wake.wait_until(lock, when);
      continue;
    }
    Task task = std::move(first->second);
    tasks.erase(first);
    lock.unlock();
    task.run();
    lock.lock();
  }
}

// --- CallContext -----------------------------------------------------------------------------

bool CallContext::ready() const {
  bool up = false;
  channel_->control([&](Channel::Control& c, ChannelData&) {
    up = !c.hangup && !c.leave;
    return 0;
  });
  return up;
}

bool CallContext::pause(std::chrono::milliseconds duration, bool interruptible) {
  const bool ended = channel_->wait_until(
      Clock::now() + duration, [&](const Channel::Control& c, const ChannelData& d) {
        return c.hangup || c.leave || (interruptible && c.interrupt) ||
               (d.state != ChannelState::CS_EXECUTE && d.state != ChannelState::CS_PARK);
      });
  if (ended && interruptible) {
    channel_->control([](Channel::Control& c, ChannelData&) {
      c.interrupt = false;
      return 0;
    });
  }
  return !ended;
}

void CallContext::service_until_released() {
  for (;;) {
    bool has_work = false;
    channel_->wait([&](const Channel::Control& c, const ChannelData&) {
      has_work = c.message_ready();
      return c.hangup || c.leave || has_work;
    });
    bool leave = false;
    channel_->control([&](Channel::Control& c, ChannelData&) {
      leave = c.hangup || c.leave;
      return 0;
    });
    if (leave) {
      return;
    }
    engine_.run_queued(channel_);
  }
}

std::string CallContext::expand(std::string_view text) const {
  if (text.find('$') == std::string_view::npos) {
    return std::string(text);
  }
  // Channel variables first, then globals (Switch::expand looks up headers of an event).
  const ChannelData d = channel_->snapshot();
  event::Event vars(EventType::CUSTOM);
  for (const auto& [n, v] : d.variables()) {
    vars.add_header(n, v);
  }
  return engine_.core().expand(text, &vars);
}

void CallContext::set_variable(std::string_view name, std::string_view value) {
  channel_->set_variable(name, value);
}

std::optional<std::string> CallContext::variable(std::string_view name) const {
  return channel_->variable(name);
}

void CallContext::log(int level, std::string_view message) {
  engine_.core().logger().log(static_cast<LogLevel>(level), "mod_dptools.c", "log_function", 1737,
                              message, channel_->uuid());
}

}  // namespace eventsocket::core
