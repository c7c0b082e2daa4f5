// libFuzzer target: client::Protocol, the client's state machine, reading whatever a server
// (or something pretending to be one) sends. The first bytes choose the queue bound, the
// read size and what is awaited; the rest is the server's stream. Checks: no crash, every
// completion answers something awaited (once), the event queue stays within its bound, and
// the same stream read in one piece or in chunks gives the same results.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "eventsocket/client/protocol.hpp"
#include "fuzz_check.hpp"

namespace {

struct Outcome {
  std::size_t replies = 0, jobs = 0, executions = 0, events = 0, logs = 0;
  bool failed = false;
  std::string goodbye;
};

Outcome run(std::string_view stream, std::size_t bound, std::size_t chunk, unsigned expected) {
  using eventsocket::client::Protocol;
  Protocol p(bound);
  std::set<Protocol::Token> awaited;
  for (unsigned i = 0; i < expected; ++i) {
    awaited.insert(p.expect_reply());
  }
  awaited.insert(p.expect_job("7f4db78a-0000-4000-8000-000000000001"));
  awaited.insert(p.expect_execution("app-1"));
  if (expected > 2) {
    p.abandon(*awaited.begin());  // a deadline passed: its reply must vanish, not misroute
    awaited.erase(awaited.begin());
  }
  Outcome out;
  std::size_t max_events = 0;
  for (std::size_t at = 0; at < stream.size() && !out.failed; at += chunk) {
    out.failed = static_cast<bool>(p.feed(stream.substr(at, chunk)));
    for (const auto& c : p.take_completions()) {
      FUZZ_CHECK(awaited.erase(c.token) == 1);
      FUZZ_CHECK(c.reply.has_value() + c.job.has_value() + c.executed.has_value() == 1);
      out.replies += c.reply.has_value();
      out.jobs += c.job.has_value();
      out.executions += c.executed.has_value();
    }
    max_events = std::max(max_events, p.events().size());
  }
  FUZZ_CHECK(max_events <= bound);
  out.events = p.events().size();
  out.logs = p.logs().size();
  out.goodbye = p.goodbye();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) {
    return 0;
  }
  const std::size_t bound = 1 + data[0] % 16;
  const std::size_t chunk = 1 + data[1] % 64;
  const unsigned expected = data[2] % 8;
  const std::string_view stream(reinterpret_cast<const char*>(data) + 3, size - 3);
  const Outcome whole = run(stream, bound, stream.size() + 1, expected);
  const Outcome pieces = run(stream, bound, chunk, expected);
  // Read boundaries must not change what the stream means (up to the first framing error,
  // which may be found at a different point only in what it cut short).
  if (!whole.failed && !pieces.failed) {
    FUZZ_CHECK(whole.replies == pieces.replies && whole.jobs == pieces.jobs &&
               whole.executions == pieces.executions && whole.events == pieces.events &&
               whole.logs == pieces.logs && whole.goodbye == pieces.goodbye);
  }
  return 0;
}
