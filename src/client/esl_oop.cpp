#include "eventsocket/client/esl_oop.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <exception>
#include <future>
#include <string_view>

#include "eventsocket/client/blocking.hpp"
#include "eventsocket/event/codec.hpp"
#include "eventsocket/event/event_type.hpp"
#include "eventsocket/wire/message.hpp"
#include "eventsocket/wire/url.hpp"

using eventsocket::client::BlockingConnection;
using eventsocket::client::ConnectOptions;
using eventsocket::client::LogLine;
using eventsocket::client::Reply;
using eventsocket::event::Event;
using eventsocket::event::EventType;
namespace client = eventsocket::client;
namespace event = eventsocket::event;
namespace wire = eventsocket::wire;

namespace {

using namespace std::chrono_literals;

// libesl waits for replies without a deadline; a year is as good as none.
constexpr std::chrono::milliseconds kNoDeadline = std::chrono::hours(24 * 365);
// Connecting, authenticating and the outbound `connect`: libesl has no deadline of its own
// (the system's TCP timeouts apply); this one keeps a silent peer from hanging forever.
constexpr std::chrono::milliseconds kConnectDeadline = 30s;
// After `log`, recvEvent looks for log lines this often while it waits for events: the
// client keeps the two in separate queues.
constexpr std::chrono::milliseconds kLogPollInterval = 50ms;

constexpr int kLogLevelError = 3;  // libesl's ESL_LOG_ERROR

// libesl's diagnostics level is process-wide (esl_global_set_default_logger).
std::atomic<int> g_log_level{0};

void log_error(const std::string& what) {
  if (g_log_level.load(std::memory_order_relaxed) >= kLogLevelError) {
    std::fprintf(stderr, "[ERR] esl_oop: %s\n", what.c_str());
  }
}

std::string text_or_empty(const char* text) {
  return text ? std::string(text) : std::string();
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// libesl's esl_true().
bool is_true(const char* text) {
  if (!text) {
    return false;
  }
  for (const char* word : {"yes", "on", "true", "enabled", "active", "allow"}) {
    if (wire::iequals(text, word)) {
      return true;
    }
  }
  return std::atoi(text) != 0;
}

constexpr std::string_view kArrayPrefix = "ARRAY::";
constexpr std::string_view kArraySeparator = "|:";

// The elements of an array header value ("ARRAY::a|:b"), or the value alone.
std::vector<std::string> array_elements(std::string_view value) {
  if (!value.starts_with(kArrayPrefix)) {
    return {std::string(value)};
  }
  value.remove_prefix(kArrayPrefix.size());
  std::vector<std::string> out;
  for (;;) {
    const std::size_t end = value.find(kArraySeparator);
    out.emplace_back(value.substr(0, end));
    if (end == std::string_view::npos) {
      return out;
    }
    value.remove_prefix(end + kArraySeparator.size());
  }
}

std::string array_value(const std::vector<std::string>& elements) {
  if (elements.size() == 1) {
    return elements.front();
  }
  std::string out(kArrayPrefix);
  for (std::size_t i = 0; i < elements.size(); ++i) {
    out += (i ? std::string(kArraySeparator) : std::string()) + elements[i];
  }
  return out;
}

// A packet that is not an event, as libesl hands it out: type SOCKET_DATA, Event-Name first,
// then the packet's headers (URL-decoded, as libesl decodes every envelope value).
Event socket_data_event() {
  Event e(EventType::SOCKET_DATA);
  e.add_header("Event-Name", event::event_type_name(EventType::SOCKET_DATA));
  return e;
}

ESLevent* reply_event(const Reply& reply) {
  Event e = socket_data_event();
  for (const auto& [name, value] : reply.headers) {
    e.add_header(name, wire::url_decode(value));
  }
  if (reply.header("Content-Length")) {
    e.set_body(reply.body);
  }
  return new ESLevent(std::move(e));
}

ESLevent* log_event(const LogLine& line) {
  Event e = socket_data_event();
  e.add_header("Content-Type", "log/data");
  e.add_header("Content-Length", std::to_string(line.text.size()));
  e.add_header("Log-Level", std::to_string(line.level));
  e.add_header("Log-File", line.file);
  e.add_header("Log-Func", line.function);
  e.add_header("Log-Line", std::to_string(line.line));
  e.add_header("User-Data", line.user_data);
  e.set_body(line.text);
  return new ESLevent(std::move(e));
}

ESLevent* disconnected_event() {
  return new ESLevent("server_disconnected");
}

// The headers and body an ESLevent contributes to `sendevent` / `sendmsg`. Its own
// Content-Length is left out: the client writes the body's.
void event_as_command(const Event& e, std::vector<std::pair<std::string, std::string>>& headers,
                      std::string& body) {
  for (std::size_t i = 0; i < e.header_count(); ++i) {
    const event::Header h = e.header_at(i);
    if (!wire::iequals(h.name, "Content-Length")) {
      headers.emplace_back(std::string(h.name), std::string(h.value));
    }
  }
  if (e.has_body()) {
    body = std::string(e.body());
  }
}

bool parse_port(const char* text, int& port) {
  if (!text) {
    return false;
  }
  port = std::atoi(text);  // libesl's reading of a port given as text
  return true;
}

}  // namespace

// ---- ESLevent ----------------------------------------------------------------------------

ESLevent::ESLevent(const char* type, const char* subclass_name) {
  const std::string_view type_name = type ? type : "";
  if (wire::iequals(type_name, "json") && subclass_name && *subclass_name) {
    Event parsed;
    std::string error;
    if (event::decode_json(subclass_name, parsed, &error)) {
      event_ = std::move(parsed);
    } else {
      log_error("ESLevent: unreadable JSON event: " + error);
    }
    return;
  }
  EventType id = event::event_type_from_name(type_name).value_or(EventType::MESSAGE);
  const bool has_subclass = subclass_name && *subclass_name;
  if (has_subclass) {
    id = EventType::CUSTOM;  // a subclass only exists on CUSTOM events
  }
  Event e(id, has_subclass ? std::string_view(subclass_name) : std::string_view());
  e.add_header("Event-Name", event::event_type_name(id));
  if (has_subclass) {
    e.add_header("Event-Subclass", subclass_name);
  }
  event_ = std::move(e);
}

ESLevent::ESLevent(ESLevent* me) {
  if (me) {
    event_ = me->event_;
  }
}

ESLevent::ESLevent(Event event) : event_(std::move(event)) {}

ESLevent::~ESLevent() = default;

ESLevent::ESLevent(const ESLevent& other) : event_(other.event_) {}

ESLevent& ESLevent::operator=(const ESLevent& other) {
  if (this != &other) {
    event_ = other.event_;
    forget_returned_text();
    serialized_.clear();
  }
  return *this;
}

void ESLevent::forget_returned_text() {
  returned_values_.clear();
  returned_body_.reset();
  returned_names_.clear();
}

const char* ESLevent::serialize(const char* format) {
  if (!event_) {
    return nullptr;
  }
  const std::string_view f = format ? format : "plain";
  const wire::EventFormat as = wire::iequals(f, "json")  ? wire::EventFormat::json
                               : wire::iequals(f, "xml") ? wire::EventFormat::xml
                                                         : wire::EventFormat::plain;
  serialized_.clear();
  event::encode(*event_, as, serialized_);
  return serialized_.c_str();
}

bool ESLevent::setPriority(esl_priority_t priority) {
  if (!event_) {
    return false;
  }
  const char* name = priority == ESL_PRIORITY_LOW    ? "LOW"
                     : priority == ESL_PRIORITY_HIGH ? "HIGH"
                                                     : "NORMAL";
  forget_returned_text();
  event_->remove_header("priority");
  event_->add_header_front("priority", name);
  return true;
}

const char* ESLevent::getHeader(const char* header_name, int idx) {
  if (!event_ || !header_name) {
    return nullptr;
  }
  if (std::string_view(header_name) == "_body") {
    return getBody();
  }
  const std::optional<std::string_view> value = event_->header(header_name);
  if (!value) {
    return nullptr;
  }
  auto key = std::make_pair(lowercase(header_name), idx < 0 ? -1 : idx);
  if (auto it = returned_values_.find(key); it != returned_values_.end()) {
    return it->second.c_str();
  }
  std::string text(*value);
  if (idx >= 0 && value->starts_with(kArrayPrefix)) {
    std::vector<std::string> elements = array_elements(*value);
    if (static_cast<std::size_t>(idx) >= elements.size()) {
      return nullptr;
    }
    text = std::move(elements[static_cast<std::size_t>(idx)]);
  }
  return returned_values_.emplace(std::move(key), std::move(text)).first->second.c_str();
}

char* ESLevent::getBody() {
  if (!event_ || !event_->has_body()) {
    return nullptr;
  }
  if (!returned_body_) {
    returned_body_.emplace(event_->body());
  }
  return returned_body_->data();
}

const char* ESLevent::getType() {
  returned_type_ = event_ ? std::string(event::event_type_name(event_->type())) : "invalid";
  return returned_type_.c_str();
}

bool ESLevent::addBody(const char* value) {
  if (!event_ || !value) {
    return false;
  }
  forget_returned_text();
  event_->set_body(value);
  return true;
}

bool ESLevent::addHeader(const char* header_name, const char* value) {
  if (!event_ || !header_name || !value) {
    return false;
  }
  forget_returned_text();
  event_->add_header(header_name, value);
  return true;
}

bool ESLevent::add_to_array(const char* header_name, const char* value, bool at_front) {
  if (!event_ || !header_name || !value) {
    return false;
  }
  forget_returned_text();
  const std::optional<std::string_view> existing = event_->header(header_name);
  if (!existing) {
    event_->add_header(header_name, value);
    return true;
  }
  std::vector<std::string> elements = array_elements(*existing);
  elements.insert(at_front ? elements.begin() : elements.end(), value);
  event_->set_header(header_name, array_value(elements));
  return true;
}

bool ESLevent::pushHeader(const char* header_name, const char* value) {
  return add_to_array(header_name, value, false);
}

bool ESLevent::unshiftHeader(const char* header_name, const char* value) {
  return add_to_array(header_name, value, true);
}

bool ESLevent::delHeader(const char* header_name) {
  if (!event_ || !header_name) {
    return false;
  }
  forget_returned_text();
  event_->remove_header(header_name);
  return true;
}

const char* ESLevent::firstHeader() {
  next_header_ = 0;
  return nextHeader();
}

const char* ESLevent::nextHeader() {
  if (!event_) {
    return nullptr;
  }
  if (returned_names_.size() != event_->header_count()) {
    // Made all at once and never resized until the event changes: the pointers stay put.
    returned_names_.clear();
    returned_names_.reserve(event_->header_count());
    for (std::size_t i = 0; i < event_->header_count(); ++i) {
      returned_names_.emplace_back(event_->header_at(i).name);
    }
  }
  if (next_header_ >= returned_names_.size()) {
    return nullptr;
  }
  return returned_names_[next_header_++].c_str();
}

// ---- ESLconnection -----------------------------------------------------------------------

struct ESLconnection::Impl {
  std::unique_ptr<BlockingConnection> connection;
  std::optional<Event> info;  // outbound: the channel data
  bool async_execute = false;
  bool event_lock = false;
  bool wants_logs = false;  // a `log` command was sent: recvEvent also returns log lines
  std::deque<std::future<Reply>> unread_replies;  // of send(), for recvEvent

