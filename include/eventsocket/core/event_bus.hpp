#pragma once

#include <atomic>
#include <cstdint>
#include <shared_mutex>
#include <vector>

#include "eventsocket/event/event.hpp"

namespace eventsocket::core {

// Something that receives published events: an Event Socket session, or later a bridge to
// other nodes. It decides itself whether it wants the event (its subscription and filters).
class EventSink {
 public:
  virtual ~EventSink() = default;
  // Called on the publishing thread. Must not block: take the event (a shared, immutable
  // pointer, so keeping it costs no copy) or drop it, and return whether it wanted it.
  virtual bool offer(const event::EventPtr& event) = 0;
};

// Delivers every published event to every sink. Publishing takes a shared lock only, so
// many threads publish at once; subscribing and unsubscribing take it exclusively, so once
// unsubscribe() returns no publish is still inside that sink.
class EventBus {
 public:
  void subscribe(EventSink* sink);
  void unsubscribe(EventSink* sink);
  void publish(const event::EventPtr& event);

  std::size_t sink_count() const;
  std::uint64_t published_count() const { return published_.load(std::memory_order_relaxed); }
  // Offers a sink wanted (one event wanted by three sinks counts three).
  std::uint64_t delivered_count() const { return delivered_.load(std::memory_order_relaxed); }

 private:
  mutable std::shared_mutex mutex_;
  std::vector<EventSink*> sinks_;
  std::atomic<std::uint64_t> published_{0};
  std::atomic<std::uint64_t> delivered_{0};
};

}  // namespace eventsocket::core
