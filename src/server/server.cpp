#include "eventsocket/server/server.hpp"

#include "eventsocket/server/stats.hpp"

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <list>
#include <map>
#include <span>
#include <unordered_map>
#include <utility>

namespace eventsocket::server {

namespace {
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

// Every connection of an I/O thread reads into that thread's buffer: a read is copied into
// the session's parser right away, so an idle connection owns no read buffer at all.
std::span<char> thread_read_buffer() {
  thread_local std::vector<char> buffer(64 * 1024);
  return buffer;
}

std::string format_rate(double rate) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", rate);
  return text;
}

// The connection whose commands this thread is running right now: its output is written
// when they are done (flush_inline) rather than by waking its writer for each reply.
thread_local const void* t_running_commands = nullptr;

// A token bucket: `rate` per second, bursts of up to max(1, rate).
class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;
  explicit TokenBucket(double rate = 0) : rate_(rate), tokens_(burst()), last_(Clock::now()) {}
  double burst() const { return std::max(1.0, rate_); }
  void refill(Clock::time_point now) {
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst(), tokens_ + elapsed * rate_);
    last_ = now;
  }
  double tokens() const { return tokens_; }
  void spend(double n) { tokens_ -= n; }
  // How long until one whole token is there.
  std::chrono::nanoseconds time_to_one() const {
    if (tokens_ >= 1 || rate_ <= 0) {
      return {};
    }
    return std::chrono::nanoseconds(static_cast<std::int64_t>((1 - tokens_) / rate_ * 1e9) + 1);
  }
  // Full again: the bucket may be forgotten.
  bool full_at(Clock::time_point now) const {
    return tokens_ + std::chrono::duration<double>(now - last_).count() * rate_ >= burst();
  }

 private:
  double rate_;
  double tokens_;
  Clock::time_point last_;
};

// Completion of a detached coroutine: an exception escaping one is a bug; say so loudly.
auto report_exceptions(core::Logger& log, const char* what) {
  return [&log, what](std::exception_ptr error) {
    if (!error) {
      return;
    }
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      log.log(core::LogLevel::crit, "server.cpp", what, __LINE__,
              std::string("coroutine failed: ") + e.what());
    }
  };
}
}  // namespace

