#include "eventsocket/server/session.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>

#include "eventsocket/core/uuid.hpp"
#include "eventsocket/event/codec.hpp"
#include "eventsocket/event/event_type.hpp"

namespace eventsocket::server {
namespace {

using core::ChannelPtr;
using event::EventType;
using wire::istarts_with;

constexpr std::string_view kNotFound = "-ERR command not found";

bool icontains(std::string_view text, std::string_view needle) {
  if (needle.size() > text.size()) {
    return false;
  }
  for (std::size_t i = 0; i + needle.size() <= text.size(); ++i) {
    if (wire::iequals(text.substr(i, needle.size()), needle)) {
      return true;
    }
  }
  return false;
}

std::string_view skip_spaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') {
    s.remove_prefix(1);
  }
  return s;
}

// Splits at the first space: the left part, and the rest (nullopt when there is no space).
std::pair<std::string_view, std::optional<std::string_view>> split_first_space(std::string_view s) {
  const std::size_t space = s.find(' ');
  if (space == std::string_view::npos) {
    return {s, std::nullopt};
  }
  return {s.substr(0, space), s.substr(space + 1)};
}

// The event types `myevents` turns on (PROTOCOL.md §8.9).
constexpr std::array kMyEventsTypes = {
    EventType::CHANNEL_ANSWER,
    EventType::CHANNEL_APPLICATION,
    EventType::CHANNEL_BRIDGE,
    EventType::CHANNEL_CREATE,
    EventType::CHANNEL_DATA,
    EventType::CHANNEL_DESTROY,
    EventType::CHANNEL_EXECUTE,
    EventType::CHANNEL_EXECUTE_COMPLETE,
    EventType::CHANNEL_HANGUP,
    EventType::CHANNEL_HANGUP_COMPLETE,
    EventType::CHANNEL_ORIGINATE,
    EventType::CHANNEL_UUID,
    EventType::CHANNEL_OUTGOING,
    EventType::CHANNEL_PARK,
    EventType::CHANNEL_PROGRESS,
    EventType::CHANNEL_PROGRESS_MEDIA,
    EventType::CHANNEL_STATE,
    EventType::CHANNEL_UNBRIDGE,
    EventType::CHANNEL_UNPARK,
    EventType::DETECTED_SPEECH,
    EventType::DTMF,
    EventType::NOTALK,
    EventType::TALK,
};

// `esl-allowed-*` lists: separated by spaces when the text has one, else by commas.
std::vector<std::string_view> split_allowed_list(std::string_view list) {
  const char sep = list.find(' ') != std::string_view::npos ? ' ' : ',';
  std::vector<std::string_view> out;
  while (!list.empty()) {
    const std::size_t cut = list.find(sep);
    const std::string_view item = list.substr(0, cut);
    if (!item.empty()) {
      out.push_back(item);
    }
    if (cut == std::string_view::npos) {
      break;
    }
    list.remove_prefix(cut + 1);
  }
  return out;
}

}  // namespace

void Session::OutputBatch::clear() {
  owned.clear();
  events.clear();
  buffers.clear();
  bytes = 0;
  close_after = false;
}

Session::Session(core::Switch& sw, SessionOptions options, std::string peer_address)
    : switch_(sw),
      options_(std::move(options)),
      peer_address_(std::move(peer_address)),
      parser_(wire::Direction::command, options_.unauthenticated_limits) {}

Session::~Session() {
  stop_log_sink();
}

void Session::stop_log_sink() {
  if (log_sink_id_ != 0) {
    switch_.logger().remove_sink(log_sink_id_);
    log_sink_id_ = 0;
  }
}

void Session::start_inbound() {
  std::string greeting;
  wire::append_auth_request(greeting);
  queue_bytes(std::move(greeting));
}

void Session::start_outbound(std::string channel_uuid, bool async, bool full) {
  outbound_ = true;
  full_ = full;
  async_ = async;
  state_ = State::authenticated;
  authenticated_.store(true, std::memory_order_relaxed);
  parser_.set_limits(options_.limits);
  bound_channel_ = switch_.channels().find(channel_uuid);
  bound_uuid_ = std::move(channel_uuid);
  sync_watch();
  sync_bus_interest();
}

// Only sessions that want events are on the bus, and only those that asked for log lines
// are the logger's sinks: with thousands of idle connections, publishing an event or a log
// line then visits just the interested ones.
void Session::sync_bus_interest() {
  bool wanted = false;
  {
    std::lock_guard lock(mutex_);
    wanted = rules_.events_enabled || !watch_uuid_.empty();
  }
  // Outside mutex_: a publisher holds the bus's lock while it takes mutex_ in offer().
  if (wanted && !on_bus_) {
    switch_.bus().subscribe(this);
    on_bus_ = true;
  } else if (!wanted && on_bus_) {
    switch_.bus().unsubscribe(this);
    on_bus_ = false;
  }
}

void Session::leave_bus() {
  if (on_bus_) {
    switch_.bus().unsubscribe(this);
    on_bus_ = false;
  }
}

void Session::on_closed() {
  if (!outbound_ || closed_notified_) {
    return;
  }
  closed_notified_ = true;
  if (bound_channel_) {
    switch_.calls().socket_session_ended(bound_channel_);
  }
  bound_channel_.reset();
}

void Session::reject_by_acl(std::string_view message) {
  std::string out;
  wire::append_rude_rejection(out, message);
  wire::append_disconnect_notice(out);
  {
    std::lock_guard lock(mutex_);
    queue_.push_back({std::move(out), nullptr});
    close_queued_ = true;
  }
  state_ = State::closing;
  notify();
}

