// Subscription, MyEvents and DeliveryRules: EVENTS.md §3 (CUSTOM and subclasses) and §10,
// PROTOCOL.md §8.9, §8.14 and §16.
#include "eventsocket/event/subscription.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eventsocket/event/event.hpp"
#include "eventsocket/event/event_type.hpp"

namespace eventsocket::event {
namespace {

constexpr EventType TypeAt(std::size_t i) {
  return static_cast<EventType>(i);
}

// Every type except ALL: the ids an event can actually carry.
std::vector<EventType> RealTypes() {
  std::vector<EventType> out;
  for (std::size_t i = 0; i < index_of(EventType::ALL); ++i) {
    out.push_back(TypeAt(i));
  }
  return out;
}

// The ids whose bit is set, as names, for readable failures.
std::set<std::string> EnabledNames(const Subscription& s) {
  std::set<std::string> out;
  for (std::size_t i = 0; i < kEventTypeCount; ++i) {
    if (s.is_enabled(TypeAt(i))) {
      out.emplace(event_type_name(TypeAt(i)));
    }
  }
  return out;
}

std::set<std::string> AllNamesExcept(std::initializer_list<EventType> excluded) {
  std::set<std::string> out;
  for (std::size_t i = 0; i < kEventTypeCount; ++i) {
    out.emplace(event_type_name(TypeAt(i)));
  }
  for (EventType t : excluded) {
    out.erase(std::string(event_type_name(t)));
  }
  return out;
}

std::set<std::string> Subclasses(const Subscription& s) {
  return std::set<std::string>(s.subclasses().begin(), s.subclasses().end());
}

Event Custom(std::string_view subclass = {}) {
  return Event(EventType::CUSTOM, subclass);
}

// ---------------------------------------------------------------------------------------------
// Subscription: bits.

TEST(Subscription, NewSubscriptionHasNoBitsAndWantsNothing) {
  Subscription s;
  EXPECT_TRUE(EnabledNames(s).empty());
  EXPECT_TRUE(s.subclasses().empty());
  for (EventType t : RealTypes()) {
    EXPECT_FALSE(s.wants(Event(t))) << event_type_name(t);
  }
  EXPECT_FALSE(s.wants(Custom("sofia::register")));
}

TEST(Subscription, EnablingOneTypeWantsOnlyThatType) {
  Subscription s;
  s.enable(EventType::CHANNEL_CREATE);
  EXPECT_EQ(EnabledNames(s), (std::set<std::string>{"CHANNEL_CREATE"}));
  for (EventType t : RealTypes()) {
    EXPECT_EQ(s.wants(Event(t)), t == EventType::CHANNEL_CREATE) << event_type_name(t);
  }
}

TEST(Subscription, EnableIsCumulative) {
  Subscription s;
  s.enable(EventType::CHANNEL_CREATE);
  s.enable(EventType::HEARTBEAT);
  s.enable(EventType::CHANNEL_CREATE);
  EXPECT_EQ(EnabledNames(s), (std::set<std::string>{"CHANNEL_CREATE", "HEARTBEAT"}));
  EXPECT_TRUE(s.wants(Event(EventType::HEARTBEAT)));
  EXPECT_TRUE(s.wants(Event(EventType::CHANNEL_CREATE)));
  EXPECT_FALSE(s.wants(Event(EventType::CHANNEL_DESTROY)));
}

TEST(Subscription, EnableAllSetsEveryBitIncludingAll) {
  Subscription s;
  s.enable(EventType::ALL);
  EXPECT_EQ(EnabledNames(s), AllNamesExcept({}));
  EXPECT_TRUE(s.is_enabled(EventType::ALL));
}

TEST(Subscription, AllWantsEveryTypeAndEveryCustomSubclass) {
  Subscription s;
  s.enable(EventType::ALL);
  for (EventType t : RealTypes()) {
    EXPECT_TRUE(s.wants(Event(t))) << event_type_name(t);
  }
  EXPECT_TRUE(s.wants(Custom()));
  EXPECT_TRUE(s.wants(Custom("never::registered")));
}

TEST(Subscription, EnableAllSnapshotsRegisteredSubclasses) {
  const std::vector<std::string> registered = {"sofia::register", "conference::maintenance"};
  Subscription s;
  s.enable(EventType::ALL, registered);
  EXPECT_EQ(Subclasses(s), (std::set<std::string>{"sofia::register", "conference::maintenance"}));
}

TEST(Subscription, EnableAllTwiceMergesSnapshots) {
  const std::vector<std::string> first = {"a::one"};
  const std::vector<std::string> second = {"a::one", "b::two"};
  Subscription s;
  s.add_subclass("mine::own");
  s.enable(EventType::ALL, first);
  s.enable(EventType::ALL, second);
  EXPECT_EQ(Subclasses(s), (std::set<std::string>{"a::one", "b::two", "mine::own"}));
}

TEST(Subscription, EnablingOtherTypesDoesNotSnapshotSubclasses) {
  const std::vector<std::string> registered = {"sofia::register"};
  Subscription s;
  s.enable(EventType::CUSTOM, registered);
  s.enable(EventType::HEARTBEAT, registered);
  EXPECT_TRUE(s.subclasses().empty());
  EXPECT_FALSE(s.wants(Custom("sofia::register")));
}

// ---------------------------------------------------------------------------------------------
// Subscription: CUSTOM and subclasses, table-driven.

struct CustomCase {
  const char* label;
  std::function<void(Subscription&)> setup;
  std::string_view subclass;  // of the CUSTOM event offered
  bool expected;
};

class SubscriptionCustom : public ::testing::TestWithParam<CustomCase> {};

TEST_P(SubscriptionCustom, Decides) {
  const CustomCase& c = GetParam();
  Subscription s;
  c.setup(s);
  EXPECT_EQ(s.wants(Custom(c.subclass)), c.expected) << "subclass [" << c.subclass << "]";
}

void CustomOnly(Subscription& s) {
  s.enable(EventType::CUSTOM);
}
void CustomWithSofia(Subscription& s) {
  s.enable(EventType::CUSTOM);
  s.add_subclass("sofia::register");
}
void SubclassWithoutCustomBit(Subscription& s) {
  s.add_subclass("sofia::register");
}
void AllWithSnapshot(Subscription& s) {
  const std::vector<std::string> registered = {"sofia::register"};
  s.enable(EventType::ALL, registered);
}
void AllThenNixHeartbeat(Subscription& s) {
  AllWithSnapshot(s);
  s.disable(EventType::HEARTBEAT);
}
void CustomWithSofiaThenNixCustom(Subscription& s) {
  CustomWithSofia(s);
  s.disable(EventType::CUSTOM);
}
void CustomWithSofiaThenRemoveIt(Subscription& s) {
  CustomWithSofia(s);
  s.add_subclass("conference::maintenance");
  s.disable(EventType::CUSTOM);
  s.remove_subclass("sofia::register");
}
void AllThenNixAllThenCustom(Subscription& s) {
  AllWithSnapshot(s);
  s.disable(EventType::ALL);
  s.enable(EventType::CUSTOM);
}
void OtherTypeOnly(Subscription& s) {
  s.enable(EventType::CHANNEL_CREATE);
}

const CustomCase kCustomCases[] = {
    {"CustomAloneDeliversSubclasslessCustom", CustomOnly, "", true},
    {"CustomAloneDropsSubclassedCustom", CustomOnly, "sofia::register", false},
    {"ListedSubclassDelivered", CustomWithSofia, "sofia::register", true},
    {"ListingSubclassStillDeliversSubclasslessCustom", CustomWithSofia, "", true},
    {"UnlistedSubclassDropped", CustomWithSofia, "conference::maintenance", false},
    {"SubclassMatchIsCaseSensitive", CustomWithSofia, "Sofia::Register", false},
    {"SubclassMatchIsNotPrefix", CustomWithSofia, "sofia::", false},
    {"SubclassMatchIsNotSuperstring", CustomWithSofia, "sofia::register::extra", false},
    {"SubclassMatchTrailingSpaceDiffers", CustomWithSofia, "sofia::register ", false},
    {"SubclassWithoutCustomBitDropsSubclassed", SubclassWithoutCustomBit, "sofia::register", false},
    {"SubclassWithoutCustomBitDropsSubclassless", SubclassWithoutCustomBit, "", false},
    {"AllDeliversSnapshotSubclass", AllWithSnapshot, "sofia::register", true},
    {"AllDeliversSubclassRegisteredLater", AllWithSnapshot, "late::comer", true},
    {"AllDeliversSubclasslessCustom", AllWithSnapshot, "", true},
    {"NixAfterAllKeepsSnapshotSubclass", AllThenNixHeartbeat, "sofia::register", true},
    {"NixAfterAllMissesSubclassRegisteredLater", AllThenNixHeartbeat, "late::comer", false},
    {"NixAfterAllKeepsSubclasslessCustom", AllThenNixHeartbeat, "", true},
    {"NixCustomKeepsSubclasslessCustom", CustomWithSofiaThenNixCustom, "", true},
    {"NixCustomAloneKeepsSubclasses", CustomWithSofiaThenNixCustom, "sofia::register", true},
    {"RemovedSubclassDropped", CustomWithSofiaThenRemoveIt, "sofia::register", false},
    {"OtherSubclassSurvivesRemoval", CustomWithSofiaThenRemoveIt, "conference::maintenance", true},
    {"SubclassRemovalKeepsSubclasslessCustom", CustomWithSofiaThenRemoveIt, "", true},
    {"NixAllKeepsSubclassSetForLaterCustom", AllThenNixAllThenCustom, "sofia::register", true},
    {"OtherTypeDoesNotDeliverCustom", OtherTypeOnly, "", false},
};

INSTANTIATE_TEST_SUITE_P(Cases, SubscriptionCustom, ::testing::ValuesIn(kCustomCases),
                         [](const ::testing::TestParamInfo<CustomCase>& info) {
                           return std::string(info.param.label);
                         });

TEST(Subscription, SubclassIsOnlyConsultedForCustomEvents) {
  Subscription s;
  s.enable(EventType::CHANNEL_CREATE);
  EXPECT_TRUE(s.wants(Event(EventType::CHANNEL_CREATE, "not::listed")));
}

// ---------------------------------------------------------------------------------------------
// Subscription: nixevent.

TEST(Subscription, NixAfterAllTurnsAllIntoIndividualBits) {
  Subscription s;
  s.enable(EventType::ALL);
  s.disable(EventType::HEARTBEAT);
  EXPECT_EQ(EnabledNames(s), AllNamesExcept({EventType::ALL, EventType::HEARTBEAT}));
  for (EventType t : RealTypes()) {
    EXPECT_EQ(s.wants(Event(t)), t != EventType::HEARTBEAT) << event_type_name(t);
  }
}

TEST(Subscription, SecondNixAfterAllClearsOnlyItsBit) {
  Subscription s;
  s.enable(EventType::ALL);
  s.disable(EventType::HEARTBEAT);
  s.disable(EventType::RE_SCHEDULE);
  EXPECT_EQ(EnabledNames(s),
            AllNamesExcept({EventType::ALL, EventType::HEARTBEAT, EventType::RE_SCHEDULE}));
}

TEST(Subscription, NixWithoutAllClearsOnlyThatBit) {
  Subscription s;
  s.enable(EventType::CHANNEL_CREATE);
  s.enable(EventType::HEARTBEAT);
  s.disable(EventType::HEARTBEAT);
  EXPECT_EQ(EnabledNames(s), (std::set<std::string>{"CHANNEL_CREATE"}));
}

TEST(Subscription, NixOfTypeNotEnabledChangesNothing) {
  Subscription s;
  s.enable(EventType::CHANNEL_CREATE);
  s.disable(EventType::HEARTBEAT);
  EXPECT_EQ(EnabledNames(s), (std::set<std::string>{"CHANNEL_CREATE"}));
  Subscription empty;
  empty.disable(EventType::HEARTBEAT);
  EXPECT_TRUE(EnabledNames(empty).empty());
}

TEST(Subscription, NixAllClearsEveryBitButKeepsSubclasses) {
  const std::vector<std::string> registered = {"sofia::register"};
  Subscription s;
  s.enable(EventType::ALL, registered);
  s.add_subclass("mine::own");
  s.disable(EventType::ALL);
  EXPECT_TRUE(EnabledNames(s).empty());
  EXPECT_EQ(Subclasses(s), (std::set<std::string>{"mine::own", "sofia::register"}));
  for (EventType t : RealTypes()) {
    EXPECT_FALSE(s.wants(Event(t))) << event_type_name(t);
  }
  EXPECT_FALSE(s.wants(Custom("sofia::register")));
}

TEST(Subscription, NixAllWithoutAllClearsIndividualBitsToo) {
  Subscription s;
  s.enable(EventType::CHANNEL_CREATE);
  s.enable(EventType::CUSTOM);
  s.disable(EventType::ALL);
  EXPECT_TRUE(EnabledNames(s).empty());
}

TEST(Subscription, NixCustomKeepsCustomOn) {
  Subscription s;
  s.enable(EventType::CUSTOM);
  s.add_subclass("sofia::register");
  s.disable(EventType::CUSTOM);
  EXPECT_TRUE(s.is_enabled(EventType::CUSTOM));
  EXPECT_TRUE(s.has_subclass("sofia::register"));
}

TEST(Subscription, NixCustomDoesNotEnableCustom) {
  Subscription s;
  s.disable(EventType::CUSTOM);
  EXPECT_TRUE(EnabledNames(s).empty());
}

TEST(Subscription, NixCustomWhileAllKeepsAll) {
  Subscription s;
  s.enable(EventType::ALL);
  s.disable(EventType::CUSTOM);
  EXPECT_EQ(EnabledNames(s), AllNamesExcept({}));
  EXPECT_TRUE(s.wants(Custom("anything::at_all")));
}

TEST(Subscription, RemoveSubclassIsExactAndCaseSensitive) {
  Subscription s;
  s.add_subclass("a::b");
  s.add_subclass("c::d");
  s.remove_subclass("A::B");
  s.remove_subclass("a::");
  s.remove_subclass("a::b ");
  EXPECT_EQ(Subclasses(s), (std::set<std::string>{"a::b", "c::d"}));
  s.remove_subclass("a::b");
  EXPECT_EQ(Subclasses(s), (std::set<std::string>{"c::d"}));
  EXPECT_FALSE(s.has_subclass("a::b"));
  EXPECT_TRUE(s.has_subclass("c::d"));
}

TEST(Subscription, RemoveSubclassOfUnknownNameIsHarmless) {
  Subscription s;
  s.remove_subclass("never::added");
  EXPECT_TRUE(s.subclasses().empty());
}

TEST(Subscription, RemoveSubclassWhileAllOnStillDelivers) {
  const std::vector<std::string> registered = {"sofia::register"};
  Subscription s;
  s.enable(EventType::ALL, registered);
  s.remove_subclass("sofia::register");
  EXPECT_FALSE(s.has_subclass("sofia::register"));
  EXPECT_TRUE(s.wants(Custom("sofia::register")));
}

TEST(Subscription, AddSubclassIsCaseSensitiveAndDeduplicated) {
  Subscription s;
  s.add_subclass("sofia::register");
  s.add_subclass("Sofia::Register");
  s.add_subclass("sofia::register");
  EXPECT_EQ(Subclasses(s), (std::set<std::string>{"Sofia::Register", "sofia::register"}));
  EXPECT_TRUE(s.has_subclass("Sofia::Register"));
  EXPECT_FALSE(s.has_subclass("SOFIA::REGISTER"));
}

TEST(Subscription, ClearDropsEveryBitAndSubclass) {
  const std::vector<std::string> registered = {"sofia::register"};
  Subscription s;
  s.enable(EventType::ALL, registered);
  s.add_subclass("mine::own");
  s.clear();
  EXPECT_TRUE(EnabledNames(s).empty());
  EXPECT_TRUE(s.subclasses().empty());
  EXPECT_FALSE(s.wants(Custom()));
  EXPECT_FALSE(s.wants(Event(EventType::HEARTBEAT)));
  // A later `event CUSTOM` starts from nothing: the old subclasses are gone.
  s.enable(EventType::CUSTOM);
  EXPECT_FALSE(s.wants(Custom("sofia::register")));
  EXPECT_TRUE(s.wants(Custom()));
}

// ---------------------------------------------------------------------------------------------
// MyEvents, table-driven.

constexpr std::string_view kBound = "3f2504e0-4f89-11d3-9a0c-0305e82c3301";
constexpr std::string_view kOther = "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d";

using HeaderList = std::vector<std::pair<std::string, std::string>>;

Event WithHeaders(EventType type, const HeaderList& headers) {
  Event e(type);
  for (const auto& [name, value] : headers) {
    e.add_header(name, value);
  }
  return e;
}

struct MyEventsCase {
  const char* label;
  bool active;
  std::optional<std::string> channel;
  HeaderList headers;
  bool expected;
};

class MyEventsPasses : public ::testing::TestWithParam<MyEventsCase> {};

TEST_P(MyEventsPasses, Decides) {
  const MyEventsCase& c = GetParam();
  MyEvents m;
  m.active = c.active;
  m.channel_uuid = c.channel;
  EXPECT_EQ(m.passes(WithHeaders(EventType::CHANNEL_STATE, c.headers)), c.expected);
}

const std::string kBoundS(kBound);
const std::string kOtherS(kOther);
const std::string kBoundUpper = "3F2504E0-4F89-11D3-9A0C-0305E82C3301";

const MyEventsCase kMyEventsCases[] = {
    // Inactive: no restriction at all.
    {"InactivePassesEventWithoutUniqueId", false, std::nullopt, {}, true},
    {"InactivePassesAnyUniqueId", false, std::nullopt, {{"Unique-ID", kOtherS}}, true},
    {"InactiveIgnoresChannelEvenIfSet", false, kBoundS, {{"Unique-ID", kOtherS}}, true},
    {"InactiveIgnoresChannelForHeartbeat", false, kBoundS, {{"Event-Name", "HEARTBEAT"}}, true},

    // Bound to a channel.
    {"BoundPassesEqualUniqueId", true, kBoundS, {{"Unique-ID", kBoundS}}, true},
    {"BoundDropsOtherUniqueId", true, kBoundS, {{"Unique-ID", kOtherS}}, false},
    {"BoundComparesUniqueIdCaseSensitively", true, kBoundS, {{"Unique-ID", kBoundUpper}}, false},
    {"BoundDropsUniqueIdPrefix", true, kBoundS, {{"Unique-ID", kBoundS.substr(0, 8)}}, false},
    {"BoundDropsEventWithoutUniqueId", true, kBoundS, {{"Event-Name", "HEARTBEAT"}}, false},
    {"BoundDropsEventWithNoHeaders", true, kBoundS, {}, false},
    {"BoundFindsUniqueIdHeaderCaseInsensitively", true, kBoundS, {{"unique-id", kBoundS}}, true},
    {"BoundUsesFirstUniqueIdHeader",
     true,
     kBoundS,
     {{"Unique-ID", kOtherS}, {"Unique-ID", kBoundS}},
     false},
    {"BoundPassesJobOwnerWithoutUniqueId", true, kBoundS, {{"Job-Owner-UUID", kBoundS}}, true},
    {"BoundPassesJobOwnerDespiteOtherUniqueId",
     true,
     kBoundS,
     {{"Unique-ID", kOtherS}, {"Job-Owner-UUID", kBoundS}},
     true},
    {"BoundFindsJobOwnerHeaderCaseInsensitively",
     true,
     kBoundS,
     {{"job-owner-uuid", kBoundS}},
     true},
    {"BoundDropsOtherJobOwner", true, kBoundS, {{"Job-Owner-UUID", kOtherS}}, false},
    {"BoundComparesJobOwnerCaseSensitively",
     true,
     kBoundS,
     {{"Job-Owner-UUID", kBoundUpper}},
     false},
    {"BoundOtherJobOwnerDoesNotDropEqualUniqueId",
     true,
     kBoundS,
     {{"Unique-ID", kBoundS}, {"Job-Owner-UUID", kOtherS}},
     true},

    // Active but unbound (inbound `myevents <unknown uuid>` without a format word).
    {"UnboundPassesAnyUniqueId", true, std::nullopt, {{"Unique-ID", kOtherS}}, true},
    {"UnboundPassesArbitraryUniqueIdText", true, std::nullopt, {{"Unique-ID", "x"}}, true},
    {"UnboundDropsEventWithoutUniqueId", true, std::nullopt, {{"Event-Name", "HEARTBEAT"}}, false},
    {"UnboundDropsJobOwnerWithoutUniqueId",
     true,
     std::nullopt,
     {{"Job-Owner-UUID", kOtherS}},
     false},
};

INSTANTIATE_TEST_SUITE_P(Cases, MyEventsPasses, ::testing::ValuesIn(kMyEventsCases),
                         [](const ::testing::TestParamInfo<MyEventsCase>& info) {
                           return std::string(info.param.label);
                         });

// ---------------------------------------------------------------------------------------------
// DeliveryRules::should_deliver: events enabled, subscription, filters, myevents.

TEST(DeliveryRules, DefaultDeliversNothing) {
  DeliveryRules rules;
  EXPECT_FALSE(rules.events_enabled);
  for (EventType t : RealTypes()) {
    EXPECT_FALSE(rules.should_deliver(Event(t))) << event_type_name(t);
  }
}

TEST(DeliveryRules, EventsDisabledBlocksEvenWhenEverythingElsePasses) {
  DeliveryRules rules;
  rules.subscription.enable(EventType::ALL);
  ASSERT_TRUE(rules.filters.empty());
  ASSERT_FALSE(rules.myevents.active);
  for (EventType t : RealTypes()) {
    EXPECT_FALSE(rules.should_deliver(Event(t))) << event_type_name(t);
  }
  rules.events_enabled = true;
  for (EventType t : RealTypes()) {
    EXPECT_TRUE(rules.should_deliver(Event(t))) << event_type_name(t);
  }
}

struct DeliveryCase {
  const char* label;
  std::function<void(DeliveryRules&)> setup;
  EventType type;
  HeaderList headers;
  bool expected;
};

class DeliveryRulesDecide : public ::testing::TestWithParam<DeliveryCase> {};

TEST_P(DeliveryRulesDecide, Decides) {
  const DeliveryCase& c = GetParam();
  DeliveryRules rules;
  rules.events_enabled = true;
  c.setup(rules);
  EXPECT_EQ(rules.should_deliver(WithHeaders(c.type, c.headers)), c.expected);
}

void SubscribeAll(DeliveryRules& r) {
  r.subscription.enable(EventType::ALL);
}
void SubscribeCreate(DeliveryRules& r) {
  r.subscription.enable(EventType::CHANNEL_CREATE);
}
void DisableEvents(DeliveryRules& r) {
  SubscribeAll(r);
  r.events_enabled = false;
}
void AllFilteredToCreate(DeliveryRules& r) {
  SubscribeAll(r);
  r.filters.add("Event-Name", std::string_view("CHANNEL_CREATE"));
}
void CreateFilteredToHeartbeat(DeliveryRules& r) {
  SubscribeCreate(r);
  r.filters.add("Event-Name", std::string_view("HEARTBEAT"));
}
void AllBoundToChannel(DeliveryRules& r) {
  SubscribeAll(r);
  r.myevents.active = true;
  r.myevents.channel_uuid = std::string(kBound);
}
void BoundWithoutBackgroundJob(DeliveryRules& r) {
  AllBoundToChannel(r);
  r.subscription.disable(EventType::BACKGROUND_JOB);
}
void BoundWithFilterOnCreate(DeliveryRules& r) {
  AllBoundToChannel(r);
  r.filters.add("Event-Name", std::string_view("CHANNEL_CREATE"));
}
void AllUnbound(DeliveryRules& r) {
  SubscribeAll(r);
  r.myevents.active = true;
}
void MyEventsAfterNoEvents(DeliveryRules& r) {
  AllBoundToChannel(r);
  r.filters.add("Event-Name", std::string_view("CHANNEL_CREATE"));
  r.subscription.clear();  // `noevents` keeps filters and myevents ...
  r.events_enabled = true;
  r.subscription.enable(EventType::CHANNEL_CREATE);  // ... and a new `event` brings them back
  r.subscription.enable(EventType::CHANNEL_DESTROY);
}

const DeliveryCase kDeliveryCases[] = {
    {"EventsDisabledBlocks", DisableEvents, EventType::CHANNEL_CREATE, {}, false},
    {"NothingSubscribedBlocks", [](DeliveryRules&) {}, EventType::CHANNEL_CREATE, {}, false},
    {"SubscribedTypeDelivered", SubscribeCreate, EventType::CHANNEL_CREATE, {}, true},
    {"UnsubscribedTypeBlocked", SubscribeCreate, EventType::HEARTBEAT, {}, false},
    {"FilterPassesMatchingEvent",
     AllFilteredToCreate,
     EventType::CHANNEL_CREATE,
     {{"Event-Name", "CHANNEL_CREATE"}},
     true},
    {"FilterBlocksOtherEvent",
     AllFilteredToCreate,
     EventType::HEARTBEAT,
     {{"Event-Name", "HEARTBEAT"}},
     false},
    {"FilterNeverAddsUnsubscribedEvent",
     CreateFilteredToHeartbeat,
     EventType::HEARTBEAT,
     {{"Event-Name", "HEARTBEAT"}},
     false},
    {"FilterBlocksSubscribedEventItDoesNotMatch",
     CreateFilteredToHeartbeat,
     EventType::CHANNEL_CREATE,
     {{"Event-Name", "CHANNEL_CREATE"}},
     false},
    {"MyEventsPassesBoundChannel",
     AllBoundToChannel,
     EventType::CHANNEL_ANSWER,
     {{"Unique-ID", kBoundS}},
     true},
    {"MyEventsDropsOtherChannel",
     AllBoundToChannel,
     EventType::CHANNEL_ANSWER,
     {{"Unique-ID", kOtherS}},
     false},
    {"MyEventsDropsHeartbeatDespiteAll",
     AllBoundToChannel,
     EventType::HEARTBEAT,
     {{"Event-Name", "HEARTBEAT"}},
     false},
    {"JobOwnerPassesWhenSubscribed",
     AllBoundToChannel,
     EventType::BACKGROUND_JOB,
     {{"Job-Owner-UUID", kBoundS}},
     true},
    {"JobOwnerDoesNotOverrideSubscription",
     BoundWithoutBackgroundJob,
     EventType::BACKGROUND_JOB,
     {{"Job-Owner-UUID", kBoundS}},
     false},
    {"JobOwnerDoesNotOverrideFilters",
     BoundWithFilterOnCreate,
     EventType::BACKGROUND_JOB,
     {{"Event-Name", "BACKGROUND_JOB"}, {"Job-Owner-UUID", kBoundS}},
     false},
    {"FilterAndMyEventsBothPass",
     BoundWithFilterOnCreate,
     EventType::CHANNEL_CREATE,
     {{"Event-Name", "CHANNEL_CREATE"}, {"Unique-ID", kBoundS}},
     true},
    {"FilterPassesButMyEventsDrops",
     BoundWithFilterOnCreate,
     EventType::CHANNEL_CREATE,
     {{"Event-Name", "CHANNEL_CREATE"}, {"Unique-ID", kOtherS}},
     false},
    {"UnboundMyEventsPassesAnyUniqueId",
     AllUnbound,
     EventType::CHANNEL_CREATE,
     {{"Unique-ID", kOtherS}},
     true},
    {"UnboundMyEventsDropsEventWithoutUniqueId",
     AllUnbound,
     EventType::HEARTBEAT,
     {{"Event-Name", "HEARTBEAT"}},
     false},
    {"FiltersAndMyEventsSurviveSubscriptionClear",
     MyEventsAfterNoEvents,
     EventType::CHANNEL_DESTROY,
     {{"Event-Name", "CHANNEL_DESTROY"}, {"Unique-ID", kBoundS}},
     false},
    {"FiltersAndMyEventsSurviveSubscriptionClearAndStillPass",
     MyEventsAfterNoEvents,
     EventType::CHANNEL_CREATE,
     {{"Event-Name", "CHANNEL_CREATE"}, {"Unique-ID", kBoundS}},
     true},
};

INSTANTIATE_TEST_SUITE_P(Cases, DeliveryRulesDecide, ::testing::ValuesIn(kDeliveryCases),
                         [](const ::testing::TestParamInfo<DeliveryCase>& info) {
                           return std::string(info.param.label);
                         });

}  // namespace
}  // namespace eventsocket::event
