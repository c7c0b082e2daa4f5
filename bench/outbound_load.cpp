// esl_load outbound: many concurrent outbound sessions against one server.
//
// The tool is the external program of the `socket` application: it listens on 127.0.0.1,
// a control connection originates N calls at once (`bgapi originate {origination_uuid=..}
// null/x '&socket(127.0.0.1:<port> async full)'`, pipelined in batches), and every
// connection the server makes is driven by a small state machine, all on one poll() loop:
//   connect, myevents, linger, sendmsg execute answer, sendmsg execute playback
//   silence_stream://<hold ms>, then on its CHANNEL_EXECUTE_COMPLETE sendmsg hangup, then
//   CHANNEL_HANGUP_COMPLETE and the linger notice; the tool then closes.
// Every session must see each reply, both EXECUTE_COMPLETEs and the HANGUP_COMPLETE.
// With --server-pid the server's threads, open fds and RSS are sampled before, at the peak
// and after each round (from /proc), so leaks and thread growth show.
#include "outbound_load.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <dirent.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "eventsocket/wire/parser.hpp"
#include "eventsocket/wire/url.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using eventsocket::wire::Direction;
using eventsocket::wire::MessageView;
using eventsocket::wire::Parser;

bool send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// Blocking reads of whole packets on the control connection.
class Control {
 public:
  explicit Control(int port) : fd_(connect_to(port)) {}
  ~Control() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  bool ok() const { return fd_ >= 0; }
  bool send(std::string_view bytes) { return send_all(fd_, bytes); }
  // The next packet's Reply-Text (or body for api/response); nullopt at EOF or timeout.
  std::optional<std::string> next(Clock::time_point deadline) {
    for (;;) {
      MessageView m;
      if (!parser_.next(m)) {
        if (m.header("Content-Type") == "api/response") {
          return std::string(m.body);
        }
        return std::string(m.header("Reply-Text").value_or(""));
      }
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
        return std::nullopt;
      }
      char buffer[65536];
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) {
        return std::nullopt;
      }
      parser_.feed(std::string_view(buffer, static_cast<std::size_t>(n)));
    }
  }

 private:
  int fd_ = -1;
  Parser parser_{Direction::packet};
};

struct ProcSample {
  long threads = 0;
  long fds = 0;
  long rss_kib = 0;
};

ProcSample sample(int pid) {
  ProcSample s;
  if (pid <= 0) {
    return s;
  }
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (status >> key) {
    if (key == "Threads:") {
      status >> s.threads;
    } else if (key == "VmRSS:") {
      status >> s.rss_kib;
    }
  }
  if (DIR* dir = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str())) {
    while (readdir(dir) != nullptr) {
      ++s.fds;
    }
    closedir(dir);
    s.fds -= 2;  // . and ..
  }
  return s;
}

// One outbound session's progress.
struct Session {
  enum Step { connect, myevents, linger, answer, playback, playing, hangup, ending, done };
  int fd = -1;
  Step step = connect;
  Parser parser{Direction::packet};
  bool answer_complete = false;
  bool playback_complete = false;
  bool hangup_complete = false;
  bool linger_notice = false;
  bool failed = false;
};

std::string sendmsg_execute(std::string_view app, std::string_view arg) {
  return "sendmsg\ncall-command: execute\nexecute-app-name: " + std::string(app) +
         "\nexecute-app-arg: " + std::string(arg) + "\n\n";
}

