// esl-bench: load and correctness runs against any Event Socket server (eventsocketd or
// FreeSWITCH). Each mode prints one line of key=value pairs and exits 0 when the run was
// complete and correct, 1 otherwise.
//
//   fanout --subscribers N --events M [--format plain|json] [--size BYTES] [--window W]
//       N connections subscribe to `event <format> CUSTOM esl_bench::fanout`; one publisher
//       pipelines M `sendevent CUSTOM` (a `Seq: <n>` header, padded to ~BYTES) with at most W
//       unanswered. Every subscriber must receive 1..M once each and in order. All
//       subscribers are read by one epoll loop (or --reader-threads loops), so 100
//       subscribers cost the tool a few threads, not 100.
//   api --requests R [--pipeline W] [--command "api echo x"]
//       one connection, W commands in flight (1: one at a time): rate and latency.
//   ingest --events M [--size BYTES] [--window W]
//       pipelined `sendevent` nobody subscribes to: commands/s until the last reply.
//   conns --connections K [--rate N] [--server-pid PID]
//       K authenticated idle connections, then `api echo alive` on each; with a pid, the
//       server's RSS before and after, per connection.
//   cps --calls C [--subscribers S] [--command "api originate null/x &hangup()"]
//       sequential call commands with S `event plain ALL` subscribers (calls_load.cpp, the
//       same workload as esl_load calls).
//
// The server is --host (used as given, default 127.0.0.1) : --port, password --password.
// Every run is bounded in time (--timeout).
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "calls_load.hpp"
#include "load_client.hpp"

namespace {

using eslbench::Client;
using eslbench::Clock;
using eslbench::MessageView;

struct Server {
  std::string host = "127.0.0.1";
  int port = 8021;
  std::string password = "ClueCon";
  int timeout_s = 300;  // no run takes longer
};

// ---------------------------------------------------------------------------------------
// Output: one line, key=value, values with spaces quoted.

class Line {
 public:
  explicit Line(const char* mode) { add("mode", mode); }
  Line& add(const char* key, const std::string& value) {
    text_ += text_.empty() ? "" : " ";
    text_ += key;
    text_ += '=';
    const bool quote = value.empty() || value.find_first_of(" \t\"") != std::string::npos;
    if (quote) {
      text_ += '"';
      for (const char c : value) {
        text_ += c == '"' ? '\'' : c;  // keeps the line parseable by splitting on spaces and ="
      }
      text_ += '"';
    } else {
      text_ += value;
    }
    return *this;
  }
  Line& add(const char* key, const char* value) { return add(key, std::string(value)); }
  Line& add(const char* key, long value) { return add(key, std::to_string(value)); }
  Line& add(const char* key, int value) { return add(key, std::to_string(value)); }
  Line& add(const char* key, std::size_t value) { return add(key, std::to_string(value)); }
  Line& add(const char* key, double value, int decimals = 0) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
    return add(key, std::string(buffer));
  }
  Line& yes_no(const char* key, bool value) { return add(key, value ? "yes" : "no"); }
  void print() const { std::printf("%s\n", text_.c_str()); }

 private:
  std::string text_;
};

// The 1-minute load average when the run started: the record needs it, the machine is shared.
std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string first;
  in >> first;
  return first.empty() ? "unknown" : first;
}

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Nearest-rank percentile of sorted values.
double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) {
    return 0;
  }
  return sorted[std::min(sorted.size() - 1, static_cast<std::size_t>(p * sorted.size()))];
}

// A run that could not start still prints its one line, with the reason.
int setup_failed(const char* mode, const std::string& why, const std::string& load) {
  Line(mode).yes_no("complete", false).add("error", why).add("loadavg", load).print();
  return 1;
}

// A connection that has authenticated, or nullptr with `error` set.
std::unique_ptr<Client> open_authenticated(const Server& server, const std::string& what,
                                           Clock::time_point deadline, std::string& error) {
  auto c = std::make_unique<Client>(server.host, server.port);
  if (!c->ok()) {
    error = what + ": cannot connect to " + server.host + " port " + std::to_string(server.port);
    return nullptr;
  }
  if (!c->auth(server.password, deadline)) {
    error = what + ": authentication failed";
    return nullptr;
  }
  return c;
}