// One client connection: a Session (the protocol) driven by three coroutines on its I/O
// thread's event loop (one thread per loop, so they never run at once): reader (socket ->
// session -> commands), writer (queued output -> socket, woken by a timer used as a
// condition variable) and the auth deadline.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Server& server, core::Switch& sw, asio::ip::tcp::socket socket,
             const SessionOptions& options, std::uint64_t id, double command_rate)
      : server_(server),
        switch_(sw),
        socket_(std::move(socket)),
        strand_(socket_.get_executor()),
        wake_(strand_),
        api_done_(strand_),
        auth_deadline_(strand_),
        kill_deadline_(strand_),
        throttle_(strand_),
        command_rate_(command_rate),
        command_bucket_(command_rate),
        id_(id),
        started_(std::chrono::steady_clock::now()),
        session_(sw, options, peer_text()) {}

  // finish() has normally unsubscribed already: then nothing here takes the bus's or the
  // logger's lock, so the last reference may be dropped anywhere (even inside a publish).
  ~Connection() {
    if (!finished_) {
      session_.leave_bus();
    }
  }

  void start(bool acl_allowed, std::string_view rejection, std::chrono::milliseconds auth_timeout,
             std::chrono::milliseconds login_timeout) {
    auto self = shared_from_this();
    session_.set_output_ready([weak = std::weak_ptr<Connection>(self)] {
      if (auto c = weak.lock()) {
        c->wake_writer();
      }
    });
    if (acl_allowed) {
      session_.start_inbound();
      asio::co_spawn(strand_, reader(self), report_exceptions(switch_.logger(), "reader"));
      asio::co_spawn(strand_, watch_auth(self, auth_timeout, login_timeout),
                     report_exceptions(switch_.logger(), "watch_auth"));
    } else {
      session_.reject_by_acl(rejection);
    }
    asio::co_spawn(strand_, writer(self), report_exceptions(switch_.logger(), "writer"));
  }

  // An outbound connection the socket application made for `channel_uuid`.
  void start_outbound(const std::string& channel_uuid, bool async, bool full,
                      std::chrono::milliseconds first_packet_timeout) {
    auto self = shared_from_this();
    session_.set_output_ready([weak = std::weak_ptr<Connection>(self)] {
      if (auto c = weak.lock()) {
        c->wake_writer();
      }
    });
    session_.start_outbound(channel_uuid, async, full);
    asio::co_spawn(strand_, reader(self), report_exceptions(switch_.logger(), "reader"));
    asio::co_spawn(strand_, watch_auth(self, first_packet_timeout, {}),
                   report_exceptions(switch_.logger(), "watch_auth"));
    asio::co_spawn(strand_, writer(self), report_exceptions(switch_.logger(), "writer"));
  }

  // From any thread: the server is stopping.
  void shutdown() {
    asio::post(strand_, [self = shared_from_this()] {
      self->session_.on_shutdown();
      self->wake_.cancel();
    });
  }

  std::string peer_text() const {
    std::error_code ec;
    const auto endpoint = socket_.remote_endpoint(ec);
    if (ec) {
      return "unknown";
    }
    auto address = endpoint.address();
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
      address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    }
    return address.to_string();
  }

  // For `event_socket_stats`: called from any thread.
  ListenerStats snapshot() {
    ListenerStats out;
    out.id = id_;
    out.peer = session_.peer_address();
    out.outbound = session_.outbound();
    out.authenticated = session_.authenticated();
    out.session = session_.stats();
    const auto now = std::chrono::steady_clock::now();
    out.age_seconds = std::chrono::duration<double>(now - started_).count();
    std::lock_guard lock(rate_mutex_);
    const auto since = rate_at_ ? *rate_at_ : started_;
    const double seconds = std::chrono::duration<double>(now - since).count();
    if (seconds > 0) {
      out.events_per_second = static_cast<double>(out.session.events_sent - rate_events_) / seconds;
    }
    rate_at_ = now;
    rate_events_ = out.session.events_sent;
    return out;
  }

 private:
  void wake_writer() {
    if (t_running_commands == this) {
      wake_deferred_ = true;  // flush_inline() follows the commands
      return;
    }
    if (!wake_pending_.exchange(true)) {
      asio::post(strand_, [self = shared_from_this()] {
        self->wake_pending_ = false;
        self->wake_.cancel();
        self->arm_kill_deadline();
      });
    }
  }

  // A killed listener (lost events) gets its notice written if the client reads within a
  // short grace period; then the socket is closed anyway, cancelling a write stuck on a
  // full socket, so a client that never reads again cannot keep its connection.
  void arm_kill_deadline() {
    if (kill_deadline_armed_ || !session_.killed()) {
      return;
    }
    kill_deadline_armed_ = true;
    kill_deadline_.expires_after(std::chrono::seconds(2));
    kill_deadline_.async_wait([self = shared_from_this()](std::error_code ec) {
      if (!ec) {
        std::error_code ignored;
        self->socket_.close(ignored);
      }
    });
  }

  // Marks the synchronous stretches in which this thread runs the connection's commands.
  class RunningCommands {
   public:
    explicit RunningCommands(const Connection* c) : previous_(t_running_commands) {
      t_running_commands = c;
    }
    ~RunningCommands() { t_running_commands = previous_; }
    RunningCommands(const RunningCommands&) = delete;
    RunningCommands& operator=(const RunningCommands&) = delete;

   private:
    const void* previous_;
  };

  // After commands ran on this thread: write their output now, from here, instead of waking
  // the writer (a handler round trip per reply). Only while the writer is idle; what the
  // socket does not take at once goes to the writer, which sends it before anything else.
  //
  // Not when these commands fed events to subscribers (sendevent, call commands): then the
  // writer is woken like every subscriber's, behind them, so a publisher's next commands
  // wait for its events to go out and its subscribers' queues stay short.
  void flush_inline() {
    const bool wake = std::exchange(wake_deferred_, false);
    const bool published = switch_.bus().delivered_count() != published_before_;
    if (published || finished_ || !writer_idle_ || broken_ || close_pending_ || !spill_.empty()) {
      if (wake) {
        wake_writer();
      }
      return;
    }
    inline_batch_.clear();
    if (!session_.take_output(inline_batch_)) {
      return;
    }
    inline_buffers_.clear();
    for (std::string_view b : inline_batch_.buffers) {
      inline_buffers_.emplace_back(b.data(), b.size());
    }
    std::error_code ec;
    const std::size_t written = asio::write(socket_, inline_buffers_, ec);
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
      broken_ = true;  // the writer ends the connection
    } else if (written < inline_batch_.bytes) {
      std::size_t skip = written;
      for (std::string_view b : inline_batch_.buffers) {
        const std::size_t from = std::min(skip, b.size());
        skip -= from;
        spill_.append(b.substr(from));
      }
    }
    close_pending_ = inline_batch_.close_after;
    inline_batch_.clear();
    if (broken_ || close_pending_ || !spill_.empty()) {
      wake_writer();
    }
  }

  asio::awaitable<void> reader(std::shared_ptr<Connection>) {
    std::error_code ec;
    socket_.non_blocking(true, ec);
    bool open = !ec;
    while (open) {
      // Wait until readable, then read into the thread's buffer (see thread_read_buffer).
      auto [wait_error] = co_await socket_.async_wait(asio::socket_base::wait_read, use_tuple);
      if (wait_error) {
        session_.on_peer_closed();
        break;
      }
      // Read until the socket is empty: Asio does not remember for a later async_wait that
      // the socket became readable while the loop polled during a command's wait, so
      // stopping earlier could wait forever for data that is already here.
      for (int reads = 1;; ++reads) {
        const std::span<char> buffer = thread_read_buffer();
        std::error_code read_error;
        const std::size_t n =
            socket_.read_some(asio::buffer(buffer.data(), buffer.size()), read_error);
        if (read_error == asio::error::would_block || read_error == asio::error::try_again) {
          break;
        }
        if (read_error) {
          session_.on_peer_closed();
          open = false;
          break;
        }
        session_.feed(std::string_view(buffer.data(), n));
        published_before_ = switch_.bus().delivered_count();
        const bool more = co_await drive();
        flush_inline();
        if (!more) {
          open = false;
          break;
        }
        if (reads % 4 == 0) {
          // A client that keeps sending must not keep the thread from its other connections.
          co_await asio::post(strand_, asio::use_awaitable);
        }
      }
    }
    auth_deadline_.cancel();
  }

  // Runs the session's commands; slow API commands go to the switch's worker pool so this
  // I/O thread keeps serving other connections. False once the session is over.
  asio::awaitable<bool> drive() {
    for (;;) {
      std::size_t budget = 0;
      if (command_rate_ > 0) {
        command_bucket_.refill(std::chrono::steady_clock::now());
        budget = static_cast<std::size_t>(std::max(0.0, std::floor(command_bucket_.tokens())));
        session_.set_command_budget(budget);
      }
      Session::Step step;
      {
        RunningCommands running(this);
        step = session_.step();
      }
      if (command_rate_ > 0) {
        command_bucket_.spend(static_cast<double>(budget - session_.command_budget().value_or(0)));
      }
      if (step.kind == Session::Step::Kind::idle) {
        co_return true;
      }
      if (step.kind == Session::Step::Kind::close) {
        co_return false;
      }
      if (step.kind == Session::Step::Kind::throttled) {
        // command-rate: nothing more is read from this client until its next command may
        // run, so a flood slows down the flooder only (TCP pushes back).
        server_.note_limit("command-rate", "throttling commands from " + session_.peer_address() +
                                               " (command-rate " + format_rate(command_rate_) +
                                               "/s)");
        flush_inline();
        throttle_.expires_after(command_bucket_.time_to_one());
        co_await throttle_.async_wait(use_tuple);
        if (finished_) {
          co_return false;
        }
        continue;
      }
      if (step.kind == Session::Step::Kind::run_inline) {
        // Static outbound sendmsg: runs on the channel's own flow; the reply waits for it.
        api_ready_ = false;
        if (const core::ChannelPtr channel = switch_.channels().find(step.channel_uuid)) {
          auto self = shared_from_this();
          switch_.calls().run_inline(channel, std::move(step.message), [self] {
            asio::post(self->strand_, [self] {
              self->api_ready_ = true;
              self->api_done_.cancel();
            });
          });
        } else {
          api_ready_ = true;
        }
        flush_inline();
        while (!api_ready_) {
          api_done_.expires_at(asio::steady_timer::time_point::max());
          co_await api_done_.async_wait(use_tuple);
        }
        RunningCommands running(this);
        session_.complete_inline();
        continue;
      }
      if (!switch_.api().may_block(step.api.command)) {
        // Quick commands run here: two thread hand-offs would cost more than the command.
        RunningCommands running(this);
        session_.complete_api(step.api, switch_.execute_api(step.api.command, step.api.args));
        continue;
      }
      auto self = shared_from_this();
      const bool queued = switch_.jobs().try_submit([self, api = step.api] {
        core::ApiResult result = self->switch_.execute_api(api.command, api.args);
        asio::post(self->strand_, [self, result = std::move(result)]() mutable {
          self->api_result_ = std::move(result);
          self->api_ready_ = true;
          self->api_done_.cancel();
        });
      });
      if (queued) {
        api_ready_ = false;
        flush_inline();
        while (!api_ready_) {
          api_done_.expires_at(asio::steady_timer::time_point::max());
          co_await api_done_.async_wait(use_tuple);
        }
      } else {
        api_result_ = {true, "-ERR too many api commands queued, try again later\n"};
      }
      RunningCommands running(this);
      session_.complete_api(step.api, api_result_);
    }
  }

  asio::awaitable<void> writer(std::shared_ptr<Connection>) {
    Session::OutputBatch batch;
    std::vector<asio::const_buffer> buffers;
    for (;;) {
      if (broken_) {
        break;
      }
      if (!spill_.empty()) {  // what flush_inline() could not write at once goes first
        auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(spill_), use_tuple);
        spill_.clear();
        if (ec) {
          break;
        }
        continue;
      }
      if (close_pending_) {
        break;
      }
      batch.clear();
      if (!session_.take_output(batch)) {
        // Idle; a lingering connection also wakes when its linger time is over.
        const auto linger_end = session_.linger_deadline();
        wake_.expires_at(linger_end ? *linger_end : asio::steady_timer::time_point::max());
        writer_idle_ = true;
        co_await wake_.async_wait(use_tuple);
        writer_idle_ = false;
        if (linger_end && std::chrono::steady_clock::now() >= *linger_end) {
          session_.on_linger_expired();
        }
        continue;
      }
      if (!batch.buffers.empty()) {
        buffers.clear();
        for (std::string_view b : batch.buffers) {
          buffers.emplace_back(b.data(), b.size());
        }
        auto [ec, n] = co_await asio::async_write(socket_, buffers, use_tuple);
        if (ec) {
          break;
        }
      }
      if (batch.close_after) {
        break;
      }
    }
    finish();
  }

  // FreeSWITCH's deadline for the first packet and (ours, when set) the login deadline, both
  // counted from the accept; whichever comes first is checked first.
  asio::awaitable<void> watch_auth(std::shared_ptr<Connection>, std::chrono::milliseconds timeout,
                                   std::chrono::milliseconds login_timeout) {
    bool first_packet_pending = true;
    bool login_pending = login_timeout.count() > 0 && !session_.outbound();
    while (first_packet_pending || login_pending) {
      const bool first_packet_next =
          first_packet_pending && (!login_pending || timeout <= login_timeout);
      auth_deadline_.expires_at(started_ + (first_packet_next ? timeout : login_timeout));
      auto [ec] = co_await auth_deadline_.async_wait(use_tuple);
      if (ec) {
        co_return;
      }
      if (first_packet_next) {
        first_packet_pending = false;
        if (session_.awaiting_first_packet()) {
          if (!session_.outbound()) {
            server_.note_limit("auth-timeout", "closing " + session_.peer_address() +
                                                   ": nothing received within " +
                                                   std::to_string(timeout.count()) + " ms");
          }
          session_.on_auth_timeout();
          wake_.cancel();
          co_return;
        }
      } else {
        login_pending = false;
        if (session_.awaiting_auth()) {
          server_.note_limit("login-timeout", "closing " + session_.peer_address() +
                                                  ": not logged in within " +
                                                  std::to_string(login_timeout.count()) + " ms");
          session_.on_login_timeout();
          wake_.cancel();
          co_return;
        }
      }
    }
  }

  void finish() {
    session_.leave_bus();
    session_.stop_log_sink();
    finished_ = true;
    session_.on_closed();
    std::error_code ec;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    auth_deadline_.cancel();
    api_done_.cancel();
    kill_deadline_.cancel();
    throttle_.cancel();
    server_.on_connection_closed(this, session_.stats());
  }

  bool finished_ = false;  // finish() ran: unsubscribed from the bus and the logger
  Server& server_;
  core::Switch& switch_;
  asio::ip::tcp::socket socket_;
  asio::any_io_executor strand_;  // the I/O thread's loop: one thread, so a strand already
  asio::steady_timer wake_;
  asio::steady_timer api_done_;
  asio::steady_timer auth_deadline_;
  asio::steady_timer kill_deadline_;
  asio::steady_timer throttle_;
  bool kill_deadline_armed_ = false;
  // Inline writes (flush_inline) and the writer's state, all on the connection's thread.
  bool writer_idle_ = false;
  bool wake_deferred_ = false;
  std::uint64_t published_before_ = 0;  // the bus's deliveries when these commands started
  bool broken_ = false;                 // a write failed: the writer ends the connection
  bool close_pending_ = false;          // the last packet went out inline: the writer ends it
  std::string spill_;                   // written inline only in part: the writer sends the rest
  Session::OutputBatch inline_batch_;
  std::vector<asio::const_buffer> inline_buffers_;
  double command_rate_;
  TokenBucket command_bucket_;
  const std::uint64_t id_;
  const std::chrono::steady_clock::time_point started_;
  std::mutex rate_mutex_;  // the events/s snapshot state below
  std::optional<std::chrono::steady_clock::time_point> rate_at_;
  std::uint64_t rate_events_ = 0;
  std::atomic<bool> wake_pending_{false};
  core::ApiResult api_result_;
  bool api_ready_ = false;
  Session session_;
};

