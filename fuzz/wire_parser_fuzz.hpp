#pragma once

// Shared body of the two wire::Parser fuzz targets.
//
// Input layout: byte 0 chooses how the rest is sliced into feed() calls (0: one feed; n > 0:
// pseudo-random slices of 1..n bytes drawn from a generator seeded with n, so 1 feeds byte by
// byte), byte 1 chooses one of four Limits profiles, the remaining bytes are the stream.
//
// The stream is parsed twice: sliced as byte 0 says, and in one feed. Every message either
// run returns is checked against an independent model of the framing rules documented in
// parser.hpp (block end, header split, Content-Length bodies) and against the stream bytes
// themselves; the two runs must agree. A broken invariant traps.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "eventsocket/wire/errc.hpp"
#include "eventsocket/wire/limits.hpp"
#include "eventsocket/wire/message.hpp"
#include "eventsocket/wire/parser.hpp"
#include "fuzz_check.hpp"

// The CRs between the two LFs that end a header block count against max_line_bytes and
// max_header_block_bytes (a run of them once slipped past both when the terminator arrived
// in one feed). -DEVENTSOCKET_FUZZ_STRICT_TERMINATOR=0 checks only up to the first LF.
#ifndef EVENTSOCKET_FUZZ_STRICT_TERMINATOR
#define EVENTSOCKET_FUZZ_STRICT_TERMINATOR 1
#endif

