#include "eventsocket/core/channel.hpp"

#include <array>
#include <charconv>

namespace eventsocket::core {
namespace {

using event::EventType;

constexpr std::array<std::string_view, 14> kStateNames = {
    "CS_NEW",          "CS_INIT",          "CS_ROUTING",
    "CS_SOFT_EXECUTE", "CS_EXECUTE",       "CS_EXCHANGE_MEDIA",
    "CS_PARK",         "CS_CONSUME_MEDIA", "CS_HIBERNATE",
    "CS_RESET",        "CS_HANGUP",        "CS_REPORTING",
    "CS_DESTROY",      "CS_NONE"};

constexpr std::array<std::string_view, 9> kCallStateNames = {
    "DOWN", "DIALING", "RINGING", "EARLY", "ACTIVE", "HELD", "RING_WAIT", "HANGUP", "UNHELD"};

// FreeSWITCH's switch_cause_t table.
constexpr HangupCause kCauses[] = {
    {"NONE", 0},
    {"UNALLOCATED_NUMBER", 1},
    {"NO_ROUTE_TRANSIT_NET", 2},
    {"NO_ROUTE_DESTINATION", 3},
    {"CHANNEL_UNACCEPTABLE", 6},
    {"CALL_AWARDED_DELIVERED", 7},
    {"NORMAL_CLEARING", 16},
    {"USER_BUSY", 17},
    {"NO_USER_RESPONSE", 18},
    {"NO_ANSWER", 19},
    {"SUBSCRIBER_ABSENT", 20},
    {"CALL_REJECTED", 21},
    {"NUMBER_CHANGED", 22},
    {"REDIRECTION_TO_NEW_DESTINATION", 23},
    {"EXCHANGE_ROUTING_ERROR", 25},
    {"DESTINATION_OUT_OF_ORDER", 27},
    {"INVALID_NUMBER_FORMAT", 28},
    {"FACILITY_REJECTED", 29},
    {"RESPONSE_TO_STATUS_ENQUIRY", 30},
    {"NORMAL_UNSPECIFIED", 31},
    {"NORMAL_CIRCUIT_CONGESTION", 34},
    {"NETWORK_OUT_OF_ORDER", 38},
    {"NORMAL_TEMPORARY_FAILURE", 41},
    {"SWITCH_CONGESTION", 42},
    {"ACCESS_INFO_DISCARDED", 43},
    {"REQUESTED_CHAN_UNAVAIL", 44},
    {"PRE_EMPTED", 45},
    {"FACILITY_NOT_SUBSCRIBED", 50},
    {"OUTGOING_CALL_BARRED", 52},
    {"INCOMING_CALL_BARRED", 54},
    {"BEARERCAPABILITY_NOTAUTH", 57},
    {"BEARERCAPABILITY_NOTAVAIL", 58},
    {"SERVICE_UNAVAILABLE", 63},
    {"BEARERCAPABILITY_NOTIMPL", 65},
    {"CHAN_NOT_IMPLEMENTED", 66},
    {"FACILITY_NOT_IMPLEMENTED", 69},
    {"SERVICE_NOT_IMPLEMENTED", 79},
    {"INVALID_CALL_REFERENCE", 81},
    {"INCOMPATIBLE_DESTINATION", 88},
    {"INVALID_MSG_UNSPECIFIED", 95},
    {"MANDATORY_IE_MISSING", 96},
    {"MESSAGE_TYPE_NONEXIST", 97},
    {"WRONG_MESSAGE", 98},
    {"IE_NONEXIST", 99},
    {"INVALID_IE_CONTENTS", 100},
    {"WRONG_CALL_STATE", 101},
    {"RECOVERY_ON_TIMER_EXPIRE", 102},
    {"MANDATORY_IE_LENGTH_ERROR", 103},
    {"PROTOCOL_ERROR", 111},
    {"INTERWORKING", 127},
    {"SUCCESS", 142},
    {"ORIGINATOR_CANCEL", 487},
    {"CRASH", 700},
    {"SYSTEM_SHUTDOWN", 701},
    {"LOSE_RACE", 502},
    {"MANAGER_REQUEST", 503},
    {"BLIND_TRANSFER", 600},
    {"ATTENDED_TRANSFER", 601},
    {"ALLOTTED_TIMEOUT", 602},
    {"USER_CHALLENGE", 603},
    {"MEDIA_TIMEOUT", 604},
    {"PICKED_OFF", 605},
    {"USER_NOT_REGISTERED", 606},
    {"PROGRESS_TIMEOUT", 607},
    {"INVALID_GATEWAY", 608},
    {"GATEWAY_DOWN", 609},
    {"INVALID_URL", 610},
    {"INVALID_PROFILE", 611},
    {"NO_PICKUP", 612},
    {"SRTP_READ_ERROR", 613},
    {"BOWOUT", 614},
    {"BUSY_EVERYWHERE", 615},
    {"DECLINE", 616},
    {"DOES_NOT_EXIST_ANYWHERE", 617},
    {"NOT_ACCEPTABLE", 618},
    {"UNWANTED", 619},
    {"NO_IDENTITY", 620},
    {"BAD_IDENTITY_INFO", 621},
    {"UNSUPPORTED_CERTIFICATE", 622},
    {"INVALID_IDENTITY", 623},
    {"STALE_DATE", 624},
    {"REJECT_ALL", 625},
};

void add_optional(event::Event& e, const std::string& name, const std::string& value) {
  if (!value.empty()) {
    e.add_header(name, value);
  }
}

}  // namespace

std::string_view channel_state_name(ChannelState state) noexcept {
  const auto i = static_cast<std::size_t>(state);
  return i < kStateNames.size() ? kStateNames[i] : "CS_NONE";
}

std::string_view call_state_name(CallState state) noexcept {
  const auto i = static_cast<std::size_t>(state);
  return i < kCallStateNames.size() ? kCallStateNames[i] : "DOWN";
}

std::optional<HangupCause> hangup_cause_by_name(std::string_view name) noexcept {
  for (const HangupCause& c : kCauses) {
    if (c.name == name) {
      return c;
    }
  }
  return std::nullopt;
}

std::optional<HangupCause> hangup_cause_by_code(int q850) noexcept {
  for (const HangupCause& c : kCauses) {
    if (c.q850 == q850) {
      return c;
    }
  }
  return std::nullopt;
}

std::optional<HangupCause> hangup_cause_from_text(std::string_view text) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  int code = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), code);
  if (ec == std::errc() && end == text.data() + text.size()) {
    return hangup_cause_by_code(code);
  }
  return hangup_cause_by_name(text);
}