// Counts what the limits refuse and logs the first refusal of each limit at once, then at
// most one summary per interval: a flood costs a few log lines, not one per connection.
class LimitLog {
 public:
  LimitLog(core::Logger& log, std::chrono::seconds interval) : log_(log), interval_(interval) {}

  void note(std::string_view limit, const std::string& detail) {
    std::string line;
    {
      std::lock_guard lock(mutex_);
      Entry& e = entries_[std::string(limit)];
      const auto now = std::chrono::steady_clock::now();
      if (e.logged && now - e.last_logged < interval_) {
        ++e.suppressed;
        return;
      }
      line = detail;
      if (e.suppressed > 0) {
        line += " (" + std::to_string(e.suppressed) + " more " + std::string(limit) +
                " refusals since the last report)";
      }
      e.logged = true;
      e.last_logged = now;
      e.suppressed = 0;
    }
    log_.log(core::LogLevel::warning, "server.cpp", "limit", __LINE__, line);
  }

  // From a timer: what was counted but not yet reported.
  void flush() {
    std::vector<std::string> lines;
    {
      std::lock_guard lock(mutex_);
      const auto now = std::chrono::steady_clock::now();
      for (auto& [limit, e] : entries_) {
        if (e.suppressed > 0 && now - e.last_logged >= interval_) {
          lines.push_back(
              std::to_string(e.suppressed) + " more " + limit + " refusals in the last " +
              std::to_string(
                  std::chrono::duration_cast<std::chrono::seconds>(now - e.last_logged).count()) +
              " s");
          e.suppressed = 0;
          e.last_logged = now;
        }
      }
    }
    for (const auto& line : lines) {
      log_.log(core::LogLevel::warning, "server.cpp", "limit", __LINE__, line);
    }
  }

