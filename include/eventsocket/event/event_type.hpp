#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace eventsocket::event {

// FreeSWITCH's event types with their numeric ids (EVENTS.md §3). The ids are internal;
// only the names travel on the wire.
enum class EventType : std::uint8_t {
  CUSTOM = 0,
  CLONE,
  CHANNEL_CREATE,
  CHANNEL_DESTROY,
  CHANNEL_STATE,
  CHANNEL_CALLSTATE,
  CHANNEL_ANSWER,
  CHANNEL_HANGUP,
  CHANNEL_HANGUP_COMPLETE,
  CHANNEL_EXECUTE,
  CHANNEL_EXECUTE_COMPLETE,
  CHANNEL_HOLD,
  CHANNEL_UNHOLD,
  CHANNEL_BRIDGE,
  CHANNEL_UNBRIDGE,
  CHANNEL_PROGRESS,
  CHANNEL_PROGRESS_MEDIA,
  CHANNEL_OUTGOING,
  CHANNEL_PARK,
  CHANNEL_UNPARK,
  CHANNEL_APPLICATION,
  CHANNEL_ORIGINATE,
  CHANNEL_UUID,
  API,
  LOG,
  INBOUND_CHAN,
  OUTBOUND_CHAN,
  STARTUP,
  SHUTDOWN,
  PUBLISH,
  UNPUBLISH,
  TALK,
  NOTALK,
  SESSION_CRASH,
  MODULE_LOAD,
  MODULE_UNLOAD,
  DTMF,
  MESSAGE,
  PRESENCE_IN,
  NOTIFY_IN,
  PRESENCE_OUT,
  PRESENCE_PROBE,
  MESSAGE_WAITING,
  MESSAGE_QUERY,
  ROSTER,
  CODEC,
  BACKGROUND_JOB,
  DETECTED_SPEECH,
  DETECTED_TONE,
  PRIVATE_COMMAND,
  HEARTBEAT,
  TRAP,
  ADD_SCHEDULE,
  DEL_SCHEDULE,
  EXE_SCHEDULE,
  RE_SCHEDULE,
  RELOADXML,
  NOTIFY,
  PHONE_FEATURE,
  PHONE_FEATURE_SUBSCRIBE,
  SEND_MESSAGE,
  RECV_MESSAGE,
  REQUEST_PARAMS,
  CHANNEL_DATA,
  GENERAL,
  COMMAND,
  SESSION_HEARTBEAT,
  CLIENT_DISCONNECTED,
  SERVER_DISCONNECTED,
  SEND_INFO,
  RECV_INFO,
  RECV_RTCP_MESSAGE,
  SEND_RTCP_MESSAGE,
  CALL_SECURE,
  NAT,
  RECORD_START,
  RECORD_STOP,
  PLAYBACK_START,
  PLAYBACK_STOP,
  CALL_UPDATE,
  FAILURE,
  SOCKET_DATA,
  MEDIA_BUG_START,
  MEDIA_BUG_STOP,
  CONFERENCE_DATA_QUERY,
  CONFERENCE_DATA,
  CALL_SETUP_REQ,
  CALL_SETUP_RESULT,
  CALL_DETAIL,
  DEVICE_STATE,
  TEXT,
  SHUTDOWN_REQUESTED,
  CERT_RELOAD,
  ALL,  // 93: "every type" in subscriptions
};

inline constexpr std::size_t kEventTypeCount = 94;

inline constexpr std::size_t index_of(EventType type) noexcept {
  return static_cast<std::size_t>(type);
}

// The wire name, e.g. "CHANNEL_CREATE".
std::string_view event_type_name(EventType type) noexcept;

// FreeSWITCH's switch_name_event(): a name matches case-insensitively, or, when the given
// text is longer than 13 characters, its part after the first 13 does (meant for
// `SWITCH_EVENT_<NAME>`, but any 13-character prefix works).
std::optional<EventType> event_type_from_name(std::string_view name) noexcept;

// Exact (case-sensitive) lookup of a name as it appears in an `Event-Name` header.
std::optional<EventType> event_type_from_wire_name(std::string_view name) noexcept;

}  // namespace eventsocket::event