  void connect(const char* host, int port, const char* user, const char* password) {
    if (!host || port <= 0 || port > 65535) {
      log_error("ESLconnection: no host or a bad port");
      return;
    }
    ConnectOptions options;
    options.host = host;
    options.port = static_cast<std::uint16_t>(port);
    options.user = text_or_empty(user);
    options.password = text_or_empty(password);
    options.timeout = kConnectDeadline;
    // The constructor cannot throw (libesl's contract): the reason goes to the log.
    try {
      connection = std::make_unique<BlockingConnection>(std::move(options));
    } catch (const std::exception& e) {
      log_error(std::string("ESLconnection: ") + e.what());
    }
  }

  void note_command(std::string_view command) {
    if (command == "log" || command.starts_with("log ")) {
      wants_logs = true;
    }
  }

  // Sends and waits for the reply; nullopt when refused or the connection failed.
  std::optional<Reply> exchange(std::string command,
                                std::vector<std::pair<std::string, std::string>> headers = {},
                                std::string body = {}) {
    if (!connection) {
      return std::nullopt;
    }
    note_command(command);
    try {
      return connection->command(std::move(command), std::move(headers), std::move(body),
                                 kNoDeadline);
    } catch (const std::exception& e) {
      log_error(e.what());
      return std::nullopt;
    }
  }