// Reacts to one packet; false when the session failed.
bool on_packet(Session& s, const MessageView& m, int hold_ms) {
  const std::string_view type = m.header("Content-Type").value_or("");
  if (type == "text/event-plain") {
    MessageView inner;
    Parser p(Direction::packet);
    p.feed(m.body);
    p.feed("\n");
    if (p.next(inner)) {
      return false;
    }
    const std::string_view name = inner.header("Event-Name").value_or("");
    const std::string app = eventsocket::wire::url_decode(inner.header("Application").value_or(""));
    if (name == "CHANNEL_EXECUTE_COMPLETE" && app == "answer") {
      s.answer_complete = true;
    } else if (name == "CHANNEL_EXECUTE_COMPLETE" && app == "playback") {
      s.playback_complete = true;
      if (s.step == Session::playing) {
        s.step = Session::hangup;
        return send_all(s.fd, "sendmsg\ncall-command: hangup\n\n");
      }
    } else if (name == "CHANNEL_HANGUP_COMPLETE") {
      s.hangup_complete = true;
    }
    return true;
  }
  if (type == "text/disconnect-notice") {
    s.linger_notice = m.header("Content-Disposition") == "linger";
    if (s.linger_notice && s.hangup_complete) {
      s.step = Session::done;
    }
    return s.linger_notice;
  }
  // A reply (the connect reply has no envelope: it carries Content-Type command/reply).
  const std::string_view reply = m.header("Reply-Text").value_or("");
  const bool ok = reply.starts_with("+OK") || reply.starts_with("%2BOK");
  if (!ok) {
    return false;
  }
  switch (s.step) {
    case Session::connect:
      s.step = Session::myevents;
      return send_all(s.fd, "myevents\n\n");
    case Session::myevents:
      s.step = Session::linger;
      return send_all(s.fd, "linger\n\n");
    case Session::linger:
      s.step = Session::answer;
      return send_all(s.fd, sendmsg_execute("answer", ""));
    case Session::answer:
      s.step = Session::playback;
      return send_all(s.fd,
                      sendmsg_execute("playback", "silence_stream://" + std::to_string(hold_ms)));
    case Session::playback:
      s.step = s.playback_complete ? Session::hangup : Session::playing;
      return !s.playback_complete || send_all(s.fd, "sendmsg\ncall-command: hangup\n\n");
    case Session::hangup:
      s.step = Session::ending;
      return true;
    default:
      return false;
  }
}

struct RoundResult {
  int accepted = 0;
  int completed = 0;
  int failed = 0;
  int peak_live = 0;
  double seconds = 0;
  ProcSample before, peak, after;
};