namespace eventsocket::fuzz {

using wire::Direction;
using wire::errc;
using wire::Limits;
using wire::Message;
using wire::MessageView;
using wire::Parser;

// Small limits, so that inputs of at most 64 KiB reach every limit path.
inline Limits limits_profile(std::uint8_t selector) {
  Limits l;
  switch (selector & 3u) {
    case 0:  // the suggested "small" profile: line and count limits reachable
      l.max_line_bytes = 4096;
      l.max_header_count = 10000;
      l.max_header_block_bytes = 65536;
      l.max_content_length = 65536;
      l.max_buffered_bytes = 262144;
      break;
    case 1:  // every limit reachable with a 64 KiB input
      l.max_line_bytes = 4096;
      l.max_header_count = 512;
      l.max_header_block_bytes = 16384;
      l.max_content_length = 32768;
      l.max_buffered_bytes = 16384 + 32768;
      break;
    case 2:  // tiny
      l.max_line_bytes = 128;
      l.max_header_count = 16;
      l.max_header_block_bytes = 512;
      l.max_content_length = 1024;
      l.max_buffered_bytes = 512 + 1024;
      break;
    default:  // buffer smaller than block + body: buffer_limit on ordinary messages
      l.max_line_bytes = 256;
      l.max_header_count = 64;
      l.max_header_block_bytes = 4096;
      l.max_content_length = 4096;
      l.max_buffered_bytes = 2048;
      break;
  }
  return l;
}

inline bool is_line_break(char c) {
  return c == '\r' || c == '\n';
}

inline char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

// Independent of wire::iequals, which is part of what is under test.
inline bool same_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

// C's atoi() semantics without its overflow UB (strtoll saturates).
inline long long c_atoi(std::string_view value) {
  const std::string copy(value);
  return std::strtoll(copy.c_str(), nullptr, 10);
}

inline std::string_view strip_leading_spaces(std::string_view v) {
  while (!v.empty() && v.front() == ' ') {
    v.remove_prefix(1);
  }
  return v;
}

// What the model expects of one message, given its header block.
struct Expected {
  std::vector<wire::HeaderView> headers;
  std::size_t bodies_total = 0;  // bytes after the block that belong to this message
  std::size_t kept_body = 0;     // size of the body handed out (the last one read)
  bool has_body = false;
  bool rejected = false;  // a Content-Length the parser must refuse
};

inline void model_content_length(std::string_view value, const Limits& limits, Expected& exp,
                                 bool accumulate) {
  const long long length = c_atoi(value);
  if (length < 0 || static_cast<unsigned long long>(length) > limits.max_content_length) {
    exp.rejected = true;
    return;
  }
  if (length > 0) {
    const auto n = static_cast<std::size_t>(length);
    exp.bodies_total = accumulate ? exp.bodies_total + n : n;
    exp.kept_body = n;
    exp.has_body = true;
  }
}

// Server packets, as libesl reads them: LF lines (one trailing CR dropped), lines without a
// colon ignored, the first Content-Length header gives the one body.
inline Expected model_packet(std::string_view block, const Limits& limits) {
  Expected exp;
  bool seen_length = false;
  std::size_t cur = 0;
  while (cur < block.size() && !exp.rejected) {
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
    if (colon == std::string_view::npos) {
      continue;
    }
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = strip_leading_spaces(line.substr(colon + 1));
    exp.headers.push_back({name, value});
    if (!seen_length && same_name(name, "content-length")) {
      seen_length = true;
      model_content_length(value, limits, exp, false);
    }
  }
  return exp;
}

// Client commands, as FreeSWITCH's read_packet splits them: a line ends at the first CR
// anywhere after it, or if there is none at the next LF; the line breaks after it are
// skipped; the first line is the command itself; an empty value deletes earlier headers of
// that name; every positive Content-Length reads one more body and the last one is kept.
inline Expected model_command(std::string_view block, const Limits& limits) {
  Expected exp;
  bool first = true;
  bool no_more_cr = false;
  std::size_t cur = 0;
  while (cur < block.size() && !exp.rejected) {
    std::size_t end = no_more_cr ? std::string_view::npos : block.find('\r', cur);
    if (end == std::string_view::npos) {
      no_more_cr = true;
      end = block.find('\n', cur);
      if (end == std::string_view::npos) {
        end = block.size();
      }
    }
    const std::string_view line = block.substr(cur, end - cur);
    cur = end;
    while (cur < block.size() && is_line_break(block[cur])) {
      ++cur;
    }
    if (first) {
      first = false;
      continue;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      continue;
    }
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = strip_leading_spaces(line.substr(colon + 1));
    if (value.empty()) {
      std::erase_if(exp.headers,
                    [&](const wire::HeaderView& h) { return same_name(h.name, name); });
      continue;
    }
    exp.headers.push_back({name, value});
    if (same_name(name, "content-length")) {
      model_content_length(value, limits, exp, true);
    }
  }
  return exp;
}

inline bool within(std::string_view inner, std::string_view outer) {
  return inner.data() >= outer.data() && inner.data() + inner.size() <= outer.data() + outer.size();
}

// Checks one message returned by next(). `stream` is every byte fed so far, `pos` the
// stream offset where the previous message ended, `end` where this one ends
// (bytes fed - buffered_bytes()). Returns the new `pos`.
inline std::size_t check_message(Direction dir, const Limits& limits, const MessageView& m,
                                 std::string_view stream, std::size_t pos, std::size_t end) {
  FUZZ_CHECK(pos < end && end <= stream.size());

  // Line breaks before a message are skipped; the block is the stream's next bytes.
  std::size_t start = pos;
  while (start < end && is_line_break(stream[start])) {
    ++start;
  }
  const std::string_view block = m.block;
  FUZZ_CHECK(!block.empty() && !is_line_break(block.front()));
  FUZZ_CHECK(block.size() <= end - start);
  FUZZ_CHECK(stream.substr(start, block.size()) == block);

  // The block ends at the second LF of the first run of LFs with only CRs between them.
  std::size_t first_lf_of_end = std::string_view::npos;
  std::size_t block_end = std::string_view::npos;
  std::size_t lines = 0;
  std::size_t line_start = 0;
  for (std::size_t i = block.find('\n'); i != std::string_view::npos; i = block.find('\n', i + 1)) {
    FUZZ_CHECK(i - line_start <= limits.max_line_bytes);
    ++lines;
    line_start = i + 1;
    std::size_t j = i + 1;
    while (j < block.size() && block[j] == '\r') {
      ++j;
    }
    if (j < block.size() && block[j] == '\n') {
      first_lf_of_end = i;
      block_end = j + 1;
      break;
    }
  }
  FUZZ_CHECK(block_end == block.size());
  FUZZ_CHECK(lines <= limits.max_header_count);
  // Limits hold up to the first LF of the terminator; with the strict check, also over the
  // CRs after it (the final LF itself is never counted, as in FreeSWITCH).
  FUZZ_CHECK(first_lf_of_end + 1 <= limits.max_header_block_bytes);
  if (EVENTSOCKET_FUZZ_STRICT_TERMINATOR) {
    FUZZ_CHECK(block.size() - 1 <= limits.max_header_block_bytes);
    FUZZ_CHECK(block.size() - 2 - first_lf_of_end <= limits.max_line_bytes);
  }

  // Headers: the model's split, as views into the block.
  const Expected exp =
      dir == Direction::command ? model_command(block, limits) : model_packet(block, limits);
  FUZZ_CHECK(!exp.rejected);
  FUZZ_CHECK(m.headers.size() == exp.headers.size());
  for (std::size_t i = 0; i < m.headers.size(); ++i) {
    const wire::HeaderView& h = m.headers[i];
    FUZZ_CHECK(within(h.name, block) && within(h.value, block));
    FUZZ_CHECK(h.name == exp.headers[i].name && h.value == exp.headers[i].value);
    FUZZ_CHECK(h.name.data() == exp.headers[i].name.data());
    FUZZ_CHECK(h.name.find(':') == std::string_view::npos);
    FUZZ_CHECK(h.value.empty() || h.value.front() != ' ');
    if (dir == Direction::command) {
      FUZZ_CHECK(!h.value.empty());
      FUZZ_CHECK(h.name.find('\r') == std::string_view::npos);
      FUZZ_CHECK(h.value.find('\r') == std::string_view::npos);
    } else {
      FUZZ_CHECK(h.name.find('\n') == std::string_view::npos);
      FUZZ_CHECK(h.value.find('\n') == std::string_view::npos);
      FUZZ_CHECK(static_cast<std::size_t>(h.value.data() + h.value.size() - h.name.data()) <=
                 limits.max_line_bytes);
    }
  }
  if (dir == Direction::packet) {
    FUZZ_CHECK(m.headers.size() <= limits.max_header_count);
  }

  // Bodies: the bytes after the block, the kept body last.
  const std::size_t after_block = start + block.size();
  FUZZ_CHECK(end - after_block == exp.bodies_total);
  FUZZ_CHECK(m.has_body == exp.has_body);
  FUZZ_CHECK(m.body.size() == exp.kept_body);
  FUZZ_CHECK(m.body.size() <= limits.max_content_length);
  if (m.has_body) {
    FUZZ_CHECK(!m.body.empty());
    FUZZ_CHECK(stream.substr(end - m.body.size(), m.body.size()) == m.body);
    // One message is one contiguous run of the parser's buffer.
    FUZZ_CHECK(m.body.data() + m.body.size() == block.data() + block.size() + exp.bodies_total);
  } else {
    FUZZ_CHECK(m.body.empty());
  }
  if (dir == Direction::packet) {
    FUZZ_CHECK(exp.bodies_total == exp.kept_body);
  }

  // Accessors.
  std::size_t cut = block.find('\r');
  if (cut == std::string_view::npos) {
    cut = block.find('\n');
  }
  FUZZ_CHECK(m.first_line() == block.substr(0, cut));
  const std::size_t probes = std::min<std::size_t>(exp.headers.size(), 4);
  for (std::size_t i = 0; i < probes; ++i) {
    const auto found = m.header(exp.headers[i].name);
    FUZZ_CHECK(found.has_value());
    std::string_view want;
    for (const auto& h : exp.headers) {
      if (same_name(h.name, exp.headers[i].name)) {
        want = h.value;
        break;
      }
    }
    FUZZ_CHECK(*found == want);
  }
  const Message owned = Message::from_view(m);
  FUZZ_CHECK(owned.block == block && owned.body == m.body && owned.has_body == m.has_body);
  FUZZ_CHECK(owned.headers.size() == m.headers.size());
  FUZZ_CHECK(owned.first_line() == m.first_line());
  return end;
}

struct Run {
  std::vector<Message> messages;
  std::error_code error;  // empty when the run ended waiting for more bytes
};

inline bool same_message(const Message& a, const Message& b) {
  return a.block == b.block && a.headers == b.headers && a.body == b.body &&
         a.has_body == b.has_body;
}

inline Run run_parser(Direction dir, const Limits& limits, std::string_view data,
                      std::uint8_t slicing) {
  static constexpr std::string_view kSentinel = "untouched";
  Run run;
  Parser parser(dir, limits);
  std::uint32_t rng = 0x9E3779B9u ^ slicing;
  std::size_t fed = 0;
  std::size_t pos = 0;      // stream offset after the last message
  std::size_t skipped = 0;  // stream bytes up to here checked to be line breaks
  while (fed < data.size()) {
    std::size_t n = data.size() - fed;
    if (slicing != 0) {
      rng = rng * 1664525u + 1013904223u;
      n = std::min<std::size_t>(n, 1 + (rng >> 8) % slicing);
    }
    parser.feed(data.substr(fed, n));
    fed += n;
    for (;;) {
      MessageView out;
      out.block = kSentinel;
      const std::error_code ec = parser.next(out);
      const std::size_t buffered = parser.buffered_bytes();
      FUZZ_CHECK(buffered <= fed);
      if (ec == errc::need_more) {
        FUZZ_CHECK(out.block.data() == kSentinel.data() && out.headers.empty());
        FUZZ_CHECK(buffered <= limits.max_buffered_bytes);
        // Only line breaks between messages may have been dropped.
        FUZZ_CHECK(fed - buffered >= pos);
        for (skipped = std::max(skipped, pos); skipped < fed - buffered; ++skipped) {
          FUZZ_CHECK(is_line_break(data[skipped]));
        }
        break;
      }
      if (ec) {
        FUZZ_CHECK(&ec.category() == &wire::wire_category());
        FUZZ_CHECK(ec.value() > static_cast<int>(errc::need_more) &&
                   ec.value() <= static_cast<int>(errc::buffer_limit));
        FUZZ_CHECK(!ec.message().empty());
        if (ec == errc::buffer_limit) {
          FUZZ_CHECK(buffered > limits.max_buffered_bytes);
        }
        // The parser stays in the error.
        MessageView again;
        FUZZ_CHECK(parser.next(again) == ec);
        parser.feed("x\n\n");
        FUZZ_CHECK(parser.next(again) == ec);
        run.error = ec;
        return run;
      }
      pos = check_message(dir, limits, out, data.substr(0, fed), pos, fed - buffered);
      run.messages.push_back(Message::from_view(out));
    }
  }
  return run;
}

inline int fuzz_parser(Direction dir, const std::uint8_t* bytes, std::size_t size) {
  if (size < 2) {
    return 0;
  }
  const std::uint8_t slicing = bytes[0];
  const Limits limits = limits_profile(bytes[1]);
  const std::string_view data(reinterpret_cast<const char*>(bytes) + 2, size - 2);

  const Run sliced = run_parser(dir, limits, data, slicing);
  const Run whole = slicing == 0 ? sliced : run_parser(dir, limits, data, 0);

  // Messages depend on the bytes only. Where the limits are checked does depend on the
  // slicing, so a run that stopped on an error may have fewer messages, never other ones.
  const std::size_t common = std::min(sliced.messages.size(), whole.messages.size());
  for (std::size_t i = 0; i < common; ++i) {
    FUZZ_CHECK(same_message(sliced.messages[i], whole.messages[i]));
  }
  if (!sliced.error && !whole.error) {
    FUZZ_CHECK(sliced.messages.size() == whole.messages.size());
  }
  if (sliced.messages.size() < whole.messages.size()) {
    FUZZ_CHECK(sliced.error);
  }
  if (whole.messages.size() < sliced.messages.size()) {
    FUZZ_CHECK(whole.error);
  }
  return 0;
}

}  // namespace eventsocket::fuzz