  ESLevent* exchange_for_event(std::string command,
                               std::vector<std::pair<std::string, std::string>> headers = {},
                               std::string body = {}) {
    const std::optional<Reply> r =
        exchange(std::move(command), std::move(headers), std::move(body));
    return r ? reply_event(*r) : nullptr;
  }

  // The next reply of send(), event or log line; null on timeout or once the connection is
  // gone. `wait` empty: no limit.
  ESLevent* next(std::optional<std::chrono::milliseconds> wait) {
    if (!connection) {
      return nullptr;
    }
    const auto now = [] { return std::chrono::steady_clock::now(); };
    const auto deadline = wait ? now() + *wait : std::chrono::steady_clock::time_point::max();
    if (!unread_replies.empty()) {
      std::future<Reply>& reply = unread_replies.front();
      if (wait && reply.wait_until(deadline) != std::future_status::ready) {
        return nullptr;
      }
      try {
        const Reply r = reply.get();
        unread_replies.pop_front();
        return reply_event(r);
      } catch (const std::exception& e) {
        unread_replies.pop_front();
        log_error(e.what());
        return nullptr;
      }
    }
    try {
      for (;;) {
        if (wants_logs) {
          try {
            if (std::optional<LogLine> line = connection->next_log(0ms)) {
              return log_event(*line);
            }
          } catch (const client::ClientError&) {
            // Closed with no log line left; queued events still come before the end.
          }
        }
        std::optional<std::chrono::milliseconds> slice;
        if (wants_logs) {
          slice = kLogPollInterval;
        }
        if (wait) {
          const auto left =
              std::max(std::chrono::milliseconds(0),
                       std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now()));
          slice = slice ? std::min(*slice, left) : left;
        }
        if (std::optional<Event> e = connection->next_event(slice)) {
          return new ESLevent(std::move(*e));
        }
        if (wait && now() >= deadline) {
          return nullptr;
        }
      }
    } catch (const std::exception& e) {
      log_error(e.what());
      return nullptr;
    }
  }

