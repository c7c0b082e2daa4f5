#include "eventsocket/wire/parser.hpp"

#include <cstdint>
#include <cstring>
#include <limits>

#include "eventsocket/wire/errc.hpp"

namespace eventsocket::wire {
namespace {

inline bool is_line_break(char c) noexcept {
  return c == '\r' || c == '\n';
}

// C atoi() as FreeSWITCH applies it to Content-Length: leading whitespace, an optional
// sign, digits up to the first non-digit; nothing numeric gives 0. Saturates instead of
// overflowing (glibc's atoi would wrap), which only matters above every limit.
std::int64_t c_atoi(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r'))) {
    ++i;
  }
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    negative = s[i] == '-';
    ++i;
  }
  constexpr std::int64_t kCap = std::numeric_limits<std::int64_t>::max() / 10 - 10;
  std::int64_t value = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    if (value < kCap) {
      value = value * 10 + (s[i] - '0');
    }
  }
  return negative ? -value : value;
}

std::string_view view_of(const std::string& buffer, std::size_t begin, std::size_t end) {
  return std::string_view(buffer.data() + begin, end - begin);
}

}  // namespace

Parser::Parser(Direction direction, Limits limits) : direction_(direction), limits_(limits) {}

void Parser::feed(std::string_view bytes) {
  compact();
  buffer_.append(bytes);
}

void Parser::compact() {
  if (consumed_ == 0) {
    return;
  }
  if (consumed_ == buffer_.size()) {
    if (buffer_.capacity() > 64 * 1024) {
      std::string().swap(buffer_);  // an idle connection keeps no big buffer after a burst
    } else {
      buffer_.clear();
    }
  } else if (consumed_ >= 4096 && consumed_ * 2 >= buffer_.size()) {
    // Moving the unconsumed tail is amortised O(1) per byte: it only happens once at
    // least as many bytes were consumed as remain.
    buffer_.erase(0, consumed_);
  } else {
    return;
  }
  scan_ -= consumed_;
  line_start_ -= consumed_;
  if (block_done_) {
    block_end_ -= consumed_;
  }
  consumed_ = 0;
}

std::error_code Parser::fail(errc e) {
  error_ = e;
  return e;
}

std::error_code Parser::next(MessageView& out) {
  if (error_ != errc::ok) {
    return error_;
  }
  if (!block_done_) {
    std::error_code ec = scan_block();
    if (ec) {
      return ec;
    }
  }
  return direction_ == Direction::command ? finish_command(out) : finish_packet(out);
}

std::error_code Parser::scan_block() {
  const char* data = buffer_.data();
  const std::size_t end = buffer_.size();

  // FreeSWITCH resets an empty packet buffer whenever its first byte is CR or LF, so any
  // run of line breaks between messages disappears.
  if (scan_ == consumed_) {
    while (consumed_ < end && is_line_break(data[consumed_])) {
      ++consumed_;
    }
    scan_ = line_start_ = consumed_;
  }

  while (scan_ < end) {
    if (line_feeds_ == 0) {
      const void* found = std::memchr(data + scan_, '\n', end - scan_);
      if (found == nullptr) {
        scan_ = end;
        break;
      }
      const std::size_t lf = static_cast<std::size_t>(static_cast<const char*>(found) - data);
      if (lf - line_start_ > limits_.max_line_bytes) {
        return fail(errc::line_too_long);
      }
      if (++header_lines_ > limits_.max_header_count) {
        return fail(errc::too_many_headers);
      }
      scan_ = line_start_ = lf + 1;
      line_feeds_ = 1;
      if (scan_ - consumed_ > limits_.max_header_block_bytes) {
        return fail(errc::header_block_too_large);
      }
    } else {
      // After an LF: CRs keep the count, a second LF ends the block, anything else
      // starts a new line.
      const char c = data[scan_];
      if (c == '\r') {
        // CRs between the two LFs still count against the limits, or a run of them could
        // smuggle an arbitrarily large block past every check.
        ++scan_;
        if (scan_ - line_start_ > limits_.max_line_bytes) {
          return fail(errc::line_too_long);
        }
        if (scan_ - consumed_ > limits_.max_header_block_bytes) {
          return fail(errc::header_block_too_large);
        }
      } else if (c == '\n') {
        ++scan_;
        block_end_ = scan_;
        block_done_ = true;
        line_feeds_ = 0;
        return {};
      } else {
        line_feeds_ = 0;
      }
    }
  }

  if (scan_ - line_start_ > limits_.max_line_bytes) {
    return fail(errc::line_too_long);
  }
  if (scan_ - consumed_ > limits_.max_header_block_bytes) {
    return fail(errc::header_block_too_large);
  }
  if (buffered_bytes() > limits_.max_buffered_bytes) {
    return fail(errc::buffer_limit);
  }
  return errc::need_more;
}