 private:
  struct Entry {
    bool logged = false;
    std::chrono::steady_clock::time_point last_logged{};
    std::uint64_t suppressed = 0;
  };
  core::Logger& log_;
  std::chrono::seconds interval_;
  std::mutex mutex_;
  std::map<std::string, Entry, std::less<>> entries_;
};

struct Server::Impl {
  Impl(core::Logger& log, std::chrono::seconds log_interval) : limit_log(log, log_interval) {}

  // One loop per I/O thread (concurrency hint 1: no locking inside the loop).
  std::vector<std::unique_ptr<asio::io_context>> loops;
  std::unique_ptr<asio::ip::tcp::acceptor> acceptor;
  std::unique_ptr<asio::steady_timer> limit_log_timer;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::atomic<std::size_t> next_loop{0};
  std::uint64_t next_id = 0;  // mutex
  mutable std::mutex mutex;
  std::shared_ptr<const acl::AclRegistry> acl;
  std::list<std::weak_ptr<Connection>> connections;
  std::list<std::weak_ptr<Connection>> outbound;                 // made by the socket application
  std::unordered_map<std::string, TokenBucket> connection_rate;  // per peer address (mutex)
  ServerStats stats;
  bool stopped = false;
  LimitLog limit_log;
  // The bus's count at the previous snapshot, for events/s (mutex).
  std::optional<std::pair<std::chrono::steady_clock::time_point, std::uint64_t>> published_at;
  // What the switch's socket application reaches; cleared when the server stops, since
  // channels may still ask after that.
  struct OutboundGate {
    std::mutex mutex;
    Server* server = nullptr;
  };
  std::shared_ptr<OutboundGate> gate = std::make_shared<OutboundGate>();