  ESLevent* execute(const char* app, const char* arg, const char* uuid, bool async) {
    if (!app) {
      return nullptr;
    }
    std::vector<std::pair<std::string, std::string>> headers;
    headers.emplace_back("call-command", "execute");
    headers.emplace_back("execute-app-name", app);
    if (arg && *arg) {
      headers.emplace_back("execute-app-arg", arg);
    }
    if (event_lock) {
      headers.emplace_back("event-lock", "true");
    }
    if (async) {
      headers.emplace_back("async", "true");
    }
    const std::string line = uuid && *uuid ? "sendmsg " + std::string(uuid) : "sendmsg";
    return exchange_for_event(line, std::move(headers));
  }
};

ESLconnection::ESLconnection(const char* host, const int port, const char* user,
                             const char* password)
    : impl_(std::make_unique<Impl>()) {
  impl_->connect(host, port, user, password);
}

ESLconnection::ESLconnection(const char* host, const int port, const char* password)
    : impl_(std::make_unique<Impl>()) {
  impl_->connect(host, port, nullptr, password);
}

ESLconnection::ESLconnection(const char* host, const char* port, const char* user,
                             const char* password)
    : impl_(std::make_unique<Impl>()) {
  int number = 0;
  if (parse_port(port, number)) {
    impl_->connect(host, number, user, password);
  }
}

ESLconnection::ESLconnection(const char* host, const char* port, const char* password)
    : impl_(std::make_unique<Impl>()) {
  int number = 0;
  if (parse_port(port, number)) {
    impl_->connect(host, number, nullptr, password);
  }
}

ESLconnection::ESLconnection(int socket) : impl_(std::make_unique<Impl>()) {
  ConnectOptions options;
  options.timeout = kConnectDeadline;
  try {
    impl_->connection = BlockingConnection::adopt(socket, options);
    impl_->info = impl_->connection->channel_data(kConnectDeadline);
  } catch (const std::exception& e) {
    log_error(std::string("ESLconnection: outbound socket: ") + e.what());
    if (impl_->connection) {
      impl_->connection->close();
    }
  }
}

ESLconnection::~ESLconnection() = default;

int ESLconnection::socketDescriptor() {
  return connected() ? impl_->connection->native_handle() : -1;
}

int ESLconnection::connected() {
  return impl_->connection && impl_->connection->connected() ? 1 : 0;
}

