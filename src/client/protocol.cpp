#include "eventsocket/client/protocol.hpp"

#include <algorithm>
#include <cstdlib>

#include "eventsocket/event/codec.hpp"
#include "eventsocket/event/event_type.hpp"
#include "eventsocket/wire/message.hpp"
#include "eventsocket/wire/writer.hpp"

namespace eventsocket::client {

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

std::string serialize_command(std::string_view command, const Headers& headers,
                              std::string_view body) {
  if (command.empty() || !is_single_line(command)) {
    throw ClientError("refused: the command is empty or contains a line break");
  }
  std::string out(command);
  out += '\n';
  for (const auto& [name, value] : headers) {
    if (name.empty() || !is_single_line(name) || !is_single_line(value) ||
        name.find(':') != std::string::npos) {
      throw ClientError("refused: header '" + name + "' has a line break or colon in it");
    }
    out += name;
    out += ": ";
    out += value;
    out += '\n';
  }
  if (!body.empty()) {
    out += "Content-Length: " + std::to_string(body.size()) + "\n\n";
    out += body;
  } else {
    out += '\n';
  }
  return out;
}

Protocol::Protocol(std::size_t max_queued_events) : max_queued_(max_queued_events) {}

Protocol::Token Protocol::expect_reply() {
  const Token t = next_token_++;
  replies_.push_back(t);
  return t;
}

Protocol::Token Protocol::expect_job(std::string job_uuid) {
  const Token t = next_token_++;
  jobs_.insert_or_assign(std::move(job_uuid), t);
  return t;
}

Protocol::Token Protocol::expect_execution(std::string application_uuid) {
  const Token t = next_token_++;
  executions_.insert_or_assign(std::move(application_uuid), t);
  return t;
}

void Protocol::abandon(Token token) {
  if (std::find(replies_.begin(), replies_.end(), token) != replies_.end()) {
    abandoned_.insert(token);  // its reply still comes, in its place
    return;
  }
  std::erase_if(jobs_, [token](const auto& entry) { return entry.second == token; });
  std::erase_if(executions_, [token](const auto& entry) { return entry.second == token; });
}

std::error_code Protocol::feed(std::string_view bytes) {
  parser_.feed(bytes);
  wire::MessageView packet;
  std::error_code error;
  while (!(error = parser_.next(packet))) {
    handle_packet(packet);
  }
  return error == wire::errc::need_more ? std::error_code{} : error;
}

std::vector<Protocol::Completion> Protocol::take_completions() {
  std::vector<Completion> out;
  out.swap(completions_);
  return out;
}

void Protocol::reset() {
  parser_ = wire::Parser(wire::Direction::packet);
  replies_.clear();
  abandoned_.clear();
  jobs_.clear();
  executions_.clear();
  completions_.clear();
  goodbye_.clear();
}

void Protocol::complete(Completion c) {
  completions_.push_back(std::move(c));
}

void Protocol::queue_event(event::Event e) {
  if (events_.size() >= max_queued_) {
    ++dropped_;
    ++unreported_drops_;
    return;
  }
  if (unreported_drops_ > 0) {
    // The gap notice takes one place; the event after it is kept if there is room.
    event::Event gap(event::EventType::CUSTOM, kGapSubclass);
    gap.add_header("Event-Name", "CUSTOM");
    gap.add_header("Event-Subclass", kGapSubclass);
    gap.add_header("Dropped-Events", std::to_string(unreported_drops_));
    unreported_drops_ = 0;
    events_.push_back(std::move(gap));
    if (events_.size() >= max_queued_) {
      ++dropped_;
      ++unreported_drops_;
      return;
    }
  }
  events_.push_back(std::move(e));
}

void Protocol::handle_packet(const wire::MessageView& m) {
  const std::string_view content_type = m.header("Content-Type").value_or("");
  if (const auto format = wire::event_format_from_content_type(content_type)) {
    event::Event e;
    if (!event::decode(m.body, *format, e, nullptr)) {
      return;  // not an event we can read; the connection itself is fine
    }
    if (e.type() == event::EventType::BACKGROUND_JOB) {
      if (auto it = jobs_.find(e.header_or_empty("Job-UUID")); it != jobs_.end()) {
        Completion c;
        c.token = it->second;
        c.job = BackgroundJob{it->first, std::string(e.body()), std::move(e)};
        complete(std::move(c));
        jobs_.erase(it);
        return;
      }
    }
    if (e.type() == event::EventType::CHANNEL_EXECUTE_COMPLETE) {
      if (auto it = executions_.find(e.header_or_empty("Application-UUID"));
          it != executions_.end()) {
        // The caller gets it and so does the queue: it is an ordinary event too.
        Completion c;
        c.token = it->second;
        c.executed = e;
        complete(std::move(c));
        executions_.erase(it);
      }
    }
    queue_event(std::move(e));
    return;
  }
  if (content_type == "text/disconnect-notice" || content_type == "text/rude-rejection") {
    if (m.header("Content-Disposition").value_or("") == "linger") {
      return;  // the channel hung up; events keep coming until the linger time is over
    }
    goodbye_ = content_type == "text/rude-rejection" ? "access denied by the server's ACL"
                                                     : "the server disconnected";
    return;
  }
  if (content_type == "log/data") {
    if (logs_.size() >= max_queued_) {
      return;  // like FreeSWITCH's log queue: the newest line is what gets lost
    }
    LogLine l;
    l.level = std::atoi(std::string(m.header("Log-Level").value_or("7")).c_str());
    l.file = std::string(m.header("Log-File").value_or(""));
    l.function = std::string(m.header("Log-Func").value_or(""));
    l.line = std::atoi(std::string(m.header("Log-Line").value_or("0")).c_str());
    l.user_data = std::string(m.header("User-Data").value_or(""));
    l.text = std::string(m.body);
    logs_.push_back(std::move(l));
    return;
  }
  // auth/request, command/reply, api/response: the answer to the oldest command.
  if (replies_.empty()) {
    return;
  }
  const Token token = replies_.front();
  replies_.pop_front();
  if (abandoned_.erase(token) > 0) {
    return;
  }
  Reply r;
  r.content_type = std::string(content_type);
  r.headers.reserve(m.headers.size());
  for (const auto& h : m.headers) {
    r.headers.emplace_back(std::string(h.name), std::string(h.value));
  }
  r.body = std::string(m.body);
  Completion c;
  c.token = token;
  c.reply = std::move(r);
  complete(std::move(c));
}

namespace {

// The words of a command line, split on spaces.
std::vector<std::string> words_of(std::string_view line) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') {
      ++i;
    }
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ') {
      ++i;
    }
    if (i > start) {
      out.emplace_back(line.substr(start, i - start));
    }
  }
  return out;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 'a' + 'A');
    }
  }
  return out;
}

