#include "eventsocket/core/uuid.hpp"

#include <cstdint>
#include <random>

namespace eventsocket::core {

std::string make_uuid() {
  // One generator per thread, seeded from the OS: UUIDs are made on many threads.
  thread_local std::mt19937_64 generator{std::random_device{}()};
  std::uint64_t hi = generator();
  std::uint64_t lo = generator();
  hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  int pos = 0;
  auto put = [&](std::uint64_t value, int nibbles) {
    for (int i = nibbles - 1; i >= 0; --i) {
      if (pos == 8 || pos == 13 || pos == 18 || pos == 23) {
        ++pos;
      }
      out[static_cast<std::size_t>(pos++)] = kHex[(value >> (i * 4)) & 0xF];
    }
  };
  put(hi, 16);
  put(lo, 16);
  return out;
}

}  // namespace eventsocket::core
