#include "eventsocket/wire/url.hpp"

#include <array>
#include <cstring>

namespace eventsocket::wire {
namespace {

constexpr std::array<bool, 256> make_escape_table() {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) {
    table[c] = c < 0x20 || c > 0x7E;
  }
  for (char c : std::string_view(" #%&+:;<=>?@[\\]^`{|}\"")) {
    table[static_cast<unsigned char>(c)] = true;
  }
  return table;
}

constexpr std::array<bool, 256> kEscape = make_escape_table();
constexpr char kUpperHex[] = "0123456789ABCDEF";

inline bool is_upper_hex(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

inline int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

inline bool escape_at(std::string_view value, std::size_t i) noexcept {
  const unsigned char c = static_cast<unsigned char>(value[i]);
  if (!kEscape[c]) {
    return false;
  }
  // A `%XX` that is already encoded (uppercase hex only) passes through.
  return !(c == '%' && i + 2 < value.size() && is_upper_hex(value[i + 1]) &&
           is_upper_hex(value[i + 2]));
}

}  // namespace

void url_encode_append(std::string& out, std::string_view value) {
  const char* data = value.data();
  const std::size_t size = value.size();
  std::size_t run = 0;
  for (std::size_t i = 0; i < size; ++i) {
    if (!escape_at(value, i)) {
      continue;
    }
    out.append(data + run, i - run);
    const unsigned char c = static_cast<unsigned char>(data[i]);
    const char escaped[3] = {'%', kUpperHex[c >> 4], kUpperHex[c & 0xF]};
    out.append(escaped, 3);
    run = i + 1;
  }
  out.append(data + run, size - run);
}

std::string url_encode(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  url_encode_append(out, value);
  return out;
}

bool url_encoding_is_identity(std::string_view value) noexcept {
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (escape_at(value, i)) {
      return false;
    }
  }
  return true;
}

void url_decode_append(std::string& out, std::string_view value) {
  std::size_t run = 0;
  std::size_t pos = value.find('%');
  while (pos != std::string_view::npos) {
    if (pos + 2 < value.size()) {
      const int hi = hex_value(value[pos + 1]);
      const int lo = hex_value(value[pos + 2]);
      if (hi >= 0 && lo >= 0) {
        out.append(value.data() + run, pos - run);
        out.push_back(static_cast<char>((hi << 4) | lo));
        run = pos + 3;
        pos = value.find('%', run);
        continue;
      }
    }
    pos = value.find('%', pos + 1);
  }
  out.append(value.data() + run, value.size() - run);
}

std::string url_decode(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  url_decode_append(out, value);
  return out;
}

}  // namespace eventsocket::wire