// Sends one command and returns the Reply-Text (command/reply) or body (api/response) of its
// reply; empty when none came.
std::string command(Client& c, const std::string& text, Clock::time_point deadline) {
  std::string reply;
  if (!c.send(text + "\n\n")) {
    return reply;
  }
  c.read(
      [&](const MessageView& m) {
        const auto type = m.header("Content-Type");
        if (type == "api/response") {
          reply = std::string(m.body);
          return false;
        }
        if (type == "command/reply") {
          reply = std::string(m.header("Reply-Text").value_or(""));
          return false;
        }
        return true;  // an event or log line before the reply
      },
      deadline);
  return reply;
}

// ---------------------------------------------------------------------------------------
// Pipelined commands on one connection.

struct PipelineResult {
  long replies = 0;
  long errors = 0;  // replies starting with -ERR (or no +OK for command/reply)
  std::string first_error;
  bool cut = false;  // the connection closed or the deadline passed before the last reply
  Clock::time_point first_send;
  Clock::time_point last_reply;
  std::vector<double> latencies_us;  // send to reply, every command
  double seconds() const { return seconds_between(first_send, last_reply); }
};

// Sends `count` commands, `make(i, out)` appending the i-th to `out`, with at most `window`
// unanswered. Writes never block while replies wait to be read (MSG_DONTWAIT, then poll for
// both directions), so any window is safe; with nothing left to write the read blocks in
// recv, one system call per reply batch (a sequential run costs one send and one recv).
template <typename Make>
PipelineResult run_pipeline(Client& c, long count, int window, Make&& make,
                            Clock::time_point deadline) {
  PipelineResult r;
  r.latencies_us.reserve(static_cast<std::size_t>(count));
  std::vector<Clock::time_point> sent_at(static_cast<std::size_t>(window));
  std::string out;
  std::size_t written = 0;
  long queued = 0;
  auto on_reply = [&](const MessageView& m) {
    const auto type = m.header("Content-Type");
    std::string_view text;
    bool good = true;
    if (type == "api/response") {
      text = m.body;
      good = text.substr(0, 4) != "-ERR";
    } else if (type == "command/reply") {
      text = m.header("Reply-Text").value_or("");
      good = text.substr(0, 3) == "+OK";
    } else {
      return;  // not a reply (a disconnect notice is followed by EOF)
    }
    const auto now = Clock::now();
    r.latencies_us.push_back(std::chrono::duration<double, std::micro>(
                                 now - sent_at[static_cast<std::size_t>(r.replies % window)])
                                 .count());
    ++r.replies;
    r.last_reply = now;
    if (!good) {
      ++r.errors;
      if (r.first_error.empty()) {
        r.first_error = std::string(text.substr(0, text.find('\n')));
      }
    }
  };
  r.first_send = Clock::now();
  r.last_reply = r.first_send;
  while (r.replies < count) {
    if (written == out.size()) {
      out.clear();
      written = 0;
    }
    const auto now = Clock::now();
    for (; queued < count && queued - r.replies < window; ++queued) {
      make(queued, out);
      sent_at[static_cast<std::size_t>(queued % window)] = now;
    }
    if (written < out.size()) {
      const ssize_t n =
          ::send(c.fd(), out.data() + written, out.size() - written, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) {
        written += static_cast<std::size_t>(n);
      } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        r.cut = true;
        break;
      }
    }
    const long before = r.replies;
    c.drain(on_reply);
    if (r.replies > before) {
      continue;
    }
    if (written < out.size()) {
      pollfd p{c.fd(), POLLIN | POLLOUT, 0};
      ::poll(&p, 1, 100);
      if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
        c.fill();
      }
    } else if (!c.wait_and_fill(deadline)) {
      r.cut = true;
      break;
    }
    if (c.eof() || c.broken() || Clock::now() >= deadline) {
      c.drain(on_reply);
      r.cut = r.replies < count;
      break;
    }
  }
  return r;
}

