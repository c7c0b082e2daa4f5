#pragma once

#include <system_error>

namespace eventsocket::wire {

// Every way framing can stop. `need_more` is the only value after which parsing may go on;
// every other value means the peer broke a limit or the format, and the connection should
// be closed (FreeSWITCH closes it too, with the normal disconnect notice).
enum class errc {
  ok = 0,
  need_more,                 // no complete message yet: feed more bytes
  line_too_long,             // a header line exceeded Limits::max_line_bytes
  too_many_headers,          // the header block exceeded Limits::max_header_count lines
  header_block_too_large,    // the header block exceeded Limits::max_header_block_bytes
  content_length_too_large,  // Content-Length above Limits::max_content_length
  bad_content_length,        // Content-Length negative (FreeSWITCH: atoi() < 0)
  buffer_limit,              // more unconsumed bytes buffered than Limits::max_buffered_bytes
};

const std::error_category& wire_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), wire_category()};
}

}  // namespace eventsocket::wire

template <>
struct std::is_error_code_enum<eventsocket::wire::errc> : std::true_type {};
