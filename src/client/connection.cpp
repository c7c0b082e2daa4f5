#include "eventsocket/client/connection.hpp"

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>

#include <cstdlib>
#include <deque>
#include <map>
#include <random>

#include "eventsocket/event/codec.hpp"
#include "eventsocket/event/event_type.hpp"
#include "eventsocket/wire/message.hpp"
#include "eventsocket/wire/parser.hpp"
#include "eventsocket/wire/writer.hpp"

namespace eventsocket::client {
namespace {

constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

std::string make_job_uuid() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  const std::uint64_t a = generator();
  const std::uint64_t b = generator();
  char out[37];
  std::snprintf(out, sizeof out, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0x0fff),
                static_cast<unsigned>(((b >> 48) & 0x3fff) | 0x8000),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return out;
}

}  // namespace

bool is_single_line(std::string_view text) noexcept {
  return text.find_first_of("\r\n") == std::string_view::npos;
}

std::string Reply::text() const {
  return header("Reply-Text").value_or("");
}

std::optional<std::string> Reply::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (wire::iequals(n, name)) {
      return v;
    }
  }
  return std::nullopt;
}

bool Reply::ok() const {
  if (content_type == "api/response") {
    return !body.starts_with("-ERR") && !body.starts_with("-USAGE");
  }
  return text().starts_with("+OK");
}

// Everything of one connection. Touched only on the connection's executor.
struct Connection::State {
  State(asio::any_io_executor ex, ConnectOptions o)
      : executor(ex), socket(ex), options(std::move(o)), event_signal(ex) {}

  // A command waiting for its reply (replies come in command order).
  struct Waiter {
    explicit Waiter(asio::any_io_executor ex) : signal(ex) {}
    asio::steady_timer signal;
    std::optional<Reply> reply;
    std::optional<BackgroundJob> job;
    std::optional<event::Event> event;  // execute: its CHANNEL_EXECUTE_COMPLETE
    bool abandoned = false;             // its caller gave up: the reply is read and dropped
  };

  asio::any_io_executor executor;
  asio::ip::tcp::socket socket;
  ConnectOptions options;
  wire::Parser parser{wire::Direction::packet};
  bool open = false;
  std::string closed_why;
  std::deque<std::shared_ptr<Waiter>> replies;
  std::map<std::string, std::shared_ptr<Waiter>, std::less<>> jobs;
  std::map<std::string, std::shared_ptr<Waiter>, std::less<>> executions;  // by Event-UUID
  std::deque<std::string> outbox;
  bool writing = false;
  bool background_subscribed = false;

  std::deque<event::Event> events;
  asio::steady_timer event_signal;
  std::deque<LogLine> logs;
  std::optional<asio::steady_timer> log_signal;
  std::uint64_t dropped = 0;
  std::uint64_t unreported_drops = 0;

  void wake(Waiter& w) { w.signal.cancel(); }

  void fail_all(const std::string& why) {
    open = false;
    if (closed_why.empty()) {
      closed_why = why;
    }
    for (auto& w : replies) {
      wake(*w);
    }
    for (auto& [id, w] : jobs) {
      wake(*w);
    }
    for (auto& [id, w] : executions) {
      wake(*w);
    }
    event_signal.cancel();
    if (log_signal) {
      log_signal->cancel();
    }
  }

  void queue_event(event::Event e) {
    if (events.size() >= options.max_queued_events) {
      ++dropped;
      ++unreported_drops;
      return;
    }
    if (unreported_drops > 0) {
      // The gap notice takes one place; the event after it is kept if there is room.
      event::Event gap(event::EventType::CUSTOM, std::string(kGapSubclass));
      gap.add_header("Event-Name", "CUSTOM");
      gap.add_header("Event-Subclass", kGapSubclass);
      gap.add_header("Dropped-Events", std::to_string(unreported_drops));
      unreported_drops = 0;
      events.push_back(std::move(gap));
      if (events.size() >= options.max_queued_events) {
        ++dropped;
        ++unreported_drops;
        event_signal.cancel();
        return;
      }
    }
    events.push_back(std::move(e));
    event_signal.cancel();
  }