// `sendevent CUSTOM` with a subclass and `Seq: <n>`, padded with one header to about `size`
// bytes on the wire (0: no padding).
class EventCommands {
 public:
  EventCommands(std::string subclass, int size) : subclass_(std::move(subclass)) {
    const std::size_t base = prefix().size() + std::string_view("Seq: 1000000\n\n").size();
    const std::size_t pad_header = std::string_view("X-Bench-Pad: \n").size();
    if (size > 0 && static_cast<std::size_t>(size) > base + pad_header) {
      pad_ =
          "X-Bench-Pad: " + std::string(static_cast<std::size_t>(size) - base - pad_header, 'x') +
          "\n";
    }
  }
  void append(long seq, std::string& out) const {
    out += prefix();
    out += "Seq: ";
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, seq).ptr;
    out.append(digits, end);
    out += '\n';
    out += pad_;  // after Seq, so a subscriber finds Seq without reading past the padding
    out += '\n';
  }
  std::size_t bytes(long seq) const {
    std::string one;
    append(seq, one);
    return one.size();
  }

 private:
  std::string prefix() const { return "sendevent CUSTOM\nEvent-Subclass: " + subclass_ + "\n"; }
  std::string subclass_;
  std::string pad_;
};

// ---------------------------------------------------------------------------------------
// fanout

struct Subscriber {
  std::unique_ptr<Client> client;
  std::vector<std::uint64_t> seen;  // bit per Seq 1..M
  long received = 0;                // events with a Seq of this run
  long distinct = 0;
  long duplicates = 0;
  long out_of_order = 0;  // a Seq below one already received
  long other = 0;         // events without a usable Seq
  long highest = 0;
  bool finished = false;  // has all M, or closed
  bool closed = false;
};

// The Seq of one delivered event: "Seq: <n>" in a plain body, "Seq":"<n>" in a json one.
long find_seq(std::string_view body, bool json) {
  std::size_t at;
  if (json) {
    at = body.find("\"Seq\"");
    if (at == std::string_view::npos) {
      return -1;
    }
    at += 5;
    while (at < body.size() && (body[at] == ' ' || body[at] == ':' || body[at] == '"')) {
      ++at;
    }
  } else {
    at = body.find("\nSeq: ");
    if (at == std::string_view::npos) {
      return -1;
    }
    at += 6;
  }
  long value = -1;
  const auto [end, ec] = std::from_chars(body.data() + at, body.data() + body.size(), value);
  return ec == std::errc() && end != body.data() + at ? value : -1;
}

struct FanoutOptions {
  int subscribers = 10;
  long events = 10000;
  std::string format = "plain";
  int size = 0;
  int window = 256;
  int reader_threads = 1;
  int drain_timeout_s = 30;
  // Subscribers to the same events that never read a byte (a slow consumer's cost to the
  // others); with gap notices they are told of drops instead of being disconnected.
  int stalled = 0;
  bool stalled_gap_notices = false;
  int server_pid = 0;  // report this process's VmRSS and VmHWM at the end
};

long rss_kib(int pid, const char* key = "VmRSS:");

