#include <simdjson.h>

#include <string>

#include "decode_common.hpp"
#include "eventsocket/event/codec.hpp"
#include "eventsocket/wire/message.hpp"

namespace eventsocket::event {

bool decode_json(std::string_view text, Event& out, std::string* error) {
  // One parser per thread: it keeps its buffers between calls.
  thread_local simdjson::ondemand::parser parser;
  const simdjson::padded_string padded(text);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS) {
    return set_decode_error(error, "json event: not a JSON document");
  }
  simdjson::ondemand::object object;
  if (doc.get_object().get(object) != simdjson::SUCCESS) {
    return set_decode_error(error, "json event: not a JSON object");
  }

  Event event;
  event.reserve(64, text.size());
  std::string joined;
  // The encoder appends "Content-Length" right before "_body": that member is not a header.
  bool previous_was_content_length = false;
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) {
      return set_decode_error(error, "json event: bad member name");
    }
    simdjson::ondemand::value value;
    simdjson::ondemand::json_type type;
    if (field.value().get(value) != simdjson::SUCCESS ||
        value.type().get(type) != simdjson::SUCCESS) {
      return set_decode_error(error, "json event: bad member value");
    }
    if (type == simdjson::ondemand::json_type::string) {
      std::string_view text_value;
      if (value.get_string().get(text_value) != simdjson::SUCCESS) {
        return set_decode_error(error, "json event: bad string");
      }
      if (key == "_body") {
        if (previous_was_content_length) {
          event.remove_header_at(event.header_count() - 1);
        }
        event.set_body(text_value);
        previous_was_content_length = false;
        continue;
      }
      event.add_header(key, text_value);
      previous_was_content_length = key == "Content-Length" && !text_value.empty();
    } else if (type == simdjson::ondemand::json_type::array) {
      simdjson::ondemand::array array;
      if (value.get_array().get(array) != simdjson::SUCCESS) {
        return set_decode_error(error, "json event: bad array");
      }
      joined.assign("ARRAY::");
      bool first = true;
      for (auto item : array) {
        std::string_view item_text;
        if (item.get_string().get(item_text) != simdjson::SUCCESS) {
          return set_decode_error(error, "json event: array items must be strings");
        }
        if (!first) {
          joined.append("|:");
        }
        first = false;
        joined.append(item_text);
      }
      event.add_header(key, joined);
      previous_was_content_length = false;
    } else {
      return set_decode_error(error, "json event: values must be strings or arrays of strings");
    }
  }
  classify_decoded_event(event);
  out = std::move(event);
  return true;
}

}  // namespace eventsocket::event
