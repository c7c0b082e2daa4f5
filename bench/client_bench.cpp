// Client-side decoding: what client::Protocol does with the bytes of a busy event stream
// (framing, decoding into Events, queueing), over a real CHANNEL_CREATE captured from
// FreeSWITCH (transcript 08) in plain and in json. Fed in 64 KiB reads, as the socket does.
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "eventsocket/client/protocol.hpp"
#include "eventsocket/event/codec.hpp"
#include "eventsocket/wire/parser.hpp"

namespace {

using eventsocket::client::Protocol;
using eventsocket::event::Event;
using eventsocket::wire::Direction;
using eventsocket::wire::MessageView;
using eventsocket::wire::Parser;

// The plain body of the capture's first text/event-plain packet.
std::string captured_plain_body() {
  std::ifstream in(std::string(EVENTSOCKET_BENCH_DATA_DIR) +
                       "/conformance/08_event_plain_channel_create.s2c.txt",
                   std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  Parser parser(Direction::packet);
  parser.feed(text.str());
  MessageView m;
  while (!parser.next(m)) {
    if (m.header("Content-Type") == "text/event-plain") {
      return std::string(m.body);
    }
  }
  throw std::runtime_error("no plain event in transcript 08");
}

std::string envelope(std::string_view content_type, std::string_view body) {
  return "Content-Length: " + std::to_string(body.size()) +
         "\nContent-Type: " + std::string(content_type) + "\n\n" + std::string(body);
}

// 256 events back to back, as a subscriber's socket receives them.
std::string stream_of(bool json) {
  const std::string plain = captured_plain_body();
  std::string packet = envelope("text/event-plain", plain);
  if (json) {
    Event e;
    if (!eventsocket::event::decode_plain(plain, e)) {
      throw std::runtime_error("capture does not decode");
    }
    std::string text;
    eventsocket::event::encode_json(e, text);
    packet = envelope("text/event-json", text);
  }
  std::string out;
  for (int i = 0; i < 256; ++i) {
    out += packet;
  }
  return out;
}

void decode_stream(benchmark::State& state, const std::string& stream) {
  constexpr std::size_t kRead = 64 * 1024;
  Protocol protocol(1'000'000);
  std::size_t events = 0;
  for (auto _ : state) {
    for (std::size_t at = 0; at < stream.size(); at += kRead) {
      if (protocol.feed(std::string_view(stream).substr(at, kRead))) {
        state.SkipWithError("stream did not parse");
        return;
      }
    }
    events += protocol.events().size();
    benchmark::DoNotOptimize(protocol.events().back());
    protocol.events().clear();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(events));
  state.counters["event_bytes"] = static_cast<double>(stream.size()) / 256.0;
}

void BM_ClientDecodePlainEvents(benchmark::State& state) {
  static const std::string stream = stream_of(false);
  decode_stream(state, stream);
}
BENCHMARK(BM_ClientDecodePlainEvents);

void BM_ClientDecodeJsonEvents(benchmark::State& state) {
  static const std::string stream = stream_of(true);
  decode_stream(state, stream);
}
BENCHMARK(BM_ClientDecodeJsonEvents);

}  // namespace

BENCHMARK_MAIN();