int run_fanout(const Server& server, const FanoutOptions& o) {
  const std::string load = load_average();
  const auto hard_deadline = Clock::now() + std::chrono::seconds(server.timeout_s);
  const bool json = o.format == "json";
  const std::string content_type = json ? "text/event-json" : "text/event-plain";
  const std::string subscribe = "event " + o.format + " CUSTOM esl_bench::fanout";
  std::vector<Subscriber> subs(static_cast<std::size_t>(o.subscribers));
  for (Subscriber& s : subs) {
    std::string error;
    s.client = open_authenticated(server, "subscriber", hard_deadline, error);
    if (!s.client) {
      return setup_failed("fanout", error, load);
    }
    const std::string reply = command(*s.client, subscribe, hard_deadline);
    if (reply.substr(0, 3) != "+OK") {
      return setup_failed("fanout", "`" + subscribe + "` answered: " + reply, load);
    }
    s.client->set_nonblocking();
    s.seen.assign(static_cast<std::size_t>(o.events / 64 + 1), 0);
  }
  std::vector<std::unique_ptr<Client>> stalled;
  for (int i = 0; i < o.stalled; ++i) {
    std::string error;
    auto c = open_authenticated(server, "stalled subscriber", hard_deadline, error);
    if (!c) {
      return setup_failed("fanout", error, load);
    }
    std::string reply = command(*c, subscribe, hard_deadline);
    if (reply.substr(0, 3) == "+OK" && o.stalled_gap_notices) {
      reply = command(*c, "gap_notices on", hard_deadline);
    }
    if (reply.substr(0, 3) != "+OK") {
      return setup_failed("fanout", "stalled subscriber: " + reply, load);
    }
    stalled.push_back(std::move(c));  // and never read again until the end
  }
  std::string error;
  auto publisher = open_authenticated(server, "publisher", hard_deadline, error);
  if (!publisher) {
    return setup_failed("fanout", error, load);
  }

  // Readers: each thread one epoll set over its share of the subscribers. They stop when
  // every subscriber has all M events, or drain_timeout after the publisher's last reply.
  std::atomic<Clock::rep> drain_deadline{Clock::time_point::max().time_since_epoch().count()};
  const int threads = std::max(1, std::min(o.reader_threads, o.subscribers));
  std::vector<Clock::time_point> last_delivery(static_cast<std::size_t>(threads));
  std::vector<std::thread> readers;
  for (int t = 0; t < threads; ++t) {
    readers.emplace_back([&, t] {
      const int ep = ::epoll_create1(EPOLL_CLOEXEC);
      int open = 0;
      for (std::size_t i = static_cast<std::size_t>(t); i < subs.size();
           i += static_cast<std::size_t>(threads)) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = i;
        ::epoll_ctl(ep, EPOLL_CTL_ADD, subs[i].client->fd(), &ev);
        ++open;
      }
      Clock::time_point& last = last_delivery[static_cast<std::size_t>(t)];
      std::vector<epoll_event> ready(256);
      while (open > 0) {
        const auto now = Clock::now();
        if (now >= hard_deadline ||
            now >= Clock::time_point(Clock::duration(drain_deadline.load()))) {
          break;
        }
        const int n = ::epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), 100);
        for (int k = 0; k < n; ++k) {
          Subscriber& s = subs[ready[static_cast<std::size_t>(k)].data.u64];
          s.client->fill();
          bool delivered = false;
          s.client->drain([&](const MessageView& m) {
            if (m.header("Content-Type") != content_type) {
              return;
            }
            delivered = true;
            const long seq = find_seq(m.body, json);
            if (seq < 1 || seq > o.events) {
              ++s.other;
              return;
            }
            ++s.received;
            std::uint64_t& word = s.seen[static_cast<std::size_t>(seq / 64)];
            const std::uint64_t bit = std::uint64_t{1} << (seq % 64);
            if (word & bit) {
              ++s.duplicates;
            } else {
              word |= bit;
              ++s.distinct;
            }
            if (seq < s.highest) {
              ++s.out_of_order;
            }
            s.highest = std::max(s.highest, seq);
          });
          if (delivered) {
            last = Clock::now();
          }
          s.closed = s.client->eof() || s.client->broken();
          if (s.distinct == o.events || s.closed) {
            s.finished = true;
            ::epoll_ctl(ep, EPOLL_CTL_DEL, s.client->fd(), nullptr);
            --open;
          }
        }
      }
      ::close(ep);
    });
  }

  const EventCommands commands("esl_bench::fanout", o.size);
  const PipelineResult p = run_pipeline(
      *publisher, o.events, o.window,
      [&](long i, std::string& out) { commands.append(i + 1, out); }, hard_deadline);
  drain_deadline =
      (Clock::now() + std::chrono::seconds(o.drain_timeout_s)).time_since_epoch().count();
  for (auto& t : readers) {
    t.join();
  }

  long delivered = 0;
  long gaps = 0;
  long out_of_order = 0;
  long duplicates = 0;
  long closed = 0;
  long other = 0;
  for (const Subscriber& s : subs) {
    delivered += s.received;
    gaps += o.events - s.distinct;
    out_of_order += s.out_of_order;
    duplicates += s.duplicates;
    closed += s.closed ? 1 : 0;
    other += s.other;
  }
  const auto last =
      std::max(p.last_reply, *std::max_element(last_delivery.begin(), last_delivery.end()));
  const bool complete = !p.cut && p.replies == o.events && p.errors == 0 && gaps == 0 &&
                        out_of_order == 0 && duplicates == 0;
  Line line("fanout");
  line.add("subscribers", o.subscribers)
      .add("events", o.events)
      .add("format", o.format)
      .add("command_bytes", commands.bytes(o.events))
      .add("window", o.window)
      .add("events_per_s", o.events / p.seconds())
      .add("deliveries_per_s", delivered / seconds_between(p.first_send, last))
      .add("delivered", delivered)
      .add("expected", static_cast<long>(o.subscribers) * o.events)
      .yes_no("complete", complete)
      .add("gaps", gaps)
      .add("out_of_order", out_of_order)
      .add("duplicates", duplicates)
      .add("closed", closed)
      .add("other", other)
      .add("publish_s", p.seconds(), 3)
      .add("deliver_s", seconds_between(p.first_send, last), 3)
      .add("errors", p.errors);
  if (o.stalled > 0) {
    // Whether the server gave up on them (FreeSWITCH's policy: the lost-events notice).
    long stalled_closed = 0;
    for (auto& c : stalled) {
      c->set_nonblocking();
      const auto until = Clock::now() + std::chrono::seconds(2);
      while (!c->eof() && !c->broken() && Clock::now() < until) {
        c->read_some([](const MessageView&) {}, Clock::now() + std::chrono::milliseconds(200));
      }
      stalled_closed += c->eof() ? 1 : 0;
    }
    line.add("stalled", o.stalled).add("stalled_closed", stalled_closed);
  }
  if (o.server_pid > 0) {
    line.add("server_rss_kib", rss_kib(o.server_pid))
        .add("server_peak_rss_kib", rss_kib(o.server_pid, "VmHWM:"));
  }
  line.add("loadavg", load);
  if (!p.first_error.empty()) {
    line.add("first_error", p.first_error);
  }
  line.print();
  return complete ? 0 : 1;
}