  void on_packet(const wire::MessageView& m) {
    const std::string content_type(m.header("Content-Type").value_or(""));
    if (const auto format = wire::event_format_from_content_type(content_type)) {
      event::Event e;
      std::string error;
      if (!event::decode(m.body, *format, e, &error)) {
        return;  // not an event we can read; the connection itself is fine
      }
      if (e.type() == event::EventType::BACKGROUND_JOB) {
        const std::string job(e.header_or_empty("Job-UUID"));
        if (auto it = jobs.find(job); it != jobs.end()) {
          it->second->job = BackgroundJob{job, std::string(e.body()), e};
          wake(*it->second);
          jobs.erase(it);
          return;
        }
      }
      if (e.type() == event::EventType::CHANNEL_EXECUTE_COMPLETE) {
        const std::string app_uuid(e.header_or_empty("Application-UUID"));
        if (auto it = executions.find(app_uuid); it != executions.end()) {
          it->second->event = e;  // the caller gets it; the queue too, it is a normal event
          wake(*it->second);
          executions.erase(it);
        }
      }
      queue_event(std::move(e));
      return;
    }
    if (content_type == "text/disconnect-notice" || content_type == "text/rude-rejection") {
      closed_why = content_type == "text/rude-rejection" ? "access denied by the server's ACL"
                                                         : "the server disconnected";
      return;
    }
    if (content_type == "log/data") {
      if (logs.size() >= options.max_queued_events) {
        return;  // like FreeSWITCH's log queue: the newest line is what gets lost
      }
      LogLine l;
      l.level = std::atoi(std::string(m.header("Log-Level").value_or("7")).c_str());
      l.file = std::string(m.header("Log-File").value_or(""));
      l.function = std::string(m.header("Log-Func").value_or(""));
      l.line = std::atoi(std::string(m.header("Log-Line").value_or("0")).c_str());
      l.user_data = std::string(m.header("User-Data").value_or(""));
      l.text = std::string(m.body);
      logs.push_back(std::move(l));
      if (log_signal) {
        log_signal->cancel();
      }
      return;
    }
    // auth/request, command/reply, api/response: the answer to the oldest command.
    if (replies.empty()) {
      return;
    }
    std::shared_ptr<Waiter> w = replies.front();
    replies.pop_front();
    if (w->abandoned) {
      return;
    }
    Reply r;
    r.content_type = content_type;
    for (const auto& h : m.headers) {
      r.headers.emplace_back(std::string(h.name), std::string(h.value));
    }
    r.body = std::string(m.body);
    w->reply = std::move(r);
    wake(*w);
  }
};

namespace {

asio::awaitable<void> read_loop(std::shared_ptr<Connection::State> s) {
  std::vector<char> buffer(64 * 1024);
  for (;;) {
    auto [ec, n] = co_await s->socket.async_read_some(asio::buffer(buffer), use_tuple);
    if (ec) {
      s->fail_all(ec == asio::error::eof ? "the server closed the connection"
                                         : "connection lost: " + ec.message());
      co_return;
    }
    s->parser.feed(std::string_view(buffer.data(), n));
    wire::MessageView m;
    std::error_code perr;
    while (!(perr = s->parser.next(m))) {
      s->on_packet(m);
    }
    if (perr != wire::errc::need_more) {
      s->fail_all("unreadable data from the server: " + perr.message());
      std::error_code ignored;
      s->socket.close(ignored);
      co_return;
    }
  }
}

asio::awaitable<void> write_loop(std::shared_ptr<Connection::State> s) {
  s->writing = true;
  while (!s->outbox.empty() && s->open) {
    std::string bytes = std::move(s->outbox.front());
    s->outbox.pop_front();
    auto [ec, n] = co_await asio::async_write(s->socket, asio::buffer(bytes), use_tuple);
    if (ec) {
      s->fail_all("write failed: " + ec.message());
      break;
    }
  }
  s->writing = false;
}

// Waits for a waiter's completion or its deadline; throws on timeout or a lost connection.
enum class Awaited { reply, job, event };

asio::awaitable<void> await_waiter(Connection::State& s, Connection::State::Waiter& w,
                                   Awaited what_for, std::chrono::milliseconds timeout,
                                   std::string_view what) {
  w.signal.expires_after(timeout);
  auto [ec] = co_await w.signal.async_wait(use_tuple);
  const bool done = what_for == Awaited::job     ? w.job.has_value()
                    : what_for == Awaited::event ? w.event.has_value()
                                                 : w.reply.has_value();
  if (done) {
    co_return;
  }
  w.abandoned = true;
  if (!s.open) {
    throw ClientError(std::string(what) + ": " + s.closed_why);
  }
  if (!ec) {
    throw ClientError(std::string(what) + ": no answer within " + std::to_string(timeout.count()) +
                      " ms");
  }
  throw ClientError(std::string(what) + ": cancelled");
}

// Queues a command's bytes behind the ones before it and registers its reply waiter.
std::shared_ptr<Connection::State::Waiter> send_command(const std::shared_ptr<Connection::State>& s,
                                                        std::string bytes) {
  auto w = std::make_shared<Connection::State::Waiter>(s->executor);
  s->replies.push_back(w);
  s->outbox.push_back(std::move(bytes));
  if (!s->writing) {
    asio::co_spawn(s->executor, write_loop(s), asio::detached);
  }
  return w;
}

std::string serialize(const std::string& command,
                      const std::vector<std::pair<std::string, std::string>>& headers,
                      const std::string& body) {
  if (command.empty() || !is_single_line(command)) {
    throw ClientError("refused: the command is empty or contains a line break");
  }
  std::string out = command;
  out += '\n';
  for (const auto& [name, value] : headers) {
    if (name.empty() || !is_single_line(name) || !is_single_line(value) ||
        name.find(':') != std::string::npos) {
      throw ClientError("refused: header '" + name + "' has a line break or colon in it");
    }
    out += name + ": " + value + "\n";
  }
  if (!body.empty()) {
    out += "Content-Length: " + std::to_string(body.size()) + "\n\n" + body;
  } else {
    out += '\n';
  }
  return out;
}

}  // namespace