std::error_code Parser::finish_command(MessageView& out) {
  const std::size_t begin = consumed_;
  const std::string_view block = view_of(buffer_, begin, block_end_);

  // Before splitting again, check cheaply whether the bodies can be complete yet, so a
  // body that trickles in does not make us resplit a large block on every feed.
  if (body_needed_ != kUnknown && buffer_.size() - block_end_ < body_needed_) {
    return buffered_bytes() > limits_.max_buffered_bytes ? fail(errc::buffer_limit)
                                                         : std::error_code(errc::need_more);
  }

  std::vector<HeaderView> headers;
  std::size_t body_offset = block_end_;
  std::size_t last_body_end = 0;  // offsets of the last body read: it is the one kept
  std::size_t last_body_size = 0;
  bool has_body = false;

  // FreeSWITCH's line walk: a line ends at the first CR anywhere in the rest of the block,
  // or if there is none at the first LF; then every CR/LF after it is skipped.
  const char* const bstart = block.data();
  const std::size_t bsize = block.size();
  std::size_t next_cr = block.find('\r');
  std::size_t cur = 0;
  bool first = true;
  while (cur < bsize) {
    if (next_cr != std::string_view::npos && next_cr < cur) {
      next_cr = block.find('\r', cur);
    }
    std::size_t line_end = next_cr;
    if (line_end == std::string_view::npos) {
      line_end = block.find('\n', cur);
      if (line_end == std::string_view::npos) {
        line_end = bsize;
      }
    }
    std::size_t following = line_end;
    while (following < bsize && is_line_break(bstart[following])) {
      ++following;
    }
    if (first) {
      first = false;  // the command line itself: it stays in `block`
    } else if (line_end > cur) {
      std::string_view line(bstart + cur, line_end - cur);
      const std::size_t colon = line.find(':');
      if (colon != std::string_view::npos) {
        std::string_view name = line.substr(0, colon);
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') {
          value.remove_prefix(1);
        }
        if (value.empty()) {
          // An empty value is not stored and removes earlier headers of that name.
          std::erase_if(headers, [&](const HeaderView& h) { return iequals(h.name, name); });
        } else {
          headers.push_back({name, value});
          if (iequals(name, "content-length")) {
            const std::int64_t length = c_atoi(value);
            if (length < 0) {
              return fail(errc::bad_content_length);
            }
            if (static_cast<std::uint64_t>(length) > limits_.max_content_length) {
              return fail(errc::content_length_too_large);
            }
            if (length > 0) {
              // Each Content-Length reads its own body; the last one read is kept.
              body_offset += static_cast<std::size_t>(length);
              has_body = true;
              last_body_end = body_offset;
              last_body_size = static_cast<std::size_t>(length);
            }
          }
        }
      }
    }
    cur = following;
  }

  body_needed_ = body_offset - block_end_;
  if (buffer_.size() < body_offset) {
    if (buffered_bytes() > limits_.max_buffered_bytes) {
      return fail(errc::buffer_limit);
    }
    return errc::need_more;
  }

  out.block = block;
  out.headers = std::move(headers);
  out.has_body = has_body;
  out.body = has_body ? view_of(buffer_, last_body_end - last_body_size, last_body_end)
                      : std::string_view{};
  consumed_ = body_offset;
  reset_message_state();
  return {};
}

std::error_code Parser::finish_packet(MessageView& out) {
  const std::size_t begin = consumed_;
  const std::string_view block = view_of(buffer_, begin, block_end_);
  if (body_needed_ != kUnknown && buffer_.size() - block_end_ < body_needed_) {
    return buffered_bytes() > limits_.max_buffered_bytes ? fail(errc::buffer_limit)
                                                         : std::error_code(errc::need_more);
  }

  std::vector<HeaderView> headers;
  std::size_t cur = 0;
  std::int64_t length = -1;
  while (cur < block.size()) {
    std::size_t lf = block.find('\n', cur);
    if (lf == std::string_view::npos) {
      lf = block.size();
    }
    std::string_view line = block.substr(cur, lf - cur);
    cur = lf + 1;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    const std::size_t colon = line.find(':');
    if (line.empty() || colon == std::string_view::npos) {
      continue;
    }
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') {
      value.remove_prefix(1);
    }
    headers.push_back({line.substr(0, colon), value});
    if (length < 0 && iequals(headers.back().name, "content-length")) {
      length = c_atoi(value);
      if (length < 0) {
        return fail(errc::bad_content_length);
      }
      if (static_cast<std::uint64_t>(length) > limits_.max_content_length) {
        return fail(errc::content_length_too_large);
      }
    }
  }
  const std::size_t body_len = length > 0 ? static_cast<std::size_t>(length) : 0;
  body_needed_ = body_len;
  if (buffer_.size() - block_end_ < body_len) {
    if (buffered_bytes() > limits_.max_buffered_bytes) {
      return fail(errc::buffer_limit);
    }
    return errc::need_more;
  }
  out.block = block;
  out.headers = std::move(headers);
  out.has_body = body_len > 0;
  out.body = view_of(buffer_, block_end_, block_end_ + body_len);
  consumed_ = block_end_ + body_len;
  reset_message_state();
  return {};
}

void Parser::reset_message_state() {
  block_done_ = false;
  block_end_ = 0;
  body_needed_ = kUnknown;
  header_lines_ = 0;
  line_feeds_ = 0;
  scan_ = line_start_ = consumed_;
}

}  // namespace eventsocket::wire