// ---------------------------------------------------------------------------------------
// api and ingest

int run_api(const Server& server, long requests, int window, const std::string& text) {
  const std::string load = load_average();
  const auto deadline = Clock::now() + std::chrono::seconds(server.timeout_s);
  std::string error;
  auto c = open_authenticated(server, "api", deadline, error);
  if (!c) {
    return setup_failed("api", error, load);
  }
  const std::string wire = text + "\n\n";
  PipelineResult p = run_pipeline(
      *c, requests, window, [&](long, std::string& out) { out += wire; }, deadline);
  std::sort(p.latencies_us.begin(), p.latencies_us.end());
  const bool complete = !p.cut && p.replies == requests && p.errors == 0;
  Line line("api");
  line.add("requests", requests)
      .add("pipeline", window)
      .add("command", text)
      .add(window == 1 ? "round_trips_per_s" : "commands_per_s", p.replies / p.seconds())
      .add("p50_us", percentile(p.latencies_us, 0.50))
      .add("p99_us", percentile(p.latencies_us, 0.99))
      .add("max_us", p.latencies_us.empty() ? 0.0 : p.latencies_us.back())
      .add("replies", p.replies)
      .add("errors", p.errors)
      .yes_no("complete", complete)
      .add("seconds", p.seconds(), 3)
      .add("loadavg", load);
  if (!p.first_error.empty()) {
    line.add("first_error", p.first_error);
  }
  line.print();
  return complete ? 0 : 1;
}

