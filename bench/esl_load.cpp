// esl_load: a load generator for an Event Socket server (eventsocketd or FreeSWITCH).
//
//   esl_load api    --port P [--clients N] [--requests M] [--command "api echo hi"]
//       N connections, each sends M commands one after another (waiting for each reply);
//       reports replies per second and latency percentiles.
//   esl_load events --port P [--subscribers N] [--events M]
//       N connections subscribe to `event plain CUSTOM esl_load::tick`; one publisher
//       pipelines M `sendevent CUSTOM` commands; reports events delivered per second
//       (all subscribers together) and how long the last subscriber took.
//   esl_load calls  --port P [--calls N] [--command "api originate null/x &hangup()"]
//                   [--subscribers S] [--drain-timeout SECONDS] [--by-name]
//       S connections subscribe to `event plain ALL` and count every event; one control
//       connection sends the command N times one after another (waiting for each reply,
//       counting +OK and -ERR). Each subscriber must see CHANNEL_CREATE, HANGUP_COMPLETE and
//       DESTROY of every channel named by a `+OK <uuid>` reply (other channels on the switch
//       are reported, not counted; replies naming no channel fall back to counts of N).
//       Reports calls/s (N over first send to last reply), reply latency, events per
//       subscriber and per call, and the drain: how long after the last reply every
//       subscriber has all those CHANNEL_DESTROY events. Exits non-zero on any -ERR or when
//       events are missing at the deadline.
//   esl_load outbound --port P [--calls N] [--hold-ms MS] [--rounds R] [--server-pid PID]
//       The tool listens as the program of the `socket` application; N calls are originated
//       at once and each outbound session runs connect, myevents, linger, answer, playback
//       (MS of silence, so the calls overlap), hangup (outbound_load.cpp). Reports the
//       sessions completed and, with --server-pid, the server's threads, fds and RSS before,
//       at the peak and after each round.
//
// Loopback only: the host is always 127.0.0.1. Every run is bounded in count and time.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "calls_load.hpp"
#include "load_client.hpp"
#include "outbound_load.hpp"

namespace {

using eslbench::Client;
using eslbench::Clock;
using eslbench::MessageView;

const std::string kHost = "127.0.0.1";

constexpr auto kDeadline = std::chrono::seconds(120);  // no run may take longer

int run_api(int port, const std::string& password, int clients, int requests,
            const std::string& command) {
  const auto deadline = Clock::now() + kDeadline;
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(clients));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      Client client(kHost, port);
      if (!client.ok() || !client.auth(password, deadline)) {
        ++failures;
        return;
      }
      auto& mine = latencies[static_cast<std::size_t>(c)];
      mine.reserve(static_cast<std::size_t>(requests));
      const std::string wire = command + "\n\n";
      for (int i = 0; i < requests; ++i) {
        const auto t0 = Clock::now();
        client.send(wire);
        if (!client.read([](const MessageView&) { return false; }, deadline)) {
          ++failures;
          return;
        }
        mine.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& l : latencies) {
    all.insert(all.end(), l.begin(), l.end());
  }
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    return all.empty() ? 0.0
                       : all[std::min(all.size() - 1, static_cast<std::size_t>(p * all.size()))];
  };
  std::printf(
      "api: %d clients x %d \"%s\": %zu replies in %.2f s = %.0f replies/s; latency us p50 %.0f "
      "p99 %.0f max %.0f; failures %d\n",
      clients, requests, command.c_str(), all.size(), seconds, all.size() / seconds, pct(0.50),
      pct(0.99), all.empty() ? 0.0 : all.back(), failures.load());
  return failures.load() == 0 ? 0 : 1;
}

