#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "eventsocket/core/log.hpp"
#include "eventsocket/core/switch.hpp"
#include "eventsocket/event/subscription.hpp"
#include "eventsocket/server/config.hpp"
#include "eventsocket/wire/parser.hpp"
#include "eventsocket/wire/writer.hpp"

namespace eventsocket::server {

struct SessionOptions {
  std::string password = "ClueCon";
  // userauth users (none: userauth always fails). Shared so that `reloadxml` can swap in a
  // new directory while sessions that started with the old one keep it.
  std::shared_ptr<const Directory> directory;
  // Framing limits once authenticated, and the tighter ones before (a stranger may not make
  // us buffer megabytes).
  wire::Limits limits{};
  wire::Limits unauthenticated_limits{64 * 1024, 64, 64 * 1024, 64 * 1024, 256 * 1024};
  // Slow consumers: bytes of events and log lines waiting for one client, and how many
  // events in a row may be dropped before the client is disconnected (FreeSWITCH: 500).
  std::size_t max_queued_bytes = 64 * 1024 * 1024;
  std::size_t max_queued_items = 100000;
  std::size_t max_consecutive_drops = 500;
};

// Counters a session keeps about itself (also summed up by the server).
struct SessionStats {
  std::uint64_t commands = 0;
  std::uint64_t events_sent = 0;
  std::uint64_t events_dropped = 0;
  std::uint64_t logs_dropped = 0;
  // A snapshot of the output waiting for the client (events, log lines and replies).
  std::uint64_t queued_items = 0;
  std::uint64_t queued_bytes = 0;
};

// One Event Socket connection's protocol state machine, without any I/O: bytes go in with
// feed(), commands run in step(), and packets to send come out of take_output(). The I/O
// layer (server::Connection) moves the bytes and runs slow API commands off its thread.
//
// Threads: feed/step/complete_api/take_output belong to the connection's strand; offer()
// and offer_log() come from any thread (publishers) and only touch the output queue and the
// delivery rules, under a mutex.
class Session : public core::EventSink {
 public:
  enum class State { awaiting_auth, authenticated, closing, closed };

  // An `api` command waiting to run on a worker thread.
  struct PendingApi {
    std::string command;  // the name as typed (for the not-found text)
    std::string args;
    bool console_execute = false;
  };

  struct Step {
    // run_inline: an outbound static session's sendmsg, run on the channel's own flow;
    // commands wait until complete_inline() (FreeSWITCH runs it on the socket's thread).
    // throttled: the command budget (set_command_budget) is spent with input waiting.
    enum class Kind { idle, run_api, run_inline, throttled, close } kind = Kind::idle;
    PendingApi api;
    std::string channel_uuid;
    core::Channel::QueuedApplication message;
  };

  Session(core::Switch& sw, SessionOptions options, std::string peer_address = {});
  ~Session() override;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Greeting for an inbound connection that passed the ACL.
  void start_inbound();
  // An outbound connection made by the socket application for `channel_uuid`: no greeting,
  // already authenticated, bound to the channel; without `full` only the commands of a
  // single-channel session answer.
  void start_outbound(std::string channel_uuid, bool async, bool full);
  bool outbound() const { return outbound_; }
  // No more log lines: called when the connection closes, so that the session's owner is
  // never destroyed from inside the logger (whose lock a sink runs under).
  void stop_log_sink();
  // Off the switch's event bus (the connection closes). The session joins the bus by itself
  // while it wants events (sync_bus_interest, after every command).
  void leave_bus();
  // The connection is gone: an outbound session releases its channel.
  void on_closed();
  // Refusal of a peer denied by the ACL (or by a connection limit, with its own message):
  // rude rejection, goodbye, close.
  void reject_by_acl(std::string_view message = wire::kRudeRejectionMessage);
  // How many more commands step() may run before it returns `throttled` (command-rate);
  // unset: no limit. command_budget() is what is left.
  void set_command_budget(std::optional<std::size_t> budget) { command_budget_ = budget; }
  std::optional<std::size_t> command_budget() const { return command_budget_; }

