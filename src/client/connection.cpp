#include "eventsocket/client/connection.hpp"

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>

#include <cstdlib>
#include <deque>
#include <map>
#include <random>

#include "eventsocket/event/codec.hpp"

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

// Everything of one connection. Touched only on the connection's executor.
struct Connection::State {
  State(asio::any_io_executor ex, ConnectOptions o)
      : executor(ex),
        socket(ex),
        options(std::move(o)),
        protocol(options.max_queued_events),
        reconnect_timer(ex) {}

  // One awaited answer: a reply, a job's BACKGROUND_JOB or an execute's completion.
  struct Waiter {
    explicit Waiter(asio::any_io_executor ex) : signal(ex) {}
    asio::steady_timer signal;
    std::optional<Protocol::Completion> result;
  };

  asio::any_io_executor executor;
  asio::ip::tcp::socket socket;
  ConnectOptions options;
  Protocol protocol;
  Subscriptions subscriptions;
  bool open = false;
  bool adopted = false;           // outbound: the switch connected to us, never reconnect
  bool established_once = false;  // reconnecting only makes sense after a first success
  bool closed_by_client = false;
  bool reconnecting = false;
  std::uint64_t generation = 0;  // of the socket; loops of an older one stop quietly
  std::uint64_t reconnects = 0;
  std::string closed_why;
  std::map<Protocol::Token, std::shared_ptr<Waiter>> waiters;
  std::deque<std::string> outbox;
  bool writing = false;
  // Readers waiting in next_event / next_log: each has its own timer, woken by cancel().
  std::vector<asio::steady_timer*> event_readers;
  std::vector<asio::steady_timer*> log_readers;
  asio::steady_timer reconnect_timer;
  std::weak_ptr<Connection> owner;  // for on_resync, which is given the Connection

  static void wake_all(std::vector<asio::steady_timer*>& readers) {
    for (asio::steady_timer* t : readers) {
      t->cancel();
    }
    readers.clear();
  }

  // Hands what the protocol completed to whoever waits for it.
  void dispatch() {
    for (Protocol::Completion& c : protocol.take_completions()) {
      if (auto it = waiters.find(c.token); it != waiters.end()) {
        it->second->result = std::move(c);
        it->second->signal.cancel();
        waiters.erase(it);
      }
    }
    if (!protocol.events().empty()) {
      wake_all(event_readers);
    }
    if (!protocol.logs().empty()) {
      wake_all(log_readers);
    }
  }
};