Connection::Connection(asio::any_io_executor executor, ConnectOptions options)
    : state_(std::make_shared<State>(executor, std::move(options))) {}

Connection::~Connection() {
  close();
}

asio::awaitable<std::shared_ptr<Connection>> Connection::connect(asio::any_io_executor executor,
                                                                 ConnectOptions options) {
  using namespace asio::experimental::awaitable_operators;
  std::shared_ptr<Connection> c(new Connection(executor, options));
  const std::shared_ptr<State>& s = c->state_;
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  asio::ip::tcp::resolver resolver(executor);
  auto [rec, endpoints] =
      co_await resolver.async_resolve(options.host, std::to_string(options.port), use_tuple);
  if (rec) {
    throw ClientError("cannot resolve " + options.host + ": " + rec.message());
  }
  asio::steady_timer timer(executor);
  timer.expires_at(deadline);
  auto result = co_await (asio::async_connect(s->socket, endpoints, use_tuple) ||
                          timer.async_wait(use_tuple));
  if (result.index() == 1) {
    throw ClientError("cannot connect to " + options.host + ":" + std::to_string(options.port) +
                      ": timed out");
  }
  if (auto [ec, ep] = std::get<0>(result); ec) {
    throw ClientError("cannot connect to " + options.host + ":" + std::to_string(options.port) +
                      ": " + ec.message());
  }
  std::error_code ignored;
  s->socket.set_option(asio::ip::tcp::no_delay(true), ignored);
  s->open = true;
  // The greeting is the answer to an implicit first command.
  auto greeting = std::make_shared<State::Waiter>(executor);
  s->replies.push_back(greeting);
  asio::co_spawn(executor, read_loop(s), asio::detached);
  const auto left = [&] {
    return std::max(std::chrono::milliseconds(1),
                    std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now()));
  };
  co_await await_waiter(*s, *greeting, Awaited::reply, left(), "waiting for the greeting");
  if (greeting->reply->content_type != "auth/request") {
    c->close();
    throw ClientError("the server did not ask for authentication (" +
                      greeting->reply->content_type + ")");
  }
  const std::string login = options.user.empty()
                                ? "auth " + options.password
                                : "userauth " + options.user + ":" + options.password;
  if (!is_single_line(login)) {
    c->close();
    throw ClientError("refused: the credentials contain a line break");
  }
  auto w = send_command(s, login + "\n\n");
  co_await await_waiter(*s, *w, Awaited::reply, left(), "authenticating");
  if (w->reply->text() != "+OK accepted") {
    c->close();
    throw ClientError("authentication refused: " + w->reply->text());
  }
  co_return c;
}

