#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eventsocket/core/channel.hpp"

namespace eventsocket::core {

// One live channel. Its data is guarded by its own mutex: API commands, the Event Socket
// sessions bound to it and its own call flow read and change it from different threads.
class Channel : public std::enable_shared_from_this<Channel> {
 public:
  explicit Channel(ChannelData data);

  const std::string& uuid() const { return uuid_; }
  // A consistent copy of everything the channel shows in events.
  ChannelData snapshot() const;
  // Changes the data under the channel's lock.
  template <typename Change>
  void update(Change&& change) {
    std::lock_guard lock(mutex_);
    change(data_);
  }

  std::optional<std::string> variable(std::string_view name) const;
  void set_variable(std::string_view name, std::string_view value);

  // The application running now (`show channels` application / application_data).
  void set_application(std::string_view name, std::string_view data);
  std::pair<std::string, std::string> application() const;

  // When the channel was created (show channels `created`, `created_epoch`).
  std::chrono::system_clock::time_point created() const { return created_; }
  // The caller profile as the channel was created (show channels `initial_*`).
  const CallerProfile& initial_profile() const { return initial_; }

  // `show channels` columns that FreeSWITCH keeps in its channel table rather than in the
  // channel's event data; the call flow sets them.
  struct Listing {
    std::string callee_direction;  // e.g. RECV on a loopback a-leg
    std::string call_uuid;
    std::string sent_callee_name;
    std::string sent_callee_num;
    std::string secure;
    std::string accountcode;
  };
  Listing listing() const;
  template <typename Change>
  void update_listing(Change&& change) {
    std::lock_guard lock(mutex_);
    change(listing_);
  }

  // Appends the channel's headers (ChannelData::add_event_headers) under its lock, so an
  // event shows one consistent moment without copying the data.
  void add_event_headers(event::Event& event) const;

  // What other threads ask of the channel's own thread (FreeSWITCH's session message queue
  // and flags). Changed with control(), which wakes the channel's thread.
  // A message for the channel's thread: sendmsg's private command, or uuid_broadcast.
  struct QueuedApplication {
    std::string command = "execute";  // call-command: execute, hangup, xferext, ...
    std::string application;
    std::string data;
    std::string event_uuid;  // sendmsg's Event-UUID: the Application-UUID of its events
    int loops = 1;           // negative: until the channel leaves
    std::string hangup_cause;
    std::vector<std::string> extension;  // xferext: "app arg" steps
    // The message as sent, re-fired as PRIVATE_COMMAND once executed (empty: none).
    std::vector<std::pair<std::string, std::string>> headers;
    bool event_lock = false;  // no other message is taken while this one runs
  };
  // The outbound Event Socket session of the socket application, as the channel sees it.
  struct SocketLink {
    bool in_application = false;  // the socket application is running
    bool static_mode = false;     // the session's commands run on the channel's own flow
    bool connect_done = false;    // the TCP connection attempt finished...
    bool connect_ok = false;      // ...and succeeded
    bool connected = false;       // the program sent `connect`
    bool ended = false;           // the session is over
    // Static mode: sendmsg messages to run inline, each with what to call once done.
    std::deque<std::pair<QueuedApplication, std::function<void()>>> inline_messages;
  };
  struct Control {
    bool hangup = false;                  // the channel is being hung up (CHANNEL_HANGUP was fired)
    bool interrupt = false;               // uuid_break: stop the current media application
    bool leave = false;                   // leave the running application (transfer, park, bridge)
    std::deque<QueuedApplication> queue;  // sendmsg execute, uuid_broadcast
    // The dialplan actions (application, data) still to run in CS_EXECUTE.
    std::deque<std::pair<std::string, std::string>> extension;
    std::string partner;         // the loopback twin or the bridged leg
    std::string bridge_request;  // uuid_bridge: the leg to bridge with
    bool bridged = false;
    bool held = false;
    std::string dtmf;  // digits received and not yet consumed
    // An originated leg belongs to its originator (originate, bridge) until it is answered
    // and handed over: until then routing waits in CS_CONSUME_MEDIA instead of hunting.
    bool held_by_originator = false;
    std::string last_app;  // the application started last, for the CDR (last_app, last_arg)
    std::string last_arg;
    bool event_locked = false;  // an event-lock message is running: the queue waits
    SocketLink socket;
    // Whether a queued message may be taken now.
    bool message_ready() const { return !queue.empty() && !event_locked; }
  };
  template <typename Change>
  auto control(Change&& change) {
    std::unique_lock lock(mutex_);
    struct Notify {
      Channel& channel;
      ~Notify() { channel.wake_waiters(); }
    } notify{*this};
    return change(control_, data_);
  }
  // Waits until `ready(control, data)` holds or the deadline passes; returns ready's value.
  // On a channel's fiber the wait gives the worker thread back; elsewhere it blocks.
  template <typename Ready>
  bool wait_until(std::chrono::steady_clock::time_point deadline, Ready&& ready) {
    return wait_for(&deadline, ReadyRef(ready));
  }
  template <typename Ready>
  void wait(Ready&& ready) {
    wait_for(nullptr, ReadyRef(ready));
  }

 private:
  // A non-owning view of a wait's condition, so the waiting code is not a template.
  class ReadyRef {
   public:
    template <typename Ready>
    explicit ReadyRef(Ready& ready)
        : object_(&ready), call_([](void* o, const Control& c, const ChannelData& d) {
            return static_cast<bool>((*static_cast<Ready*>(o))(c, d));
          }) {}
    bool operator()(const Control& c, const ChannelData& d) const { return call_(object_, c, d); }

   private:
    void* object_;
    bool (*call_)(void*, const Control&, const ChannelData&);
  };
  struct FiberWaiter;
  bool wait_for(const std::chrono::steady_clock::time_point* deadline, ReadyRef ready);
  // Called with the lock held after every control(): wakes the waits whose condition holds.
  void wake_waiters();

 private:
  const std::string uuid_;
  const std::chrono::system_clock::time_point created_;
  const CallerProfile initial_;
  mutable std::mutex mutex_;
  ChannelData data_;
  std::string application_;
  std::string application_data_;
  Listing listing_;
  Control control_;
  std::condition_variable wake_;  // threads waiting (an originator outside any fiber)
  std::vector<FiberWaiter*> fiber_waiters_;
};

using ChannelPtr = std::shared_ptr<Channel>;

// Every live channel, by UUID, in creation order for listings.
class ChannelRegistry {
 public:
  // Adds a channel; nullptr when a channel with that UUID already exists.
  ChannelPtr add(ChannelData data);
  bool remove(std::string_view uuid);
  ChannelPtr find(std::string_view uuid) const;
  std::vector<ChannelPtr> list() const;
  std::size_t size() const;
  // Channels created since startup (the `session_id` FreeSWITCH numbers them with).
  std::uint64_t created_total() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, ChannelPtr, std::less<>> by_uuid_;
  std::vector<ChannelPtr> ordered_;
  std::uint64_t created_total_ = 0;
};

// `show channels` / `show calls` columns and one row per channel, in FreeSWITCH's order
// (capture 15). `hostname` is the switch's.
const std::vector<std::string_view>& show_channels_columns();
std::vector<std::string> show_channels_row(const Channel& channel, std::string_view hostname);

}  // namespace eventsocket::core
