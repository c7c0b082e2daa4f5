// Filter / FilterList: EVENTS.md §11, PROTOCOL.md §8.5 and the filter bullets of §16 (checked
// against a live FreeSWITCH 1.11).
#include "eventsocket/event/filter.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eventsocket/event/event.hpp"

namespace eventsocket::event {
namespace {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct EventSpec {
  HeaderList headers;
  std::optional<std::string> body;
};

Event MakeEvent(const EventSpec& spec) {
  Event e(EventType::CUSTOM);
  for (const auto& [name, value] : spec.headers) {
    e.add_header(name, value);
  }
  if (spec.body) {
    e.set_body(*spec.body);
  }
  return e;
}

FilterList MakeFilters(const HeaderList& filters) {
  FilterList list;
  for (const auto& [name, value] : filters) {
    list.add(name, std::string_view(value));
  }
  return list;
}

std::string Describe(const HeaderList& filters) {
  std::string out;
  for (const auto& [name, value] : filters) {
    out += "[" + name + "]=[" + value + "] ";
  }
  return out.empty() ? "(no filters)" : out;
}

template <typename Case>
std::string LabelOf(const ::testing::TestParamInfo<Case>& info) {
  return info.param.label;
}

// ---------------------------------------------------------------------------------------------
// Filter::make: sign parsing, pattern, regex detection.

struct MakeCase {
  const char* label;
  std::string_view value;
  bool positive;
  std::string_view pattern;
  bool is_regex;
  bool regex_compiled;
};

class FilterMake : public ::testing::TestWithParam<MakeCase> {};

TEST_P(FilterMake, ParsesSignPatternAndRegex) {
  const MakeCase& c = GetParam();
  const Filter f = Filter::make("Some-Header", c.value);
  EXPECT_EQ(f.header, "Some-Header");
  EXPECT_EQ(f.value, c.value) << "the stored value keeps its sign characters";
  EXPECT_EQ(f.positive, c.positive);
  EXPECT_EQ(f.pattern, c.pattern);
  EXPECT_EQ(f.is_regex, c.is_regex);
  EXPECT_EQ(f.regex != nullptr, c.regex_compiled);
}

const MakeCase kMakeCases[] = {
    {"PlainValueIsPositive", "CHANNEL_CREATE", true, "CHANNEL_CREATE", false, false},
    {"PlusPrefixIsPositive", "+CHANNEL_CREATE", true, "CHANNEL_CREATE", false, false},
    {"MinusPrefixIsNegative", "-CHANNEL_CREATE", false, "CHANNEL_CREATE", false, false},
    {"MinusSpaceIsNegative", "- red", false, "red", false, false},
    {"PlusMinusIsNegativeLastSignWins", "+-blue", false, "blue", false, false},
    {"MinusPlusIsPositiveLastSignWins", "-+green", true, "green", false, false},
    {"LeadingSpacesSkipped", "   x", true, "x", false, false},
    {"SignsAndSpacesInterleaved", " + - + - x y ", false, "x y ", false, false},
    {"SignsAfterFirstOtherCharAreLiteral", "a-b+c", true, "a-b+c", false, false},
    {"OnlySignsLeaveEmptyPattern", "+-", false, "", false, false},
    {"SlashFirstIsRegex", "/^ab+c$/i", true, "/^ab+c$/i", true, true},
    {"EmptyRegexCompiles", "//", true, "//", true, true},
    {"UnclosedRegexIsNotCompiled", "/abc", true, "/abc", true, false},
    {"LoneSlashIsNotCompiled", "/", true, "/", true, false},
    {"InvalidRegexIsNotCompiled", "/(/", true, "/(/", true, false},
    {"NegativeRegexIsLiteral", "-/abc/", false, "/abc/", false, false},
    {"PlusRegexIsLiteral", "+/abc/", true, "/abc/", false, false},
    {"SpaceBeforeSlashIsLiteral", " /abc/", true, "/abc/", false, false},
};

INSTANTIATE_TEST_SUITE_P(Values, FilterMake, ::testing::ValuesIn(kMakeCases), LabelOf<MakeCase>);

// ---------------------------------------------------------------------------------------------
// Filter::matches: the comparison alone (the sign is not its business).

struct MatchCase {
  const char* label;
  std::string_view value;
  std::string_view header_value;
  bool expected;
};

class FilterMatches : public ::testing::TestWithParam<MatchCase> {};

TEST_P(FilterMatches, ComparesLikeFreeSwitch) {
  const MatchCase& c = GetParam();
  EXPECT_EQ(Filter::make("X", c.value).matches(c.header_value), c.expected)
      << "filter [" << c.value << "] against [" << c.header_value << "]";
}

const MatchCase kMatchCases[] = {
    {"EqualityExact", "CHANNEL_CREATE", "CHANNEL_CREATE", true},
    {"EqualityFilterLowerCase", "channel_create", "CHANNEL_CREATE", true},
    {"EqualityHeaderLowerCase", "CHANNEL_CREATE", "channel_create", true},
    {"EqualityIsNotPrefix", "CHANNEL", "CHANNEL_CREATE", false},
    {"EqualityIsNotSubstring", "CREATE", "CHANNEL_CREATE", false},
    {"EqualityIsNotSuperstring", "CHANNEL_CREATE_X", "CHANNEL_CREATE", false},
    {"EqualityTrailingSpaceInFilterNeverMatches", "CHANNEL_CREATE ", "CHANNEL_CREATE", false},
    {"EqualityComparesPatternWithoutSign", "-CHANNEL_CREATE", "CHANNEL_CREATE", true},
    {"EqualitySignStrippedNotTheHeader", "-CHANNEL_CREATE", "-CHANNEL_CREATE", false},
    {"RegexAnchoredMatch", "/^ab+c$/", "abbbc", true},
    {"RegexIsCaseSensitive", "/^ab+c$/", "ABC", false},
    {"RegexHonoursAnchors", "/^ab+c$/", "zabc", false},
    {"RegexIsUnanchoredSearch", "/b+/", "abbbc", true},
    {"RegexCaselessFlag", "/^ab+c$/i", "ABBC", true},
    {"RegexDotExcludesNewlineByDefault", "/^a.b$/", "a\nb", false},
    {"RegexDotallFlag", "/^a.b$/s", "a\nb", true},
    {"RegexBothFlags", "/^A.B$/si", "a\nb", true},
    {"RegexUnknownFlagIgnored", "/^a b$/x", "a b", true},
    {"RegexUnknownFlagDoesNotEnableCaseless", "/^abc$/m", "ABC", false},
    {"RegexSpansFirstToLastSlash", "/^a/b$/", "a/b", true},
    {"RegexEmptyPatternMatchesAnything", "//", "anything", true},
    {"RegexEmptyPatternMatchesEmpty", "//", "", true},
    {"RegexSingleSlashNeverMatchesEvenItself", "/abc", "/abc", false},
    {"RegexSingleSlashNeverMatchesContent", "/abc", "abc", false},
    {"RegexLoneSlashNeverMatches", "/", "/", false},
    {"RegexInvalidNeverMatches", "/(/", "(", false},
    {"RegexInvalidBracketNeverMatches", "/a[/", "a[", false},
    {"NegativeRegexComparedLiterally", "-/abc/", "/abc/", true},
    {"NegativeRegexLiteralIgnoresCase", "-/abc/", "/ABC/", true},
    {"NegativeRegexIsNotARegex", "-/abc/", "abc", false},
    {"SpaceBeforeSlashComparedLiterally", " /a.c/", "abc", false},
};

INSTANTIATE_TEST_SUITE_P(Values, FilterMatches, ::testing::ValuesIn(kMatchCases),
                         LabelOf<MatchCase>);

// ---------------------------------------------------------------------------------------------
// FilterList::passes: the whole evaluation of EVENTS.md §11.

struct PassCase {
  const char* label;
  HeaderList filters;
  EventSpec event;
  bool expected;
};

class FilterListPasses : public ::testing::TestWithParam<PassCase> {};

TEST_P(FilterListPasses, DecidesLikeFreeSwitch) {
  const PassCase& c = GetParam();
  const FilterList list = MakeFilters(c.filters);
  EXPECT_EQ(list.passes(MakeEvent(c.event)), c.expected) << Describe(c.filters);
}

const std::string kCreate = "CHANNEL_CREATE";

const PassCase kPassCases[] = {
    // Empty list.
    {"EmptyListPassesEverything", {}, {{{"Event-Name", "HEARTBEAT"}}, std::nullopt}, true},
    {"EmptyListPassesEventWithoutHeaders", {}, {{}, std::nullopt}, true},

    // Positive and negative basics.
    {"PositiveEqualityMatchPasses",
     {{"Event-Name", kCreate}},
     {{{"Event-Name", kCreate}}, std::nullopt},
     true},
    {"PositiveEqualityMismatchBlocks",
     {{"Event-Name", kCreate}},
     {{{"Event-Name", "CHANNEL_DESTROY"}}, std::nullopt},
     false},
    {"PlusPrefixIsPositive",
     {{"Event-Name", "+CHANNEL_CREATE"}},
     {{{"Event-Name", kCreate}}, std::nullopt},
     true},
    {"PlusPrefixMismatchBlocks",
     {{"Event-Name", "+CHANNEL_CREATE"}},
     {{{"Event-Name", "CHANNEL_DESTROY"}}, std::nullopt},
     false},
    {"OnlyNegativeListBlocksNonMatchingEvent",
     {{"Event-Name", "-HEARTBEAT"}},
     {{{"Event-Name", kCreate}}, std::nullopt},
     false},
    {"OnlyNegativeListBlocksMatchingEvent",
     {{"Event-Name", "-HEARTBEAT"}},
     {{{"Event-Name", "HEARTBEAT"}}, std::nullopt},
     false},
    {"SeveralNegativesStillBlockEverything",
     {{"Event-Name", "-HEARTBEAT"}, {"Event-Name", "-RE_SCHEDULE"}},
     {{{"Event-Name", kCreate}}, std::nullopt},
     false},
    {"MatchingNegativeAfterPositiveVetoes",
     {{"Event-Name", kCreate}, {"Caller-Caller-ID-Number", "-1000"}},
     {{{"Event-Name", kCreate}, {"Caller-Caller-ID-Number", "1000"}}, std::nullopt},
     false},
    {"MatchingNegativeBeforePositiveVetoes",
     {{"Caller-Caller-ID-Number", "-1000"}, {"Event-Name", kCreate}},
     {{{"Event-Name", kCreate}, {"Caller-Caller-ID-Number", "1000"}}, std::nullopt},
     false},
    {"MatchingNegativeBetweenPositivesVetoes",
     {{"Event-Name", kCreate}, {"Caller-Caller-ID-Number", "-1000"}, {"Unique-ID", "abc"}},
     {{{"Event-Name", kCreate}, {"Caller-Caller-ID-Number", "1000"}, {"Unique-ID", "abc"}},
      std::nullopt},
     false},
    {"NonMatchingNegativeLetsPositiveThrough",
     {{"Event-Name", kCreate}, {"Caller-Caller-ID-Number", "-2000"}},
     {{{"Event-Name", kCreate}, {"Caller-Caller-ID-Number", "1000"}}, std::nullopt},
     true},
    {"OneMatchingPositiveAmongSeveralSuffices",
     {{"Event-Name", "HEARTBEAT"}, {"Event-Name", kCreate}, {"Event-Name", "CHANNEL_DESTROY"}},
     {{{"Event-Name", kCreate}}, std::nullopt},
     true},
    {"PositivesOnDifferentHeadersAreOred",
     {{"Event-Name", "HEARTBEAT"}, {"Unique-ID", "abc"}},
     {{{"Event-Name", kCreate}, {"Unique-ID", "abc"}}, std::nullopt},
     true},
    {"DuplicateFiltersAreHarmless",
     {{"Event-Name", kCreate}, {"Event-Name", kCreate}},
     {{{"Event-Name", kCreate}}, std::nullopt},
     true},

    // Sign parsing: the last sign wins, spaces between signs are skipped.
    {"MinusSpaceIsNegativeAndVetoes",
     {{"Shape", "square"}, {"Color", "- red"}},
     {{{"Shape", "square"}, {"Color", "red"}}, std::nullopt},
     false},
    {"MinusSpaceNegativeIgnoresOtherValues",
     {{"Shape", "square"}, {"Color", "- red"}},
     {{{"Shape", "square"}, {"Color", "blue"}}, std::nullopt},
     true},
    {"PlusMinusIsNegativeAndVetoes",
     {{"Shape", "square"}, {"Color", "+-blue"}},
     {{{"Shape", "square"}, {"Color", "blue"}}, std::nullopt},
     false},
    {"PlusMinusAloneIsOnlyNegativeAndBlocks",
     {{"Color", "+-blue"}},
     {{{"Color", "green"}}, std::nullopt},
     false},
    {"MinusPlusIsPositiveAndPasses",
     {{"Color", "-+green"}},
     {{{"Color", "green"}}, std::nullopt},
     true},
    {"MinusPlusPositiveMismatchBlocks",
     {{"Color", "-+green"}},
     {{{"Color", "red"}}, std::nullopt},
     false},
    {"LeadingSpacesAreSkipped",
     {{"Event-Name", "   CHANNEL_CREATE"}},
     {{{"Event-Name", kCreate}}, std::nullopt},
     true},
    {"SignsInsideValueAreLiteral",
     {{"X-Value", "a-b+c"}},
     {{{"X-Value", "a-b+c"}}, std::nullopt},
     true},
    {"SpacesInsideValueAreLiteral",
     {{"X-Value", "+ hello world"}},
     {{{"X-Value", "hello world"}}, std::nullopt},
     true},

    // Equality.
    {"EqualityIgnoresCaseOfFilterValue",
     {{"Event-Name", "channel_create"}},
     {{{"Event-Name", kCreate}}, std::nullopt},
     true},
    {"EqualityIgnoresCaseOfHeaderValue",
     {{"Event-Name", kCreate}},
     {{{"Event-Name", "Channel_Create"}}, std::nullopt},
     true},
    {"NegativeEqualityIgnoresCase",
     {{"Event-Name", "CHANNEL_CREATE"}, {"Unique-ID", "-ABC"}},
     {{{"Event-Name", kCreate}, {"Unique-ID", "abc"}}, std::nullopt},
     false},
    {"EqualityIsWholeStringNotPrefix",
     {{"Event-Name", "CHANNEL"}},
     {{{"Event-Name", kCreate}}, std::nullopt},
     false},
    {"TrailingSpaceInValueNeverMatches",
     {{"Event-Name", "CHANNEL_CREATE "}},
     {{{"Event-Name", kCreate}}, std::nullopt},
     false},
    {"TrailingSpaceInNegativeValueNeverVetoes",
     {{"Event-Name", kCreate}, {"Event-Name", "-CHANNEL_CREATE "}},
     {{{"Event-Name", kCreate}}, std::nullopt},
     true},

    // Regular expressions.
    {"RegexMatchesAbbbc", {{"X-Value", "/^ab+c$/"}}, {{{"X-Value", "abbbc"}}, std::nullopt}, true},
    {"RegexIsCaseSensitive",
     {{"X-Value", "/^ab+c$/"}},
     {{{"X-Value", "ABC"}}, std::nullopt},
     false},
    {"RegexHonoursAnchors",
     {{"X-Value", "/^ab+c$/"}},
     {{{"X-Value", "zabc"}}, std::nullopt},
     false},
    {"RegexIsUnanchoredSearch",
     {{"X-Value", "/b+/"}},
     {{{"X-Value", "abbbc"}}, std::nullopt},
     true},
    {"RegexCaselessFlag", {{"X-Value", "/^ab+c$/i"}}, {{{"X-Value", "ABC"}}, std::nullopt}, true},
    {"RegexDotExcludesNewlineByDefault",
     {{"X-Value", "/^a.b$/"}},
     {{{"X-Value", "a\nb"}}, std::nullopt},
     false},
    {"RegexDotallFlag", {{"X-Value", "/^a.b$/s"}}, {{{"X-Value", "a\nb"}}, std::nullopt}, true},
    {"RegexSpansFirstToLastSlash",
     {{"X-Value", "/^a/b$/"}},
     {{{"X-Value", "a/b"}}, std::nullopt},
     true},
    {"RegexSingleSlashNeverMatchesEvenItself",
     {{"X-Value", "/abc"}},
     {{{"X-Value", "/abc"}}, std::nullopt},
     false},
    {"RegexLoneSlashNeverMatches", {{"X-Value", "/"}}, {{{"X-Value", "/"}}, std::nullopt}, false},
    {"RegexInvalidNeverMatches", {{"X-Value", "/(/"}}, {{{"X-Value", "("}}, std::nullopt}, false},
    {"RegexInvalidDoesNotBlockOtherPositives",
     {{"X-Value", "/(/"}, {"Event-Name", kCreate}},
     {{{"X-Value", "("}, {"Event-Name", kCreate}}, std::nullopt},
     true},
    {"NegativeRegexIsLiteralAndNeverVetoes",
     {{"Event-Name", kCreate}, {"X-Value", "-/abc/"}},
     {{{"Event-Name", kCreate}, {"X-Value", "abc"}}, std::nullopt},
     true},
    {"NegativeRegexLiteralVetoesItsOwnText",
     {{"Event-Name", kCreate}, {"X-Value", "-/abc/"}},
     {{{"Event-Name", kCreate}, {"X-Value", "/ABC/"}}, std::nullopt},
     false},
    {"SpaceBeforeSlashIsLiteralNotRegex",
     {{"X-Value", " /a.c/"}},
     {{{"X-Value", "abc"}}, std::nullopt},
     false},
    {"SpaceBeforeSlashMatchesLiterally",
     {{"X-Value", " /a.c/"}},
     {{{"X-Value", "/A.C/"}}, std::nullopt},
     true},

    // The `_body` pseudo header.
    {"BodyFilterUsesBodyWithoutBodyHeader",
     {{"_body", "hello"}},
     {{{"Event-Name", kCreate}}, "hello"},
     true},
    {"BodyFilterEqualityIgnoresCase", {{"_body", "HELLO"}}, {{}, "hello"}, true},
    {"BodyFilterMismatchBlocks", {{"_body", "hello"}}, {{}, "goodbye"}, false},
    {"BodyFilterRegexSearchesBody", {{"_body", "/wor/"}}, {{}, "hello world"}, true},
    {"BodyFilterRegexDotallOverLines", {{"_body", "/^line1.line2$/s"}}, {{}, "line1\nline2"}, true},
    {"BodyHeaderTakesPrecedenceOverBody",
     {{"_body", "hello"}},
     {{{"_body", "other"}}, "hello"},
     false},
    {"BodyHeaderIsMatchedInsteadOfBody",
     {{"_body", "other"}},
     {{{"_body", "other"}}, "hello"},
     true},
    {"BodyFilterNameIsCaseSensitive", {{"_BODY", "hello"}}, {{}, "hello"}, false},
    {"BodyFilterSkippedWhenEventHasNoBody",
     {{"_body", "hello"}},
     {{{"Event-Name", kCreate}}, std::nullopt},
     false},
    {"NegativeBodyFilterVetoes",
     {{"Event-Name", kCreate}, {"_body", "-secret"}},
     {{{"Event-Name", kCreate}}, "secret"},
     false},
    {"NegativeBodyFilterSkippedWhenEventHasNoBody",
     {{"Event-Name", kCreate}, {"_body", "-"}},
     {{{"Event-Name", kCreate}}, std::nullopt},
     true},

    // Headers the event lacks.
    {"FilterOnMissingHeaderDoesNotPass",
     {{"Unique-ID", "abc"}},
     {{{"Event-Name", "HEARTBEAT"}}, std::nullopt},
     false},
    {"NegativeFilterOnMissingHeaderIsSkippedNotComparedWithEmpty",
     {{"Event-Name", "HEARTBEAT"}, {"Unique-ID", "-"}},
     {{{"Event-Name", "HEARTBEAT"}}, std::nullopt},
     true},
    {"PositiveFilterOnMissingHeaderIsSkippedNotComparedWithEmpty",
     {{"Unique-ID", "+"}},
     {{{"Event-Name", "HEARTBEAT"}}, std::nullopt},
     false},
    {"RegexOnMissingHeaderIsSkippedEvenIfItMatchesEmpty",
     {{"Unique-ID", "/^$/"}},
     {{{"Event-Name", "HEARTBEAT"}}, std::nullopt},
     false},

    // Header names.
    {"HeaderNameLowerCaseMatches",
     {{"event-name", kCreate}},
     {{{"Event-Name", kCreate}}, std::nullopt},
     true},
    {"HeaderNameUpperCaseMatches",
     {{"EVENT-NAME", kCreate}},
     {{{"Event-Name", kCreate}}, std::nullopt},
     true},
    {"NegativeHeaderNameMatchesCaseInsensitively",
     {{"Event-Name", kCreate}, {"UNIQUE-ID", "-abc"}},
     {{{"Event-Name", kCreate}, {"unique-id", "abc"}}, std::nullopt},
     false},
    {"FirstOfDuplicateHeadersIsCompared",
     {{"X-Value", "2"}},
     {{{"X-Value", "1"}, {"X-Value", "2"}}, std::nullopt},
     false},
    {"FirstOfDuplicateHeadersMatches",
     {{"X-Value", "1"}},
     {{{"X-Value", "1"}, {"x-value", "2"}}, std::nullopt},
     true},
};

INSTANTIATE_TEST_SUITE_P(Cases, FilterListPasses, ::testing::ValuesIn(kPassCases),
                         LabelOf<PassCase>);

// ---------------------------------------------------------------------------------------------
// FilterList editing: add / remove / remove_all.

// (header, value) pairs as stored, in order.
HeaderList Contents(const FilterList& list) {
  HeaderList out;
  for (const Filter& f : list.filters()) {
    out.emplace_back(f.header, f.value);
  }
  return out;
}

TEST(FilterListEdit, NewListIsEmpty) {
  FilterList list;
  EXPECT_TRUE(list.empty());
  EXPECT_TRUE(list.filters().empty());
}

TEST(FilterListEdit, AddAppendsInInsertionOrderKeepingDuplicatesAndCase) {
  FilterList list;
  list.add("Event-Name", std::string_view("CHANNEL_CREATE"));
  list.add("unique-id", std::string_view("-abc"));
  list.add("Event-Name", std::string_view("CHANNEL_CREATE"));
  list.add("_body", std::string_view("/x y/ "));
  EXPECT_FALSE(list.empty());
  EXPECT_EQ(Contents(list), (HeaderList{{"Event-Name", "CHANNEL_CREATE"},
                                        {"unique-id", "-abc"},
                                        {"Event-Name", "CHANNEL_CREATE"},
                                        {"_body", "/x y/ "}}));
  EXPECT_TRUE(list.filters()[0].positive);
  EXPECT_FALSE(list.filters()[1].positive);
  EXPECT_EQ(list.filters()[1].pattern, "abc");
  EXPECT_TRUE(list.filters()[3].is_regex);
}

TEST(FilterListEdit, AddWithoutValueAddsNothing) {
  FilterList list;
  list.add("Event-Name", std::nullopt);
  EXPECT_TRUE(list.empty());
}

TEST(FilterListEdit, AddWithoutValueKeepsExistingFiltersOnThatHeader) {
  FilterList list;
  list.add("Event-Name", std::string_view("CHANNEL_CREATE"));
  list.add("Event-Name", std::nullopt);
  EXPECT_EQ(Contents(list), (HeaderList{{"Event-Name", "CHANNEL_CREATE"}}));
}

TEST(FilterListEdit, AddWithEmptyValueRemovesThatHeadersFiltersAndAddsNothing) {
  FilterList list;
  list.add("Event-Name", std::string_view("CHANNEL_CREATE"));
  list.add("Unique-ID", std::string_view("abc"));
  list.add("event-name", std::string_view("-HEARTBEAT"));
  list.add("Event-Name", std::string_view(""));
  EXPECT_EQ(Contents(list), (HeaderList{{"Unique-ID", "abc"}}));
}

TEST(FilterListEdit, AddWithEmptyValueMatchesHeaderNameCaseInsensitively) {
  FilterList list;
  list.add("Event-Name", std::string_view("CHANNEL_CREATE"));
  list.add("EVENT-NAME", std::string_view(""));
  EXPECT_TRUE(list.empty());
}

TEST(FilterListEdit, AddWithEmptyValueOnEmptyListAddsNothing) {
  FilterList list;
  list.add("Event-Name", std::string_view(""));
  EXPECT_TRUE(list.empty());
}

TEST(FilterListEdit, AddWithEmptyValueReopensTheGate) {
  FilterList list;
  list.add("Event-Name", std::string_view("CHANNEL_CREATE"));
  Event heartbeat(EventType::HEARTBEAT);
  heartbeat.add_header("Event-Name", "HEARTBEAT");
  EXPECT_FALSE(list.passes(heartbeat));
  list.add("Event-Name", std::string_view(""));
  EXPECT_TRUE(list.passes(heartbeat));
}

TEST(FilterListEdit, RemoveByNameIsCaseInsensitiveAndRemovesEveryValue) {
  FilterList list;
  list.add("Event-Name", std::string_view("CHANNEL_CREATE"));
  list.add("Unique-ID", std::string_view("abc"));
  list.add("event-name", std::string_view("-HEARTBEAT"));
  list.add("EVENT-NAME", std::string_view("/^CHANNEL_/"));
  list.remove("eVeNt-NaMe");
  EXPECT_EQ(Contents(list), (HeaderList{{"Unique-ID", "abc"}}));
}

TEST(FilterListEdit, RemoveByNameOfAbsentHeaderChangesNothing) {
  FilterList list;
  list.add("Event-Name", std::string_view("CHANNEL_CREATE"));
  list.remove("Unique-ID");
  list.remove("Event-Nam");
  list.remove("Event-Name ");
  EXPECT_EQ(Contents(list), (HeaderList{{"Event-Name", "CHANNEL_CREATE"}}));
}

TEST(FilterListEdit, RemoveByNameAndValueComparesValueExactly) {
  FilterList list;
  list.add("Event-Name", std::string_view("CHANNEL_CREATE"));
  list.add("Event-Name", std::string_view("channel_create"));
  list.add("Event-Name", std::string_view("CHANNEL_CREATE "));
  list.add("Event-Name", std::string_view("-CHANNEL_CREATE"));
  list.add("Unique-ID", std::string_view("CHANNEL_CREATE"));
  list.remove("Event-Name", "CHANNEL_CREATE");
  EXPECT_EQ(Contents(list), (HeaderList{{"Event-Name", "channel_create"},
                                        {"Event-Name", "CHANNEL_CREATE "},
                                        {"Event-Name", "-CHANNEL_CREATE"},
                                        {"Unique-ID", "CHANNEL_CREATE"}}));
}

TEST(FilterListEdit, RemoveByNameAndValueMatchesNameCaseInsensitively) {
  FilterList list;
  list.add("Event-Name", std::string_view("CHANNEL_CREATE"));
  list.add("Unique-ID", std::string_view("abc"));
  list.remove("EVENT-NAME", "CHANNEL_CREATE");
  EXPECT_EQ(Contents(list), (HeaderList{{"Unique-ID", "abc"}}));
}

TEST(FilterListEdit, RemoveByNameAndValueNeedsTheStoredSignCharacters) {
  FilterList list;
  list.add("Event-Name", std::string_view("-HEARTBEAT"));
  list.add("Event-Name", std::string_view("+-blue"));
  list.remove("Event-Name", "HEARTBEAT");
  list.remove("Event-Name", "-blue");
  EXPECT_EQ(Contents(list), (HeaderList{{"Event-Name", "-HEARTBEAT"}, {"Event-Name", "+-blue"}}));
  list.remove("Event-Name", "-HEARTBEAT");
  list.remove("Event-Name", "+-blue");
  EXPECT_TRUE(list.empty());
}

TEST(FilterListEdit, RemoveByNameAndValueRemovesEveryDuplicate) {
  FilterList list;
  list.add("Event-Name", std::string_view("CHANNEL_CREATE"));
  list.add("Unique-ID", std::string_view("abc"));
  list.add("event-name", std::string_view("CHANNEL_CREATE"));
  list.remove("Event-Name", "CHANNEL_CREATE");
  EXPECT_EQ(Contents(list), (HeaderList{{"Unique-ID", "abc"}}));
}

TEST(FilterListEdit, RemoveAllEmptiesTheListAndPassesEverythingAgain) {
  FilterList list;
  list.add("Event-Name", std::string_view("-HEARTBEAT"));
  list.add("Unique-ID", std::string_view("abc"));
  Event heartbeat(EventType::HEARTBEAT);
  heartbeat.add_header("Event-Name", "HEARTBEAT");
  EXPECT_FALSE(list.passes(heartbeat));
  list.remove_all();
  EXPECT_TRUE(list.empty());
  EXPECT_TRUE(list.passes(heartbeat));
}

TEST(FilterListEdit, RemoveAllOnEmptyListIsHarmless) {
  FilterList list;
  list.remove_all();
  EXPECT_TRUE(list.empty());
}

TEST(FilterListEdit, CopiesShareCompiledRegexesAndEvaluateIndependently) {
  FilterList original;
  original.add("X-Value", std::string_view("/^ab+c$/"));
  FilterList copy = original;
  original.remove_all();
  Event e;
  e.add_header("X-Value", "abbc");
  EXPECT_TRUE(copy.passes(e));
  EXPECT_TRUE(original.passes(e));  // empty again
  e.set_header("X-Value", "ac");
  EXPECT_FALSE(copy.passes(e));
}

}  // namespace
}  // namespace eventsocket::event

namespace eventsocket::event {
namespace {

// A client's pathological regex runs under a step limit (on the publishing thread, for every
// event): past it the filter simply does not match, as if the value were different.
TEST(FilterRegexLimit, CatastrophicBacktrackingCountsAsNoMatch) {
  const Filter f = Filter::make("X-Redos", "/(a+)+$/");
  ASSERT_TRUE(f.regex);
  EXPECT_FALSE(f.matches(std::string(5000, 'a') + "b"));
  EXPECT_TRUE(f.matches("aaaa"));  // an ordinary value still matches
}

}  // namespace
}  // namespace eventsocket::event