void CallerProfile::add_event_headers(event::Event& e, std::string_view prefix) const {
  const std::string p = std::string(prefix) + "-";
  e.add_header(p + "Direction", direction);
  e.add_header(p + "Logical-Direction", logical_direction);
  add_optional(e, p + "Username", username);
  add_optional(e, p + "Dialplan", dialplan);
  add_optional(e, p + "Caller-ID-Name", caller_id_name);
  add_optional(e, p + "Caller-ID-Number", caller_id_number);
  add_optional(e, p + "Orig-Caller-ID-Name", orig_caller_id_name);
  add_optional(e, p + "Orig-Caller-ID-Number", orig_caller_id_number);
  add_optional(e, p + "Callee-ID-Name", callee_id_name);
  add_optional(e, p + "Callee-ID-Number", callee_id_number);
  add_optional(e, p + "Network-Addr", network_addr);
  add_optional(e, p + "ANI", ani);
  add_optional(e, p + "ANI-II", aniii);
  add_optional(e, p + "Destination-Number", destination_number);
  add_optional(e, p + "Unique-ID", uuid);
  add_optional(e, p + "Source", source);
  add_optional(e, p + "Transfer-Source", transfer_source);
  add_optional(e, p + "Context", context);
  add_optional(e, p + "RDNIS", rdnis);
  add_optional(e, p + "Channel-Name", channel_name);
  e.add_header(p + "Profile-Index", std::to_string(profile_index));
  e.add_header(p + "Profile-Created-Time", std::to_string(profile_created));
  e.add_header(p + "Channel-Created-Time", std::to_string(created));
  e.add_header(p + "Channel-Answered-Time", std::to_string(answered));
  e.add_header(p + "Channel-Progress-Time", std::to_string(progress));
  e.add_header(p + "Channel-Progress-Media-Time", std::to_string(progress_media));
  e.add_header(p + "Channel-Hangup-Time", std::to_string(hungup));
  e.add_header(p + "Channel-Transfer-Time", std::to_string(transferred));
  e.add_header(p + "Channel-Resurrect-Time", std::to_string(resurrected));
  e.add_header(p + "Channel-Bridged-Time", std::to_string(bridged));
  e.add_header(p + "Channel-Last-Hold", std::to_string(last_hold));
  e.add_header(p + "Channel-Hold-Accum", std::to_string(hold_accum));
  e.add_header(p + "Screen-Bit", screen_bit ? "true" : "false");
  e.add_header(p + "Privacy-Hide-Name", privacy_hide_name ? "true" : "false");
  e.add_header(p + "Privacy-Hide-Number", privacy_hide_number ? "true" : "false");
}

