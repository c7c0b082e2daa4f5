#include "eventsocket/acl/switch_true.hpp"

#include <array>

namespace eventsocket::acl {
namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') {
      x = static_cast<char>(x - 'A' + 'a');
    }
    if (y >= 'A' && y <= 'Z') {
      y = static_cast<char>(y - 'A' + 'a');
    }
    if (x != y) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool parse_switch_bool(std::string_view text) noexcept {
  static constexpr std::array<std::string_view, 7> kTrueWords = {"yes",     "on",     "true", "t",
                                                                 "enabled", "active", "allow"};
  for (std::string_view word : kTrueWords) {
    if (iequals(text, word)) {
      return true;
    }
  }
  // switch_is_number(): one optional sign, then nothing but digits and dots.
  std::string_view digits = text;
  if (!digits.empty() && (digits.front() == '-' || digits.front() == '+')) {
    digits.remove_prefix(1);
  }
  for (char c : digits) {
    if (c != '.' && (c < '0' || c > '9')) {
      return false;
    }
  }
  // atoi() stops at the first dot: the value is non-zero iff that leading run has a non-zero
  // digit (the sign cannot make a non-zero value zero).
  for (char c : digits) {
    if (c == '.') {
      break;
    }
    if (c != '0') {
      return true;
    }
  }
  return false;
}

}  // namespace eventsocket::acl