bool is_format(std::string_view word) {
  return wire::iequals(word, "plain") || wire::iequals(word, "json") || wire::iequals(word, "xml");
}

}  // namespace

void Subscriptions::note(std::string_view line) {
  const std::vector<std::string> w = words_of(line);
  if (w.empty()) {
    return;
  }
  const std::string verb = upper(w[0]);
  if (verb == "EVENT" || verb == "NIXEVENT") {
    const bool add = verb == "EVENT";
    std::size_t i = 1;
    if (add && i < w.size() && is_format(w[i])) {
      format_ = upper(w[i]) == "PLAIN" ? "plain" : upper(w[i]) == "JSON" ? "json" : "xml";
      ++i;
    }
    bool custom = false;
    for (; i < w.size(); ++i) {
      if (custom) {
        add ? (void)subclasses_.insert(w[i]) : (void)subclasses_.erase(w[i]);
        continue;
      }
      const std::string name = upper(w[i]);
      if (name == "ALL") {
        all_ = add;
        names_.clear();
        continue;
      }
      if (name == "CUSTOM") {
        custom = true;
        if (i + 1 < w.size()) {
          continue;  // "CUSTOM a::b ...": the subclasses, not every CUSTOM event
        }
      }
      // With ALL, names_ holds the exceptions; without, the subscriptions.
      if (add != all_) {
        names_.insert(name);
      } else {
        names_.erase(name);
      }
    }
  } else if (verb == "NOEVENTS") {
    all_ = false;
    names_.clear();
    subclasses_.clear();
  } else if (verb == "FILTER") {
    if (w.size() >= 2 && upper(w[1]) == "DELETE") {
      if (w.size() < 3 || upper(w[2]) == "ALL") {
        filters_.clear();
        return;
      }
      const std::string& header = w[2];
      const std::size_t at = line.find(header, line.find(w[1]) + w[1].size());
      std::string value(line.substr(at + header.size()));
      value.erase(0, value.find_first_not_of(' '));
      std::erase_if(filters_, [&](const auto& f) {
        return wire::iequals(f.first, header) && (value.empty() || f.second == value);
      });
      return;
    }
    if (w.size() >= 2) {
      const std::size_t at = line.find(w[1]);
      std::string value(line.substr(at + w[1].size()));
      value.erase(0, value.find_first_not_of(' '));
      const std::pair<std::string, std::string> f(w[1], value);
      if (std::find(filters_.begin(), filters_.end(), f) == filters_.end()) {
        filters_.push_back(f);
      }
    }
  } else if (verb == "MYEVENTS") {
    myevents_ = std::string(line);
  } else if (verb == "DIVERT_EVENTS") {
    divert_ = std::string(line);
  } else if (verb == "LOG") {
    log_ = std::string(line);
  } else if (verb == "NOLOG") {
    log_.clear();
  } else if (verb == "LINGER") {
    linger_ = std::string(line);
  } else if (verb == "NOLINGER") {
    linger_.clear();
  }
}

bool Subscriptions::subscribed(std::string_view event_name) const {
  const bool listed = names_.contains(upper(event_name));
  return all_ ? !listed : listed;
}

std::vector<std::string> Subscriptions::restore_commands() const {
  std::vector<std::string> out;
  if (!myevents_.empty()) {
    out.push_back(myevents_);
  }
  std::string event = "event " + format_;
  if (all_) {
    event += " ALL";
  } else {
    for (const std::string& name : names_) {
      if (name != "CUSTOM") {
        event += " " + name;
      }
    }
  }
  const bool custom = (all_ || names_.contains("CUSTOM")) || !subclasses_.empty();
  if (custom && !(all_ && subclasses_.empty())) {
    event += " CUSTOM";
    for (const std::string& subclass : subclasses_) {
      event += " " + subclass;
    }
  }
  if (event != "event " + format_) {
    out.push_back(event);
  }
  if (all_ && !names_.empty()) {
    std::string nix = "nixevent";
    for (const std::string& name : names_) {
      nix += " " + name;
    }
    out.push_back(nix);
  }
  for (const auto& [header, value] : filters_) {
    out.push_back("filter " + header + (value.empty() ? "" : " " + value));
  }
  for (const std::string* line : {&divert_, &log_, &linger_}) {
    if (!line->empty()) {
      out.push_back(*line);
    }
  }
  return out;
}

}  // namespace eventsocket::client
