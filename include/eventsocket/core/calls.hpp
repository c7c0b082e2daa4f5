#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eventsocket/core/channel_registry.hpp"
#include "eventsocket/core/dial_string.hpp"
#include "eventsocket/dialplan/dialplan.hpp"
#include "eventsocket/event/filter.hpp"
#include "eventsocket/event/standard_headers.hpp"

namespace eventsocket::core {

class Switch;

// How the far end of a simulated SIP call (`sofia/<profile>/<dest>`, `user/...`) behaves.
struct RemoteParty {
  std::string pattern;                // PCRE matched against the destination ("1000@127.0.0.1")
  std::chrono::milliseconds ring{0};  // ringing before the outcome
  // "answer", or a hangup cause name the call fails with (USER_BUSY, NO_ANSWER, ...).
  // NO_ANSWER rings until the originate timeout.
  std::string outcome = "answer";
  std::chrono::milliseconds hangup_after{0};  // after answering; 0: never hangs up itself
  std::string dtmf;                           // digits sent once answered
};

// What an application sees of the call it runs on (applications.cpp).
class CallContext;
using Application = std::function<void(CallContext& call, std::string_view data)>;

// Every option `originate` accepts once parsed.
struct OriginateRequest {
  DialString dial;
  std::string application;  // "&app(args)" form; empty for an extension
  std::string application_data;
  std::string extension;
  std::string dialplan = "xml";
  std::string context = "default";
  std::string caller_id_name;
  std::string caller_id_number;
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
};

struct OriginateResult {
  std::string uuid;   // the answered leg, when the call succeeded
  std::string cause;  // the hangup cause name when it did not
};

// The calls of the switch: endpoints, the channel state machine (one thread per channel,
// as FreeSWITCH runs its sessions), the dialplan and the applications. Every step fires the
// events FreeSWITCH fires, with its headers in its order (docs/design/CALL_EVENTS.md).
class CallEngine {
 public:
  explicit CallEngine(Switch& sw);
  ~CallEngine();
  CallEngine(const CallEngine&) = delete;
  CallEngine& operator=(const CallEngine&) = delete;

  // Hangs up every channel (SYSTEM_SHUTDOWN) and waits for their threads.
  void shutdown();

  void set_dialplan(std::shared_ptr<const dialplan::Dialplan> plan);
  std::shared_ptr<const dialplan::Dialplan> dialplan() const;
  void set_remote_parties(std::vector<RemoteParty> parties);
  // Resolves `user/<name>@<domain>` to a dial string ("" when there is no such user).
  void set_user_resolver(
      std::function<std::string(std::string_view user, std::string_view domain)>);

  void register_application(std::string name, std::string description, Application app);
  bool has_application(std::string_view name) const;
  std::vector<std::pair<std::string, std::string>> applications() const;

  // Places a call (the `originate` API): blocks until a leg answers, the call fails or the
  // timeout passes. Then runs the application or routes the answered leg to the extension.
  OriginateResult originate(const OriginateRequest& request);

  // Hangs a channel up from any thread: fires CHANNEL_HANGUP here and now, the rest of the
  // hangup follows on the channel's own thread. False when it was already hanging up.
  bool hangup(const ChannelPtr& channel, std::string_view cause);
  bool hangup(std::string_view uuid, std::string_view cause);
  // Answers a channel that is not yet answered (uuid_answer, the answer application).
  bool answer(const ChannelPtr& channel);
  // Early media (pre_answer: CHANNEL_PROGRESS_MEDIA) and ringing (ring_ready:
  // CHANNEL_PROGRESS), each with its CHANNEL_CALLSTATE; nothing when already past that.
  bool pre_answer(const ChannelPtr& channel);
  bool ring_ready(const ChannelPtr& channel);
  // Queues an application for the channel's thread (sendmsg execute, uuid_broadcast).
  bool queue_application(std::string_view uuid, Channel::QueuedApplication app);
  // Interrupts the media application running (uuid_break); `all` also drops the queue.
  bool interrupt(std::string_view uuid, bool all);
  // Sends the channel back through the dialplan (uuid_transfer, the transfer application).
  bool transfer(std::string_view uuid, std::string_view extension, std::string_view dialplan,
                std::string_view context);
  // Parks the channel (uuid_park).
  bool park(std::string_view uuid);
  // Bridges two live channels (uuid_bridge).
  std::string bridge(std::string_view a_uuid, std::string_view b_uuid);
  // DTMF the channel receives (uuid_send_dtmf on the other party, simulated endpoints).
  bool receive_dtmf(std::string_view uuid, std::string_view digits);
  bool hold(std::string_view uuid, std::optional<bool> on);

