#pragma once

#include <atomic>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eventsocket/event/event_type.hpp"
#include "eventsocket/wire/writer.hpp"

namespace eventsocket::event {

struct Header {
  std::string_view name;
  std::string_view value;
};

// A FreeSWITCH event: a type, a CUSTOM subclass, ordered headers (duplicates kept, names keep
// their case, lookups are case-insensitive and return the first match) and an optional
// body. Header names and values live in one arena string, so building an event costs two
// growing buffers rather than two allocations per header.
//
// An Event is a plain value while it is being built; freeze() turns it into an immutable,
// shareable FrozenEvent whose encodings are made at most once.
class Event {
 public:
  Event() = default;
  explicit Event(EventType type, std::string_view subclass = {});

  EventType type() const noexcept { return type_; }
  void set_type(EventType type) noexcept { type_ = type; }
  // Non-empty only for CUSTOM events created with a subclass.
  std::string_view subclass() const noexcept { return subclass_; }
  void set_subclass(std::string_view subclass) { subclass_.assign(subclass); }

  std::size_t header_count() const noexcept { return entries_.size(); }
  Header header_at(std::size_t index) const noexcept;
  // First header with this name (case-insensitive).
  std::optional<std::string_view> header(std::string_view name) const noexcept;
  // Like header(), but the empty string when absent.
  std::string_view header_or_empty(std::string_view name) const noexcept;

  // The common headers by name (case-insensitive, "" when absent), for programs reading
  // events: e.unique_id() rather than e.header_or_empty("Unique-ID").
  std::string_view name() const noexcept { return header_or_empty("Event-Name"); }
  std::string_view unique_id() const noexcept { return header_or_empty("Unique-ID"); }
  std::string_view core_uuid() const noexcept { return header_or_empty("Core-UUID"); }
  std::string_view job_uuid() const noexcept { return header_or_empty("Job-UUID"); }
  std::string_view channel_name() const noexcept { return header_or_empty("Channel-Name"); }
  std::string_view channel_state() const noexcept { return header_or_empty("Channel-State"); }
  std::string_view call_direction() const noexcept { return header_or_empty("Call-Direction"); }
  std::string_view answer_state() const noexcept { return header_or_empty("Answer-State"); }
  std::string_view hangup_cause() const noexcept { return header_or_empty("Hangup-Cause"); }
  std::string_view application() const noexcept { return header_or_empty("Application"); }
  std::string_view application_data() const noexcept { return header_or_empty("Application-Data"); }
  std::string_view application_uuid() const noexcept { return header_or_empty("Application-UUID"); }
  std::string_view application_response() const noexcept {
    return header_or_empty("Application-Response");
  }
  std::string_view caller_id_name() const noexcept {
    return header_or_empty("Caller-Caller-ID-Name");
  }
  std::string_view caller_id_number() const noexcept {
    return header_or_empty("Caller-Caller-ID-Number");
  }
  std::string_view destination_number() const noexcept {
    return header_or_empty("Caller-Destination-Number");
  }
  // Event-Sequence, and Event-Date-Timestamp (microseconds since 1970); nullopt when absent
  // or not a number.
  std::optional<std::uint64_t> sequence() const noexcept;
  std::optional<std::int64_t> timestamp_us() const noexcept;
  // A channel variable as events carry it: the header `variable_<name>`.
  std::optional<std::string_view> variable(std::string_view name) const;

  // Appends a header (FreeSWITCH's SWITCH_STACK_BOTTOM). An empty value adds nothing and
  // removes earlier headers of that name, as in FreeSWITCH where values are never empty.
  void add_header(std::string_view name, std::string_view value);
  // Inserts a header before all others (SWITCH_STACK_TOP).
  void add_header_front(std::string_view name, std::string_view value);
  // Replaces the first header of that name, or appends it.
  void set_header(std::string_view name, std::string_view value);
  // Removes every header with this name (case-insensitive); returns how many.
  std::size_t remove_header(std::string_view name);
  // Removes the header at this position.
  void remove_header_at(std::size_t index);

  bool has_body() const noexcept { return has_body_; }
  std::string_view body() const noexcept { return body_; }
  void set_body(std::string_view body);
  void clear_body();

  // Bytes of header text held, a cheap size estimate for encoders.
  std::size_t text_bytes() const noexcept { return text_.size(); }
  void reserve(std::size_t headers, std::size_t text_bytes);

 private:
  struct Entry {
    std::uint32_t name_offset;
    std::uint32_t name_size;
    std::uint32_t value_offset;
    std::uint32_t value_size;
  };
  Entry store(std::string_view name, std::string_view value);

  EventType type_ = EventType::CUSTOM;
  std::string subclass_;
  std::string text_;
  std::vector<Entry> entries_;
  std::string body_;
  bool has_body_ = false;
};

class FrozenEvent;
using EventPtr = std::shared_ptr<const FrozenEvent>;

// An event published to subscribers: immutable, and each of its three wire packets
// (envelope + serialized event) is built at most once, on first use, then shared by every
// subscriber that asks for that format. Safe to use from many threads.
class FrozenEvent {
 public:
  static EventPtr freeze(Event event);

  const Event& event() const noexcept { return event_; }
  // The complete packet to write to a socket: `Content-Length`, `Content-Type`, blank line,
  // then the serialized event.
  std::string_view packet(wire::EventFormat format) const;
  // The serialized event alone (the packet's body).
  std::string_view serialized(wire::EventFormat format) const;

  explicit FrozenEvent(Event event) : event_(std::move(event)) {}

 private:
  struct Encoding {
    std::atomic<bool> ready{false};  // packet is complete and never changes again
    std::string packet;
    std::size_t envelope_size = 0;
  };
  const Encoding& encoding(wire::EventFormat format) const;

  Event event_;
  // Not std::call_once: glibc's wakes a futex after every first call, one system call per
  // event encoded. An uncontended mutex costs none.
  mutable std::mutex encode_mutex_;
  mutable Encoding encodings_[3];
};

}  // namespace eventsocket::event