int run_events(int port, const std::string& password, int subscribers, int events) {
  const auto deadline = Clock::now() + kDeadline;
  std::vector<std::unique_ptr<Client>> subs;
  for (int i = 0; i < subscribers; ++i) {
    auto c = std::make_unique<Client>(kHost, port);
    if (!c->ok() || !c->auth(password, deadline)) {
      std::fprintf(stderr, "esl_load: subscriber %d could not connect/authenticate\n", i);
      return 1;
    }
    c->send("event plain CUSTOM esl_load::tick\n\n");
    c->read([](const MessageView&) { return false; }, deadline);
    subs.push_back(std::move(c));
  }
  Client publisher(kHost, port);
  if (!publisher.ok() || !publisher.auth(password, deadline)) {
    std::fprintf(stderr, "esl_load: publisher could not connect/authenticate\n");
    return 1;
  }
  std::atomic<long> delivered{0};
  std::vector<double> finish(static_cast<std::size_t>(subscribers), 0.0);
  const auto start = Clock::now();
  std::vector<std::thread> readers;
  for (int i = 0; i < subscribers; ++i) {
    readers.emplace_back([&, i] {
      int got = 0;
      subs[static_cast<std::size_t>(i)]->read(
          [&](const MessageView& m) {
            if (m.header("Content-Type") == "text/event-plain") {
              ++got;
              ++delivered;
            }
            return got < events;
          },
          deadline);
      finish[static_cast<std::size_t>(i)] =
          std::chrono::duration<double>(Clock::now() - start).count();
    });
  }
  std::thread replies([&] {
    int got = 0;
    publisher.read([&](const MessageView&) { return ++got < events; }, deadline);
  });
  const std::string one =
      "sendevent CUSTOM\nEvent-Subclass: esl_load::tick\nX-Load: a value with spaces & symbols\n\n";
  std::string batch;
  for (int i = 0; i < events; ++i) {
    batch += one;
    if (batch.size() > 64 * 1024 || i + 1 == events) {
      publisher.send(batch);
      batch.clear();
    }
  }
  replies.join();
  for (auto& t : readers) {
    t.join();
  }
  const double seconds = *std::max_element(finish.begin(), finish.end());
  std::printf(
      "events: %d subscribers x %d events: %ld delivered in %.2f s = %.0f events/s delivered (%.0f "
      "published/s)\n",
      subscribers, events, delivered.load(), seconds, delivered.load() / seconds, events / seconds);
  return delivered.load() == static_cast<long>(subscribers) * events ? 0 : 1;
}