  asio::io_context& pick_loop() { return *loops[next_loop++ % loops.size()]; }
};

Server::Server(core::Switch& sw, ServerOptions options, std::shared_ptr<const acl::AclRegistry> acl)
    : switch_(sw),
      options_(std::move(options)),
      impl_(std::make_unique<Impl>(sw.logger(), options_.limit_log_interval)) {
  options_.session.password = options_.settings.password;
  impl_->acl = std::move(acl);
  const std::size_t n = std::max<std::size_t>(1, options_.io_threads);
  for (std::size_t i = 0; i < n; ++i) {
    impl_->loops.push_back(std::make_unique<asio::io_context>(1));
  }
  impl_->acceptor = std::make_unique<asio::ip::tcp::acceptor>(*impl_->loops.front());
  impl_->limit_log_timer = std::make_unique<asio::steady_timer>(*impl_->loops.front());
}

Server::~Server() {
  stop();
}

std::error_code Server::listen() {
  std::error_code ec;
  const auto address = asio::ip::make_address(options_.settings.listen_ip, ec);
  if (ec) {
    return ec;
  }
  const asio::ip::tcp::endpoint endpoint(
      address, static_cast<unsigned short>(options_.settings.listen_port));
  auto& acceptor = *impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (ec) {
    return ec;
  }
  acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (address.is_v6()) {
    acceptor.set_option(asio::ip::v6_only(false), ec);  // `::` also serves IPv4, as on Linux FS
  }
  acceptor.bind(endpoint, ec);
  if (!ec) {
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    std::error_code ignored;
    acceptor.close(ignored);
    return ec;
  }
  port_ = acceptor.local_endpoint().port();
  return {};
}

