#include "eventsocket/event/subscription.hpp"

namespace eventsocket::event {

void Subscription::enable(EventType type, std::span<const std::string> registered_subclasses) {
  if (type == EventType::ALL) {
    types_.set();
    for (const std::string& subclass : registered_subclasses) {
      subclasses_.insert(subclass);
    }
    return;
  }
  types_.set(index_of(type));
}

void Subscription::add_subclass(std::string_view subclass) {
  subclasses_.emplace(subclass);
}

void Subscription::disable(EventType type) {
  if (type == EventType::ALL) {
    types_.reset();
    return;
  }
  if (type == EventType::CUSTOM) {
    return;
  }
  if (types_.test(index_of(EventType::ALL))) {
    types_.set();
    types_.reset(index_of(EventType::ALL));
  }
  types_.reset(index_of(type));
}

void Subscription::remove_subclass(std::string_view subclass) {
  if (auto it = subclasses_.find(subclass); it != subclasses_.end()) {
    subclasses_.erase(it);
  }
}

void Subscription::clear() {
  types_.reset();
  subclasses_.clear();
}

bool Subscription::wants(const Event& event) const {
  if (types_.test(index_of(EventType::ALL))) {
    return true;
  }
  if (!types_.test(index_of(event.type()))) {
    return false;
  }
  return event.type() != EventType::CUSTOM || event.subclass().empty() ||
         has_subclass(event.subclass());
}

bool MyEvents::passes(const Event& event) const {
  if (!active) {
    return true;
  }
  const auto unique_id = event.header("Unique-ID");
  if (unique_id && (!channel_uuid || *unique_id == *channel_uuid)) {
    return true;
  }
  return channel_uuid &&
         event.header("Job-Owner-UUID") == std::optional<std::string_view>(*channel_uuid);
}

bool DeliveryRules::should_deliver(const Event& event) const {
  return events_enabled && subscription.wants(event) && filters.passes(event) &&
         myevents.passes(event);
}

}  // namespace eventsocket::event