namespace {

constexpr std::chrono::hours kForever(24 * 365);

asio::awaitable<void> reconnect_loop(std::shared_ptr<Connection::State> s);

// The socket is gone: everything awaited fails, and a reconnect starts if the policy says so.
void connection_lost(const std::shared_ptr<Connection::State>& s, std::string why) {
  if (!s->protocol.goodbye().empty()) {
    why = s->protocol.goodbye();
  } else if (s->protocol.mid_packet()) {
    why += " in the middle of a packet";
  }
  s->open = false;
  s->closed_why = why;
  ++s->generation;
  std::error_code ignored;
  s->socket.close(ignored);
  s->protocol.reset();
  for (auto& [token, w] : s->waiters) {
    w->signal.cancel();
  }
  s->waiters.clear();
  s->outbox.clear();
  s->writing = false;
  const bool again =
      s->options.reconnect.enabled && s->established_once && !s->adopted && !s->closed_by_client;
  if (again && !s->reconnecting) {
    s->reconnecting = true;
    asio::co_spawn(s->executor, reconnect_loop(s), asio::detached);
  }
  if (!s->reconnecting) {
    Connection::State::wake_all(s->event_readers);
    Connection::State::wake_all(s->log_readers);
  }
}

asio::awaitable<void> read_loop(std::shared_ptr<Connection::State> s, std::uint64_t generation) {
  std::vector<char> buffer(64 * 1024);
  for (;;) {
    auto [ec, n] = co_await s->socket.async_read_some(asio::buffer(buffer), use_tuple);
    if (generation != s->generation) {
      co_return;  // this socket was already given up
    }
    if (ec) {
      connection_lost(s, ec == asio::error::eof ? "the server closed the connection"
                                                : "connection lost: " + ec.message());
      co_return;
    }
    const std::error_code error = s->protocol.feed(std::string_view(buffer.data(), n));
    s->dispatch();
    if (error) {
      connection_lost(s, "unreadable data from the server: " + error.message());
      co_return;
    }
  }
}

asio::awaitable<void> write_loop(std::shared_ptr<Connection::State> s, std::uint64_t generation) {
  while (!s->outbox.empty() && s->open && generation == s->generation) {
    std::string bytes = std::move(s->outbox.front());
    s->outbox.pop_front();
    auto [ec, n] = co_await asio::async_write(s->socket, asio::buffer(bytes), use_tuple);
    if (generation != s->generation) {
      co_return;  // the connection was lost and maybe replaced meanwhile: not ours to touch
    }
    if (ec) {
      connection_lost(s, "write failed: " + ec.message());
      co_return;
    }
  }
  s->writing = false;
}

// Queues a command's bytes behind the ones before it; its reply will complete `token`.
std::shared_ptr<Connection::State::Waiter> wait_for(const std::shared_ptr<Connection::State>& s,
                                                    Protocol::Token token) {
  auto w = std::make_shared<Connection::State::Waiter>(s->executor);
  s->waiters.emplace(token, w);
  return w;
}

std::pair<Protocol::Token, std::shared_ptr<Connection::State::Waiter>> send_bytes(
    const std::shared_ptr<Connection::State>& s, std::string bytes) {
  const Protocol::Token token = s->protocol.expect_reply();
  auto w = wait_for(s, token);
  s->outbox.push_back(std::move(bytes));
  if (!s->writing) {
    s->writing = true;
    asio::co_spawn(s->executor, write_loop(s, s->generation), asio::detached);
  }
  return {token, std::move(w)};
}

// Waits for a waiter's result or its deadline (or the caller's cancellation); throws
// ClientError when none came, after telling the protocol to drop a late answer.
asio::awaitable<Protocol::Completion> await_result(std::shared_ptr<Connection::State> s,
                                                   Protocol::Token token,
                                                   std::shared_ptr<Connection::State::Waiter> w,
                                                   std::chrono::milliseconds timeout,
                                                   std::string what) {
  std::error_code ec;
  if (!w->result) {  // a job's result may have come with the reply, before this wait
    w->signal.expires_after(timeout);
    std::tie(ec) = co_await w->signal.async_wait(use_tuple);
  }
  if (w->result) {
    co_return std::move(*w->result);
  }
  s->waiters.erase(token);
  s->protocol.abandon(token);
  if (!s->open) {
    throw ClientError(what + ": " + s->closed_why);
  }
  if (!ec) {
    throw ClientError(what + ": no answer within " + std::to_string(timeout.count()) + " ms");
  }
  throw ClientError(what + ": cancelled");
}

// One command and its reply, whatever it says; no bookkeeping of what the command means.
asio::awaitable<Reply> round_trip(std::shared_ptr<Connection::State> s, std::string bytes,
                                  std::chrono::milliseconds timeout, std::string what) {
  if (!s->open) {
    throw ClientError(what + ": " + s->closed_why);
  }
  auto [token, w] = send_bytes(s, std::move(bytes));
  Protocol::Completion c = co_await await_result(s, token, w, timeout, std::move(what));
  co_return std::move(*c.reply);
}

// TCP connect, greeting, authentication; on success the connection is open.
asio::awaitable<void> establish(std::shared_ptr<Connection::State> s) {
  using namespace asio::experimental::awaitable_operators;
  const ConnectOptions& options = s->options;
  const std::string where = options.host + ":" + std::to_string(options.port);
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  asio::ip::tcp::resolver resolver(s->executor);
  auto [rec, endpoints] =
      co_await resolver.async_resolve(options.host, std::to_string(options.port), use_tuple);
  if (rec) {
    throw ClientError("cannot resolve " + options.host + ": " + rec.message());
  }
  s->socket = asio::ip::tcp::socket(s->executor);
  asio::steady_timer timer(s->executor);
  timer.expires_at(deadline);
  auto result = co_await (asio::async_connect(s->socket, endpoints, use_tuple) ||
                          timer.async_wait(use_tuple));
  if (result.index() == 1) {
    throw ClientError("cannot connect to " + where + ": timed out");
  }
  if (auto [ec, ep] = std::get<0>(result); ec) {
    throw ClientError("cannot connect to " + where + ": " + ec.message());
  }
  std::error_code ignored;
  s->socket.set_option(asio::ip::tcp::no_delay(true), ignored);
  s->protocol.reset();
  s->open = true;
  s->closed_why.clear();
  asio::co_spawn(s->executor, read_loop(s, ++s->generation), asio::detached);
  const auto left = [&] {
    return std::max(std::chrono::milliseconds(1),
                    std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now()));
  };
  const auto fail = [&](const std::string& why) {
    connection_lost(s, why);
    return ClientError(why);
  };
  // The greeting is the answer to an implicit first command.
  const Protocol::Token greeting_token = s->protocol.expect_reply();
  auto greeting_waiter = wait_for(s, greeting_token);
  const Reply greeting = *(co_await await_result(s, greeting_token, greeting_waiter, left(),
                                                 "waiting for the greeting from " + where))
                              .reply;
  if (greeting.content_type != "auth/request") {
    throw fail("the server did not ask for authentication (" + greeting.content_type + ")");
  }
  const std::string login = options.user.empty()
                                ? "auth " + options.password
                                : "userauth " + options.user + ":" + options.password;
  if (!is_single_line(login)) {
    throw fail("refused: the credentials contain a line break");
  }
  const Reply accepted = co_await round_trip(s, login + "\n\n", left(), "authenticating");
  if (accepted.text() != "+OK accepted") {
    throw fail("authentication refused: " + accepted.text());
  }
}