void Session::feed(std::string_view bytes) {
  if (state_ == State::awaiting_auth || state_ == State::authenticated) {
    parser_.feed(bytes);
  }
}

Session::Step Session::step() {
  Step step;
  while (state_ == State::awaiting_auth || state_ == State::authenticated) {
    {
      std::lock_guard lock(mutex_);
      if (close_queued_) {  // killed by a publisher (lost events), or the bound call ended
        state_ = State::closing;
      }
    }
    if (state_ == State::closing) {
      release_held();  // a closing notice held behind the last reply goes out now
      break;
    }
    if (command_budget_ && *command_budget_ == 0) {
      if (parser_.buffered_bytes() == 0) {
        release_held();
        return step;
      }
      step.kind = Step::Kind::throttled;
      return step;
    }
    wire::MessageView message;
    const std::error_code ec = parser_.next(message);
    if (ec == wire::errc::need_more) {
      if (parser_.buffered_bytes() == 0) {
        release_held();  // nothing half-read: events may flow again
      }
      return step;
    }
    if (ec) {
      // A limit was broken (or a negative Content-Length): FreeSWITCH closes the
      // connection with the normal notice and no reply.
      switch_.logger().log(core::LogLevel::warning, "session.cpp", "step", __LINE__,
                           "closing " + peer_address_ + ": " + ec.message());
      begin_close(wire::kGoodbyeMessage);
      break;
    }
    {
      std::lock_guard lock(mutex_);
      busy_ = true;
      ++stats_.commands;
    }
    if (command_budget_) {
      --*command_budget_;
    }
    handle(message, step);
    sync_bus_interest();
    if (step.kind == Step::Kind::run_api || step.kind == Step::Kind::run_inline) {
      return step;
    }
  }
  step.kind = Step::Kind::close;
  return step;
}

void Session::handle(const wire::MessageView& message, Step& step) {
  std::string_view text = message.block;
  if (outbound_ && awaiting_first_packet_ && !istarts_with(text, "connect")) {
    // FreeSWITCH runs an outbound session's first packet without answering it; only
    // `connect` produces output there (PROTOCOL.md §9.3).
    suppress_reply_ = true;
  }
  awaiting_first_packet_ = false;
  // Rule 0: anything mentioning (re)loading this module becomes a background api call.
  if (icontains(text, "mod_event_socket")) {
    if (icontains(text, "unload")) {
      text = "api bgapi unload mod_event_socket";
    } else if (icontains(text, "reload")) {
      text = "api bgapi reload mod_event_socket";
    }
  }
  if (istarts_with(text, "exit") || istarts_with(text, "...")) {
    reply("+OK bye");
    begin_close(wire::kGoodbyeMessage);
    return;
  }
  if (state_ == State::awaiting_auth) {
    const std::string_view line = wire::strip_at_line_break(text);
    if (istarts_with(text, "auth ")) {
      cmd_auth(line);
    } else if (istarts_with(text, "userauth ")) {
      cmd_userauth(line);
    } else {
      reply(kNotFound);
    }
    return;
  }
  handle_authenticated(text, message, step);
}

void Session::handle_authenticated(std::string_view text, const wire::MessageView& message,
                                   Step& step) {
  const std::string_view line = wire::strip_at_line_break(text);
  if (istarts_with(text, "filter ")) {
    cmd_filter(line);
  } else if (bound_uuid_ && istarts_with(text, "resume")) {
    cmd_resume();
  } else if ((bound_uuid_ || istarts_with(text, "myevents ")) &&
             (istarts_with(text, "connect") || istarts_with(text, "getvar") ||
              istarts_with(text, "myevents"))) {
    // FreeSWITCH's block for bound connections: connect, getvar, myevents.
    if (istarts_with(text, "connect")) {
      cmd_connect();
    } else if (istarts_with(text, "getvar")) {
      cmd_getvar(line);
    } else {
      cmd_myevents(outbound_ ? text : line);
    }
  } else if (istarts_with(text, "divert_events")) {
    cmd_divert_events(line);
  } else if (istarts_with(text, "gap_notices") && !(outbound_ && !full_)) {
    cmd_gap_notices(line);
  } else if (istarts_with(text, "sendmsg")) {
    cmd_sendmsg(line, message, step);
  } else if (outbound_ && !full_) {
    // A single-channel outbound session has nothing more (PROTOCOL.md §9.6).
    reply(kNotFound);
  } else if (istarts_with(text, "sendevent")) {
    cmd_sendevent(line, message);
  } else if (istarts_with(text, "api ")) {
    cmd_api(line, message, step);
  } else if (istarts_with(text, "bgapi ")) {
    cmd_bgapi(line, message);
  } else if (istarts_with(text, "log")) {
    cmd_log(line);
  } else if (istarts_with(text, "linger")) {
    cmd_linger(text);
  } else if (istarts_with(text, "nolinger")) {
    cmd_nolinger();
  } else if (istarts_with(text, "nolog")) {
    cmd_nolog();
  } else if (istarts_with(text, "event")) {
    cmd_event(line);
  } else if (istarts_with(text, "nixevent")) {
    cmd_nixevent(line);
  } else if (istarts_with(text, "noevents")) {
    cmd_noevents();
  } else {
    reply(kNotFound);
  }
}

// ---------------------------------------------------------------- output

void Session::reply(std::string_view text) {
  std::string out;
  // An empty reply text becomes "command not found", as in FreeSWITCH.
  wire::append_command_reply(out, text.empty() ? kNotFound : text);
  queue_bytes(std::move(out));
}

void Session::reply_extended(std::string_view text, std::span<const wire::HeaderView> extra) {
  std::string out;
  wire::append_command_reply(out, text, extra);
  queue_bytes(std::move(out));
}

