#pragma once

#include <string>
#include <string_view>

#include "eventsocket/event/event.hpp"

namespace eventsocket::event {

// Sets a decoded event's type from `Event-Name` (unknown or missing: CUSTOM) and, for
// CUSTOM, its subclass from `Event-Subclass`.
void classify_decoded_event(Event& event);

inline bool set_decode_error(std::string* error, std::string_view what) {
  if (error != nullptr) {
    error->assign(what);
  }
  return false;
}

}  // namespace eventsocket::event
