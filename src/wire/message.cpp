#include "eventsocket/wire/message.hpp"

namespace eventsocket::wire {
namespace {

inline char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) {
      return false;
    }
  }
  return true;
}

bool istarts_with(std::string_view text, std::string_view prefix) noexcept {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

std::string_view strip_at_line_break(std::string_view text) noexcept {
  std::size_t cut = text.find('\r');
  if (cut == std::string_view::npos) {
    cut = text.find('\n');
  }
  return cut == std::string_view::npos ? text : text.substr(0, cut);
}

std::string_view MessageView::first_line() const {
  return strip_at_line_break(block);
}

std::optional<std::string_view> MessageView::header(std::string_view name) const {
  for (const auto& h : headers) {
    if (iequals(h.name, name)) {
      return h.value;
    }
  }
  return std::nullopt;
}

Message Message::from_view(const MessageView& view) {
  Message m;
  m.block.assign(view.block);
  m.headers.reserve(view.headers.size());
  for (const auto& h : view.headers) {
    m.headers.emplace_back(std::string(h.name), std::string(h.value));
  }
  m.body.assign(view.body);
  m.has_body = view.has_body;
  return m;
}

std::string_view Message::first_line() const {
  return strip_at_line_break(block);
}

std::optional<std::string_view> Message::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (iequals(n, name)) {
      return std::string_view(v);
    }
  }
  return std::nullopt;
}

}  // namespace eventsocket::wire