asio::awaitable<Reply> Connection::command(std::string command,
                                           std::vector<std::pair<std::string, std::string>> headers,
                                           std::string body,
                                           std::optional<std::chrono::milliseconds> timeout) {
  std::shared_ptr<State> s = state_;
  std::string bytes = serialize(command, headers, body);
  if (!s->open) {
    throw ClientError(command + ": " + (s->closed_why.empty() ? "not connected" : s->closed_why));
  }
  auto w = send_command(s, std::move(bytes));
  co_await await_waiter(*s, *w, Awaited::reply, timeout.value_or(s->options.timeout), command);
  co_return std::move(*w->reply);
}

asio::awaitable<std::string> Connection::api(std::string command,
                                             std::optional<std::chrono::milliseconds> timeout) {
  Reply r = co_await this->command("api " + command, {}, {}, timeout);
  if (r.content_type != "api/response") {
    throw ClientError("api " + command + ": " + r.text());
  }
  co_return std::move(r.body);
}

asio::awaitable<BackgroundJob> Connection::bgapi(std::string command,
                                                 std::optional<std::chrono::milliseconds> timeout) {
  std::shared_ptr<State> s = state_;
  const auto limit = timeout.value_or(s->options.timeout);
  if (!s->background_subscribed) {
    // Marked first: a bgapi started meanwhile sends its command after this subscription,
    // which the server therefore handles first.
    s->background_subscribed = true;
    const Reply sub = co_await this->command("event plain BACKGROUND_JOB", {}, {}, limit);
    if (!sub.ok()) {
      s->background_subscribed = false;
      throw ClientError("bgapi needs BACKGROUND_JOB events: " + sub.text());
    }
  }
  // Registered before the command is written: the job's event may arrive in the same read
  // as the reply, and must find its waiter.
  const std::string job_uuid = make_job_uuid();
  auto job = std::make_shared<State::Waiter>(s->executor);
  s->jobs.emplace(job_uuid, job);
  Reply accepted;
  // A named vector: GCC 12 cannot keep an initializer list alive across co_await.
  std::vector<std::pair<std::string, std::string>> job_header;
  job_header.emplace_back("Job-UUID", job_uuid);
  try {
    accepted = co_await this->command("bgapi " + command, std::move(job_header), {}, limit);
  } catch (...) {
    s->jobs.erase(job_uuid);
    throw;
  }
  if (!accepted.ok()) {
    s->jobs.erase(job_uuid);
    throw ClientError("bgapi " + command + ": " + accepted.text());
  }
  try {
    co_await await_waiter(*s, *job, Awaited::job, limit, "bgapi " + command);
  } catch (...) {
    s->jobs.erase(job_uuid);
    throw;
  }
  co_return std::move(*job->job);
}

asio::awaitable<std::optional<event::Event>> Connection::next_event(
    std::optional<std::chrono::milliseconds> timeout) {
  std::shared_ptr<State> s = state_;
  if (s->events.empty() && s->open) {
    s->event_signal.expires_after(timeout.value_or(std::chrono::hours(24 * 365)));
    co_await s->event_signal.async_wait(use_tuple);
  }
  if (s->events.empty()) {
    if (!s->open) {
      throw ClientError("no more events: " + s->closed_why);
    }
    co_return std::nullopt;
  }
  event::Event e = std::move(s->events.front());
  s->events.pop_front();
  co_return e;
}

asio::awaitable<event::Event> Connection::channel_data(
    std::optional<std::chrono::milliseconds> timeout) {
  const Reply r = co_await command("connect", {}, {}, timeout);
  // The reply is the plain event itself (no envelope): decode its header lines as one.
  std::string block;
  for (const auto& [name, value] : r.headers) {
    block += name + ": " + value + "\n";
  }
  block += "\n";
  event::Event e;
  std::string error;
  if (!event::decode_plain(block, e, &error) || e.header_or_empty("Event-Name") != "CHANNEL_DATA") {
    throw ClientError("connect: the reply is not the channel data (" + r.text() + ")");
  }
  co_return e;
}