void Session::queue_bytes(std::string bytes) {
  if (suppress_reply_) {
    suppress_reply_ = false;
    return;
  }
  {
    std::lock_guard lock(mutex_);
    // The reply to the command running now still precedes a closing notice held behind it.
    if (close_queued_ && !closing_notice_held_) {
      return;
    }
    queue_.push_back({std::move(bytes), nullptr});
  }
  notify();
}

void Session::begin_close(std::string_view message) {
  std::string notice;
  if (outbound_) {
    wire::append_bound_disconnect_notice(notice, *bound_uuid_, message);
  } else {
    wire::append_disconnect_notice(notice, message);
  }
  {
    std::lock_guard lock(mutex_);
    if (!close_queued_) {
      // Events still queued are discarded, replies are kept (FreeSWITCH's end of session).
      discard_locked([](const OutItem& item) { return item.event != nullptr || item.is_log; });
      queue_.push_back({std::move(notice), nullptr});
      close_queued_ = true;
    }
  }
  state_ = State::closing;
  notify();
}

template <typename Match>
void Session::discard_locked(Match&& match) {
  auto drop = [&](const OutItem& item) {
    if (!match(item)) {
      return false;
    }
    queued_bytes_ -= std::min(queued_bytes_, item.accounted);
    queued_items_ -= (item.accounted > 0 && queued_items_ > 0) ? 1 : 0;
    return true;
  };
  std::erase_if(queue_, drop);
  std::erase_if(held_, drop);
}

void Session::release_held() {
  bool any = false;
  {
    std::lock_guard lock(mutex_);
    busy_ = false;
    closing_notice_held_ = false;
    if (!held_.empty()) {
      for (OutItem& item : held_) {
        queue_.push_back(std::move(item));
      }
      held_.clear();
      any = true;
    }
  }
  if (any) {
    notify();
  }
}

void Session::notify() {
  if (output_ready_) {
    output_ready_();
  }
}

bool Session::enqueue_locked(OutItem item, std::size_t size, bool is_log) {
  if (close_queued_) {
    return false;
  }
  if (queued_bytes_ + size > options_.max_queued_bytes ||
      queued_items_ >= options_.max_queued_items) {
    if (is_log) {
      ++stats_.logs_dropped;
    } else {
      ++stats_.events_dropped;
      if (gap_notices_ && item.event) {
        note_gap_locked(item.event->event());  // reported, so no reason to disconnect
        return false;
      }
    }
    if (++consecutive_drops_ > options_.max_consecutive_drops) {
      // FreeSWITCH's "Killing listener because of too many lost events".
      discard_locked([](const OutItem& i) { return i.event != nullptr; });
      std::string notice;
      wire::append_disconnect_notice(notice,
                                     is_log ? wire::kLostLogsMessage : wire::kLostEventsMessage);
      queue_.push_back({std::move(notice), nullptr});
      close_queued_ = true;
      killed_ = true;
      return true;  // wake the writer so the notice goes out
    }
    return false;
  }
  consecutive_drops_ = 0;
  if (!is_log && gap_dropped_ > 0) {
    queue_gap_notice_locked();
  }
  queued_bytes_ += size;
  ++queued_items_;
  item.accounted = size;
  if (busy_) {
    held_.push_back(std::move(item));
    return false;
  }
  queue_.push_back(std::move(item));
  return true;
}

bool Session::offer(const event::EventPtr& event) {
  bool wake = false;
  bool wanted = false;
  bool killed = false;
  {
    std::lock_guard lock(mutex_);
    const event::Event& ev = event->event();
    // Events about the bound channel decide when this connection ends (PROTOCOL.md §8).
    const bool of_bound = !watch_uuid_.empty() && ev.header("Unique-ID") == watch_uuid_;
    if (of_bound && watch_complete_) {
      return false;  // after its HANGUP_COMPLETE (FreeSWITCH never sends the CHANNEL_DESTROY)
    }
    if (rules_.should_deliver(ev)) {
      wanted = true;
      const bool was_closing = close_queued_;
      // What keeping it costs, not just its bytes on the wire: the encoded packet, the
      // event's own header storage and the bookkeeping (so event-queue-bytes bounds memory).
      const std::size_t size =
          event->packet(format_).size() + ev.text_bytes() + ev.header_count() * 32 + 256;
      wake = enqueue_locked({std::string(), event}, size, false);
      killed = !was_closing && close_queued_;
    }
    if (of_bound && !close_queued_) {
      const EventType notice_after =
          watch_self_hangup_ ? EventType::CHANNEL_HANGUP_COMPLETE : EventType::CHANNEL_HANGUP;
      if (ev.type() == EventType::CHANNEL_HANGUP_COMPLETE) {
        watch_complete_ = true;
      }
      if (ev.type() == notice_after && !watch_hungup_) {
        watch_hungup_ = true;
        std::string notice;
        if (watch_linger_) {
          // Lingering: the rest of the call's events still come, the end after the time.
          wire::append_linger_notice(notice, watch_uuid_, ev.header_or_empty("Channel-Name"),
                                     watch_linger_seconds_);
          if (watch_linger_seconds_ >= 0) {
            linger_deadline_ =
                std::chrono::steady_clock::now() + std::chrono::seconds(watch_linger_seconds_);
          }
        } else {
          wire::append_bound_disconnect_notice(notice, watch_uuid_);
          close_queued_ = true;
        }
        push_notice_locked(std::move(notice));
        wake = !busy_;
      }
    }
  }
  if (killed) {
    // Logged outside the lock: the logger feeds log lines back into sessions.
    switch_.logger().log(core::LogLevel::crit, "session.cpp", "offer", __LINE__,
                         "Killing listener " + peer_address_ + " because of too many lost events");
  }
  if (wake) {
    notify();
  }
  return wanted;
}