void Server::start() {
  // No captures: a coroutine lambda must take what it uses as parameters, which live in
  // the coroutine frame (captures would die with the temporary closure).
  auto accept_loop = [](Server* self) -> asio::awaitable<void> {
    Impl& impl = *self->impl_;
    for (;;) {
      // The new connection lives on the next I/O thread's loop for its whole life.
      auto [ec, socket] = co_await impl.acceptor->async_accept(impl.pick_loop(), use_tuple);
      if (ec) {
        if (ec == asio::error::operation_aborted || !impl.acceptor->is_open()) {
          co_return;
        }
        continue;  // e.g. EMFILE: keep serving the clients we have
      }
      std::error_code ignored;
      socket.set_option(asio::ip::tcp::no_delay(true), ignored);
      SessionOptions session_options;
      std::uint64_t id = 0;
      {
        std::lock_guard lock(impl.mutex);  // reloadxml may swap the directory
        session_options = self->options_.session;
        id = ++impl.next_id;
      }
      auto connection =
          std::make_shared<Connection>(*self, self->switch_, std::move(socket), session_options, id,
                                       self->options_.command_rate);
      const std::string peer = connection->peer_text();
      bool allowed = false;
      std::string_view rejection = wire::kRudeRejectionMessage;
      std::string limit;  // which limit refused the peer, to log outside the lock
      {
        std::lock_guard lock(impl.mutex);
        const auto denied = impl.acl->check_all(self->options_.settings.apply_inbound_acl, peer);
        allowed = !denied;
        ++impl.stats.accepted;
        if (denied) {
          ++impl.stats.rejected_by_acl;
          self->switch_.logger().log(core::LogLevel::warning, "server.cpp", "accept", __LINE__,
                                     "IP " + peer + " Rejected by acl \"" + *denied + "\"");
        } else if (impl.stats.active >= self->options_.max_connections) {
          ++impl.stats.rejected_over_limit;
          allowed = false;
          rejection = wire::kTooManyConnectionsMessage;
          limit = "max-connections";
        } else if (self->options_.connection_rate_per_ip > 0 &&
                   !self->take_connection_token(peer)) {
          ++impl.stats.rejected_connection_rate;
          allowed = false;
          rejection = wire::kConnectionRateMessage;
          limit = "connection-rate-per-ip";
        }
        if (allowed) {
          ++impl.stats.active;
          impl.connections.push_back(connection);
        }
      }
      if (limit == "max-connections") {
        self->note_limit(limit, "refusing " + peer + ": " +
                                    std::to_string(self->options_.max_connections) +
                                    " connections already (max-connections)");
      } else if (!limit.empty()) {
        self->note_limit(limit, "refusing " + peer + ": more than " +
                                    format_rate(self->options_.connection_rate_per_ip) +
                                    " new connections per second (connection-rate-per-ip)");
      }
      connection->start(allowed, rejection, self->options_.auth_timeout,
                        self->options_.login_timeout);
    }
  };
  auto limit_log_loop = [](Server* self) -> asio::awaitable<void> {
    for (;;) {
      self->impl_->limit_log_timer->expires_after(self->options_.limit_log_interval);
      auto [ec] = co_await self->impl_->limit_log_timer->async_wait(use_tuple);
      if (ec) {
        co_return;
      }
      self->impl_->limit_log.flush();
    }
  };
  for (auto& loop : impl_->loops) {
    impl_->work.emplace_back(loop->get_executor());
  }
  asio::io_context& first = *impl_->loops.front();
  asio::co_spawn(first, accept_loop(this), report_exceptions(switch_.logger(), "accept"));
  asio::co_spawn(first, limit_log_loop(this), report_exceptions(switch_.logger(), "limits"));
  {
    std::lock_guard lock(impl_->gate->mutex);
    impl_->gate->server = this;
  }
  switch_.calls().set_socket_connector(
      [gate = impl_->gate](const core::CallEngine::SocketConnectRequest& request) {
        std::lock_guard lock(gate->mutex);
        if (gate->server == nullptr) {
          request.channel->control([](core::Channel::Control& c, core::ChannelData&) {
            c.socket.connect_done = true;  // the server has stopped: no connection
            return 0;
          });
          return;
        }
        gate->server->connect_outbound(request);
      });
  switch_.api().add(
      "event_socket_stats", "Event Socket statistics: connections, queues, drops, limits", "[json]",
      [this](core::Switch&, const core::ApiRequest& request, std::string& out) {
        const StatsSnapshot stats = snapshot();
        out += core::strip_api_whitespace(request.args) == "json" ? format_stats_json(stats)
                                                                  : format_stats_text(stats);
        return core::ApiStatus::success;
      });
  for (auto& loop : impl_->loops) {
    impl_->threads.emplace_back([io = loop.get()] { io->run(); });
  }
}