bool event_carries_variables(EventType type) noexcept {
  switch (type) {
    case EventType::CHANNEL_CREATE:
    case EventType::CHANNEL_ORIGINATE:
    case EventType::CHANNEL_UUID:
    case EventType::CHANNEL_ANSWER:
    case EventType::CHANNEL_PARK:
    case EventType::CHANNEL_UNPARK:
    case EventType::CHANNEL_BRIDGE:
    case EventType::CHANNEL_UNBRIDGE:
    case EventType::CHANNEL_PROGRESS:
    case EventType::CHANNEL_PROGRESS_MEDIA:
    case EventType::CHANNEL_HANGUP:
    case EventType::CHANNEL_HANGUP_COMPLETE:
    case EventType::REQUEST_PARAMS:
    case EventType::CHANNEL_DATA:
    case EventType::CHANNEL_EXECUTE:
    case EventType::CHANNEL_EXECUTE_COMPLETE:
    case EventType::CHANNEL_DESTROY:
    case EventType::SESSION_HEARTBEAT:
    case EventType::API:
    case EventType::RECORD_START:
    case EventType::RECORD_STOP:
    case EventType::PLAYBACK_START:
    case EventType::PLAYBACK_STOP:
    case EventType::CALL_UPDATE:
    case EventType::MEDIA_BUG_START:
    case EventType::MEDIA_BUG_STOP:
    case EventType::CHANNEL_HOLD:
    case EventType::CHANNEL_UNHOLD:
    case EventType::TEXT:
    case EventType::CUSTOM:
      return true;
    default:
      return false;
  }
}

void ChannelData::set_variable(std::string_view name, std::string_view value) {
  // FreeSWITCH deletes the old value and appends the new one, so setting a variable moves
  // it to the end, even with the same value (captures 17, 20: call_uuid,
  // current_application); an empty value only deletes.
  std::erase_if(variables_, [&](const auto& v) { return v.first == name; });
  if (!value.empty()) {
    variables_.emplace_back(std::string(name), std::string(value));
  }
}

std::optional<std::string_view> ChannelData::variable(std::string_view name) const {
  for (const auto& [n, v] : variables_) {
    if (n == name) {
      return std::string_view(v);
    }
  }
  return std::nullopt;
}

void ChannelData::add_event_headers(event::Event& e) const {
  e.add_header("Channel-State", channel_state_name(running_state));
  e.add_header("Channel-Call-State", call_state_name(call_state));
  e.add_header("Channel-State-Number", std::to_string(static_cast<int>(state)));
  e.add_header("Channel-Name", name);
  e.add_header("Unique-ID", uuid);
  e.add_header("Call-Direction", direction);
  e.add_header("Presence-Call-Direction", direction);
  e.add_header("Channel-HIT-Dialplan", hit_dialplan ? "true" : "false");
  if (auto presence = variable("presence_id")) {
    e.add_header("Channel-Presence-ID", *presence);
  }
  if (auto presence_data = variable("presence_data")) {
    e.add_header("Channel-Presence-Data", *presence_data);
  }
  e.add_header("Channel-Call-UUID", variable("call_uuid").value_or(uuid));
  e.add_header("Answer-State", answer_state);
  if (hangup_cause) {
    e.add_header("Hangup-Cause", *hangup_cause);
  }
  if (read_codec) {
    e.add_header("Channel-Read-Codec-Name", read_codec->name);
    e.add_header("Channel-Read-Codec-Rate", std::to_string(read_codec->rate));
    e.add_header("Channel-Read-Codec-Bit-Rate", std::to_string(read_codec->bit_rate));
  }
  if (write_codec) {
    e.add_header("Channel-Write-Codec-Name", write_codec->name);
    e.add_header("Channel-Write-Codec-Rate", std::to_string(write_codec->rate));
    e.add_header("Channel-Write-Codec-Bit-Rate", std::to_string(write_codec->bit_rate));
  }
  caller.add_event_headers(e, "Caller");
  if (other_leg) {
    e.add_header("Other-Type", other_leg->first);
    other_leg->second.add_event_headers(e, "Other-Leg");
  }
  if (event_carries_variables(e.type())) {
    for (const auto& [n, v] : variables_) {
      e.add_header("variable_" + n, v);
    }
  }
}

}  // namespace eventsocket::core