void Session::offer_log(const core::LogRecord& record) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (!logging_ || static_cast<int>(record.level) > log_level_) {
      return;
    }
    std::string packet;
    wire::LogData data;
    data.level = static_cast<int>(record.level);
    data.text_channel = record.text_channel;
    data.file = record.file;
    data.function = record.function;
    data.line = record.line;
    data.user_data = record.user_data;
    data.text = record.text;
    wire::append_log_data(packet, data);
    const std::size_t size = packet.size();
    wake = enqueue_locked({std::move(packet), nullptr, true}, size, true);
  }
  if (wake) {
    notify();
  }
}

bool Session::take_output(OutputBatch& batch, std::size_t max_bytes) {
  std::lock_guard lock(mutex_);
  while (!queue_.empty() && batch.bytes < max_bytes) {
    OutItem& item = queue_.front();
    std::string_view bytes;
    if (item.accounted > 0) {
      queued_bytes_ -= std::min(queued_bytes_, item.accounted);
      queued_items_ -= queued_items_ > 0 ? 1 : 0;
    }
    if (item.event) {
      bytes = item.event->packet(format_);
      batch.events.push_back(std::move(item.event));
      ++stats_.events_sent;
    } else {
      batch.owned.push_back(std::move(item.bytes));
      bytes = batch.owned.back();
    }
    batch.buffers.push_back(bytes);
    batch.bytes += bytes.size();
    queue_.pop_front();
  }
  batch.close_after = close_queued_ && queue_.empty() && held_.empty();
  return !batch.buffers.empty() || batch.close_after;
}

bool Session::killed() const {
  std::lock_guard lock(mutex_);
  return killed_;
}

SessionStats Session::stats() const {
  std::lock_guard lock(mutex_);
  SessionStats stats = stats_;
  stats.queued_items = queue_.size() + held_.size();
  stats.queued_bytes = queued_bytes_;
  return stats;
}

void Session::on_auth_timeout() {
  if (awaiting_first_packet_ && outbound_ && state_ == State::authenticated) {
    // The program never spoke: FreeSWITCH logs a socket error and lets the channel go.
    switch_.logger().log(core::LogLevel::err, "mod_event_socket.c", "listener_run", 2567,
                         "Socket Error!", *bound_uuid_);
    begin_close(wire::kGoodbyeMessage);
    return;
  }
  if (awaiting_first_packet_ && state_ == State::awaiting_auth) {
    begin_close(wire::kGoodbyeMessage);
  }
}

void Session::on_login_timeout() {
  if (!outbound_ && state_ == State::awaiting_auth) {
    begin_close(wire::kGoodbyeMessage);
  }
}

void Session::on_peer_closed() {
  if (state_ == State::awaiting_auth || state_ == State::authenticated) {
    begin_close(wire::kGoodbyeMessage);
  }
}

void Session::on_shutdown() {
  {
    std::lock_guard lock(mutex_);
    if (close_queued_) {
      return;
    }
  }
  begin_close(wire::kShutdownMessage);
}

// ---------------------------------------------------------------- commands

void Session::cmd_auth(std::string_view line) {
  // The password is everything after "auth ", spaces included, compared exactly.
  if (line.substr(5) == options_.password) {
    state_ = State::authenticated;
    authenticated_.store(true, std::memory_order_relaxed);
    parser_.set_limits(options_.limits);
    reply("+OK accepted");
    return;
  }
  switch_.logger().log(core::LogLevel::warning, "session.cpp", "cmd_auth", __LINE__,
                       "authentication failed for " + peer_address_);
  reply("-ERR invalid");
  begin_close(wire::kGoodbyeMessage);
}

void Session::cmd_userauth(std::string_view line) {
  std::string_view arg = line.substr(9);
  std::string_view user = arg;
  std::string_view domain;
  std::string_view password;
  bool has_domain = false;
  if (const std::size_t at = arg.find('@'); at != std::string_view::npos) {
    user = arg.substr(0, at);
    domain = arg.substr(at + 1);
    has_domain = true;
    if (const std::size_t colon = domain.find(':'); colon != std::string_view::npos) {
      password = domain.substr(colon + 1);
      domain = domain.substr(0, colon);
    }
  }
  if (const std::size_t colon = user.find(':'); colon != std::string_view::npos) {
    password = user.substr(colon + 1);
    user = user.substr(0, colon);
  }
  const DirectoryUser* found = nullptr;
  if (!user.empty() && has_domain && !domain.empty() && options_.directory != nullptr) {
    found = options_.directory->find(user, domain);
  }
  std::string_view expected;
  if (found != nullptr) {
    if (auto it = found->params.find("esl-password"); it != found->params.end()) {
      expected = it->second;
    }
  }
  if (found == nullptr || expected.empty() || password.empty() || password != expected) {
    switch_.logger().log(core::LogLevel::warning, "session.cpp", "cmd_userauth", __LINE__,
                         "userauth failed for " + peer_address_);
    reply("-ERR invalid");
    begin_close(wire::kGoodbyeMessage);
    return;
  }

  std::string allowed_events_text = "all";
  std::string allowed_api_text = "all";
  if (auto it = found->params.find("esl-allowed-log"); it != found->params.end()) {
    log_allowed_ = switch_true(it->second);
  }
  if (auto it = found->params.find("esl-allowed-events"); it != found->params.end()) {
    allowed_events_text = it->second;
    restricted_events_ = true;
    all_events_allowed_ = false;
    bool custom = false;
    for (std::string_view token : split_allowed_list(it->second)) {
      if (custom) {
        allowed_subclasses_.emplace(token);
      } else if (auto type = event::event_type_from_name(token)) {
        allowed_events_.insert(*type);
        if (*type == EventType::ALL) {
          all_events_allowed_ = true;
        } else if (*type == EventType::CUSTOM) {
          custom = true;
        }
      }
    }
  }
  if (auto it = found->params.find("esl-allowed-api"); it != found->params.end()) {
    allowed_api_text = it->second;
    restricted_api_ = true;
    for (std::string_view token : split_allowed_list(it->second)) {
      allowed_api_.emplace(token);
    }
  }
  state_ = State::authenticated;
  authenticated_.store(true, std::memory_order_relaxed);
  parser_.set_limits(options_.limits);
  const wire::HeaderView extra[] = {{"Allowed-Events", allowed_events_text},
                                    {"Allowed-API", allowed_api_text},
                                    {"Allowed-LOG", log_allowed_ ? "true" : "false"}};
  reply_extended("+OK accepted", extra);
}

