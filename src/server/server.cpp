#include "eventsocket/server/server.hpp"

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>

#include <list>

namespace eventsocket::server {

namespace {
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

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

// One client connection: a Session (the protocol) driven by three coroutines on one
// strand: reader (socket -> session -> commands), writer (queued output -> socket, woken
// by a timer used as a condition variable) and the auth deadline.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Server& server, core::Switch& sw, asio::ip::tcp::socket socket,
             const SessionOptions& options)
      : server_(server),
        switch_(sw),
        socket_(std::move(socket)),
        strand_(asio::make_strand(socket_.get_executor())),
        wake_(strand_),
        api_done_(strand_),
        auth_deadline_(strand_),
        kill_deadline_(strand_),
        session_(sw, options, peer_text()) {}

  // finish() has normally unsubscribed already: then nothing here takes the bus's or the
  // logger's lock, so the last reference may be dropped anywhere (even inside a publish).
  ~Connection() {
    if (!finished_) {
      switch_.bus().unsubscribe(&session_);
    }
  }

  void start(bool acl_allowed, std::chrono::milliseconds auth_timeout) {
    auto self = shared_from_this();
    session_.set_output_ready([weak = std::weak_ptr<Connection>(self)] {
      if (auto c = weak.lock()) {
        c->wake_writer();
      }
    });
    if (acl_allowed) {
      session_.start_inbound();
      switch_.bus().subscribe(&session_);
      asio::co_spawn(strand_, reader(self), report_exceptions(switch_.logger(), "reader"));
      asio::co_spawn(strand_, watch_auth(self, auth_timeout),
                     report_exceptions(switch_.logger(), "watch_auth"));
    } else {
      session_.reject_by_acl();
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
    switch_.bus().subscribe(&session_);
    asio::co_spawn(strand_, reader(self), report_exceptions(switch_.logger(), "reader"));
    asio::co_spawn(strand_, watch_auth(self, first_packet_timeout),
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

 private:
  void wake_writer() {
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

  asio::awaitable<void> reader(std::shared_ptr<Connection>) {
    std::vector<char> buffer(16 * 1024);
    for (;;) {
      auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buffer), use_tuple);
      if (ec) {
        session_.on_peer_closed();
        break;
      }
      session_.feed(std::string_view(buffer.data(), n));
      if (!co_await drive()) {
        break;
      }
    }
    auth_deadline_.cancel();
  }

  // Runs the session's commands; slow API commands go to the switch's worker pool so this
  // I/O thread keeps serving other connections. False once the session is over.
  asio::awaitable<bool> drive() {
    for (;;) {
      Session::Step step = session_.step();
      if (step.kind == Session::Step::Kind::idle) {
        co_return true;
      }
      if (step.kind == Session::Step::Kind::close) {
        co_return false;
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
        while (!api_ready_) {
          api_done_.expires_at(asio::steady_timer::time_point::max());
          co_await api_done_.async_wait(use_tuple);
        }
        session_.complete_inline();
        continue;
      }
      if (!switch_.api().may_block(step.api.command)) {
        // Quick commands run here: two thread hand-offs would cost more than the command.
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
        while (!api_ready_) {
          api_done_.expires_at(asio::steady_timer::time_point::max());
          co_await api_done_.async_wait(use_tuple);
        }
      } else {
        api_result_ = {true, "-ERR too many api commands queued, try again later\n"};
      }
      session_.complete_api(step.api, api_result_);
    }
  }

  asio::awaitable<void> writer(std::shared_ptr<Connection>) {
    Session::OutputBatch batch;
    std::vector<asio::const_buffer> buffers;
    for (;;) {
      batch.clear();
      if (!session_.take_output(batch)) {
        // Idle; a lingering connection also wakes when its linger time is over.
        const auto linger_end = session_.linger_deadline();
        wake_.expires_at(linger_end ? *linger_end : asio::steady_timer::time_point::max());
        co_await wake_.async_wait(use_tuple);
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

  asio::awaitable<void> watch_auth(std::shared_ptr<Connection>, std::chrono::milliseconds timeout) {
    auth_deadline_.expires_after(timeout);
    auto [ec] = co_await auth_deadline_.async_wait(use_tuple);
    if (!ec && session_.awaiting_first_packet()) {
      session_.on_auth_timeout();
      wake_.cancel();
    }
  }

  void finish() {
    switch_.bus().unsubscribe(&session_);
    session_.stop_log_sink();
    finished_ = true;
    session_.on_closed();
    std::error_code ec;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    auth_deadline_.cancel();
    api_done_.cancel();
    kill_deadline_.cancel();
    server_.on_connection_closed(this, session_.stats());
  }

  bool finished_ = false;  // finish() ran: unsubscribed from the bus and the logger
  Server& server_;
  core::Switch& switch_;
  asio::ip::tcp::socket socket_;
  asio::strand<asio::any_io_executor> strand_;
  asio::steady_timer wake_;
  asio::steady_timer api_done_;
  asio::steady_timer auth_deadline_;
  asio::steady_timer kill_deadline_;
  bool kill_deadline_armed_ = false;
  std::atomic<bool> wake_pending_{false};
  core::ApiResult api_result_;
  bool api_ready_ = false;
  Session session_;
};

struct Server::Impl {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor{io};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  mutable std::mutex mutex;
  std::shared_ptr<const acl::AclRegistry> acl;
  std::list<std::weak_ptr<Connection>> connections;
  std::list<std::weak_ptr<Connection>> outbound;  // made by the socket application
  ServerStats stats;
  bool stopped = false;
  // What the switch's socket application reaches; cleared when the server stops, since
  // channels may still ask after that.
  struct OutboundGate {
    std::mutex mutex;
    Server* server = nullptr;
  };
  std::shared_ptr<OutboundGate> gate = std::make_shared<OutboundGate>();
};

Server::Server(core::Switch& sw, ServerOptions options, std::shared_ptr<const acl::AclRegistry> acl)
    : switch_(sw), options_(std::move(options)), impl_(std::make_unique<Impl>()) {
  options_.session.password = options_.settings.password;
  impl_->acl = std::move(acl);
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
  auto& acceptor = impl_->acceptor;
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
    for (;;) {
      auto [ec, socket] = co_await self->impl_->acceptor.async_accept(use_tuple);
      if (ec) {
        if (ec == asio::error::operation_aborted || !self->impl_->acceptor.is_open()) {
          co_return;
        }
        continue;  // e.g. EMFILE: keep serving the clients we have
      }
      std::error_code ignored;
      socket.set_option(asio::ip::tcp::no_delay(true), ignored);
      SessionOptions session_options;
      {
        std::lock_guard lock(self->impl_->mutex);  // reloadxml may swap the directory
        session_options = self->options_.session;
      }
      auto connection =
          std::make_shared<Connection>(*self, self->switch_, std::move(socket), session_options);
      const std::string peer = connection->peer_text();
      bool allowed = false;
      {
        std::lock_guard lock(self->impl_->mutex);
        const auto denied =
            self->impl_->acl->check_all(self->options_.settings.apply_inbound_acl, peer);
        allowed = !denied;
        ++self->impl_->stats.accepted;
        if (denied) {
          ++self->impl_->stats.rejected_by_acl;
          self->switch_.logger().log(core::LogLevel::warning, "server.cpp", "accept", __LINE__,
                                     "IP " + peer + " Rejected by acl \"" + *denied + "\"");
        } else if (self->impl_->stats.active >= self->options_.max_connections) {
          ++self->impl_->stats.rejected_over_limit;
          allowed = false;
        }
        if (allowed) {
          ++self->impl_->stats.active;
          self->impl_->connections.push_back(connection);
        }
      }
      connection->start(allowed, self->options_.auth_timeout);
    }
  };
  impl_->work.emplace(impl_->io.get_executor());
  asio::co_spawn(impl_->io, accept_loop(this), report_exceptions(switch_.logger(), "accept"));
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
  const std::size_t n = std::max<std::size_t>(1, options_.io_threads);
  for (std::size_t i = 0; i < n; ++i) {
    impl_->threads.emplace_back([this] { impl_->io.run(); });
  }
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
    for (auto* list : {&impl_->connections, &impl_->outbound}) {
      for (auto& weak : *list) {
        if (auto c = weak.lock()) {
          live.push_back(std::move(c));
        }
      }
    }
  }
  asio::post(impl_->io, [this] {
    std::error_code ignored;
    impl_->acceptor.close(ignored);
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
  impl_->work.reset();
  impl_->io.stop();
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

void Server::connect_outbound(const core::CallEngine::SocketConnectRequest& request) {
  // No captures in the coroutine lambda: its parameters live in the coroutine frame.
  auto connect = [](Server* self, core::CallEngine::SocketConnectRequest request,
                    SessionOptions options) -> asio::awaitable<void> {
    auto& io = self->impl_->io;
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
    auto connection =
        std::make_shared<Connection>(*self, self->switch_, std::move(*socket), options);
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
  asio::co_spawn(impl_->io, connect(this, request, std::move(options)),
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
