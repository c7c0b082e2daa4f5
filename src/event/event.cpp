#include "eventsocket/event/event.hpp"

#include <algorithm>
#include <charconv>

#include "eventsocket/event/codec.hpp"
#include "eventsocket/wire/message.hpp"

namespace eventsocket::event {

Event::Event(EventType type, std::string_view subclass) : type_(type), subclass_(subclass) {}

Header Event::header_at(std::size_t index) const noexcept {
  const Entry& e = entries_[index];
  return {std::string_view(text_.data() + e.name_offset, e.name_size),
          std::string_view(text_.data() + e.value_offset, e.value_size)};
}

std::optional<std::string_view> Event::header(std::string_view name) const noexcept {
  for (const Entry& e : entries_) {
    std::string_view n(text_.data() + e.name_offset, e.name_size);
    if (wire::iequals(n, name)) {
      return std::string_view(text_.data() + e.value_offset, e.value_size);
    }
  }
  return std::nullopt;
}

std::string_view Event::header_or_empty(std::string_view name) const noexcept {
  return header(name).value_or(std::string_view{});
}

namespace {

template <typename Number>
std::optional<Number> number_of(std::optional<std::string_view> text) noexcept {
  Number n{};
  if (!text || text->empty()) {
    return std::nullopt;
  }
  const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), n);
  if (error != std::errc{} || end != text->data() + text->size()) {
    return std::nullopt;
  }
  return n;
}

}  // namespace

std::optional<std::uint64_t> Event::sequence() const noexcept {
  return number_of<std::uint64_t>(header("Event-Sequence"));
}

std::optional<std::int64_t> Event::timestamp_us() const noexcept {
  return number_of<std::int64_t>(header("Event-Date-Timestamp"));
}

std::optional<std::string_view> Event::variable(std::string_view name) const {
  return header("variable_" + std::string(name));
}

Event::Entry Event::store(std::string_view name, std::string_view value) {
  Entry e;
  e.name_offset = static_cast<std::uint32_t>(text_.size());
  e.name_size = static_cast<std::uint32_t>(name.size());
  text_.append(name);
  e.value_offset = static_cast<std::uint32_t>(text_.size());
  e.value_size = static_cast<std::uint32_t>(value.size());
  text_.append(value);
  return e;
}

void Event::add_header(std::string_view name, std::string_view value) {
  if (value.empty()) {
    remove_header(name);
    return;
  }
  entries_.push_back(store(name, value));
}

void Event::add_header_front(std::string_view name, std::string_view value) {
  if (value.empty()) {
    remove_header(name);
    return;
  }
  entries_.insert(entries_.begin(), store(name, value));
}

void Event::set_header(std::string_view name, std::string_view value) {
  for (Entry& e : entries_) {
    if (wire::iequals(std::string_view(text_.data() + e.name_offset, e.name_size), name)) {
      if (value.empty()) {
        remove_header(name);
        return;
      }
      e = store(name, value);
      return;
    }
  }
  add_header(name, value);
}

std::size_t Event::remove_header(std::string_view name) {
  const std::size_t before = entries_.size();
  std::erase_if(entries_, [&](const Entry& e) {
    return wire::iequals(std::string_view(text_.data() + e.name_offset, e.name_size), name);
  });
  return before - entries_.size();
}

void Event::remove_header_at(std::size_t index) {
  entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(index));
}

void Event::set_body(std::string_view body) {
  body_.assign(body);
  has_body_ = true;
}

void Event::clear_body() {
  body_.clear();
  has_body_ = false;
}

void Event::reserve(std::size_t headers, std::size_t text_bytes) {
  entries_.reserve(headers);
  text_.reserve(text_bytes);
}

EventPtr FrozenEvent::freeze(Event event) {
  return std::make_shared<const FrozenEvent>(std::move(event));
}

const FrozenEvent::Encoding& FrozenEvent::encoding(wire::EventFormat format) const {
  Encoding& enc = encodings_[static_cast<int>(format)];
  if (enc.ready.load(std::memory_order_acquire)) {
    return enc;
  }
  std::lock_guard lock(encode_mutex_);
  if (!enc.ready.load(std::memory_order_relaxed)) {
    std::string serialized;
    encode(event_, format, serialized);
    enc.packet.reserve(serialized.size() + 64);
    wire::append_event_envelope(enc.packet, format, serialized.size());
    enc.envelope_size = enc.packet.size();
    enc.packet.append(serialized);
    enc.ready.store(true, std::memory_order_release);
  }
  return enc;
}

std::string_view FrozenEvent::packet(wire::EventFormat format) const {
  return encoding(format).packet;
}

std::string_view FrozenEvent::serialized(wire::EventFormat format) const {
  const Encoding& enc = encoding(format);
  return std::string_view(enc.packet).substr(enc.envelope_size);
}

}  // namespace eventsocket::event
