#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

#include "eventsocket/wire/errc.hpp"
#include "eventsocket/wire/limits.hpp"
#include "eventsocket/wire/message.hpp"

namespace eventsocket::wire {

// Which side of the conversation the parser reads.
enum class Direction {
  // Client -> server commands, split exactly as FreeSWITCH's read_packet does: the first
  // CR anywhere ends a line, LF-only lines before a later CR merge into one, empty values
  // delete earlier same-named headers, every Content-Length header reads a body.
  command,
  // Server -> client packets, as libesl reads them: LF or CRLF lines, one body given by
  // the first Content-Length header.
  packet,
};

// Incremental push parser: feed() any slice of bytes, then call next() until it returns
// errc::need_more. It never touches a socket and never rescans bytes it has looked at, so
// input that trickles in one byte at a time costs O(bytes) in total.
//
// Framing rules shared by both directions (FreeSWITCH's, PROTOCOL.md §3.2):
//  * CR and LF bytes before a message are skipped;
//  * the header block ends at the second LF of a run of LFs with only CRs between them
//    (`\n\n`, `\r\n\r\n`, `\n\r\n`, `\r\n\n`); `\n \n` and lone CRs do not end it.
class Parser {
 public:
  explicit Parser(Direction direction, Limits limits = {});

  // Appends bytes. Invalidates every view handed out by next().
  void feed(std::string_view bytes);

  // Extracts the next complete message into `out`. Returns:
  //  * {} (success) with `out` filled; its views are valid until the next feed()/next();
  //  * errc::need_more when no complete message is buffered (out is untouched);
  //  * another errc when the peer broke a limit; the parser is then stuck in that error
  //    (every later call returns it) and the connection should be closed.
  std::error_code next(MessageView& out);

  // Replaces the limits (e.g. tighter before authentication, wider after).
  void set_limits(const Limits& limits) { limits_ = limits; }
  const Limits& limits() const { return limits_; }

  // Bytes fed but not yet returned as part of a message.
  std::size_t buffered_bytes() const { return buffer_.size() - consumed_; }

 private:
  std::error_code fail(errc e);
  std::error_code scan_block();
  std::error_code finish_command(MessageView& out);
  std::error_code finish_packet(MessageView& out);
  void compact();
  void reset_message_state();

  static constexpr std::size_t kUnknown = static_cast<std::size_t>(-1);

  Direction direction_;
  Limits limits_;
  std::string buffer_;
  std::size_t consumed_ = 0;    // bytes of buffer_ already handed out (or skipped)
  std::size_t scan_ = 0;        // next byte of the current block to look at
  std::size_t line_start_ = 0;  // start of the line being scanned
  std::size_t header_lines_ = 0;
  int line_feeds_ = 0;         // FreeSWITCH's crcount: LFs with only CRs between them
  std::size_t block_end_ = 0;  // set once the header block is complete
  bool block_done_ = false;
  std::size_t body_needed_ = kUnknown;  // body bytes after block_end_, once known
  errc error_ = errc::ok;
};

}  // namespace eventsocket::wire
