#include "eventsocket/core/event_bus.hpp"

#include <algorithm>
#include <mutex>

namespace eventsocket::core {

void EventBus::subscribe(EventSink* sink) {
  std::unique_lock lock(mutex_);
  sinks_.push_back(sink);
}

void EventBus::unsubscribe(EventSink* sink) {
  std::unique_lock lock(mutex_);
  std::erase(sinks_, sink);
}

void EventBus::publish(const event::EventPtr& event) {
  published_.fetch_add(1, std::memory_order_relaxed);
  std::uint64_t wanted = 0;
  std::shared_lock lock(mutex_);
  for (EventSink* sink : sinks_) {
    wanted += sink->offer(event) ? 1 : 0;
  }
  if (wanted > 0) {
    delivered_.fetch_add(wanted, std::memory_order_relaxed);
  }
}

std::size_t EventBus::sink_count() const {
  std::shared_lock lock(mutex_);
  return sinks_.size();
}

}  // namespace eventsocket::core
