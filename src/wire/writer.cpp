#include "eventsocket/wire/writer.hpp"

#include <charconv>

namespace eventsocket::wire {
namespace {

void append_number(std::string& out, long long value) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  (void)ec;  // 24 bytes always hold a long long
  out.append(digits, end);
}

// A CR or LF inside a value (a command's argument echoed in Reply-Text, a client's
// Job-UUID) becomes a space: written raw, it would end the header there and let the rest
// pose as headers of its own, or as a Content-Length that swallows the next packet.
void append_header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  for (std::size_t at = value.find_first_of("\r\n"); at != std::string_view::npos;
       at = value.find_first_of("\r\n")) {
    out.append(value.substr(0, at));
    out.push_back(' ');
    value.remove_prefix(at + 1);
  }
  out.append(value);
  out.push_back('\n');
}

void append_header(std::string& out, std::string_view name, long long value) {
  out.append(name);
  out.append(": ");
  append_number(out, value);
  out.push_back('\n');
}

}  // namespace

std::string_view event_format_name(EventFormat format) noexcept {
  switch (format) {
    case EventFormat::plain:
      return "plain";
    case EventFormat::json:
      return "json";
    case EventFormat::xml:
      return "xml";
  }
  return "plain";
}

std::string_view event_content_type(EventFormat format) noexcept {
  switch (format) {
    case EventFormat::plain:
      return "text/event-plain";
    case EventFormat::json:
      return "text/event-json";
    case EventFormat::xml:
      return "text/event-xml";
  }
  return "text/event-plain";
}

std::optional<EventFormat> event_format_from_content_type(std::string_view content_type) noexcept {
  for (const EventFormat f : {EventFormat::plain, EventFormat::json, EventFormat::xml}) {
    if (content_type == event_content_type(f)) {
      return f;
    }
  }
  return std::nullopt;
}

void append_auth_request(std::string& out) {
  out.append("Content-Type: auth/request\n\n");
}

void append_command_reply(std::string& out, std::string_view reply_text,
                          std::span<const HeaderView> extra_headers) {
  out.append("Content-Type: command/reply\n");
  append_header(out, "Reply-Text", reply_text.substr(0, kMaxReplyTextBytes));
  for (const auto& h : extra_headers) {
    append_header(out, h.name, h.value);
  }
  out.push_back('\n');
}

void append_api_response(std::string& out, std::string_view body) {
  if (body.empty()) {
    body = kNoReplyBody;
  }
  out.append("Content-Type: api/response\n");
  append_header(out, "Content-Length", static_cast<long long>(body.size()));
  out.push_back('\n');
  out.append(body);
}

void append_event_envelope(std::string& out, EventFormat format, std::size_t serialized_size) {
  append_header(out, "Content-Length", static_cast<long long>(serialized_size));
  append_header(out, "Content-Type", event_content_type(format));
  out.push_back('\n');
}

void append_event_packet(std::string& out, EventFormat format, std::string_view serialized) {
  append_event_envelope(out, format, serialized.size());
  out.append(serialized);
}

void append_log_data(std::string& out, const LogData& log) {
  out.append("Content-Type: log/data\n");
  append_header(out, "Content-Length", static_cast<long long>(log.text.size()));
  append_header(out, "Log-Level", log.level);
  append_header(out, "Text-Channel", log.text_channel);
  append_header(out, "Log-File", log.file);
  append_header(out, "Log-Func", log.function);
  append_header(out, "Log-Line", log.line);
  append_header(out, "User-Data", log.user_data);
  out.push_back('\n');
  out.append(log.text);
}

void append_disconnect_notice(std::string& out, std::string_view message) {
  out.append("Content-Type: text/disconnect-notice\n");
  append_header(out, "Content-Length", static_cast<long long>(message.size()));
  out.push_back('\n');
  out.append(message);
}

void append_bound_disconnect_notice(std::string& out, std::string_view channel_uuid,
                                    std::string_view message) {
  out.append("Content-Type: text/disconnect-notice\n");
  append_header(out, "Controlled-Session-UUID", channel_uuid);
  out.append("Content-Disposition: disconnect\n");
  append_header(out, "Content-Length", static_cast<long long>(message.size()));
  out.push_back('\n');
  out.append(message);
}

void append_linger_notice(std::string& out, std::string_view channel_uuid,
                          std::string_view channel_name, int linger_seconds) {
  out.append("Content-Type: text/disconnect-notice\n");
  append_header(out, "Controlled-Session-UUID", channel_uuid);
  out.append("Content-Disposition: linger\n");
  append_header(out, "Channel-Name", channel_name);
  append_header(out, "Linger-Time", linger_seconds < 0 ? -1 : linger_seconds);
  out.append("Content-Length: 0\n\n");
}

void append_rude_rejection(std::string& out, std::string_view message) {
  out.append("Content-Type: text/rude-rejection\n");
  append_header(out, "Content-Length", static_cast<long long>(message.size()));
  out.push_back('\n');
  out.append(message);
}

}  // namespace eventsocket::wire