int run_ingest(const Server& server, long events, int size, int window) {
  const std::string load = load_average();
  const auto deadline = Clock::now() + std::chrono::seconds(server.timeout_s);
  std::string error;
  auto c = open_authenticated(server, "publisher", deadline, error);
  if (!c) {
    return setup_failed("ingest", error, load);
  }
  const EventCommands commands("esl_bench::ingest", size);
  const PipelineResult p = run_pipeline(
      *c, events, window, [&](long i, std::string& out) { commands.append(i + 1, out); }, deadline);
  const bool complete = !p.cut && p.replies == events && p.errors == 0;
  Line line("ingest");
  line.add("events", events)
      .add("command_bytes", commands.bytes(events))
      .add("window", window)
      .add("commands_per_s", p.replies / p.seconds())
      .add("replies", p.replies)
      .add("errors", p.errors)
      .yes_no("complete", complete)
      .add("seconds", p.seconds(), 3)
      .add("loadavg", load);
  if (!p.first_error.empty()) {
    line.add("first_error", p.first_error);
  }
  line.print();
  return complete ? 0 : 1;
}

// ---------------------------------------------------------------------------------------
// conns

// VmRSS (or another /proc/<pid>/status field in kB) of a process in KiB, or -1.
long rss_kib(int pid, const char* field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (status >> key) {
    if (key == field) {
      long kib = -1;
      status >> kib;
      return kib;
    }
    status.ignore(4096, '\n');
  }
  return -1;
}

struct ConnsOptions {
  int connections = 1000;
  double rate = 0;  // connections opened per second, 0: as fast as they authenticate
  int server_pid = 0;
  double idle_s = 1;
};

int run_conns(const Server& server, const ConnsOptions& o) {
  const std::string load = load_average();
  const auto deadline = Clock::now() + std::chrono::seconds(server.timeout_s);
  const long rss_before = o.server_pid > 0 ? rss_kib(o.server_pid) : -1;
  std::vector<std::unique_ptr<Client>> conns;
  conns.reserve(static_cast<std::size_t>(o.connections));
  long failed = 0;
  std::string first_failure;
  const auto start = Clock::now();
  for (int i = 0; i < o.connections && Clock::now() < deadline; ++i) {
    if (o.rate > 0) {
      std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(
                                                std::chrono::duration<double>(i / o.rate)));
    }
    auto c = std::make_unique<Client>(server.host, server.port);
    if (!c->ok()) {
      ++failed;
      if (first_failure.empty()) {
        first_failure = "connect #" + std::to_string(i) + ": " + std::strerror(errno);
      }
      continue;
    }
    if (!c->auth(server.password, deadline)) {
      ++failed;
      if (first_failure.empty()) {
        first_failure = "auth #" + std::to_string(i);
      }
      continue;
    }
    c->set_nonblocking();
    conns.push_back(std::move(c));
  }
  const double open_s = seconds_between(start, Clock::now());
  std::this_thread::sleep_for(std::chrono::duration<double>(o.idle_s));
  const long rss_idle = o.server_pid > 0 ? rss_kib(o.server_pid) : -1;

  // Every idle connection must still answer.
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  for (std::size_t i = 0; i < conns.size(); ++i) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, conns[i]->fd(), &ev);
  }
  const auto echo_start = Clock::now();
  for (auto& c : conns) {
    c->send("api echo alive\n\n");
  }
  long answered = 0;
  long wrong = 0;
  long waiting = static_cast<long>(conns.size());
  std::vector<epoll_event> ready(256);
  const auto echo_deadline = std::min(deadline, Clock::now() + std::chrono::seconds(60));
  while (waiting > 0 && Clock::now() < echo_deadline) {
    const int n = ::epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), 100);
    for (int k = 0; k < n; ++k) {
      Client& c = *conns[ready[static_cast<std::size_t>(k)].data.u64];
      c.fill();
      bool done = false;
      c.drain([&](const MessageView& m) {
        if (done || m.header("Content-Type") != "api/response") {
          return;
        }
        done = true;
        std::string_view body = m.body;
        while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) {
          body.remove_suffix(1);
        }
        ++(body == "alive" ? answered : wrong);
      });
      if (done || c.eof() || c.broken()) {
        ::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd(), nullptr);
        --waiting;
      }
    }
  }
  ::close(ep);
  const double echo_s = seconds_between(echo_start, Clock::now());
  const long rss_after = o.server_pid > 0 ? rss_kib(o.server_pid) : -1;

  const bool complete = failed == 0 && answered == o.connections;
  Line line("conns");
  line.add("connections", o.connections)
      .add("ok", static_cast<long>(conns.size()))
      .add("failed", failed)
      .add("answered", answered)
      .add("wrong", wrong)
      .yes_no("complete", complete)
      .add("open_s", open_s, 3)
      .add("echo_s", echo_s, 3);
  if (o.server_pid > 0) {
    const long n = std::max<long>(1, static_cast<long>(conns.size()));
    line.add("rss_before_kib", rss_before)
        .add("rss_idle_kib", rss_idle)
        .add("rss_after_kib", rss_after)
        .add("rss_per_conn_kib", static_cast<double>(rss_idle - rss_before) / n, 1)
        .add("rss_per_conn_after_echo_kib", static_cast<double>(rss_after - rss_before) / n, 1);
  }
  line.add("loadavg", load);
  if (!first_failure.empty()) {
    line.add("first_failure", first_failure);
  }
  line.print();
  return complete ? 0 : 1;
}