void Session::cmd_filter(std::string_view line) {
  std::string_view name = skip_spaces(line.substr(7));
  auto [first, value] = split_first_space(name);
  name = first;
  std::string text;
  {
    std::lock_guard lock(mutex_);
    event::FilterList& filters = rules_.filters;
    if (wire::iequals(name, "delete") && value) {
      auto [target, target_value] = split_first_space(*value);
      if (wire::iequals(target, "all")) {
        filters.remove_all();
      } else if (target_value && !target_value->empty()) {
        filters.remove(target, *target_value);
      } else {
        filters.remove(target);
      }
      text = "+OK filter deleted. [" + std::string(target) + "][" +
             std::string(target_value.value_or("")) + "]";
    } else if (value) {
      if (wire::iequals(name, "add")) {
        auto [added, added_value] = split_first_space(*value);
        name = added;
        value = added_value;
      }
      filters.add(name, value);
      text = "+OK filter added. [" + std::string(name) + "]=[" +
             (value ? std::string(*value) : std::string("(null)")) + "]";
    } else {
      text = "-ERR invalid syntax";
    }
  }
  reply(text);
}

void Session::cmd_event(std::string_view line) {
  std::string text;
  {
    std::lock_guard lock(mutex_);
    std::size_t key_count = 0;
    bool custom = false;
    bool denied = false;
    const std::size_t space = line.find(' ', 5);
    if (space != std::string_view::npos) {
      std::string_view rest = line.substr(space + 1);
      const std::vector<std::string> registered = switch_.custom_subclasses();
      for (std::size_t count = 0;; ++count) {
        const std::size_t cut = rest.find(' ');
        const std::string_view token = rest.substr(0, cut);
        if (count == 0 && (wire::iequals(token, "xml") || wire::iequals(token, "plain") ||
                           wire::iequals(token, "json"))) {
          format_ = wire::iequals(token, "xml")    ? wire::EventFormat::xml
                    : wire::iequals(token, "json") ? wire::EventFormat::json
                                                   : wire::EventFormat::plain;
        } else if (custom) {
          if (restricted_events_ && !all_events_allowed_ && !allowed_subclasses_.contains(token)) {
            denied = true;
            break;
          }
          rules_.subscription.add_subclass(token);
        } else if (auto type = event::event_type_from_name(token)) {
          if (restricted_events_ && !all_events_allowed_ && !allowed_events_.contains(*type)) {
            denied = true;
            break;
          }
          ++key_count;
          if (*type == EventType::ALL) {
            std::vector<std::string> subclasses;
            for (const std::string& s : registered) {
              if (!restricted_events_ || all_events_allowed_ || allowed_subclasses_.contains(s)) {
                subclasses.push_back(s);
              }
            }
            rules_.subscription.enable(*type, subclasses);
          } else {
            rules_.subscription.enable(*type);
          }
          custom = custom || *type == EventType::CUSTOM;
        }
        if (cut == std::string_view::npos) {
          break;
        }
        rest.remove_prefix(cut + 1);
      }
    }
    if (denied) {
      text = "-ERR permission denied";
    } else if (key_count == 0) {
      text = "-ERR no keywords supplied";
    } else {
      rules_.events_enabled = true;
      text = "+OK event listener enabled " + std::string(wire::event_format_name(format_));
    }
  }
  reply(text);
}

void Session::cmd_nixevent(std::string_view line) {
  std::string text;
  {
    std::lock_guard lock(mutex_);
    std::size_t key_count = 0;
    bool custom = false;
    const std::size_t space = line.find(' ', 8);
    if (space != std::string_view::npos) {
      std::string_view rest = line.substr(space + 1);
      for (;;) {
        const std::size_t cut = rest.find(' ');
        const std::string_view token = rest.substr(0, cut);
        if (custom) {
          rules_.subscription.remove_subclass(token);
        } else if (auto type = event::event_type_from_name(token)) {
          ++key_count;
          if (*type == EventType::CUSTOM) {
            custom = true;
          } else {
            rules_.subscription.disable(*type);
          }
        }
        if (cut == std::string_view::npos) {
          break;
        }
        rest.remove_prefix(cut + 1);
      }
    }
    if (key_count == 0) {
      text = "-ERR no keywords supplied";
    } else {
      rules_.events_enabled = true;
      text = "+OK events nixed";
    }
  }
  reply(text);
}

void Session::cmd_noevents() {
  std::string text;
  {
    std::lock_guard lock(mutex_);
    discard_locked([](const OutItem& i) { return i.event != nullptr; });
    if (rules_.events_enabled) {
      rules_.events_enabled = false;
      rules_.subscription.clear();
      text = "+OK no longer listening for events";
    } else {
      text = "-ERR not listening for events";
    }
  }
  reply(text);
}

