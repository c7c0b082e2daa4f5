// The event type name table and switch_name_event()-style lookups (EVENTS.md §3,
// PROTOCOL.md §8.14 and §16).
#include "eventsocket/event/event_type.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cctype>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace eventsocket::event {
namespace {

struct NamedType {
  EventType type;
  std::size_t id;
  std::string_view name;
};

// Transcribed from the table in EVENTS.md §3 (id, name), independently of the implementation.
constexpr std::array<NamedType, 94> kSpecTable = {{
    {EventType::CUSTOM, 0, "CUSTOM"},
    {EventType::CLONE, 1, "CLONE"},
    {EventType::CHANNEL_CREATE, 2, "CHANNEL_CREATE"},
    {EventType::CHANNEL_DESTROY, 3, "CHANNEL_DESTROY"},
    {EventType::CHANNEL_STATE, 4, "CHANNEL_STATE"},
    {EventType::CHANNEL_CALLSTATE, 5, "CHANNEL_CALLSTATE"},
    {EventType::CHANNEL_ANSWER, 6, "CHANNEL_ANSWER"},
    {EventType::CHANNEL_HANGUP, 7, "CHANNEL_HANGUP"},
    {EventType::CHANNEL_HANGUP_COMPLETE, 8, "CHANNEL_HANGUP_COMPLETE"},
    {EventType::CHANNEL_EXECUTE, 9, "CHANNEL_EXECUTE"},
    {EventType::CHANNEL_EXECUTE_COMPLETE, 10, "CHANNEL_EXECUTE_COMPLETE"},
    {EventType::CHANNEL_HOLD, 11, "CHANNEL_HOLD"},
    {EventType::CHANNEL_UNHOLD, 12, "CHANNEL_UNHOLD"},
    {EventType::CHANNEL_BRIDGE, 13, "CHANNEL_BRIDGE"},
    {EventType::CHANNEL_UNBRIDGE, 14, "CHANNEL_UNBRIDGE"},
    {EventType::CHANNEL_PROGRESS, 15, "CHANNEL_PROGRESS"},
    {EventType::CHANNEL_PROGRESS_MEDIA, 16, "CHANNEL_PROGRESS_MEDIA"},
    {EventType::CHANNEL_OUTGOING, 17, "CHANNEL_OUTGOING"},
    {EventType::CHANNEL_PARK, 18, "CHANNEL_PARK"},
    {EventType::CHANNEL_UNPARK, 19, "CHANNEL_UNPARK"},
    {EventType::CHANNEL_APPLICATION, 20, "CHANNEL_APPLICATION"},
    {EventType::CHANNEL_ORIGINATE, 21, "CHANNEL_ORIGINATE"},
    {EventType::CHANNEL_UUID, 22, "CHANNEL_UUID"},
    {EventType::API, 23, "API"},
    {EventType::LOG, 24, "LOG"},
    {EventType::INBOUND_CHAN, 25, "INBOUND_CHAN"},
    {EventType::OUTBOUND_CHAN, 26, "OUTBOUND_CHAN"},
    {EventType::STARTUP, 27, "STARTUP"},
    {EventType::SHUTDOWN, 28, "SHUTDOWN"},
    {EventType::PUBLISH, 29, "PUBLISH"},
    {EventType::UNPUBLISH, 30, "UNPUBLISH"},
    {EventType::TALK, 31, "TALK"},
    {EventType::NOTALK, 32, "NOTALK"},
    {EventType::SESSION_CRASH, 33, "SESSION_CRASH"},
    {EventType::MODULE_LOAD, 34, "MODULE_LOAD"},
    {EventType::MODULE_UNLOAD, 35, "MODULE_UNLOAD"},
    {EventType::DTMF, 36, "DTMF"},
    {EventType::MESSAGE, 37, "MESSAGE"},
    {EventType::PRESENCE_IN, 38, "PRESENCE_IN"},
    {EventType::NOTIFY_IN, 39, "NOTIFY_IN"},
    {EventType::PRESENCE_OUT, 40, "PRESENCE_OUT"},
    {EventType::PRESENCE_PROBE, 41, "PRESENCE_PROBE"},
    {EventType::MESSAGE_WAITING, 42, "MESSAGE_WAITING"},
    {EventType::MESSAGE_QUERY, 43, "MESSAGE_QUERY"},
    {EventType::ROSTER, 44, "ROSTER"},
    {EventType::CODEC, 45, "CODEC"},
    {EventType::BACKGROUND_JOB, 46, "BACKGROUND_JOB"},
    {EventType::DETECTED_SPEECH, 47, "DETECTED_SPEECH"},
    {EventType::DETECTED_TONE, 48, "DETECTED_TONE"},
    {EventType::PRIVATE_COMMAND, 49, "PRIVATE_COMMAND"},
    {EventType::HEARTBEAT, 50, "HEARTBEAT"},
    {EventType::TRAP, 51, "TRAP"},
    {EventType::ADD_SCHEDULE, 52, "ADD_SCHEDULE"},
    {EventType::DEL_SCHEDULE, 53, "DEL_SCHEDULE"},
    {EventType::EXE_SCHEDULE, 54, "EXE_SCHEDULE"},
    {EventType::RE_SCHEDULE, 55, "RE_SCHEDULE"},
    {EventType::RELOADXML, 56, "RELOADXML"},
    {EventType::NOTIFY, 57, "NOTIFY"},
    {EventType::PHONE_FEATURE, 58, "PHONE_FEATURE"},
    {EventType::PHONE_FEATURE_SUBSCRIBE, 59, "PHONE_FEATURE_SUBSCRIBE"},
    {EventType::SEND_MESSAGE, 60, "SEND_MESSAGE"},
    {EventType::RECV_MESSAGE, 61, "RECV_MESSAGE"},
    {EventType::REQUEST_PARAMS, 62, "REQUEST_PARAMS"},
    {EventType::CHANNEL_DATA, 63, "CHANNEL_DATA"},
    {EventType::GENERAL, 64, "GENERAL"},
    {EventType::COMMAND, 65, "COMMAND"},
    {EventType::SESSION_HEARTBEAT, 66, "SESSION_HEARTBEAT"},
    {EventType::CLIENT_DISCONNECTED, 67, "CLIENT_DISCONNECTED"},
    {EventType::SERVER_DISCONNECTED, 68, "SERVER_DISCONNECTED"},
    {EventType::SEND_INFO, 69, "SEND_INFO"},
    {EventType::RECV_INFO, 70, "RECV_INFO"},
    {EventType::RECV_RTCP_MESSAGE, 71, "RECV_RTCP_MESSAGE"},
    {EventType::SEND_RTCP_MESSAGE, 72, "SEND_RTCP_MESSAGE"},
    {EventType::CALL_SECURE, 73, "CALL_SECURE"},
    {EventType::NAT, 74, "NAT"},
    {EventType::RECORD_START, 75, "RECORD_START"},
    {EventType::RECORD_STOP, 76, "RECORD_STOP"},
    {EventType::PLAYBACK_START, 77, "PLAYBACK_START"},
    {EventType::PLAYBACK_STOP, 78, "PLAYBACK_STOP"},
    {EventType::CALL_UPDATE, 79, "CALL_UPDATE"},
    {EventType::FAILURE, 80, "FAILURE"},
    {EventType::SOCKET_DATA, 81, "SOCKET_DATA"},
    {EventType::MEDIA_BUG_START, 82, "MEDIA_BUG_START"},
    {EventType::MEDIA_BUG_STOP, 83, "MEDIA_BUG_STOP"},
    {EventType::CONFERENCE_DATA_QUERY, 84, "CONFERENCE_DATA_QUERY"},
    {EventType::CONFERENCE_DATA, 85, "CONFERENCE_DATA"},
    {EventType::CALL_SETUP_REQ, 86, "CALL_SETUP_REQ"},
    {EventType::CALL_SETUP_RESULT, 87, "CALL_SETUP_RESULT"},
    {EventType::CALL_DETAIL, 88, "CALL_DETAIL"},
    {EventType::DEVICE_STATE, 89, "DEVICE_STATE"},
    {EventType::TEXT, 90, "TEXT"},
    {EventType::SHUTDOWN_REQUESTED, 91, "SHUTDOWN_REQUESTED"},
    {EventType::CERT_RELOAD, 92, "CERT_RELOAD"},
    {EventType::ALL, 93, "ALL"},
}};

// Lookups are compared as optional ids so that failures print readable numbers.
std::optional<std::size_t> Id(std::optional<EventType> type) {
  if (!type) {
    return std::nullopt;
  }
  return index_of(*type);
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// "cHaNnEl_CrEaTe": every other letter flipped, so neither all-upper nor all-lower.
std::string Alternating(std::string_view text) {
  std::string out(text);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto c = static_cast<unsigned char>(out[i]);
    out[i] = static_cast<char>(i % 2 == 0 ? std::tolower(c) : std::toupper(c));
  }
  return out;
}

TEST(EventTypeTable, HasNinetyFourConsecutiveIdsEndingWithAll) {
  EXPECT_EQ(kEventTypeCount, 94u);
  EXPECT_EQ(kSpecTable.size(), kEventTypeCount);
  EXPECT_EQ(index_of(EventType::CUSTOM), 0u);
  EXPECT_EQ(index_of(EventType::CERT_RELOAD), 92u);
  EXPECT_EQ(index_of(EventType::ALL), 93u);
  for (std::size_t i = 0; i < kSpecTable.size(); ++i) {
    EXPECT_EQ(kSpecTable[i].id, i) << kSpecTable[i].name;
    EXPECT_EQ(index_of(kSpecTable[i].type), kSpecTable[i].id) << kSpecTable[i].name;
  }
}

TEST(EventTypeTable, NamesAreDistinct) {
  std::set<std::string_view> seen;
  for (std::size_t i = 0; i < kEventTypeCount; ++i) {
    const std::string_view name = event_type_name(static_cast<EventType>(i));
    EXPECT_FALSE(name.empty()) << "id " << i;
    EXPECT_TRUE(seen.insert(name).second) << "duplicate name " << name;
  }
  EXPECT_EQ(seen.size(), kEventTypeCount);
}

// Every one of the 94 entries, in every spelling the lookups must accept or refuse.
class EveryEventType : public ::testing::TestWithParam<NamedType> {};

TEST_P(EveryEventType, IdMapsToItsWireName) {
  EXPECT_EQ(event_type_name(GetParam().type), GetParam().name);
}

TEST_P(EveryEventType, ExactNameMapsBackToItsId) {
  const NamedType& entry = GetParam();
  EXPECT_EQ(Id(event_type_from_name(entry.name)), entry.id);
  EXPECT_EQ(Id(event_type_from_wire_name(entry.name)), entry.id);
}

TEST_P(EveryEventType, NameLookupIgnoresCase) {
  const NamedType& entry = GetParam();
  EXPECT_EQ(Id(event_type_from_name(Lower(entry.name))), entry.id);
  EXPECT_EQ(Id(event_type_from_name(Alternating(entry.name))), entry.id);
}

TEST_P(EveryEventType, NameLookupAcceptsSwitchEventPrefixInAnyCase) {
  const NamedType& entry = GetParam();
  const std::string name(entry.name);
  EXPECT_EQ(Id(event_type_from_name("SWITCH_EVENT_" + name)), entry.id);
  EXPECT_EQ(Id(event_type_from_name("switch_event_" + Lower(name))), entry.id);
}

TEST_P(EveryEventType, NameLookupAcceptsAnyThirteenCharacterPrefix) {
  const NamedType& entry = GetParam();
  const std::string name(entry.name);
  EXPECT_EQ(Id(event_type_from_name("XXXXXXXXXXXXX" + name)), entry.id);
  EXPECT_EQ(Id(event_type_from_name("0123456789 :-" + Lower(name))), entry.id);
}

TEST_P(EveryEventType, NameLookupRefusesTwelveOrFourteenCharacterPrefix) {
  const std::string name(GetParam().name);
  EXPECT_EQ(Id(event_type_from_name("XXXXXXXXXXXX" + name)), std::nullopt);
  EXPECT_EQ(Id(event_type_from_name("XXXXXXXXXXXXXX" + name)), std::nullopt);
}

TEST_P(EveryEventType, NameLookupRefusesSurroundingSpaces) {
  const std::string name(GetParam().name);
  EXPECT_EQ(Id(event_type_from_name(name + " ")), std::nullopt);
  EXPECT_EQ(Id(event_type_from_name(" " + name)), std::nullopt);
}

TEST_P(EveryEventType, WireNameLookupIsExact) {
  const std::string name(GetParam().name);
  EXPECT_EQ(Id(event_type_from_wire_name(Lower(name))), std::nullopt);
  EXPECT_EQ(Id(event_type_from_wire_name(Alternating(name))), std::nullopt);
  EXPECT_EQ(Id(event_type_from_wire_name("SWITCH_EVENT_" + name)), std::nullopt);
  EXPECT_EQ(Id(event_type_from_wire_name("XXXXXXXXXXXXX" + name)), std::nullopt);
  EXPECT_EQ(Id(event_type_from_wire_name(name + " ")), std::nullopt);
}

INSTANTIATE_TEST_SUITE_P(SpecTable, EveryEventType, ::testing::ValuesIn(kSpecTable),
                         [](const ::testing::TestParamInfo<NamedType>& info) {
                           return std::string(info.param.name);
                         });

// Individual spellings from the spec and the live check, each named after what it pins down.
struct NameCase {
  const char* label;
  std::string_view text;
  std::optional<EventType> expected;
};

class EventTypeFromName : public ::testing::TestWithParam<NameCase> {};

TEST_P(EventTypeFromName, Resolves) {
  const NameCase& c = GetParam();
  EXPECT_EQ(Id(event_type_from_name(c.text)), Id(c.expected)) << '"' << c.text << '"';
}

const NameCase kNameCases[] = {
    {"UpperCaseName", "CHANNEL_CREATE", EventType::CHANNEL_CREATE},
    {"LowerCaseName", "channel_create", EventType::CHANNEL_CREATE},
    {"MixedCaseName", "Channel_Create", EventType::CHANNEL_CREATE},
    {"SwitchEventPrefixedCustom", "SWITCH_EVENT_CUSTOM", EventType::CUSTOM},
    {"SwitchEventPrefixedCustomLowerCase", "switch_event_custom", EventType::CUSTOM},
    {"SwitchEventPrefixedMixedCase", "Switch_Event_Heartbeat", EventType::HEARTBEAT},
    {"ArbitraryThirteenCharPrefixHeartbeat", "XXXXXXXXXXXXXHEARTBEAT", EventType::HEARTBEAT},
    {"ArbitraryThirteenCharPrefixBackgroundJob", "XXXXXXXXXXXXXBACKGROUND_JOB",
     EventType::BACKGROUND_JOB},
    {"ThirteenCharEventNameAsPrefix", "CHANNEL_STATECUSTOM", EventType::CUSTOM},
    {"LongNameMatchedWhole", "CHANNEL_EXECUTE_COMPLETE", EventType::CHANNEL_EXECUTE_COMPLETE},
    {"LongNameWithPrefix", "SWITCH_EVENT_CHANNEL_HANGUP_COMPLETE",
     EventType::CHANNEL_HANGUP_COMPLETE},
    {"AllUpperCase", "ALL", EventType::ALL},
    {"AllLowerCase", "all", EventType::ALL},
    {"AllWithSwitchEventPrefix", "SWITCH_EVENT_ALL", EventType::ALL},
    {"CloneIsAValidName", "CLONE", EventType::CLONE},
    {"CertReloadIsAValidName", "cert_reload", EventType::CERT_RELOAD},
    {"EmptyIsUnknown", "", std::nullopt},
    {"UnknownName", "NO_SUCH_EVENT", std::nullopt},
    {"TrailingGarbage", "CUSTOMX", std::nullopt},
    {"NamePrefixOnly", "CHANNEL", std::nullopt},
    {"AllWithExtraLetter", "ALLL", std::nullopt},
    {"HyphenInsteadOfUnderscore", "CHANNEL-CREATE", std::nullopt},
    {"TrailingSpace", "CUSTOM ", std::nullopt},
    {"LeadingSpace", " CUSTOM", std::nullopt},
    {"TrailingNewline", "HEARTBEAT\n", std::nullopt},
    {"PrefixAloneIsExactlyThirteenChars", "SWITCH_EVENT_", std::nullopt},
    {"PrefixWithoutTrailingUnderscore", "SWITCH_EVENTCUSTOM", std::nullopt},
    {"PrefixWithSpaceAfter", "SWITCH_EVENT_ CUSTOM", std::nullopt},
    {"TwelveCharPrefix", "XXXXXXXXXXXXHEARTBEAT", std::nullopt},
    {"FourteenCharPrefix", "XXXXXXXXXXXXXXHEARTBEAT", std::nullopt},
    {"PrefixStrippedOnlyOnce", "SWITCH_EVENT_SWITCH_EVENT_ALL", std::nullopt},
    {"PrefixedNameWithTrailingSpace", "SWITCH_EVENT_ALL ", std::nullopt},
};

INSTANTIATE_TEST_SUITE_P(Spellings, EventTypeFromName, ::testing::ValuesIn(kNameCases),
                         [](const ::testing::TestParamInfo<NameCase>& info) {
                           return std::string(info.param.label);
                         });

struct WireNameCase {
  const char* label;
  std::string_view text;
  std::optional<EventType> expected;
};

class EventTypeFromWireName : public ::testing::TestWithParam<WireNameCase> {};

TEST_P(EventTypeFromWireName, Resolves) {
  const WireNameCase& c = GetParam();
  EXPECT_EQ(Id(event_type_from_wire_name(c.text)), Id(c.expected)) << '"' << c.text << '"';
}

const WireNameCase kWireNameCases[] = {
    {"ExactName", "CHANNEL_CREATE", EventType::CHANNEL_CREATE},
    {"ExactCustom", "CUSTOM", EventType::CUSTOM},
    {"ExactAll", "ALL", EventType::ALL},
    {"ExactClone", "CLONE", EventType::CLONE},
    {"LowerCaseRefused", "channel_create", std::nullopt},
    {"MixedCaseRefused", "Heartbeat", std::nullopt},
    {"LowerCaseAllRefused", "all", std::nullopt},
    {"SwitchEventPrefixRefused", "SWITCH_EVENT_CUSTOM", std::nullopt},
    {"ThirteenCharPrefixRefused", "XXXXXXXXXXXXXHEARTBEAT", std::nullopt},
    {"EmptyRefused", "", std::nullopt},
    {"TrailingSpaceRefused", "HEARTBEAT ", std::nullopt},
    {"UnknownRefused", "NO_SUCH_EVENT", std::nullopt},
};

INSTANTIATE_TEST_SUITE_P(Spellings, EventTypeFromWireName, ::testing::ValuesIn(kWireNameCases),
                         [](const ::testing::TestParamInfo<WireNameCase>& info) {
                           return std::string(info.param.label);
                         });

}  // namespace
}  // namespace eventsocket::event