// ---------------------------------------------------------------------------------------
// cps

int run_cps(const Server& server, eslbench::CallsOptions options) {
  const std::string load = load_average();
  options.host = server.host;
  options.port = server.port;
  options.password = server.password;
  options.timeout_s = server.timeout_s;
  const eslbench::CallsResult r = eslbench::run_calls(options);
  if (!r.setup_error.empty()) {
    return setup_failed("cps", r.setup_error, load);
  }
  std::string per_subscriber;
  for (const auto& s : r.subscribers) {
    per_subscriber += (per_subscriber.empty() ? "" : ",") + std::to_string(s.events);
  }
  const long least =
      r.subscribers.empty()
          ? 0
          : std::min_element(r.subscribers.begin(), r.subscribers.end(),
                             [](const auto& a, const auto& b) { return a.events < b.events; })
                ->events;
  Line line("cps");
  line.add("calls", options.calls)
      .add("subscribers", options.subscribers)
      .add("command", options.command)
      .add("calls_per_s", r.replies / r.send_seconds)
      .add("p50_us", r.p50_us)
      .add("p99_us", r.p99_us)
      .add("ok", r.ok_replies)
      .add("errors", r.err_replies + r.other_replies)
      .add("events_per_subscriber", per_subscriber.empty() ? "-" : per_subscriber)
      .add("events_per_call", static_cast<double>(least) / options.calls, 1)
      .add("checked", options.subscribers == 0 ? "none"
                      : r.by_uuid              ? "per_channel"
                                               : "counts")
      .yes_no("complete", r.passed());
  if (options.subscribers > 0 && r.complete) {
    line.add("drain_ms", (r.drained_seconds - r.send_seconds) * 1000, 1);
  }
  line.add("seconds", r.send_seconds, 3).add("loadavg", load);
  if (!r.first_error.empty()) {
    line.add("first_error", r.first_error);
  }
  line.print();
  return r.passed() ? 0 : 1;
}