void Session::cmd_myevents(std::string_view line) {
  // Inbound: `myevents <uuid> [format]`. A live channel binds the connection to it; an
  // unknown uuid is an error with a format word, and without one the connection listens to
  // every event that carries a Unique-ID (FreeSWITCH's behaviour).
  std::string text;
  {
    std::lock_guard lock(mutex_);
    if (myevents_enabled_) {
      text = "-ERR aready enabled.";
    } else {
      std::optional<std::string> channel = bound_uuid_;
      bool valid = true;
      if (!channel) {
        const auto [uuid, format_word] = split_first_space(line.size() > 9 ? line.substr(9) : "");
        if (const ChannelPtr found = switch_.channels().find(uuid)) {
          bound_channel_ = found;
          channel = std::string(uuid);
          bound_uuid_ = channel;
          watch_uuid_ = *channel;
          async_ = true;
        } else if (format_word) {
          valid = false;
        }
      }
      if (!valid) {
        text = "-ERR invalid uuid";
      } else {
        myevents_enabled_ = true;
        for (EventType type : kMyEventsTypes) {
          rules_.subscription.enable(type);
        }
        rules_.myevents.active = true;
        rules_.myevents.channel_uuid = channel;
        rules_.events_enabled = true;
        // The format words: searched in the whole packet text on an outbound connection; on
        // an inbound one the text has already been cut after the uuid (FreeSWITCH's quirk).
        if (outbound_) {
          if (line.find("xml") != std::string_view::npos ||
              line.find("XML") != std::string_view::npos) {
            format_ = wire::EventFormat::xml;
          }
          if (line.find("json") != std::string_view::npos ||
              line.find("JSON") != std::string_view::npos) {
            format_ = wire::EventFormat::json;
          }
        }
        text = "+OK Events Enabled";
      }
    }
  }
  reply(text);
}

void Session::cmd_divert_events(std::string_view line) {
  if (!bound_uuid_) {
    reply("-ERR not controlling a session.");
    return;
  }
  const std::string_view value = skip_spaces(line.substr(std::min<std::size_t>(13, line.size())));
  if (value.empty()) {
    reply("-ERR missing value.");
    return;
  }
  divert_ = wire::iequals(value, "on");
  reply(divert_ ? "+OK events diverted" : "+OK events not diverted");
}

void Session::cmd_gap_notices(std::string_view line) {
  // Ours, not FreeSWITCH's: a client that would rather hear about lost events than be
  // disconnected for them (FreeSWITCH's policy, still the default) says `gap_notices on`.
  const std::string_view value = skip_spaces(line.substr(std::min<std::size_t>(11, line.size())));
  if (!wire::iequals(value, "on") && !wire::iequals(value, "off")) {
    reply("-ERR usage: gap_notices on|off");
    return;
  }
  const bool on = wire::iequals(value, "on");
  {
    std::lock_guard lock(mutex_);  // publishers read it in offer()
    gap_notices_ = on;
  }
  reply(on ? "+OK gap notices on" : "+OK gap notices off");
}

void Session::note_gap_locked(const event::Event& dropped) {
  const std::uint64_t sequence = dropped.sequence().value_or(0);
  if (gap_dropped_++ == 0) {
    gap_first_sequence_ = sequence;
  }
  gap_last_sequence_ = sequence;
}

void Session::queue_gap_notice_locked() {
  // Not published (it is this client's alone) and without an Event-Sequence of its own, so
  // that other clients' sequences stay gap-free.
  event::Event gap(EventType::CUSTOM, "eventsocket::gap");
  gap.add_header("Event-Name", "CUSTOM");
  gap.add_header("Core-UUID", switch_.origin().core_uuid);
  gap.add_header("Event-Date-Timestamp",
                 std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count()));
  gap.add_header("Event-Subclass", "eventsocket::gap");
  gap.add_header("Dropped-Events", std::to_string(gap_dropped_));
  gap.add_header("Dropped-First-Sequence", std::to_string(gap_first_sequence_));
  gap.add_header("Dropped-Last-Sequence", std::to_string(gap_last_sequence_));
  gap_dropped_ = 0;
  // Outside the byte limit: one small packet per gap, and the client asked for it.
  OutItem notice{std::string(event::FrozenEvent::freeze(std::move(gap))->packet(format_)), nullptr};
  if (busy_) {
    held_.push_back(std::move(notice));
  } else {
    queue_.push_back(std::move(notice));
  }
}

void Session::cmd_getvar(std::string_view line) {
  // `getvar <name>`: everything after the first space is the name (spaces kept); the raw
  // value is the reply; unset or empty gives "command not found" (an empty reply).
  const std::size_t space = line.find(' ');
  // The bound channel is held until the connection ends: its variables stay readable while
  // lingering after the hangup.
  const ChannelPtr& channel = bound_channel_;
  if (space == std::string_view::npos || !channel) {
    reply(kNotFound);
    return;
  }
  reply(channel->variable(line.substr(space + 1)).value_or(""));
}

void Session::cmd_resume() {
  resume_ = true;
  if (const ChannelPtr channel = switch_.channels().find(*bound_uuid_)) {
    channel->set_variable("socket_resume", "true");
  }
  reply("+OK");
}

