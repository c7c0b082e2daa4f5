// libFuzzer target: wire::Parser reading server packets. See wire_parser_fuzz.hpp.
#include <cstddef>
#include <cstdint>

#include "wire_parser_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return eventsocket::fuzz::fuzz_parser(eventsocket::wire::Direction::packet, data, size);
}
