#pragma once

#include <string>
#include <string_view>

#include "eventsocket/event/event.hpp"
#include "eventsocket/wire/writer.hpp"

namespace eventsocket::event {

// Encoders: the serialized event (no envelope), byte for byte as FreeSWITCH writes it to an
// Event Socket (EVENTS.md §4-6). They write the delivery copy: a subclassed event starts
// with `Event-Subclass`, and `Event-Subclass` headers elsewhere in the list are skipped.
void encode_plain(const Event& event, std::string& out);
void encode_json(const Event& event, std::string& out);
void encode_xml(const Event& event, std::string& out);
void encode(const Event& event, wire::EventFormat format, std::string& out);

// Writes the headers as they sit, without moving `Event-Subclass` to the front: what a
// socket with `divert_events on` receives for an event taken off a channel's queue.
void encode_plain_raw(const Event& event, std::string& out);

// A JSON string literal, quotes included, escaped as the json encoder escapes header values.
void append_json_string(std::string& out, std::string_view text);

// Decoders: the inverse of the encoders. `Event-Name` gives the type (unknown names give
// CUSTOM); a CUSTOM event's `Event-Subclass` header gives its subclass. Header values come
// back decoded (URL decoding for plain and xml, JSON unescaping for json). The body's own
// `Content-Length` (the one the encoder appends) is not kept as a header.
// On failure they return false and describe the problem in `*error` when given.
bool decode_plain(std::string_view text, Event& out, std::string* error = nullptr);
bool decode_json(std::string_view text, Event& out, std::string* error = nullptr);
bool decode_xml(std::string_view text, Event& out, std::string* error = nullptr);
bool decode(std::string_view text, wire::EventFormat format, Event& out,
            std::string* error = nullptr);

}  // namespace eventsocket::event