ESLevent* ESLconnection::getInfo() {
  return impl_->info ? new ESLevent(*impl_->info) : nullptr;
}

int ESLconnection::send(const char* cmd) {
  if (!cmd || !*cmd || !client::is_single_line(cmd) || !connected()) {
    log_error("send: refused (empty, a line break, or not connected)");
    return 1;
  }
  impl_->note_command(cmd);
  impl_->unread_replies.push_back(impl_->connection->command_async(cmd, {}, {}, kNoDeadline));
  return 0;
}

ESLevent* ESLconnection::sendRecv(const char* cmd) {
  return cmd ? impl_->exchange_for_event(cmd) : nullptr;
}

ESLevent* ESLconnection::api(const char* cmd, const char* arg) {
  if (!cmd) {
    return nullptr;
  }
  // libesl writes "api <cmd> " when there is no argument; the trailing space changes nothing.
  return impl_->exchange_for_event("api " + std::string(cmd) +
                                   (arg && *arg ? " " + std::string(arg) : std::string()));
}

ESLevent* ESLconnection::bgapi(const char* cmd, const char* arg, const char* job_uuid) {
  if (!cmd) {
    return nullptr;
  }
  std::vector<std::pair<std::string, std::string>> headers;
  if (job_uuid && *job_uuid) {
    headers.emplace_back("Job-UUID", job_uuid);
  }
  return impl_->exchange_for_event(
      "bgapi " + std::string(cmd) + (arg && *arg ? " " + std::string(arg) : std::string()),
      std::move(headers));
}

ESLevent* ESLconnection::sendEvent(ESLevent* send_me) {
  if (!send_me || !send_me->native()) {
    return disconnected_event();
  }
  const Event& e = *send_me->native();
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  event_as_command(e, headers, body);
  ESLevent* reply =
      impl_->exchange_for_event("sendevent " + std::string(event::event_type_name(e.type())),
                                std::move(headers), std::move(body));
  return reply ? reply : disconnected_event();
}

int ESLconnection::sendMSG(ESLevent* send_me, const char* uuid) {
  if (!send_me || !send_me->native()) {
    return 1;
  }
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  event_as_command(*send_me->native(), headers, body);
  const std::string line = uuid && *uuid ? "sendmsg " + std::string(uuid) : "sendmsg";
  return impl_->exchange(line, std::move(headers), std::move(body)) ? 0 : 1;
}

ESLevent* ESLconnection::recvEvent() {
  ESLevent* e = impl_->next(std::nullopt);
  return e ? e : disconnected_event();
}

ESLevent* ESLconnection::recvEventTimed(int ms) {
  return impl_->next(std::chrono::milliseconds(std::max(ms, 0)));
}

ESLevent* ESLconnection::filter(const char* header, const char* value) {
  if (!header) {
    return nullptr;
  }
  return impl_->exchange_for_event("filter " + std::string(header) +
                                   (value && *value ? " " + std::string(value) : std::string()));
}

int ESLconnection::events(const char* etype, const char* value) {
  const std::string_view requested = etype ? etype : "";
  // Compared case-sensitively, as libesl does: "JSON" means plain.
  const char* format = requested == "xml" ? "xml" : requested == "json" ? "json" : "plain";
  std::string command = std::string("event ") + format;
  if (value && *value) {
    command += " " + std::string(value);
  }
  return impl_->exchange(std::move(command)) ? 0 : 1;
}

ESLevent* ESLconnection::execute(const char* app, const char* arg, const char* uuid) {
  return impl_->execute(app, arg, uuid, impl_->async_execute);
}

ESLevent* ESLconnection::executeAsync(const char* app, const char* arg, const char* uuid) {
  return impl_->execute(app, arg, uuid, true);
}

int ESLconnection::setAsyncExecute(const char* val) {
  if (val) {
    impl_->async_execute = is_true(val);
  }
  return impl_->async_execute ? 1 : 0;
}

int ESLconnection::setEventLock(const char* val) {
  if (val) {
    impl_->event_lock = is_true(val);
  }
  return impl_->event_lock ? 1 : 0;
}

int ESLconnection::disconnect() {
  if (!connected()) {
    return 1;
  }
  impl_->connection->close();
  return 0;
}

void eslSetLogLevel(int level) {
  g_log_level.store(level, std::memory_order_relaxed);
}
