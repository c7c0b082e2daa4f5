// libFuzzer target: the dial string and originate argument parsers (core/dial_string.hpp)
// and the socket application's arguments (core/socket_application.hpp).
// Every result must be consistent: a parsed dial string has groups of targets with an
// endpoint; a failure says why.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "eventsocket/core/dial_string.hpp"
#include "eventsocket/core/socket_application.hpp"
#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  using namespace eventsocket::core;
  const DialStringResult dial = parse_dial_string(text);
  if (dial.value) {
    for (const auto& group : dial.value->groups) {
      FUZZ_CHECK(!group.empty());
      for (const DialTarget& target : group) {
        FUZZ_CHECK(!target.endpoint.empty());
      }
    }
  } else {
    FUZZ_CHECK(!dial.error.empty());
  }
  const OriginateArgsResult args = parse_originate_args(text);
  if (args.value) {
    FUZZ_CHECK(!args.value->dial_string.empty());
    FUZZ_CHECK(args.value->application.empty() || args.value->extension.empty());
  } else {
    FUZZ_CHECK(!args.error.empty());
  }
  if (const auto socket = parse_socket_args(text)) {
    FUZZ_CHECK(!socket->targets.empty());
    for (const SocketTarget& target : socket->targets) {
      FUZZ_CHECK(!target.host.empty());
    }
  }
  for (char separator : {' ', ',', '|'}) {
    (void)split_api_args(text, separator);
  }
  return 0;
}