std::chrono::milliseconds jittered(std::chrono::milliseconds delay, double jitter) {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  if (jitter <= 0) {
    return delay;
  }
  std::uniform_real_distribution<double> factor(1.0 - jitter, 1.0 + jitter);
  return std::chrono::milliseconds(
      static_cast<std::int64_t>(static_cast<double>(delay.count()) * factor(generator)));
}

asio::awaitable<void> reconnect_loop(std::shared_ptr<Connection::State> s) {
  const ReconnectPolicy& policy = s->options.reconnect;
  std::chrono::milliseconds delay = policy.initial_delay;
  unsigned attempts = 0;
  const std::string lost_why = s->closed_why;
  while (!s->closed_by_client) {
    s->reconnect_timer.expires_after(jittered(delay, policy.jitter));
    co_await s->reconnect_timer.async_wait(use_tuple);
    if (s->closed_by_client) {
      break;
    }
    try {
      co_await establish(s);
      // What the server was asked to send, asked again: each command once, from the net
      // state (not a replay of history), and not noted again.
      for (const std::string& line : s->subscriptions.restore_commands()) {
        co_await round_trip(s, serialize_command(line, {}, {}), s->options.timeout, line);
      }
      s->reconnecting = false;
      ++s->reconnects;
      if (policy.on_resync) {
        if (auto owner = s->owner.lock()) {
          try {
            policy.on_resync(*owner);
          } catch (...) {
            // The program's callback failing is not the connection's business.
          }
        }
      }
      co_return;
    } catch (const ClientError& e) {
      ++attempts;
      if (s->open) {
        connection_lost(s, e.what());
      }
      s->closed_why = lost_why + "; reconnecting: " + e.what();
      if (policy.max_attempts != 0 && attempts >= policy.max_attempts) {
        s->closed_why = lost_why + "; gave up reconnecting after " + std::to_string(attempts) +
                        " attempts: " + e.what();
        break;
      }
    }
    const auto next = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::duration<double, std::milli>(static_cast<double>(delay.count()) *
                                                  policy.multiplier));
    delay = std::min(std::max(next, delay), policy.max_delay);
  }
  s->reconnecting = false;
  Connection::State::wake_all(s->event_readers);
  Connection::State::wake_all(s->log_readers);
}

// Waits until `ready()` or the deadline, woken through `readers`. False on timeout.
template <typename Ready>
asio::awaitable<void> wait_until_ready(Connection::State& s,
                                       std::vector<asio::steady_timer*>& readers,
                                       std::chrono::milliseconds timeout, Ready ready) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  asio::steady_timer timer(s.executor);
  while (!ready() && (s.open || s.reconnecting) && std::chrono::steady_clock::now() < deadline) {
    timer.expires_at(deadline);
    readers.push_back(&timer);
    auto [ec] = co_await timer.async_wait(use_tuple);
    std::erase(readers, &timer);
    if (ec && !ready()) {
      const asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
      if (state.cancelled() != asio::cancellation_type::none) {
        throw ClientError("waiting: cancelled");
      }
    }
  }
}

}  // namespace

Connection::Connection(asio::any_io_executor executor, ConnectOptions options)
    : state_(std::make_shared<State>(executor, std::move(options))) {}

Connection::~Connection() {
  close();
}

