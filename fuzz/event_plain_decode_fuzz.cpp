// libFuzzer target: event::decode_plain, then re-encoding. See event_decode_fuzz.hpp.
#include <cstddef>
#include <cstdint>

#include "event_decode_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return eventsocket::fuzz::fuzz_event_decode(eventsocket::wire::EventFormat::plain, data, size);
}
