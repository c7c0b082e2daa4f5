#pragma once

#include <bitset>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>

#include "eventsocket/event/event.hpp"
#include "eventsocket/event/event_type.hpp"
#include "eventsocket/event/filter.hpp"

namespace eventsocket::event {

// Which event types a connection listens to (`event`, `nixevent`, `noevents`): one bit per
// type, ALL included, plus the CUSTOM subclasses named after a CUSTOM token.
class Subscription {
 public:
  // `event ... <type>`. ALL sets every bit and snapshots `registered_subclasses` (the
  // subclasses known to the switch at that moment), as FreeSWITCH does.
  void enable(EventType type, std::span<const std::string> registered_subclasses = {});
  void add_subclass(std::string_view subclass);

  // `nixevent <type>`: ALL clears everything; another type first turns ALL into every
  // individual bit, then clears its own bit. CUSTOM itself stays on (`nixevent CUSTOM`
  // only switches the following tokens to subclass removal).
  void disable(EventType type);
  void remove_subclass(std::string_view subclass);

  // `noevents`: clears every bit and every subclass.
  void clear();

  bool is_enabled(EventType type) const { return types_.test(index_of(type)); }
  bool has_subclass(std::string_view subclass) const {
    return subclasses_.find(subclass) != subclasses_.end();
  }
  const std::set<std::string, std::less<>>& subclasses() const { return subclasses_; }

  // Step 2 of FreeSWITCH's delivery decision: ALL, or the type's bit and, for a CUSTOM
  // event with a subclass, that subclass listed (exact, case-sensitive).
  bool wants(const Event& event) const;

 private:
  std::bitset<kEventTypeCount> types_;
  std::set<std::string, std::less<>> subclasses_;
};

// The `myevents` restriction: once active, only events about one channel get through.
struct MyEvents {
  bool active = false;
  // The bound channel; empty when `myevents <uuid>` named no live channel, in which case
  // any event that has a Unique-ID passes.
  std::optional<std::string> channel_uuid;

  // Step 4: Unique-ID equal to the bound channel (or present at all when unbound), or a
  // Job-Owner-UUID equal to the bound channel (a bgapi started by this session).
  bool passes(const Event& event) const;
};

// Everything that decides whether a connection receives an event, in FreeSWITCH's order:
// events enabled, subscription, filters, myevents.
struct DeliveryRules {
  bool events_enabled = false;
  Subscription subscription;
  FilterList filters;
  MyEvents myevents;

  bool should_deliver(const Event& event) const;
};

}  // namespace eventsocket::event