  void feed(std::string_view bytes);
  // Runs buffered commands until one must run elsewhere (run_api), the session ends
  // (close), or no complete command is left (idle).
  Step step();
  void complete_api(const PendingApi& api, const core::ApiResult& result);
  void complete_inline();

  // The auth deadline passed without a first packet (25 s in FreeSWITCH; one packet, even an
  // unknown command, lifts it: captures 45, 46).
  void on_auth_timeout();
  // Ours (login-timeout-ms, off by default): not logged in by then, whatever was sent.
  void on_login_timeout();
  // The peer closed its side or the socket failed: end as FreeSWITCH does (goodbye).
  void on_peer_closed();
  // The server is shutting down.
  void on_shutdown();
  // Whether the auth deadline still applies (only until the first complete packet).
  bool awaiting_first_packet() const { return awaiting_first_packet_; }
  bool awaiting_auth() const { return state_ == State::awaiting_auth; }
  State state() const { return state_; }
  // From any thread (statistics).
  bool authenticated() const { return authenticated_.load(std::memory_order_relaxed); }
  const std::string& peer_address() const { return peer_address_; }

  // Output, in order. Views point into `owned` or into the events kept alive in `events`.
  struct OutputBatch {
    std::deque<std::string> owned;
    std::vector<event::EventPtr> events;
    std::vector<std::string_view> buffers;
    std::size_t bytes = 0;
    bool close_after = false;  // the session is over once these bytes are written
    void clear();
  };
  // Moves up to about max_bytes of queued output into `batch`; false when there is none.
  bool take_output(OutputBatch& batch, std::size_t max_bytes = 256 * 1024);
  // Called (from any thread) when output becomes available. Set before start.
  void set_output_ready(std::function<void()> callback) { output_ready_ = std::move(callback); }

  // core::EventSink: a published event; kept if this connection's rules want it.
  bool offer(const event::EventPtr& event) override;
  void offer_log(const core::LogRecord& record);

  SessionStats stats() const;
  // True once the session was killed for losing events or log lines: the connection gives
  // the notice a short time to go out, then closes even if the client never reads again.
  bool killed() const;
  // While lingering after the bound channel hung up: when the connection is to be closed.
  std::optional<std::chrono::steady_clock::time_point> linger_deadline() const;
  // The linger time is over: the disconnect notice, then the end.
  void on_linger_expired();

 private:
  struct OutItem {
    std::string bytes;      // a reply, notice or log packet
    event::EventPtr event;  // or an event, serialized in the format current at write time
    bool is_log = false;
    std::size_t accounted = 0;  // bytes it counts against max_queued_bytes (events, logs)
  };
  // Drops queued and held items that match, releasing what they counted.
  template <typename Match>
  void discard_locked(Match&& match);

  void handle(const wire::MessageView& message, Step& step);
  void handle_authenticated(std::string_view text, const wire::MessageView& message, Step& step);
  void reply(std::string_view text);
  void reply_extended(std::string_view text, std::span<const wire::HeaderView> extra);
  void queue_bytes(std::string bytes);         // a reply: never dropped, never held
  void begin_close(std::string_view message);  // goodbye notice, then close
  void release_held();                         // events held while a command ran
  bool enqueue_locked(OutItem item, std::size_t size, bool is_log);
  void notify();
  void sync_watch();
  void sync_bus_interest();
  void push_notice_locked(std::string notice);