// esl_load's report of a calls run (several lines, as recorded in docs/PERFORMANCE.md).
int report_calls(const eslbench::CallsOptions& options, const eslbench::CallsResult& r) {
  if (!r.setup_error.empty()) {
    std::fprintf(stderr, "esl_load: %s\n", r.setup_error.c_str());
    return 1;
  }
  const int calls = options.calls;
  std::printf("calls: %d x \"%s\", %d subscriber(s) on `event plain ALL`\n", calls,
              options.command.c_str(), options.subscribers);
  std::printf(
      "  replies: %d (+OK %d, -ERR %d, other %d) in %.3f s = %.0f calls/s; latency us p50 %.0f "
      "p99 %.0f max %.0f\n",
      r.replies, r.ok_replies, r.err_replies, r.other_replies, r.send_seconds,
      r.replies / r.send_seconds, r.p50_us, r.p99_us, r.max_us);
  if (!r.first_error.empty()) {
    std::printf("  first non-+OK reply: %s\n", r.first_error.c_str());
  }
  if (options.subscribers > 0) {
    std::printf("  completeness checked %s\n",
                r.by_uuid ? "per channel (the uuid of each +OK reply)"
                          : "by counts only (replies name no channel, or too many calls to track)");
  }
  for (std::size_t i = 0; i < r.subscribers.size(); ++i) {
    const eslbench::CallsSubscriberResult& c = r.subscribers[i];
    std::printf(
        "  subscriber %zu: %ld events = %.1f events/call; CHANNEL_CREATE %ld, "
        "CHANNEL_HANGUP_COMPLETE %ld, CHANNEL_DESTROY %ld",
        i, c.events, static_cast<double>(c.events) / calls, c.creates, c.hangup_completes,
        c.destroys);
    if (r.by_uuid) {
      std::printf("; all three for %ld of %zu calls", c.own_complete, r.own_calls);
      if (c.foreign_channels > 0) {
        std::printf("; %ld other channel(s) seen", c.foreign_channels);
      }
    } else {
      std::printf(" (expected %d each)", calls);
    }
    std::printf("%s\n", c.all ? "" : " (MISSING EVENTS)");
    for (const auto& [name, n] : c.by_name) {
      std::printf("    %-28s %8ld = %.3f/call\n", name.c_str(), n, static_cast<double>(n) / calls);
    }
  }
  if (options.subscribers > 0 && r.complete) {
    std::printf(
        "  drain: every subscriber had all %d CHANNEL_DESTROY %.3f s after the first send "
        "(%+.1f ms from the last reply) = %.0f calls/s including drain\n",
        calls, r.drained_seconds, (r.drained_seconds - r.send_seconds) * 1000,
        r.replies / std::max(r.drained_seconds, r.send_seconds));
  } else if (options.subscribers > 0) {
    std::printf(
        "  drain: INCOMPLETE, events still missing %d s after the last reply (or at the %d s "
        "deadline)\n",
        options.drain_timeout_s, options.timeout_s);
  }
  return r.passed() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"esl_load: load generator for an Event Socket server on 127.0.0.1"};
  app.require_subcommand(1);
  app.fallthrough();  // --port and --password also after the subcommand
  int port = 8021;
  std::string password = "ClueCon";
  app.add_option("--port", port, "server port on 127.0.0.1");
  app.add_option("--password", password, "auth password");
  int clients = 8;
  int requests = 10000;
  std::string command = "api echo hi";
  auto* api = app.add_subcommand("api", "sequential commands on N connections");
  api->add_option("--clients", clients)->check(CLI::Range(1, 5000));
  api->add_option("--requests", requests)->check(CLI::Range(1, 10000000));
  api->add_option("--command", command);
  int subscribers = 4;
  int events = 100000;
  auto* ev = app.add_subcommand("events", "one publisher, N subscribers");
  ev->add_option("--subscribers", subscribers)->check(CLI::Range(1, 5000));
  ev->add_option("--events", events)->check(CLI::Range(1, 10000000));
  int calls = 10000;
  std::string call_command = "api originate null/x &hangup()";
  int call_subscribers = 1;
  int drain_timeout = 30;
  bool by_name = false;
  auto* cl =
      app.add_subcommand("calls", "sequential call commands, S `event plain ALL` subscribers");
  cl->add_option("--calls", calls)->check(CLI::Range(1, 1000000));
  cl->add_option("--command", call_command);
  cl->add_option("--subscribers", call_subscribers)->check(CLI::Range(0, 100));
  cl->add_option("--drain-timeout", drain_timeout,
                 "seconds to wait for events after the last reply")
      ->check(CLI::Range(1, 120));
  cl->add_flag("--by-name", by_name, "also count every Event-Name (each subscriber)");
  int outbound_calls = 1000;
  int hold_ms = 3000;
  int rounds = 1;
  int server_pid = 0;
  auto* out = app.add_subcommand("outbound", "N concurrent outbound sessions (socket application)");
  out->add_option("--calls", outbound_calls)->check(CLI::Range(1, 20000));
  out->add_option("--hold-ms", hold_ms, "silence each call plays while all are up")
      ->check(CLI::Range(0, 60000));
  out->add_option("--rounds", rounds)->check(CLI::Range(1, 100));
  out->add_option("--server-pid", server_pid, "sample this process's threads, fds and RSS");
  CLI11_PARSE(app, argc, argv);
  if (out->parsed()) {
    return run_outbound(port, password, outbound_calls, hold_ms, rounds, server_pid);
  }
  if (api->parsed()) {
    return run_api(port, password, clients, requests, command);
  }
  if (cl->parsed()) {
    eslbench::CallsOptions options;
    options.port = port;
    options.password = password;
    options.calls = calls;
    options.command = call_command;
    options.subscribers = call_subscribers;
    options.drain_timeout_s = drain_timeout;
    options.by_name = by_name;
    options.timeout_s = static_cast<int>(kDeadline.count());
    return report_calls(options, eslbench::run_calls(options));
  }
  return run_events(port, password, subscribers, events);
}