// Called with impl_->mutex held.
bool Server::take_connection_token(const std::string& peer) {
  auto& buckets = impl_->connection_rate;
  const auto now = std::chrono::steady_clock::now();
  if (buckets.size() >= 4096) {
    std::erase_if(buckets, [now](const auto& entry) { return entry.second.full_at(now); });
  }
  auto [it, inserted] = buckets.try_emplace(peer, options_.connection_rate_per_ip);
  it->second.refill(now);
  if (it->second.tokens() < 1) {
    return false;
  }
  it->second.spend(1);
  return true;
}

void Server::note_limit(std::string_view limit, const std::string& detail) {
  {
    std::lock_guard lock(impl_->mutex);
    if (limit == "command-rate") {
      ++impl_->stats.command_throttles;
    } else if (limit == "auth-timeout" || limit == "login-timeout") {
      ++impl_->stats.auth_timeouts;
    }
  }
  impl_->limit_log.note(limit, detail);
}

void Server::stop() {
  std::vector<std::shared_ptr<Connection>> live;
  {
    std::lock_guard lock(impl_->gate->mutex);
    impl_->gate->server = nullptr;
  }
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->stopped) {
      return;
    }
    impl_->stopped = true;
    switch_.api().remove("event_socket_stats");
    for (auto* list : {&impl_->connections, &impl_->outbound}) {
      for (auto& weak : *list) {
        if (auto c = weak.lock()) {
          live.push_back(std::move(c));
        }
      }
    }
  }
  asio::post(*impl_->loops.front(), [this] {
    std::error_code ignored;
    impl_->acceptor->close(ignored);
    impl_->limit_log_timer->cancel();
  });
  for (auto& c : live) {
    c->shutdown();
  }
  live.clear();
  // Let the notices go out, then stop.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard lock(impl_->mutex);
      if (impl_->stats.active == 0 && impl_->outbound.empty()) {
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  impl_->work.clear();
  for (auto& loop : impl_->loops) {
    loop->stop();
  }
  for (auto& t : impl_->threads) {
    if (t.joinable()) {
      t.join();
    }
  }
  impl_->threads.clear();
}

void Server::set_acl(std::shared_ptr<const acl::AclRegistry> acl) {
  std::lock_guard lock(impl_->mutex);
  impl_->acl = std::move(acl);
}

void Server::set_directory(std::shared_ptr<const Directory> directory) {
  std::lock_guard lock(impl_->mutex);
  options_.session.directory = std::move(directory);
}

ServerStats Server::stats() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->stats;
}

StatsSnapshot Server::snapshot() const {
  StatsSnapshot out;
  out.listeners = listeners();
  const auto now = std::chrono::steady_clock::now();
  out.events_published = switch_.bus().published_count();
  out.bus_subscribers = switch_.bus().sink_count();
  out.uptime_seconds = std::chrono::duration<double>(switch_.uptime()).count();
  out.max_queued_bytes = options_.session.max_queued_bytes;
  out.memory = process_memory();
  {
    std::lock_guard lock(impl_->mutex);
    out.server = impl_->stats;
    if (impl_->published_at) {
      const double seconds =
          std::chrono::duration<double>(now - impl_->published_at->first).count();
      if (seconds > 0) {
        out.events_published_per_second =
            static_cast<double>(out.events_published - impl_->published_at->second) / seconds;
      }
    } else if (out.uptime_seconds > 0) {
      out.events_published_per_second =
          static_cast<double>(out.events_published) / out.uptime_seconds;
    }
    impl_->published_at = {now, out.events_published};
  }
  out.server.active = out.listeners.size();
  // The server's sums hold the connections that ended; add the live ones.
  for (const auto& l : out.listeners) {
    out.server.commands += l.session.commands;
    out.server.events_sent += l.session.events_sent;
    out.server.events_dropped += l.session.events_dropped;
    out.server.logs_dropped += l.session.logs_dropped;
  }
  return out;
}