asio::awaitable<std::shared_ptr<Connection>> Connection::connect(asio::any_io_executor executor,
                                                                 ConnectOptions options) {
  std::shared_ptr<Connection> c(new Connection(executor, std::move(options)));
  c->state_->owner = c;
  const std::shared_ptr<State>& s = c->state_;
  co_await establish(s);
  s->established_once = true;
  if (!s->open && s->options.reconnect.enabled && !s->reconnecting) {
    // Lost between the authentication and here: the policy applies already.
    s->reconnecting = true;
    asio::co_spawn(s->executor, reconnect_loop(s), asio::detached);
  }
  co_return c;
}

std::shared_ptr<Connection> Connection::adopt(asio::ip::tcp::socket socket,
                                              ConnectOptions options) {
  std::shared_ptr<Connection> c(new Connection(socket.get_executor(), std::move(options)));
  const std::shared_ptr<State>& s = c->state_;
  s->owner = c;
  s->adopted = true;
  s->socket = std::move(socket);
  std::error_code ignored;
  s->socket.set_option(asio::ip::tcp::no_delay(true), ignored);
  s->open = true;
  asio::co_spawn(s->executor, read_loop(s, ++s->generation), asio::detached);
  return c;
}

asio::awaitable<Reply> Connection::command(std::string command, Headers headers, std::string body,
                                           Timeout timeout) {
  std::shared_ptr<State> s = state_;
  std::string bytes = serialize_command(command, headers, body);
  if (!s->open || s->reconnecting) {
    throw ClientError(command + ": not connected" +
                      (s->closed_why.empty() ? "" : " (" + s->closed_why + ")"));
  }
  Reply r = co_await round_trip(s, std::move(bytes), timeout.value_or(s->options.timeout), command);
  if (r.ok()) {
    s->subscriptions.note(command);
  }
  co_return r;
}

asio::awaitable<Reply> Connection::checked_line(std::string command, Timeout timeout) {
  // Named locals: GCC 12 mishandles temporaries (braced lists, ?:) inside a co_await.
  Headers no_headers;
  std::string no_body;
  co_return co_await checked(std::move(command), std::move(no_headers), std::move(no_body),
                             timeout);
}

asio::awaitable<Reply> Connection::checked(std::string command, Headers headers, std::string body,
                                           Timeout timeout) {
  Reply r = co_await this->command(command, std::move(headers), std::move(body), timeout);
  if (!r.ok()) {
    throw ClientError(command + ": " + (r.text().empty() ? r.body : r.text()));
  }
  co_return r;
}

asio::awaitable<std::string> Connection::api(std::string command, Timeout timeout) {
  Reply r = co_await this->command("api " + command, {}, {}, timeout);
  if (r.content_type != "api/response") {
    throw ClientError("api " + command + ": " + r.text());
  }
  co_return std::move(r.body);
}

asio::awaitable<BackgroundJob> Connection::bgapi(std::string command, Timeout timeout) {
  std::shared_ptr<State> s = state_;
  const auto limit = timeout.value_or(s->options.timeout);
  if (!s->subscriptions.subscribed("BACKGROUND_JOB")) {
    // In the connection's format: `event plain ...` would switch a json connection to plain.
    const Reply sub = co_await this->command(
        "event " + s->subscriptions.format() + " BACKGROUND_JOB", {}, {}, limit);
    if (!sub.ok()) {
      throw ClientError("bgapi needs BACKGROUND_JOB events: " + sub.text());
    }
  }
  // Registered before the command is written: the job's event may arrive in the same read
  // as the reply, and must find its waiter.
  const std::string job_uuid = make_job_uuid();
  const Protocol::Token token = s->protocol.expect_job(job_uuid);
  auto job = wait_for(s, token);
  // A named vector: GCC 12 cannot keep an initializer list alive across co_await.
  Headers job_header;
  job_header.emplace_back("Job-UUID", job_uuid);
  Reply accepted;
  try {
    accepted = co_await this->command("bgapi " + command, std::move(job_header), {}, limit);
  } catch (...) {
    s->waiters.erase(token);
    s->protocol.abandon(token);
    throw;
  }
  if (!accepted.ok()) {
    s->waiters.erase(token);
    s->protocol.abandon(token);
    throw ClientError("bgapi " + command + ": " + accepted.text());
  }
  Protocol::Completion c = co_await await_result(s, token, job, limit, "bgapi " + command);
  co_return std::move(*c.job);
}