void Session::cmd_sendmsg(std::string_view line, const wire::MessageView& message, Step& step) {
  std::string_view uuid = skip_spaces(line.substr(7));
  if (uuid.empty()) {
    uuid = message.header("Session-ID").value_or("");
  }
  // The bound channel is the target when no other one is named.
  const bool to_bound = bound_uuid_ && (uuid.empty() || uuid == *bound_uuid_);
  if (to_bound) {
    uuid = *bound_uuid_;
  }
  const core::ChannelPtr channel = uuid.empty() ? nullptr : switch_.channels().find(uuid);
  if (!channel) {
    reply("-ERR invalid session id [" + std::string(uuid) + "]");
    return;
  }
  // PROTOCOL.md §8.11: the reply does not judge the message; unknown commands are ignored.
  core::Channel::QueuedApplication msg;
  const std::string_view command = message.header("call-command").value_or("");
  msg.command = std::string(command);
  msg.application = std::string(message.header("execute-app-name").value_or(""));
  if (auto arg = message.header("execute-app-arg")) {
    msg.data = std::string(*arg);
  } else if (wire::iequals(message.header("Content-Type").value_or(""), "text/plain")) {
    msg.data = std::string(message.body);
  }
  msg.event_uuid = std::string(message.header("Event-UUID").value_or(""));
  if (auto loops = message.header("loops")) {
    msg.loops = std::atoi(std::string(*loops).c_str());
  }
  msg.event_lock = wire::iequals(message.header("event-lock").value_or(""), "true");
  msg.hangup_cause = std::string(message.header("hangup-cause").value_or(""));
  for (const auto& h : message.headers) {
    msg.headers.emplace_back(std::string(h.name), std::string(h.value));
    if (wire::iequals(h.name, "application")) {
      msg.extension.emplace_back(h.value);
    }
  }
  const bool async_header = wire::iequals(message.header("async").value_or(""), "true");
  if (to_bound && outbound_ && !async_ && !async_header &&
      (command == "execute" || command == "hangup" || command == "xferext")) {
    // Static mode: the message runs now on the channel's flow and the +OK waits for it.
    step.kind = Step::Kind::run_inline;
    step.channel_uuid = channel->uuid();
    step.message = std::move(msg);
    return;
  }
  if (command == "hangup") {
    if (to_bound && async_) {
      std::lock_guard lock(mutex_);
      watch_self_hangup_ = true;
    }
    // Acted on at once: the channel's thread may be inside an application that does not
    // look at its messages (the +OK still comes first, events wait for the reply).
    switch_.calls().hangup(channel,
                           msg.hangup_cause.empty() ? "NORMAL_CLEARING" : msg.hangup_cause);
  } else if (command == "execute" || command == "xferext") {
    switch_.calls().queue_application(channel->uuid(), std::move(msg));
  }
  reply("+OK");
}

void Session::cmd_sendevent(std::string_view line, const wire::MessageView& message) {
  std::string_view name = line.substr(9);
  while (!name.empty() && (name.front() == ' ' || name.front() == '\t')) {
    name.remove_prefix(1);
  }
  const std::optional<EventType> type =
      name.empty() ? std::nullopt : event::event_type_from_name(name);
  event::Event e(type.value_or(EventType::CUSTOM));
  // Every client header stays, `Command` first (with the stripped command line).
  e.add_header("Command", line);
  std::optional<std::string> subclass;
  for (const auto& h : message.headers) {
    if (e.type() == EventType::CUSTOM && type.has_value() && h.name == "Event-Subclass") {
      subclass = std::string(h.value);  // re-added after the other client headers
      continue;
    }
    e.add_header(h.name, h.value);
  }
  const std::string event_uuid = core::make_uuid();
  e.add_header("Event-UUID", event_uuid);
  if (subclass) {
    e.set_subclass(*subclass);
    e.add_header("Event-Subclass", *subclass);
    switch_.register_subclass(*subclass);
  }
  if (message.has_body) {
    e.set_body(message.body);
  }
  switch_.add_standard_headers(e, {"mod_event_socket.c", "parse_command", 2283});
  switch_.publish(std::move(e));
  reply("+OK " + event_uuid);
}

bool Session::api_allowed(std::string_view command, std::string_view args) const {
  if (!restricted_api_) {
    return true;
  }
  // A command that runs another command needs both allowed, however deep (bounded).
  for (int depth = 0; depth < 16; ++depth) {
    if (!allowed_api_.contains(command)) {
      return false;
    }
    const bool nested = wire::iequals(command, "bgapi") || wire::iequals(command, "sched_api") ||
                        wire::iequals(command, "eval") || wire::iequals(command, "expand") ||
                        wire::iequals(command, "xml_wrap");
    if (!nested) {
      return true;
    }
    args = skip_spaces(args);
    const auto [next, rest] = split_first_space(args);
    command = next;
    args = rest.value_or("");
  }
  return false;
}

void Session::cmd_api(std::string_view line, const wire::MessageView& message, Step& step) {
  const auto [command, args] = split_first_space(line.substr(4));
  if (!api_allowed(command, args.value_or(""))) {
    reply("-ERR permission denied");
    return;
  }
  step.kind = Step::Kind::run_api;
  step.api.command = std::string(command);
  step.api.args = std::string(args.value_or(""));
  step.api.console_execute = switch_true(message.header("console_execute").value_or(""));
}

void Session::complete_api(const PendingApi& api, const core::ApiResult& result) {
  std::string out;
  if (result.ok) {
    wire::append_api_response(out, result.output);
  } else {
    const std::string name =
        api.console_execute && !api.args.empty() ? api.command + " " + api.args : api.command;
    wire::append_api_response(out, "-ERR " + name + " Command not found!\n");
  }
  queue_bytes(std::move(out));
}

void Session::complete_inline() {
  reply("+OK");
}

