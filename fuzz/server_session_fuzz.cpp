// A whole Event Socket session, sans I/O, inbound or outbound: arbitrary client bytes go in,
// in slices, and every command runs against a real switch core. Nothing may crash, hang or break
// the output framing: what comes out must always parse as a stream of server packets.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "eventsocket/core/switch.hpp"
#include "eventsocket/server/session.hpp"
#include "eventsocket/wire/parser.hpp"
#include "fuzz_check.hpp"

namespace {

using eventsocket::core::ApiResult;
using eventsocket::core::Switch;
using eventsocket::core::SwitchOptions;
using eventsocket::server::Session;
using eventsocket::server::SessionOptions;

SwitchOptions switch_options() {
  SwitchOptions options;
  options.hostname = "fuzzhost";
  options.heartbeat_interval = std::chrono::milliseconds(0);
  options.api_threads = 1;
  options.max_sessions = 8;  // whatever the fuzzer finds, a handful of channels at most
  return options;
}

// A new switch every kInputsPerSwitch inputs: what inputs leave behind (CUSTOM subclasses,
// global variables, channels of a `bgapi originate`) would otherwise slow down every later
// input and change what it does. Not one per input: a switch's threads cost ~5 ms to start
// and stop under ASan. The destructor cuts short any `bgapi msleep` still running.
constexpr int kInputsPerSwitch = 1000;

Switch& current_switch() {
  static std::unique_ptr<Switch> sw;
  static int inputs = 0;
  if (!sw || ++inputs == kInputsPerSwitch) {
    sw.reset();
    sw = std::make_unique<Switch>(switch_options());
    sw->logger().set_console_level(eventsocket::core::LogLevel::disable);
    inputs = 0;
  }
  return *sw;
}

// Commands that would sleep or spawn background work are answered without running them:
// the fuzzer explores the protocol, not the clock.
ApiResult run_api(Switch& sw, const Session::PendingApi& api) {
  if (api.command == "msleep" || api.command == "bgapi" || api.command == "originate" ||
      api.command.starts_with("sched_")) {
    return {true, "+OK"};
  }
  return sw.execute_api(api.command, api.args);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Switch& sw = current_switch();
  SessionOptions options;
  options.max_queued_items = 64;
  Session session(sw, options, "127.0.0.1");
  // The first byte also picks the mode: inbound, or an outbound session (static or async,
  // single-channel or full) bound to a channel that exists only in the registry.
  const bool outbound = size > 0 && (data[0] & 0x80) != 0;
  eventsocket::core::ChannelPtr channel;
  if (outbound) {
    eventsocket::core::ChannelData channel_data;
    channel_data.uuid = "f0220000-0000-4000-8000-000000000001";
    channel = sw.channels().add(channel_data);
    session.start_outbound(channel_data.uuid, (data[0] & 0x40) != 0, (data[0] & 0x20) != 0);
  } else {
    session.start_inbound();
  }

  eventsocket::wire::Parser output(eventsocket::wire::Direction::packet);
  Session::OutputBatch batch;
  auto drain = [&] {
    while (session.take_output(batch, 64 * 1024)) {
      for (std::string_view b : batch.buffers) {
        output.feed(b);
      }
      const bool done = batch.close_after;
      batch.clear();
      if (done) {
        break;
      }
    }
    eventsocket::wire::MessageView m;
    std::error_code ec;
    while (!(ec = output.next(m))) {
    }
    FUZZ_CHECK(ec == eventsocket::wire::errc::need_more);  // well-framed output
  };

  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (outbound) {
    input.remove_prefix(1);  // the mode byte
  }
  const std::size_t slice = size == 0 ? 1 : 1 + data[0] % 64;
  for (std::size_t pos = 0; pos < input.size(); pos += slice) {
    session.feed(input.substr(pos, slice));
    for (int guard = 0; guard < 10000; ++guard) {
      Session::Step step = session.step();
      if (step.kind == Session::Step::Kind::run_api) {
        session.complete_api(step.api, run_api(sw, step.api));
        continue;
      }
      if (step.kind == Session::Step::Kind::run_inline) {
        session.complete_inline();  // no socket application runs the channel here
        continue;
      }
      break;
    }
    drain();
    if (session.state() == Session::State::closing) {
      break;
    }
  }
  session.on_peer_closed();
  drain();
  session.on_closed();
  session.leave_bus();
  if (channel) {
    sw.channels().remove(channel->uuid());
  }
  return 0;
}