std::vector<ListenerStats> Server::listeners() const {
  std::vector<std::shared_ptr<Connection>> live;
  {
    std::lock_guard lock(impl_->mutex);
    for (const auto* list : {&impl_->connections, &impl_->outbound}) {
      for (const auto& weak : *list) {
        if (auto c = weak.lock()) {
          live.push_back(std::move(c));
        }
      }
    }
  }
  std::vector<ListenerStats> out;
  out.reserve(live.size());
  for (const auto& c : live) {
    out.push_back(c->snapshot());
  }
  std::sort(out.begin(), out.end(),
            [](const ListenerStats& a, const ListenerStats& b) { return a.id < b.id; });
  return out;
}

void Server::connect_outbound(const core::CallEngine::SocketConnectRequest& request) {
  // No captures in the coroutine lambda: its parameters live in the coroutine frame.
  auto connect = [](Server* self, asio::io_context* loop,
                    core::CallEngine::SocketConnectRequest request,
                    SessionOptions options) -> asio::awaitable<void> {
    asio::io_context& io = *loop;
    auto socket = std::make_shared<asio::ip::tcp::socket>(io);
    auto timer = std::make_shared<asio::steady_timer>(io);
    timer->expires_after(std::chrono::seconds(10));
    timer->async_wait([socket](std::error_code ec) {
      if (!ec) {
        std::error_code ignored;
        socket->close(ignored);  // the connection attempt took too long
      }
    });
    asio::ip::tcp::resolver resolver(io);
    auto [rec, endpoints] =
        co_await resolver.async_resolve(request.host, std::to_string(request.port), use_tuple);
    std::error_code ec = rec;
    if (!ec) {
      auto [cec, endpoint] = co_await asio::async_connect(*socket, endpoints, use_tuple);
      ec = cec;
    }
    timer->cancel();
    core::CallEngine& calls = self->switch_.calls();
    if (ec || !socket->is_open()) {
      calls.socket_connect_result(request.channel, false);
      co_return;
    }
    std::error_code ignored;
    socket->set_option(asio::ip::tcp::no_delay(true), ignored);
    if (!calls.socket_connect_result(request.channel, true)) {
      socket->close(ignored);  // the channel gave up waiting or hung up meanwhile
      co_return;
    }
    std::uint64_t id = 0;
    {
      std::lock_guard lock(self->impl_->mutex);
      id = ++self->impl_->next_id;
    }
    auto connection = std::make_shared<Connection>(*self, self->switch_, std::move(*socket),
                                                   options, id, self->options_.command_rate);
    {
      std::lock_guard lock(self->impl_->mutex);
      ++self->impl_->stats.outbound_total;
      self->impl_->outbound.push_back(connection);
    }
    connection->start_outbound(request.channel->uuid(), request.async, request.full,
                               self->options_.auth_timeout);
  };
  SessionOptions options;
  {
    std::lock_guard lock(impl_->mutex);
    options = options_.session;
  }
  asio::io_context& loop = impl_->pick_loop();  // the connection's loop for its whole life
  asio::co_spawn(loop, connect(this, &loop, request, std::move(options)),
                 report_exceptions(switch_.logger(), "connect_outbound"));
}

void Server::on_connection_closed(Connection* connection, const SessionStats& stats) {
  std::lock_guard lock(impl_->mutex);
  impl_->stats.commands += stats.commands;
  impl_->stats.events_sent += stats.events_sent;
  impl_->stats.events_dropped += stats.events_dropped;
  impl_->stats.logs_dropped += stats.logs_dropped;
  const auto outbound_before = impl_->outbound.size();
  impl_->outbound.remove_if([connection](const std::weak_ptr<Connection>& weak) {
    auto c = weak.lock();
    return !c || c.get() == connection;
  });
  if (impl_->outbound.size() < outbound_before) {
    return;
  }
  const auto before = impl_->connections.size();
  impl_->connections.remove_if([connection](const std::weak_ptr<Connection>& weak) {
    auto c = weak.lock();
    return !c || c.get() == connection;
  });
  if (impl_->connections.size() < before && impl_->stats.active > 0) {
    impl_->stats.active -=
        std::min<std::uint64_t>(impl_->stats.active, before - impl_->connections.size());
  }
}

}  // namespace eventsocket::server
