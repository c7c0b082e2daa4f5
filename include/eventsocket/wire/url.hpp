#pragma once

#include <string>
#include <string_view>

namespace eventsocket::wire {

// FreeSWITCH's switch_url_encode as used for event header values (EVENTS.md §4):
// bytes < 0x20 or > 0x7E and ` #%&+:;<=>?@[\]^`{|}"` become %XX (uppercase hex), except
// that a `%` already followed by two uppercase hex digits is kept as it is.
void url_encode_append(std::string& out, std::string_view value);
std::string url_encode(std::string_view value);

// True when url_encode(value) == value, i.e. the value can be written as it is.
bool url_encoding_is_identity(std::string_view value) noexcept;

// libesl's decoding: `%` followed by two hex digits (either case) becomes that byte;
// everything else, `+` included, is copied.
void url_decode_append(std::string& out, std::string_view value);
std::string url_decode(std::string_view value);

}  // namespace eventsocket::wire