asio::awaitable<Reply> Connection::events(std::string format, std::string names, Timeout timeout) {
  std::string line = "event " + format + " " + names;
  co_return co_await checked_line(std::move(line), timeout);
}

asio::awaitable<Reply> Connection::nixevent(std::string names, Timeout timeout) {
  std::string line = "nixevent " + names;
  co_return co_await checked_line(std::move(line), timeout);
}

asio::awaitable<Reply> Connection::noevents(Timeout timeout) {
  std::string line = "noevents";
  co_return co_await checked_line(std::move(line), timeout);
}

asio::awaitable<Reply> Connection::filter(std::string header, std::string value, Timeout timeout) {
  std::string line = "filter " + header + " " + value;
  co_return co_await checked_line(std::move(line), timeout);
}

asio::awaitable<Reply> Connection::filter_delete(std::string header, std::string value,
                                                 Timeout timeout) {
  std::string line = "filter delete " + header + (value.empty() ? "" : " " + value);
  co_return co_await checked_line(std::move(line), timeout);
}

asio::awaitable<Reply> Connection::myevents(std::string uuid, std::string format, Timeout timeout) {
  std::string line = "myevents";
  for (const std::string* word : {&uuid, &format}) {
    if (!word->empty()) {
      line += " " + *word;
    }
  }
  co_return co_await checked_line(std::move(line), timeout);
}

asio::awaitable<Reply> Connection::divert_events(bool on, Timeout timeout) {
  std::string line = on ? "divert_events on" : "divert_events off";
  co_return co_await checked_line(std::move(line), timeout);
}

asio::awaitable<Reply> Connection::sendevent(std::string name, Headers headers, std::string body,
                                             Timeout timeout) {
  std::string line = "sendevent " + name;
  co_return co_await checked(std::move(line), std::move(headers), std::move(body), timeout);
}

asio::awaitable<Reply> Connection::sendmsg(std::string uuid, Headers headers, std::string body,
                                           Timeout timeout) {
  std::string line = uuid.empty() ? "sendmsg" : "sendmsg " + uuid;
  co_return co_await checked(std::move(line), std::move(headers), std::move(body), timeout);
}

asio::awaitable<Reply> Connection::hangup(std::string cause, std::string uuid, Timeout timeout) {
  Headers headers;
  headers.emplace_back("call-command", "hangup");
  headers.emplace_back("hangup-cause", cause);
  std::string no_body;
  co_return co_await sendmsg(std::move(uuid), std::move(headers), std::move(no_body), timeout);
}

asio::awaitable<Reply> Connection::log(std::string level, Timeout timeout) {
  std::string line = "log " + level;
  co_return co_await checked_line(std::move(line), timeout);
}

asio::awaitable<Reply> Connection::nolog(Timeout timeout) {
  std::string line = "nolog";
  co_return co_await checked_line(std::move(line), timeout);
}

asio::awaitable<Reply> Connection::linger(std::optional<int> seconds, Timeout timeout) {
  std::string line = seconds ? "linger " + std::to_string(*seconds) : "linger";
  co_return co_await checked_line(std::move(line), timeout);
}

asio::awaitable<Reply> Connection::nolinger(Timeout timeout) {
  std::string line = "nolinger";
  co_return co_await checked_line(std::move(line), timeout);
}

asio::awaitable<std::optional<event::Event>> Connection::next_event(Timeout timeout) {
  std::shared_ptr<State> s = state_;
  co_await wait_until_ready(*s, s->event_readers, timeout.value_or(kForever),
                            [&] { return !s->protocol.events().empty(); });
  auto& events = s->protocol.events();
  if (events.empty()) {
    if (!s->open && !s->reconnecting) {
      throw ClientError("no more events: " + s->closed_why);
    }
    co_return std::nullopt;
  }
  event::Event e = std::move(events.front());
  events.pop_front();
  co_return e;
}

asio::awaitable<std::optional<LogLine>> Connection::next_log(Timeout timeout) {
  std::shared_ptr<State> s = state_;
  co_await wait_until_ready(*s, s->log_readers, timeout.value_or(kForever),
                            [&] { return !s->protocol.logs().empty(); });
  auto& logs = s->protocol.logs();
  if (logs.empty()) {
    if (!s->open && !s->reconnecting) {
      throw ClientError("no more log lines: " + s->closed_why);
    }
    co_return std::nullopt;
  }
  LogLine l = std::move(logs.front());
  logs.pop_front();
  co_return l;
}