  // Fires an event about a channel: standard headers, `before` (event-specific headers that
  // precede the channel data), the channel data, then `after`.
  void fire(const ChannelPtr& channel, event::EventType type, const event::CallSite& site,
            const std::function<void(event::Event&)>& before = {},
            const std::function<void(event::Event&)>& after = {});

  // Runs `task` at `when` on the scheduler thread (sched_api, sched_hangup, simulated remote
  // parties). Tasks share a group name so they can be cancelled together.
  std::uint64_t schedule(std::chrono::system_clock::time_point when, std::string group,
                         std::function<void()> task);
  // Cancels by task id ("1") or group name; returns how many were cancelled.
  std::size_t cancel_scheduled(std::string_view id_or_group);

  // Runs one application on the calling channel thread, with its CHANNEL_EXECUTE and
  // CHANNEL_EXECUTE_COMPLETE. False when there is no such application. `completing` runs
  // once CHANNEL_EXECUTE_COMPLETE holds the channel's headers, before anyone can see it.
  bool execute(const ChannelPtr& channel, std::string_view application, std::string_view data,
               std::string_view application_uuid = {},
               const std::function<void()>& completing = {});
  // Runs the applications queued for the channel (sendmsg); true when one ran.
  bool run_queued(const ChannelPtr& channel);
  // Runs one sendmsg message on the calling channel flow (execute, hangup, xferext); a
  // queued one is re-fired as PRIVATE_COMMAND, one run inline (static socket) is not.
  void run_message(const ChannelPtr& channel, const Channel::QueuedApplication& message,
                   bool fire_private_command);

  // Outbound mode. The server layer connects the socket application to its program:
  // `connect` is called on a channel's flow and must not block; it reports the outcome of
  // the TCP connection with socket_connect_result(), and the session's end with
  // socket_session_ended().
  struct SocketConnectRequest {
    ChannelPtr channel;
    std::string host;
    std::uint16_t port = 0;
    bool async = false;
    bool full = false;
  };
  using SocketConnector = std::function<void(const SocketConnectRequest&)>;
  void set_socket_connector(SocketConnector connector);
  SocketConnector socket_connector() const;
  // The connection attempt finished; false when the channel no longer waits for it (the
  // caller then closes the socket).
  bool socket_connect_result(const ChannelPtr& channel, bool ok);
  // The program sent `connect`.
  void socket_session_connected(const ChannelPtr& channel);
  // The socket session is over (exit, close, linger expiry, hangup).
  void socket_session_ended(const ChannelPtr& channel);
  // Static mode: runs `message` on the channel's flow inside its socket application and
  // calls `done` afterwards (also when it cannot run: the channel left the application).
  void run_inline(const ChannelPtr& channel, Channel::QueuedApplication message,
                  std::function<void()> done);
  // Bridges the calling channel to a new call (the bridge application); returns the cause
  // when no leg answered.
  std::string bridge_out(const ChannelPtr& channel, std::string_view dial_string);
  // Bridges the calling channel with a live one (uuid_bridge) until one hangs up.
  bool bridge_with(const ChannelPtr& channel, std::string_view other_uuid);
  // The park loop: CHANNEL_PARK, queued applications until released, CHANNEL_UNPARK.
  void park_here(const ChannelPtr& channel);

  Switch& core() { return switch_; }
  std::size_t running_threads() const;

  struct Impl;

 private:
  Switch& switch_;
  std::unique_ptr<Impl> impl_;
};

// The view an application has of its call: the channel, waits that end early on hangup,
// break or transfer, and the engine for everything else.
class CallContext {
 public:
  CallContext(CallEngine& engine, ChannelPtr channel)
      : engine_(engine), channel_(std::move(channel)) {}
  CallEngine& engine() { return engine_; }
  Switch& core() { return engine_.core(); }
  const ChannelPtr& channel() const { return channel_; }
  const std::string& uuid() const { return channel_->uuid(); }

  // Whether the channel is still up and has not been told to leave the application.
  bool ready() const;
  // Sleeps up to `duration`, returning early on hangup, break (when interruptible) or
  // transfer. True when the whole time passed.
  bool pause(std::chrono::milliseconds duration, bool interruptible = true);
  // Runs queued applications (sendmsg execute) until the channel leaves: park, echo.
  void service_until_released();
  // Expands ${var} from the channel's variables, then the global ones.
  std::string expand(std::string_view text) const;
  void set_variable(std::string_view name, std::string_view value);
  std::optional<std::string> variable(std::string_view name) const;
  void log(int level, std::string_view message);

 private:
  CallEngine& engine_;
  ChannelPtr channel_;
};

// Registers FreeSWITCH's dialplan applications (answer, park, playback, bridge, ...).
void register_builtin_applications(CallEngine& engine);
// Registers the call-control API commands (originate, uuid_kill, ...).
void register_call_commands(Switch& sw);

}  // namespace eventsocket::core
