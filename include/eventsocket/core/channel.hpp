#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eventsocket/event/event.hpp"

namespace eventsocket::core {

// FreeSWITCH's channel states (switch_channel_state_t), numbered as on the wire
// (Channel-State-Number).
enum class ChannelState : int {
  CS_NEW = 0,
  CS_INIT,
  CS_ROUTING,
  CS_SOFT_EXECUTE,
  CS_EXECUTE,
  CS_EXCHANGE_MEDIA,
  CS_PARK,
  CS_CONSUME_MEDIA,
  CS_HIBERNATE,
  CS_RESET,
  CS_HANGUP,
  CS_REPORTING,
  CS_DESTROY,
  CS_NONE,
};
std::string_view channel_state_name(ChannelState state) noexcept;

// Channel-Call-State values.
enum class CallState { DOWN, DIALING, RINGING, EARLY, ACTIVE, HELD, RING_WAIT, HANGUP, UNHELD };
std::string_view call_state_name(CallState state) noexcept;

// Hangup causes: FreeSWITCH's names and their Q.850 codes (variable_hangup_cause_q850).
struct HangupCause {
  std::string_view name;
  int q850;
};
std::optional<HangupCause> hangup_cause_by_name(std::string_view name) noexcept;
std::optional<HangupCause> hangup_cause_by_code(int q850) noexcept;
// A cause as users write it (hangup app, uuid_kill, hupall): a name or a Q.850 number,
// surrounding blanks ignored.
std::optional<HangupCause> hangup_cause_from_text(std::string_view text) noexcept;

// A caller profile (switch_caller_profile_t) as events show it under a prefix: `Caller`,
// `Other-Leg`, or `Channel` in the outbound connect reply (EVENTS.md §8.2).
struct CallerProfile {
  std::string direction = "inbound";
  std::string logical_direction = "inbound";
  std::string username;
  std::string dialplan;
  std::string caller_id_name;
  std::string caller_id_number;
  std::string orig_caller_id_name;
  std::string orig_caller_id_number;
  std::string callee_id_name;
  std::string callee_id_number;
  std::string network_addr;
  std::string ani;
  std::string aniii;
  std::string destination_number;
  std::string uuid;
  std::string source;
  std::string transfer_source;
  std::string context;
  std::string rdnis;
  std::string channel_name;
  int profile_index = 1;
  // The timetable, microseconds since the epoch; 0 while not reached.
  std::int64_t profile_created = 0;
  std::int64_t created = 0;
  std::int64_t answered = 0;
  std::int64_t progress = 0;
  std::int64_t progress_media = 0;
  std::int64_t hungup = 0;
  std::int64_t transferred = 0;
  std::int64_t resurrected = 0;
  std::int64_t bridged = 0;
  std::int64_t last_hold = 0;
  std::int64_t hold_accum = 0;
  bool screen_bit = true;
  bool privacy_hide_name = false;
  bool privacy_hide_number = false;

  // Appends `<prefix>-Direction` ... `<prefix>-Privacy-Hide-Number` in FreeSWITCH's order;
  // optional fields only when non-empty.
  void add_event_headers(event::Event& event, std::string_view prefix) const;
};

struct Codec {
  std::string name;
  int rate = 0;
  int bit_rate = 0;
};

// Whether FreeSWITCH appends every channel variable (`variable_*`) to events of this type
// (EVENTS.md §8.3): CHANNEL_STATE and CHANNEL_CALLSTATE, for instance, carry none.
bool event_carries_variables(event::EventType type) noexcept;

// What a channel shows of itself in every event about it: state, identity, codecs, caller
// profile, the other leg, and (for most event types) its variables in the order they were
// first set.
class ChannelData {
 public:
  std::string uuid;
  std::string name;
  // FreeSWITCH reports two states: `Channel-State` names the state whose handler is
  // running, `Channel-State-Number` is the state the channel has been set to (they differ
  // during transitions: CHANNEL_CREATE says CS_INIT / 2, a hangup says CS_EXECUTE / 10).
  ChannelState running_state = ChannelState::CS_NEW;
  ChannelState state = ChannelState::CS_NEW;
  CallState call_state = CallState::DOWN;
  std::string direction = "inbound";  // Call-Direction and Presence-Call-Direction
  bool hit_dialplan = false;
  std::string answer_state = "ringing";  // ringing, early, answered, hangup
  std::optional<std::string> hangup_cause;
  std::optional<Codec> read_codec;
  std::optional<Codec> write_codec;
  CallerProfile caller;
  // `originator` / `originatee` and the other leg's profile, when bridged or originated.
  std::optional<std::pair<std::string, CallerProfile>> other_leg;

  // Setting a variable moves it to the end of the list (FreeSWITCH deletes, then appends);
  // an empty value unsets it.
  void set_variable(std::string_view name, std::string_view value);
  std::optional<std::string_view> variable(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& variables() const { return variables_; }

  // Appends the channel's headers after whatever the event already holds (its standard
  // headers and event-specific ones), in FreeSWITCH's order (EVENTS.md §8.1-8.3).
  void add_event_headers(event::Event& event) const;

 private:
  std::vector<std::pair<std::string, std::string>> variables_;
};

}  // namespace eventsocket::core