asio::awaitable<event::Event> Connection::channel_data(Timeout timeout) {
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

asio::awaitable<event::Event> Connection::execute(std::string application, std::string argument,
                                                  std::string uuid, Timeout timeout) {
  std::shared_ptr<State> s = state_;
  const auto limit = timeout.value_or(s->options.timeout);
  const std::string event_uuid = make_job_uuid();
  Headers headers;
  headers.emplace_back("call-command", "execute");
  headers.emplace_back("execute-app-name", application);
  if (!argument.empty()) {
    headers.emplace_back("execute-app-arg", argument);
  }
  headers.emplace_back("Event-UUID", event_uuid);
  // Registered before sending: in outbound static mode the events follow the reply at once.
  const Protocol::Token token = s->protocol.expect_execution(event_uuid);
  auto done = wait_for(s, token);
  const std::string line = uuid.empty() ? "sendmsg" : "sendmsg " + uuid;
  Reply accepted;
  try {
    accepted = co_await this->command(line, std::move(headers), {}, limit);
  } catch (...) {
    s->waiters.erase(token);
    s->protocol.abandon(token);
    throw;
  }
  if (!accepted.ok()) {
    s->waiters.erase(token);
    s->protocol.abandon(token);
    throw ClientError("execute " + application + ": " + accepted.text());
  }
  Protocol::Completion c = co_await await_result(s, token, done, limit, "execute " + application);
  co_return std::move(*c.executed);
}

std::uint64_t Connection::dropped_events() const {
  return state_->protocol.dropped_events();
}

bool Connection::connected() const {
  return state_->open && !state_->reconnecting;
}

bool Connection::reconnecting() const {
  return state_->reconnecting;
}

std::uint64_t Connection::reconnects() const {
  return state_->reconnects;
}

int Connection::native_handle() const {
  return state_->socket.is_open() ? state_->socket.native_handle() : -1;
}

void Connection::close() {
  if (!state_) {
    return;
  }
  State& s = *state_;
  s.closed_by_client = true;
  s.reconnect_timer.cancel();
  if (s.open) {
    connection_lost(state_, "closed by the client");
  } else {
    s.reconnecting = false;
    if (s.closed_why.empty()) {
      s.closed_why = "closed by the client";
    }
    State::wake_all(s.event_readers);
    State::wake_all(s.log_readers);
  }
}

OutboundSession::OutboundSession(std::shared_ptr<Connection> connection)
    : connection_(std::move(connection)) {}

asio::awaitable<event::Event> OutboundSession::connect(Connection::Timeout timeout) {
  channel_ = co_await connection_->channel_data(timeout);
  co_return channel_;
}

std::string OutboundSession::uuid() const {
  return std::string(channel_.header_or_empty("Unique-ID"));
}

asio::awaitable<Reply> OutboundSession::myevents(std::string format, Connection::Timeout timeout) {
  co_return co_await connection_->myevents({}, std::move(format), timeout);
}

asio::awaitable<Reply> OutboundSession::linger(std::optional<int> seconds,
                                               Connection::Timeout timeout) {
  co_return co_await connection_->linger(seconds, timeout);
}

asio::awaitable<event::Event> OutboundSession::execute(std::string application,
                                                       std::string argument,
                                                       Connection::Timeout timeout) {
  co_return co_await connection_->execute(std::move(application), std::move(argument), {}, timeout);
}

asio::awaitable<Reply> OutboundSession::hangup(std::string cause, Connection::Timeout timeout) {
  co_return co_await connection_->hangup(std::move(cause), {}, timeout);
}

asio::awaitable<Reply> OutboundSession::resume(Connection::Timeout timeout) {
  co_return co_await connection_->command("resume", {}, {}, timeout);
}

asio::awaitable<std::optional<std::string>> OutboundSession::getvar(std::string name,
                                                                    Connection::Timeout timeout) {
  const Reply r = co_await connection_->command("getvar " + name, {}, {}, timeout);
  const std::string value = r.text();
  if (value.empty() || value == "-ERR command not found") {
    co_return std::nullopt;
  }
  co_return value;
}

asio::awaitable<Reply> OutboundSession::exit(Connection::Timeout timeout) {
  co_return co_await connection_->command("exit", {}, {}, timeout);
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
    auto session =
        std::make_shared<OutboundSession>(Connection::adopt(std::move(socket), impl->options));
    asio::co_spawn(impl->executor, impl->handler(std::move(session)), asio::detached);
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