  void cmd_auth(std::string_view line);
  void cmd_userauth(std::string_view line);
  void cmd_filter(std::string_view line);
  void cmd_event(std::string_view line);
  void cmd_nixevent(std::string_view line);
  void cmd_noevents();
  void cmd_myevents(std::string_view line);
  void cmd_divert_events(std::string_view line);
  void cmd_gap_notices(std::string_view line);
  // Gap notices (`gap_notices on`): remembers a dropped event, and before the next event that
  // fits, queues the CUSTOM eventsocket::gap event that reports what was dropped.
  void note_gap_locked(const event::Event& dropped);
  void queue_gap_notice_locked();
  void cmd_getvar(std::string_view line);
  void cmd_connect();
  void cmd_resume();
  void cmd_sendmsg(std::string_view line, const wire::MessageView& message, Step& step);
  void cmd_sendevent(std::string_view line, const wire::MessageView& message);
  void cmd_api(std::string_view line, const wire::MessageView& message, Step& step);
  void cmd_bgapi(std::string_view line, const wire::MessageView& message);
  void cmd_log(std::string_view line);
  void cmd_nolog();
  void cmd_linger(std::string_view text);
  void cmd_nolinger();
  bool api_allowed(std::string_view command, std::string_view args) const;

  core::Switch& switch_;
  SessionOptions options_;
  std::string peer_address_;
  wire::Parser parser_;
  State state_ = State::awaiting_auth;
  bool awaiting_first_packet_ = true;
  bool busy_ = false;  // a command is being handled: events wait (FreeSWITCH's order)
  std::optional<std::size_t> command_budget_;
  bool on_bus_ = false;
  std::atomic<bool> authenticated_{
      false};  // subscribed to the switch's event bus (connection's strand only)
  int log_sink_id_ = 0;

  // userauth restrictions
  bool restricted_events_ = false;
  bool all_events_allowed_ = true;
  std::set<event::EventType> allowed_events_;
  std::set<std::string, std::less<>> allowed_subclasses_;
  bool restricted_api_ = false;
  std::set<std::string, std::less<>> allowed_api_;
  bool log_allowed_ = true;

  // The channel this connection controls (inbound after `myevents <uuid>` of a live
  // channel). Its hangup handling (close or linger) arrives with the switch core's call flow.
  std::optional<std::string> bound_uuid_;
  core::ChannelPtr bound_channel_;  // held while bound, as FreeSWITCH holds the session
  bool async_ = false;
  bool linger_ = false;
  int linger_seconds_ = -1;  // -1: forever
  bool divert_ = false;
  bool resume_ = false;
  bool outbound_ = false;
  bool full_ = true;             // inbound connections always have the full command set
  bool suppress_reply_ = false;  // an outbound session's first packet gets no reply
  bool closed_notified_ = false;

  // Guarded by mutex_: touched by publishers on other threads.
  mutable std::mutex mutex_;
  event::DeliveryRules rules_;
  wire::EventFormat format_ = wire::EventFormat::plain;
  bool myevents_enabled_ = false;
  bool logging_ = false;
  int log_level_ = 7;
  std::deque<OutItem> queue_;
  std::vector<OutItem> held_;
  std::size_t queued_bytes_ = 0;
  std::size_t queued_items_ = 0;
  std::size_t consecutive_drops_ = 0;
  // `gap_notices on`: drops are reported to the client instead of killing it (mutex_).
  bool gap_notices_ = false;
  std::uint64_t gap_dropped_ = 0;
  std::uint64_t gap_first_sequence_ = 0;
  std::uint64_t gap_last_sequence_ = 0;
  bool close_queued_ = false;         // the last packet (a notice) is in the queue
  bool closing_notice_held_ = false;  // ...held behind the command running now
  // The bound channel's end as publishers see it (copies of bound_uuid_ and the linger
  // settings, kept under mutex_ by sync_watch()).
  std::string watch_uuid_;
  bool watch_linger_ = false;
  int watch_linger_seconds_ = -1;
  bool watch_hungup_ = false;    // its CHANNEL_HANGUP went by: notice sent
  bool watch_complete_ = false;  // its CHANNEL_HANGUP_COMPLETE went by: nothing more of it
  // This async session hung its own channel up (sendmsg hangup): the channel runs the whole
  // hangup at once, so the notice follows CHANNEL_HANGUP_COMPLETE (captures 20, 21).
  bool watch_self_hangup_ = false;
  std::optional<std::chrono::steady_clock::time_point> linger_deadline_;
  bool killed_ = false;
  SessionStats stats_;
  std::function<void()> output_ready_;
};

}  // namespace eventsocket::server