// 10,000 connections need 10,000 descriptors: take what the hard limit allows.
void raise_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"esl-bench: load and correctness runs against an Event Socket server"};
  app.require_subcommand(1);
  app.fallthrough();  // the server options also after the mode
  Server server;
  app.add_option("--host", server.host, "server address (used as given)");
  app.add_option("--port", server.port, "server port")->check(CLI::Range(1, 65535));
  app.add_option("--password", server.password, "auth password");
  app.add_option("--timeout", server.timeout_s, "seconds no run may exceed")
      ->check(CLI::Range(1, 3600));

  FanoutOptions fanout;
  auto* fo = app.add_subcommand("fanout", "one publisher, N subscribers checking every event");
  fo->add_option("--subscribers", fanout.subscribers)->check(CLI::Range(1, 10000));
  fo->add_option("--events", fanout.events)->check(CLI::Range(1L, 100000000L));
  fo->add_option("--format", fanout.format)->check(CLI::IsMember({"plain", "json"}));
  fo->add_option("--size", fanout.size, "pad each sendevent to about this many bytes")
      ->check(CLI::Range(0, 1000000));
  fo->add_option("--window", fanout.window, "unanswered sendevents at most")
      ->check(CLI::Range(1, 100000));
  fo->add_option("--reader-threads", fanout.reader_threads, "epoll loops reading subscribers")
      ->check(CLI::Range(1, 64));
  fo->add_option("--stalled", fanout.stalled,
                 "extra subscribers that never read (their events are not counted)")
      ->check(CLI::Range(0, 1000));
  fo->add_flag("--stalled-gap-notices", fanout.stalled_gap_notices,
               "the stalled subscribers send `gap_notices on` (told of drops, not disconnected)");
  fo->add_option("--server-pid", fanout.server_pid, "report this process's VmRSS and VmHWM");
  fo->add_option("--drain-timeout", fanout.drain_timeout_s,
                 "seconds events may still arrive after the last reply")
      ->check(CLI::Range(1, 600));

  long requests = 10000;
  int pipeline = 1;
  std::string api_command = "api echo x";
  auto* ap = app.add_subcommand("api", "commands on one connection, W in flight");
  ap->add_option("--requests", requests)->check(CLI::Range(1L, 100000000L));
  ap->add_option("--pipeline", pipeline, "commands in flight (1: one at a time)")
      ->check(CLI::Range(1, 100000));
  ap->add_option("--command", api_command);

  long ingest_events = 100000;
  int ingest_size = 0;
  int ingest_window = 256;
  auto* in = app.add_subcommand("ingest", "pipelined sendevent, no subscriber");
  in->add_option("--events", ingest_events)->check(CLI::Range(1L, 100000000L));
  in->add_option("--size", ingest_size, "pad each sendevent to about this many bytes")
      ->check(CLI::Range(0, 1000000));
  in->add_option("--window", ingest_window, "unanswered sendevents at most")
      ->check(CLI::Range(1, 100000));

  ConnsOptions conns;
  auto* co = app.add_subcommand("conns", "K idle authenticated connections, then an api on each");
  co->add_option("--connections", conns.connections)->check(CLI::Range(1, 1000000));
  co->add_option("--rate", conns.rate, "connections opened per second (default: unlimited)")
      ->check(CLI::Range(0.0, 1e9));
  co->add_option("--server-pid", conns.server_pid, "read this process's VmRSS");
  co->add_option("--idle", conns.idle_s, "seconds the connections stay idle")
      ->check(CLI::Range(0.0, 3600.0));

  eslbench::CallsOptions calls;
  auto* cp = app.add_subcommand("cps", "sequential call commands, S `event plain ALL` subscribers");
  cp->add_option("--calls", calls.calls)->check(CLI::Range(1, 10000000));
  cp->add_option("--subscribers", calls.subscribers)->check(CLI::Range(0, 1000));
  cp->add_option("--command", calls.command);
  cp->add_option("--drain-timeout", calls.drain_timeout_s,
                 "seconds events may still arrive after the last reply")
      ->check(CLI::Range(1, 600));

  CLI11_PARSE(app, argc, argv);
  raise_descriptor_limit();
  if (fo->parsed()) {
    return run_fanout(server, fanout);
  }
  if (ap->parsed()) {
    return run_api(server, requests, pipeline, api_command);
  }
  if (in->parsed()) {
    return run_ingest(server, ingest_events, ingest_size, ingest_window);
  }
  if (co->parsed()) {
    return run_conns(server, conns);
  }
  return run_cps(server, calls);
}