void Session::cmd_connect() {
  // The channel's data as a plain CHANNEL_DATA event: its caller profile under `Channel-`,
  // the usual channel headers, then the reply headers; no envelope (PROTOCOL.md §9.4).
  event::Event e(EventType::CHANNEL_DATA);
  switch_.add_standard_headers(e, {"mod_event_socket.c", "parse_command", 2029});
  const ChannelPtr& channel = bound_channel_;
  if (channel) {
    const core::ChannelData data = channel->snapshot();
    data.caller.add_event_headers(e, "Channel");
    data.add_event_headers(e);
  }
  e.add_header("Content-Type", "command/reply");
  e.add_header("Reply-Text", "+OK\n");
  e.add_header("Socket-Mode", async_ ? "async" : "static");
  e.add_header("Control", full_ ? "full" : "single-channel");
  std::string out;
  event::encode_plain(e, out);
  queue_bytes(std::move(out));
  if (channel && outbound_) {
    switch_.calls().socket_session_connected(channel);
  }
}

void Session::cmd_bgapi(std::string_view line, const wire::MessageView& message) {
  const auto [command_view, args_view] = split_first_space(line.substr(6));
  if (!api_allowed(command_view, args_view.value_or(""))) {
    reply("-ERR permission denied");
    return;
  }
  std::string job_uuid(message.header("Job-UUID").value_or(""));
  if (job_uuid.empty()) {
    job_uuid = core::make_uuid();
  }
  job_uuid.resize(std::min<std::size_t>(job_uuid.size(), 256));  // FreeSWITCH's buffer
  std::string command(command_view);
  std::string args(args_view.value_or(""));
  core::Switch& sw = switch_;
  const std::string owner = bound_uuid_.value_or("");
  const bool queued = sw.jobs().try_submit([&sw, command, args, job_uuid, owner] {
    const core::ApiResult result = sw.execute_api(command, args);
    event::Event e =
        sw.make_event(EventType::BACKGROUND_JOB, {"mod_event_socket.c", "api_exec", 1580});
    e.add_header("Job-UUID", job_uuid);
    e.add_header("Job-Command", command);
    e.add_header("Job-Command-Arg", args);
    if (!owner.empty()) {
      e.add_header("Job-Owner-UUID", owner);  // lets it through this session's myevents
    }
    e.set_body(result.ok ? result.output : "-ERR " + command + " Command not found!\n");
    sw.publish(std::move(e));
  });
  if (!queued) {
    reply("-ERR too many background jobs queued, try again later");
    return;
  }
  // The job may already be done, but its event waits: this session is busy until the
  // reply is queued, so the reply always comes first.
  const wire::HeaderView extra[] = {{"Job-UUID", job_uuid}};
  reply_extended("+OK Job-UUID: " + job_uuid, extra);
}

void Session::cmd_log(std::string_view line) {
  if (!log_allowed_) {
    reply("-ERR permission denied");
    return;
  }
  std::string_view word = skip_spaces(line.substr(3));
  word = word.substr(0, word.find(' '));
  int level = 7;
  if (!word.empty()) {
    const auto parsed = core::parse_log_level(word);
    if (!parsed) {
      reply("-ERR invalid log level");
      return;
    }
    level = *parsed;
  }
  if (log_sink_id_ == 0) {
    log_sink_id_ =
        switch_.logger().add_sink([this](const core::LogRecord& record) { offer_log(record); });
  }
  {
    std::lock_guard lock(mutex_);
    logging_ = true;
    log_level_ = level;
  }
  reply("+OK log level " + std::string(word) + " [" + std::to_string(level) + "]");
}

void Session::cmd_nolog() {
  bool was_logging = false;
  {
    std::lock_guard lock(mutex_);
    discard_locked([](const OutItem& i) { return i.is_log; });
    was_logging = logging_;
    logging_ = false;
  }
  reply(was_logging ? "+OK no longer logging" : "-ERR not loging");
}

void Session::cmd_linger(std::string_view text) {
  if (!bound_uuid_) {
    reply("-ERR not controlling a session");
    return;
  }
  // Not stripped: a space as the 7th byte and any 8th byte give atoi of the rest
  // (`linger abc` -> 0); otherwise linger forever.
  linger_ = true;
  if (text.size() > 7 && text[6] == ' ') {
    linger_seconds_ = std::atoi(std::string(text.substr(7)).c_str());
    sync_watch();
    reply("+OK will linger " + std::to_string(linger_seconds_) + " seconds");
  } else {
    linger_seconds_ = -1;
    sync_watch();
    reply("+OK will linger");
  }
}

void Session::sync_watch() {
  std::lock_guard lock(mutex_);
  watch_uuid_ = bound_uuid_.value_or("");
  watch_linger_ = linger_;
  watch_linger_seconds_ = linger_seconds_;
}

void Session::push_notice_locked(std::string notice) {
  // Behind whatever the connection holds back while a command runs, so the notice follows
  // the events it is about.
  if (busy_) {
    closing_notice_held_ = closing_notice_held_ || close_queued_;
    held_.push_back({std::move(notice), nullptr});
  } else {
    queue_.push_back({std::move(notice), nullptr});
  }
}

std::optional<std::chrono::steady_clock::time_point> Session::linger_deadline() const {
  std::lock_guard lock(mutex_);
  return close_queued_ ? std::nullopt : linger_deadline_;
}

void Session::on_linger_expired() {
  {
    std::lock_guard lock(mutex_);
    if (close_queued_ || !linger_deadline_) {
      return;
    }
    linger_deadline_.reset();
    std::string notice;
    wire::append_bound_disconnect_notice(notice, watch_uuid_);
    close_queued_ = true;
    push_notice_locked(std::move(notice));
  }
  notify();
}

void Session::cmd_nolinger() {
  if (!bound_uuid_) {
    reply("-ERR not controlling a session");
    return;
  }
  linger_ = false;
  sync_watch();
  reply("+OK will not linger");
}

}  // namespace eventsocket::server
