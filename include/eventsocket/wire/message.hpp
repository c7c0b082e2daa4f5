#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eventsocket::wire {

struct HeaderView {
  std::string_view name;
  std::string_view value;
};

// One framed message: a client command or a server packet. Every view points into the
// parser's buffer and stays valid until the next call to Parser::feed() or Parser::next().
struct MessageView {
  // The whole header block as received, line breaks included. For a client command this is
  // what FreeSWITCH stores as the `Command` header: handlers test prefixes on it.
  std::string_view block;
  // Header lines after the first (commands) or all header lines (server packets), in
  // order, duplicates kept.
  std::vector<HeaderView> headers;
  // The body (Content-Length bytes), empty when there was none.
  std::string_view body;
  bool has_body = false;

  // For commands: the block cut at its first CR, or if none its first LF (FreeSWITCH's
  // strip_cr). For server packets: the first header line.
  std::string_view first_line() const;
  // First header with this name, compared case-insensitively (as libesl and FreeSWITCH do).
  std::optional<std::string_view> header(std::string_view name) const;
};

// An owning copy, for callers that keep a message past the next feed().
struct Message {
  std::string block;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool has_body = false;

  static Message from_view(const MessageView& view);
  std::string_view first_line() const;
  std::optional<std::string_view> header(std::string_view name) const;
};

// ASCII case-insensitive equality, the comparison used for header names everywhere.
bool iequals(std::string_view a, std::string_view b) noexcept;
// ASCII case-insensitive prefix test.
bool istarts_with(std::string_view text, std::string_view prefix) noexcept;
// FreeSWITCH's strip_cr: cut at the first CR, or if there is none at the first LF.
std::string_view strip_at_line_break(std::string_view text) noexcept;

}  // namespace eventsocket::wire