asio::awaitable<event::Event> Connection::execute(
    std::string application, std::string argument, std::string uuid,
    std::optional<std::chrono::milliseconds> timeout) {
  std::shared_ptr<State> s = state_;
  const auto limit = timeout.value_or(s->options.timeout);
  const std::string event_uuid = make_job_uuid();
  std::vector<std::pair<std::string, std::string>> headers;
  headers.emplace_back("call-command", "execute");
  headers.emplace_back("execute-app-name", application);
  if (!argument.empty()) {
    headers.emplace_back("execute-app-arg", argument);
  }
  headers.emplace_back("Event-UUID", event_uuid);
  // Registered before sending: in outbound static mode the events follow the reply at once.
  auto done = std::make_shared<State::Waiter>(s->executor);
  s->executions.emplace(event_uuid, done);
  const std::string line = uuid.empty() ? "sendmsg" : "sendmsg " + uuid;
  Reply accepted;
  try {
    accepted = co_await this->command(line, std::move(headers), {}, limit);
  } catch (...) {
    s->executions.erase(event_uuid);
    throw;
  }
  if (!accepted.ok()) {
    s->executions.erase(event_uuid);
    throw ClientError("execute " + application + ": " + accepted.text());
  }
  try {
    co_await await_waiter(*s, *done, Awaited::event, limit, "execute " + application);
  } catch (...) {
    s->executions.erase(event_uuid);
    throw;
  }
  co_return std::move(*done->event);
}

asio::awaitable<std::optional<LogLine>> Connection::next_log(
    std::optional<std::chrono::milliseconds> timeout) {
  std::shared_ptr<State> s = state_;
  if (s->logs.empty() && s->open) {
    if (!s->log_signal) {
      s->log_signal.emplace(s->executor);
    }
    s->log_signal->expires_after(timeout.value_or(std::chrono::hours(24 * 365)));
    co_await s->log_signal->async_wait(use_tuple);
  }
  if (s->logs.empty()) {
    if (!s->open) {
      throw ClientError("no more log lines: " + s->closed_why);
    }
    co_return std::nullopt;
  }
  LogLine l = std::move(s->logs.front());
  s->logs.pop_front();
  co_return l;
}

std::uint64_t Connection::dropped_events() const {
  return state_->dropped;
}

bool Connection::connected() const {
  return state_->open;
}

void Connection::close() {
  if (!state_) {
    return;
  }
  std::error_code ignored;
  state_->socket.close(ignored);
  state_->fail_all("closed by the client");
}

std::shared_ptr<Connection> Connection::adopt(asio::ip::tcp::socket socket,
                                              ConnectOptions options) {
  std::shared_ptr<Connection> c(new Connection(socket.get_executor(), std::move(options)));
  const std::shared_ptr<State>& s = c->state_;
  s->socket = std::move(socket);
  std::error_code ignored;
  s->socket.set_option(asio::ip::tcp::no_delay(true), ignored);
  s->open = true;
  asio::co_spawn(s->executor, read_loop(s), asio::detached);
  return c;
}

struct OutboundServer::Impl {
  Impl(asio::any_io_executor ex, Handler h, ConnectOptions o)
      : executor(ex), acceptor(ex), handler(std::move(h)), options(std::move(o)) {}
  asio::any_io_executor executor;
  asio::ip::tcp::acceptor acceptor;
  Handler handler;
  ConnectOptions options;
};

namespace {

asio::awaitable<void> accept_loop(std::shared_ptr<OutboundServer::Impl> impl) {
  for (;;) {
    auto [ec, socket] = co_await impl->acceptor.async_accept(use_tuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !impl->acceptor.is_open()) {
        co_return;
      }
      continue;
    }
    std::shared_ptr<Connection> c = Connection::adopt(std::move(socket), impl->options);
    asio::co_spawn(impl->executor, impl->handler(std::move(c)), asio::detached);
  }
}

}  // namespace

OutboundServer::OutboundServer(asio::any_io_executor executor, std::string host, std::uint16_t port,
                               Handler handler, ConnectOptions options)
    : impl_(std::make_shared<Impl>(executor, std::move(handler), std::move(options))) {
  std::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) {
    throw ClientError("outbound server: bad address " + host);
  }
  const asio::ip::tcp::endpoint endpoint(address, port);
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) {
    impl_->acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
    impl_->acceptor.bind(endpoint, ec);
  }
  if (!ec) {
    impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    throw ClientError("outbound server: cannot listen on " + host + ":" + std::to_string(port) +
                      ": " + ec.message());
  }
  asio::co_spawn(executor, accept_loop(impl_), asio::detached);
}

OutboundServer::~OutboundServer() {
  close();
}

std::uint16_t OutboundServer::port() const {
  std::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

void OutboundServer::close() {
  std::error_code ignored;
  impl_->acceptor.close(ignored);
}

}  // namespace eventsocket::client
