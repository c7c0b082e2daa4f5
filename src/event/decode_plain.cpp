#include <string>

#include "decode_common.hpp"
#include "eventsocket/event/codec.hpp"
#include "eventsocket/wire/message.hpp"
#include "eventsocket/wire/url.hpp"

namespace eventsocket::event {
namespace {

std::size_t parse_length(std::string_view text, bool& ok) {
  std::size_t value = 0;
  ok = !text.empty() && text.size() <= 12;
  for (char c : text) {
    if (c < '0' || c > '9') {
      ok = false;
      return 0;
    }
    value = value * 10 + static_cast<std::size_t>(c - '0');
  }
  return value;
}

}  // namespace

void classify_decoded_event(Event& event) {
  const auto name = event.header("Event-Name");
  event.set_type(name ? event_type_from_wire_name(*name).value_or(EventType::CUSTOM)
                      : EventType::CUSTOM);
  if (event.type() == EventType::CUSTOM) {
    if (const auto subclass = event.header("Event-Subclass")) {
      event.set_subclass(*subclass);
    }
  }
}

bool decode_plain(std::string_view text, Event& out, std::string* error) {
  Event event;
  event.reserve(text.size() / 24 + 4, text.size());
  std::string scratch;
  std::size_t pos = 0;
  bool terminated = false;
  while (pos < text.size()) {
    std::size_t lf = text.find('\n', pos);
    const std::size_t line_end = lf == std::string_view::npos ? text.size() : lf;
    std::string_view line = text.substr(pos, line_end - pos);
    pos = lf == std::string_view::npos ? text.size() : lf + 1;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.empty()) {
      terminated = true;
      break;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      continue;
    }
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') {
      value.remove_prefix(1);
    }
    if (value.find('%') == std::string_view::npos) {
      event.add_header(line.substr(0, colon), value);
    } else {
      scratch.clear();
      wire::url_decode_append(scratch, value);
      event.add_header(line.substr(0, colon), scratch);
    }
  }
  if (!terminated && event.header_count() == 0) {
    return set_decode_error(error, "plain event: no header block");
  }

  const std::string_view rest = text.substr(pos);
  if (!rest.empty()) {
    // The encoder writes the body's Content-Length as the last header; a client's own
    // Content-Length header (sendevent) may appear earlier and stays a header.
    const std::size_t count = event.header_count();
    if (count == 0 || !wire::iequals(event.header_at(count - 1).name, "Content-Length")) {
      return set_decode_error(error, "plain event: body without a trailing Content-Length header");
    }
    bool ok = false;
    const std::size_t length = parse_length(event.header_at(count - 1).value, ok);
    if (!ok || length != rest.size()) {
      return set_decode_error(error, "plain event: Content-Length does not match the body");
    }
    event.remove_header_at(count - 1);
    event.set_body(rest);
  }
  classify_decoded_event(event);
  out = std::move(event);
  return true;
}

bool decode(std::string_view text, wire::EventFormat format, Event& out, std::string* error) {
  switch (format) {
    case wire::EventFormat::plain:
      return decode_plain(text, out, error);
    case wire::EventFormat::json:
      return decode_json(text, out, error);
    case wire::EventFormat::xml:
      return decode_xml(text, out, error);
  }
  return set_decode_error(error, "unknown event format");
}

}  // namespace eventsocket::event