RoundResult run_round(int port, const std::string& password, int calls, int hold_ms, int pid,
                      int round) {
  RoundResult r;
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  r.before = sample(pid);

  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  socklen_t len = sizeof addr;
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener, 4096) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::fprintf(stderr, "esl_load outbound: cannot listen on 127.0.0.1\n");
    r.failed = calls;
    return r;
  }
  const int program_port = ntohs(addr.sin_port);

  // The control connection originates every call, in pipelined batches.
  std::atomic<int> originate_errors{0};
  std::thread originator([&] {
    Control control(port);
    if (!control.ok() || !control.send("auth " + password + "\n\n") || !control.next(deadline) ||
        control.next(deadline) != "+OK accepted") {
      originate_errors = calls;
      return;
    }
    constexpr int kBatch = 50;
    for (int sent = 0; sent < calls;) {
      const int n = std::min(kBatch, calls - sent);
      std::string batch;
      for (int i = 0; i < n; ++i) {
        char uuid[40];
        std::snprintf(uuid, sizeof uuid, "0b7e%04d-0000-4000-8000-%012d", round % 10000, sent + i);
        batch += "bgapi originate {origination_uuid=" + std::string(uuid) +
                 "}null/x '&socket(127.0.0.1:" + std::to_string(program_port) + " async full)'\n\n";
      }
      control.send(batch);
      for (int i = 0; i < n; ++i) {
        const auto reply = control.next(deadline);
        if (!reply || !reply->starts_with("+OK Job-UUID")) {
          ++originate_errors;
        }
      }
      sent += n;
    }
  });

  const auto start = Clock::now();
  std::vector<std::unique_ptr<Session>> sessions;
  std::vector<pollfd> fds;
  int live = 0;
  int finished = 0;
  auto last_sample = Clock::now();
  char buffer[65536];
  while (finished + originate_errors.load() < calls && Clock::now() < deadline) {
    fds.clear();
    fds.push_back({listener, POLLIN, 0});
    std::vector<Session*> polled;
    for (auto& s : sessions) {
      if (s->fd >= 0) {
        fds.push_back({s->fd, POLLIN, 0});
        polled.push_back(s.get());
      }
    }
    ::poll(fds.data(), fds.size(), 100);
    if (fds[0].revents & POLLIN) {
      for (;;) {
        const int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK);
        if (fd < 0) {
          break;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        auto s = std::make_unique<Session>();
        s->fd = fd;
        ++r.accepted;
        ++live;
        r.peak_live = std::max(r.peak_live, live);
        if (!send_all(fd, "connect\n\n")) {
          s->failed = true;
        }
        sessions.push_back(std::move(s));
      }
    }
    for (std::size_t i = 1; i < fds.size(); ++i) {
      Session& s = *polled[i - 1];
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) {
        continue;
      }
      const ssize_t n = ::recv(s.fd, buffer, sizeof buffer, 0);
      bool closed = n <= 0;
      if (n > 0) {
        s.parser.feed(std::string_view(buffer, static_cast<std::size_t>(n)));
        MessageView m;
        while (!s.failed && s.step != Session::done && !s.parser.next(m)) {
          if (!on_packet(s, m, hold_ms)) {
            s.failed = true;
          }
        }
      }
      if (s.step == Session::done || s.failed || closed) {
        const bool ok = s.step == Session::done && s.answer_complete && s.playback_complete &&
                        s.hangup_complete && s.linger_notice && !s.failed;
        ok ? ++r.completed : ++r.failed;
        ::close(s.fd);
        s.fd = -1;
        --live;
        ++finished;
      }
    }
    if (pid > 0 && Clock::now() - last_sample > std::chrono::milliseconds(100)) {
      last_sample = Clock::now();
      const ProcSample now = sample(pid);
      r.peak.threads = std::max(r.peak.threads, now.threads);
      r.peak.fds = std::max(r.peak.fds, now.fds);
      r.peak.rss_kib = std::max(r.peak.rss_kib, now.rss_kib);
    }
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  originator.join();
  r.failed += originate_errors.load();
  for (auto& s : sessions) {
    if (s->fd >= 0) {
      ++r.failed;
      ::close(s->fd);
    }
  }
  ::close(listener);
  // Let the server finish its channels and close what it holds, then sample again.
  Control control(port);
  if (control.ok() && control.send("auth " + password + "\n\n") && control.next(deadline) &&
      control.next(deadline) == "+OK accepted") {
    for (int i = 0; i < 100; ++i) {
      control.send("api show channels count\n\n");
      const auto body = control.next(deadline);
      if (body && body->starts_with("\n0 total.")) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  r.after = sample(pid);
  return r;
}

}  // namespace

int run_outbound(int port, const std::string& password, int calls, int hold_ms, int rounds,
                 int server_pid) {
  int status = 0;
  for (int round = 1; round <= rounds; ++round) {
    const RoundResult r = run_round(port, password, calls, hold_ms, server_pid, round);
    std::printf(
        "outbound round %d: %d calls, %d sessions accepted, peak %d at once, %d completed "
        "(every reply, both EXECUTE_COMPLETEs, HANGUP_COMPLETE, linger notice), %d failed, "
        "%.2f s\n",
        round, calls, r.accepted, r.peak_live, r.completed, r.failed, r.seconds);
    if (server_pid > 0) {
      std::printf(
          "  server: threads %ld -> peak %ld -> %ld; fds %ld -> peak %ld -> %ld; "
          "RSS %ld KiB -> peak %ld KiB -> %ld KiB\n",
          r.before.threads, r.peak.threads, r.after.threads, r.before.fds, r.peak.fds, r.after.fds,
          r.before.rss_kib, r.peak.rss_kib, r.after.rss_kib);
    }
    std::fflush(stdout);
    if (r.completed != calls) {
      status = 1;
    }
  }
  return status;
}
