// libFuzzer target: the XML dialplan (dialplan/dialplan.hpp): load a document, then route a
// few destinations through every context it might have. Loading may fail; routing must not
// crash or hang whatever the expressions are.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "eventsocket/dialplan/dialplan.hpp"
#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view xml(reinterpret_cast<const char*>(data), size);
  std::string error;
  auto plan = eventsocket::dialplan::Dialplan::load_string(xml, error);
  if (!plan) {
    FUZZ_CHECK(!error.empty());
    return 0;
  }
  std::string destination = "9196";
  eventsocket::dialplan::Channel channel;
  channel.field = [&](std::string_view name) -> std::optional<std::string> {
    if (name == "destination_number")
      return destination;
    if (name == "caller_id_number")
      return std::string("1000");
    return std::nullopt;
  };
  channel.expand = [](std::string_view text) { return std::string(text); };
  int inline_runs = 0;
  channel.run_inline = [&](const eventsocket::dialplan::Action&) { ++inline_runs; };
  // Two contexts; a number, a word and the empty destination. A route cut at the action
  // bound ends the input: sixteen routes of 10,000 actions each made the long run ~170 inputs/s.
  for (const char* context : {"default", "public"}) {
    for (const char* dest : {"9196", "park", ""}) {
      destination = dest;
      const auto result = plan->route(context, channel);
      FUZZ_CHECK(result.found || result.actions.empty());
      FUZZ_CHECK(result.actions.size() <= eventsocket::dialplan::kMaxActionsPerRoute);
      if (result.truncated) {
        return 0;
      }
    }
  }
  return 0;
}
