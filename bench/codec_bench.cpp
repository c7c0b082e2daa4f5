// Codec throughput over a real CHANNEL_CREATE captured from FreeSWITCH (transcript 08).
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "eventsocket/event/codec.hpp"
#include "eventsocket/wire/parser.hpp"

namespace {

using eventsocket::event::Event;
using eventsocket::wire::Direction;
using eventsocket::wire::EventFormat;
using eventsocket::wire::MessageView;
using eventsocket::wire::Parser;

// The first event packet (envelope + plain CHANNEL_CREATE) of the capture's server bytes.
std::string captured_packet() {
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
      return std::string(m.block) + std::string(m.body);
    }
  }
  throw std::runtime_error("no plain event in transcript 08");
}

const std::string& packet() {
  static const std::string p = captured_packet();
  return p;
}

const Event& event() {
  static const Event e = [] {
    Parser parser(Direction::packet);
    parser.feed(packet());
    MessageView m;
    Event decoded;
    if (parser.next(m) || !eventsocket::event::decode_plain(m.body, decoded)) {
      throw std::runtime_error("capture does not decode");
    }
    return decoded;
  }();
  return e;
}

// Framing the packet and decoding its plain body into an Event (URL decoding included).
void BM_ParsePlainEvent(benchmark::State& state) {
  const std::string& bytes = packet();
  Parser parser(Direction::packet);
  for (auto _ : state) {
    parser.feed(bytes);
    MessageView m;
    if (parser.next(m)) {
      state.SkipWithError("parse failed");
      break;
    }
    Event decoded;
    benchmark::DoNotOptimize(eventsocket::event::decode_plain(m.body, decoded));
    benchmark::DoNotOptimize(decoded);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
  state.counters["bytes"] = static_cast<double>(bytes.size());
}
BENCHMARK(BM_ParsePlainEvent);

// Framing only: header block, envelope headers and the body as a view.
void BM_FramePlainEventPacket(benchmark::State& state) {
  const std::string& bytes = packet();
  Parser parser(Direction::packet);
  for (auto _ : state) {
    parser.feed(bytes);
    MessageView m;
    benchmark::DoNotOptimize(parser.next(m));
    benchmark::DoNotOptimize(m.body.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
}
BENCHMARK(BM_FramePlainEventPacket);

template <EventFormat Format>
void BM_Encode(benchmark::State& state) {
  const Event& e = event();
  std::size_t size = 0;
  for (auto _ : state) {
    std::string out;  // a fresh buffer each time, as for every published event
    eventsocket::event::encode(e, Format, out);
    size = out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
  state.counters["bytes"] = static_cast<double>(size);
}

void BM_EncodePlainEvent(benchmark::State& state) {
  BM_Encode<EventFormat::plain>(state);
}
void BM_EncodeJsonEvent(benchmark::State& state) {
  BM_Encode<EventFormat::json>(state);
}
void BM_EncodeXmlEvent(benchmark::State& state) {
  BM_Encode<EventFormat::xml>(state);
}
BENCHMARK(BM_EncodePlainEvent);
BENCHMARK(BM_EncodeJsonEvent);
BENCHMARK(BM_EncodeXmlEvent);

void BM_DecodeJsonEvent(benchmark::State& state) {
  std::string json;
  eventsocket::event::encode_json(event(), json);
  for (auto _ : state) {
    Event decoded;
    benchmark::DoNotOptimize(eventsocket::event::decode_json(json, decoded));
    benchmark::DoNotOptimize(decoded);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * json.size()));
  state.counters["bytes"] = static_cast<double>(json.size());
}
BENCHMARK(BM_DecodeJsonEvent);

void BM_DecodeXmlEvent(benchmark::State& state) {
  std::string xml;
  eventsocket::event::encode_xml(event(), xml);
  for (auto _ : state) {
    Event decoded;
    benchmark::DoNotOptimize(eventsocket::event::decode_xml(xml, decoded));
    benchmark::DoNotOptimize(decoded);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * xml.size()));
}
BENCHMARK(BM_DecodeXmlEvent);

// A pipelined stream of small commands, as an api-heavy client sends them.
void BM_ParseCommands(benchmark::State& state) {
  std::string stream;
  for (int i = 0; i < 100; ++i) {
    stream += "api status\n\nbgapi originate loopback/9196 &park\nJob-UUID: 1234\n\n";
  }
  Parser parser(Direction::command);
  for (auto _ : state) {
    parser.feed(stream);
    MessageView m;
    while (!parser.next(m)) {
      benchmark::DoNotOptimize(m.block.data());
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * 200));
}
BENCHMARK(BM_ParseCommands);

}  // namespace

BENCHMARK_MAIN();
