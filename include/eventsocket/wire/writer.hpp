#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "eventsocket/wire/message.hpp"

namespace eventsocket::wire {

// The three event serialisations a connection can ask for (`event plain|json|xml`).
enum class EventFormat { plain = 0, json = 1, xml = 2 };

std::string_view event_format_name(EventFormat format) noexcept;   // "plain"
std::string_view event_content_type(EventFormat format) noexcept;  // "text/event-plain"
// The inverse: the format of a `text/event-*` Content-Type; nullopt for any other type.
std::optional<EventFormat> event_format_from_content_type(std::string_view content_type) noexcept;

// Exact message bodies FreeSWITCH sends in disconnect notices (PROTOCOL.md §4.6).
inline constexpr std::string_view kGoodbyeMessage =
    "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n";
inline constexpr std::string_view kTooManyConnectionsMessage =
    "Too many connections, try again later.\n";
inline constexpr std::string_view kConnectionRateMessage =
    "Too many connections from your address, try again later.\n";
inline constexpr std::string_view kShutdownMessage = "The system is being shut down.\n";
inline constexpr std::string_view kLostEventsMessage = "killed listener because of lost events\n";
inline constexpr std::string_view kLostLogsMessage = "killed listener because of lost log lines\n";
inline constexpr std::string_view kRudeRejectionMessage = "Access Denied, go away.\n";
inline constexpr std::string_view kNoReplyBody = "-ERR no reply\n";

// FreeSWITCH builds reply texts in a 512-byte buffer: anything longer is cut to 511 bytes.
inline constexpr std::size_t kMaxReplyTextBytes = 511;

// Writers append one complete packet to `out`, byte for byte as FreeSWITCH lays it out.

// `Content-Type: auth/request`, the inbound greeting.
void append_auth_request(std::string& out);

// `command/reply` with `Reply-Text: <text>` (cut to 511 bytes), then any extra headers
// (userauth's Allowed-*, bgapi's Job-UUID) written verbatim in order.
void append_command_reply(std::string& out, std::string_view reply_text,
                          std::span<const HeaderView> extra_headers = {});

// `api/response` with the body; an empty body becomes `-ERR no reply\n` as in FreeSWITCH.
void append_api_response(std::string& out, std::string_view body);

// An event packet: `Content-Length` first, then `Content-Type`, then the serialized event.
void append_event_envelope(std::string& out, EventFormat format, std::size_t serialized_size);
void append_event_packet(std::string& out, EventFormat format, std::string_view serialized);

struct LogData {
  int level = 7;          // 0 CONSOLE .. 7 DEBUG
  int text_channel = 0;   // 0 log, 1 clean, 2 event, 3 session
  std::string_view file;  // source file basename
  std::string_view function;
  int line = 0;
  std::string_view user_data;  // channel UUID for session logs, else empty
  std::string_view text;       // the formatted log line (body)
};
void append_log_data(std::string& out, const LogData& log);

// Disconnect notice, unbound connection (variant a).
void append_disconnect_notice(std::string& out, std::string_view message = kGoodbyeMessage);
// Disconnect notice, connection bound to a channel (variant b).
void append_bound_disconnect_notice(std::string& out, std::string_view channel_uuid,
                                    std::string_view message = kGoodbyeMessage);
// Linger notice (variant c); linger_seconds < 0 means "forever" and is written as -1.
void append_linger_notice(std::string& out, std::string_view channel_uuid,
                          std::string_view channel_name, int linger_seconds);

// `text/rude-rejection` for a peer refused by the ACL (the caller sends the goodbye notice
// right after it, as FreeSWITCH does), or by one of our limits with its own message.
void append_rude_rejection(std::string& out, std::string_view message = kRudeRejectionMessage);

}  // namespace eventsocket::wire
