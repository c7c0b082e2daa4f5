// API argument splitting, dial strings and `originate` arguments, checked against the way
// FreeSWITCH reads them (switch_separate_string, switch_ivr_originate, mod_commands).
#include "eventsocket/core/dial_string.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

namespace eventsocket::core {
namespace {

template <typename Row>
std::string row_name(const testing::TestParamInfo<Row>& info) {
  return info.param.name;
}

// ------------------------------------------------------------------------ split_api_args

struct SplitRow {
  std::string name;
  std::string input;
  char separator;
  std::vector<std::string> expected;
};
void PrintTo(const SplitRow& row, std::ostream* os) {
  *os << row.name << ": " << row.input;
}

std::vector<SplitRow> split_rows() {
  return {
      {"Blanks", "a b c", ' ', {"a", "b", "c"}},
      {"BlankRunsAndEndsCollapse", "   a    b  ", ' ', {"a", "b"}},
      {"EmptyInput", "", ' ', {}},
      {"OnlyBlanks", "    ", ' ', {}},
      {"SingleQuotesGroupAndGo", "x 'a b'  c", ' ', {"x", "a b", "c"}},
      {"DoubleQuotesGroupAndGo", "\"a b\" c", ' ', {"a b", "c"}},
      {"QuoteInsideOtherQuoteIsText", "\"it's\" 'say \"hi\"'", ' ', {"it's", "say \"hi\""}},
      {"QuotesJoinWithNeighbours", "pre'a b'post", ' ', {"prea bpost"}},
      {"EmptyQuotedArgument", "a '' b", ' ', {"a", "", "b"}},
      {"UnmatchedQuoteIsText", "'open a", ' ', {"'open", "a"}},
      {"BackslashEscapesBlank", "a\\ b c", ' ', {"a b", "c"}},
      {"BackslashEscapesQuote", "it\\'s x", ' ', {"it's", "x"}},
      {"BackslashEscapesBackslash", "a\\\\b", ' ', {"a\\b"}},
      {"EscapedQuoteInsideQuotes", "'a\\'b c'", ' ', {"a'b c"}},
      {"NamedEscapes", "a\\nb\\sc\\td", ' ', {"a\nb c\td"}},
      {"TrailingBackslashKept", "a\\", ' ', {"a\\"}},
      {"BracesDoNotSplit", "{a=b c}loopback/1 &park", ' ', {"{a=b c}loopback/1", "&park"}},
      {"BracesKeepQuotesAndEscapes",
       "{a='b c',d=e\\,f}loopback/1 x",
       ' ',
       {"{a='b c',d=e\\,f}loopback/1", "x"}},
      {"BracketsDoNotSplit", "[a=b c]user/1 x", ' ', {"[a=b c]user/1", "x"}},
      {"ParenthesesDoNotSplit",
       "l/1 &socket(127.0.0.1:9999 async full) xml",
       ' ',
       {"l/1", "&socket(127.0.0.1:9999 async full)", "xml"}},
      {"NestedBraces", "{a={b c} d}x y", ' ', {"{a={b c} d}x", "y"}},
      {"UnclosedBraceTakesTheRest", "{a=b c d", ' ', {"{a=b c d"}},
      {"QuotedBracesAreText", "'{a=b c}x' y", ' ', {"{a=b c}x", "y"}},
      {"QuotedApplication", "l/1 '&hangup()'", ' ', {"l/1", "&hangup()"}},
      {"Comma", "a,b", ',', {"a", "b"}},
      {"CommaKeepsEmptyFields", "a,,b", ',', {"a", "", "b"}},
      {"CommaLeadingGivesEmptyField", ",a", ',', {"", "a"}},
      {"CommaTrailingGivesNoField", "a,", ',', {"a"}},
      {"CommaFieldsAreTrimmed", "  a , b  ", ',', {"a", "b"}},
      {"CommaQuotedBlanksKept", "' a ',b", ',', {" a ", "b"}},
      {"CommaQuoted", "'a,b',c", ',', {"a,b", "c"}},
      {"CommaEscaped", "x\\,y,z", ',', {"x,y", "z"}},
      {"CommaInsideBraces", "{a,b},c", ',', {"{a,b}", "c"}},
  };
}

class SplitApiArgs : public testing::TestWithParam<SplitRow> {};

TEST_P(SplitApiArgs, SplitsAsFreeSwitch) {
  const SplitRow& row = GetParam();
  EXPECT_EQ(split_api_args(row.input, row.separator), row.expected);
}

INSTANTIATE_TEST_SUITE_P(Rows, SplitApiArgs, testing::ValuesIn(split_rows()), row_name<SplitRow>);

TEST(SplitApiArgsDefault, SeparatorIsBlank) {
  EXPECT_EQ(split_api_args("a,b c"), (std::vector<std::string>{"a,b", "c"}));
}

// --------------------------------------------------------------------- parse_dial_string

// An unambiguous rendering of a parsed dial string, so rows compare whole and failures read
// well: values are quoted with `"` and `\` escaped.
std::string quote(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "\"";
}

std::string describe(const VariableList& vars) {
  std::string out = "{";
  for (const auto& [name, value] : vars) {
    out += (out.size() > 1 ? " " : "") + quote(name) + "=" + quote(value);
  }
  return out + "}";
}

std::string describe(const DialString& dial) {
  std::string out = "globals" + describe(dial.global_variables);
  for (const auto& group : dial.groups) {
    out += " | ";
    for (std::size_t i = 0; i < group.size(); ++i) {
      const DialTarget& t = group[i];
      out +=
          (i > 0 ? " , " : "") + describe(t.variables) + quote(t.endpoint) + "/" + quote(t.address);
    }
  }
  return out;
}

struct DialRow {
  std::string name;
  std::string input;
  DialString expected;
};
void PrintTo(const DialRow& row, std::ostream* os) {
  *os << row.name << ": " << row.input;
}

DialTarget target(std::string endpoint, std::string address, VariableList vars = {}) {
  return DialTarget{std::move(vars), std::move(endpoint), std::move(address)};
}

std::vector<DialRow> dial_rows() {
  return {
      {"GlobalVariable",
       "{origination_uuid=1234}loopback/9196",
       {{{"origination_uuid", "1234"}}, {{target("loopback", "9196")}}}},
      {"AddressKeepsItsSlashes",
       "loopback/9196/default",
       {{}, {{target("loopback", "9196/default")}}}},
      {"GlobalsLegVarsRingTogetherAndFailover",
       "{a=b}[c=d]sofia/internal/1000@127.0.0.1,[e=f]user/1001|error/USER_BUSY",
       {{{"a", "b"}},
        {{target("sofia", "internal/1000@127.0.0.1", {{"c", "d"}}),
          target("user", "1001", {{"e", "f"}})},
         {target("error", "USER_BUSY")}}}},
      {"SeveralGlobalsInOrder",
       "{a=1,b=2,c=3}null/x",
       {{{"a", "1"}, {"b", "2"}, {"c", "3"}}, {{target("null", "x")}}}},
      {"SeveralGlobalBlocks",
       "{a=1} {b=2}null/x",
       {{{"a", "1"}, {"b", "2"}}, {{target("null", "x")}}}},
      {"QuotedGlobalValueKeepsCommas",
       "{absolute_codec_string='PCMU,PCMA',b=c}null/x",
       {{{"absolute_codec_string", "PCMU,PCMA"}, {"b", "c"}}, {{target("null", "x")}}}},
      {"DoubleQuotedValue", "{a=\"x, y\"}null/x", {{{"a", "x, y"}}, {{target("null", "x")}}}},
      {"QuotedLegValueKeepsCommas",
       "[a='p,q',b=r]user/1,user/2",
       {{}, {{target("user", "1", {{"a", "p,q"}, {"b", "r"}}), target("user", "2")}}}},
      {"EscapedCommaInValue", "{a=x\\,y}null/x", {{{"a", "x,y"}}, {{target("null", "x")}}}},
      {"CustomSeparator",
       "{^^:a=x,y:b=z}null/x",
       {{{"a", "x,y"}, {"b", "z"}}, {{target("null", "x")}}}},
      {"CustomSeparatorInLegVars",
       "[^^;a=1,2;b=3]null/x",
       {{}, {{target("null", "x", {{"a", "1,2"}, {"b", "3"}})}}}},
      {"ValueKeepsLaterEquals", "{a=b=c}null/x", {{{"a", "b=c"}}, {{target("null", "x")}}}},
      {"ValueWithVariableReference",
       "{a=${b},c=$${d}}null/x",
       {{{"a", "${b}"}, {"c", "$${d}"}}, {{target("null", "x")}}}},
      {"NamesAndValuesTrimmed", "{ a = b }null/x", {{{"a", "b"}}, {{target("null", "x")}}}},
      {"ElementsWithoutValueIgnored",
       "{a=1,novalue,c=,,d=4}null/x",
       {{{"a", "1"}, {"d", "4"}}, {{target("null", "x")}}}},
      {"EmptyBlocks", "{}[]null/x", {{}, {{target("null", "x")}}}},
      {"ErrorWithEmptyAddress", "error/", {{}, {{target("error", "")}}}},
      {"Null", "null/x", {{}, {{target("null", "x")}}}},
      {"TargetsTrimmed",
       "  loopback/1 ,  loopback/2  | null/3 ",
       {{}, {{target("loopback", "1"), target("loopback", "2")}, {target("null", "3")}}}},
      {"TrailingSeparatorsOpenNothing", "null/1,|", {{}, {{target("null", "1")}}}},
      {"BracesBeforeLaterTargetAreLegVars",
       "{g=1}loopback/1,{x=y}loopback/2",
       {{{"g", "1"}}, {{target("loopback", "1"), target("loopback", "2", {{"x", "y"}})}}}},
      {"BracesAndBracketsBeforeFailoverTarget",
       "loopback/1|{x=y}[z=w]loopback/2",
       {{}, {{target("loopback", "1")}, {target("loopback", "2", {{"x", "y"}, {"z", "w"}})}}}},
      {"SeveralLegBlocks",
       "[a=b][c=d]user/1",
       {{}, {{target("user", "1", {{"a", "b"}, {"c", "d"}})}}}},
      {"QuotedAddress", "sofia/gw/'x y'", {{}, {{target("sofia", "gw/x y")}}}},
      {"EscapedCommaInAddress", "loopback/a\\,b", {{}, {{target("loopback", "a,b")}}}},
  };
}

class DialStringParses : public testing::TestWithParam<DialRow> {};

TEST_P(DialStringParses, AsFreeSwitch) {
  const DialRow& row = GetParam();
  const DialStringResult result = parse_dial_string(row.input);
  ASSERT_TRUE(result.value.has_value()) << result.error;
  EXPECT_EQ(result.error, "");
  EXPECT_EQ(describe(*result.value), describe(row.expected));
}

INSTANTIATE_TEST_SUITE_P(Rows, DialStringParses, testing::ValuesIn(dial_rows()), row_name<DialRow>);

struct DialErrorRow {
  std::string name;
  std::string input;
  std::string error;  // expected exactly
};
void PrintTo(const DialErrorRow& row, std::ostream* os) {
  *os << row.name << ": " << row.input;
}

std::vector<DialErrorRow> dial_error_rows() {
  return {
      {"Empty", "", "empty dial string"},
      {"Blank", "   ", "empty dial string"},
      {"UnclosedGlobals", "{a=b loopback/1", "unbalanced '{' in dial string: missing '}'"},
      {"UnclosedNestedGlobals", "{a=${b}loopback/1", "unbalanced '{' in dial string: missing '}'"},
      {"UnclosedLegVars", "[a=b user/1", "unbalanced '[' in dial string: missing ']'"},
      {"UnclosedLaterLegBraces", "user/1,{a=b user/2",
       "unbalanced '{' in dial string: missing '}'"},
      {"OnlyGlobals", "{a=b}", "dial string has no target after its variables"},
      {"OnlyLegVars", "[a=b]", "target '[a=b]' has no <endpoint>/<address>"},
      {"NoSlash", "loopback", "invalid target 'loopback': expected <endpoint>/<address>"},
      {"LaterTargetWithoutSlash", "user/1,[a=b]user2",
       "invalid target 'user2': expected <endpoint>/<address>"},
      {"EmptyEndpoint", "/9196", "invalid target '/9196': empty endpoint"},
      {"EmptyGlobalName", "{=b}loopback/1", "empty variable name in '=b'"},
      {"EmptyLegName", "[a=1, ='x']user/1", "empty variable name in '='x''"},
      {"EmptyTargetBetweenCommas", "user/1,,user/2", "empty target in dial string"},
      {"BlankTarget", "user/1, ,user/2", "empty target in dial string"},
      {"EmptyFailoverGroup", "user/1||user/2", "empty target in dial string"},
      {"CustomSeparatorMissing", "{^^}null/x",
       "missing the separator after '^^' in variables '^^'"},
      {"EnterpriseVariables", "<a=b>sofia/gw/1", "enterprise originate (<...>) is not supported"},
      {"EnterpriseBeforeTarget", "{a=b}user/1,<c=d>user/2",
       "enterprise originate (<...>) is not supported"},
      {"EnterpriseDelimiter", "user/1:_:user/2", "enterprise originate (:_:) is not supported"},
  };
}

class DialStringRejects : public testing::TestWithParam<DialErrorRow> {};

TEST_P(DialStringRejects, WithAReason) {
  const DialErrorRow& row = GetParam();
  const DialStringResult result = parse_dial_string(row.input);
  EXPECT_FALSE(result.value.has_value()) << describe(*result.value);
  EXPECT_EQ(result.error, row.error);
}

INSTANTIATE_TEST_SUITE_P(Rows, DialStringRejects, testing::ValuesIn(dial_error_rows()),
                         row_name<DialErrorRow>);

// ------------------------------------------------------------------ parse_originate_args

std::string describe(const OriginateArgs& a) {
  return "dial=" + quote(a.dial_string) + " app=" + quote(a.application) +
         " data=" + quote(a.application_data) + " exten=" + quote(a.extension) +
         " dialplan=" + quote(a.dialplan) + " context=" + quote(a.context) +
         " cid_name=" + quote(a.caller_id_name) + " cid_num=" + quote(a.caller_id_number) +
         " timeout=" + std::to_string(a.timeout_seconds);
}

struct OriginateRow {
  std::string name;
  std::string input;
  OriginateArgs expected;
};
void PrintTo(const OriginateRow& row, std::ostream* os) {
  *os << row.name << ": " << row.input;
}

OriginateArgs app(std::string dial, std::string name, std::string data) {
  OriginateArgs a;
  a.dial_string = std::move(dial);
  a.application = std::move(name);
  a.application_data = std::move(data);
  return a;
}

OriginateArgs exten(std::string dial, std::string extension) {
  OriginateArgs a;
  a.dial_string = std::move(dial);
  a.extension = std::move(extension);
  return a;
}

OriginateArgs with(OriginateArgs a, std::string dialplan, std::string context, std::string name,
                   std::string number, int timeout) {
  a.dialplan = std::move(dialplan);
  a.context = std::move(context);
  a.caller_id_name = std::move(name);
  a.caller_id_number = std::move(number);
  a.timeout_seconds = timeout;
  return a;
}

std::vector<OriginateRow> originate_rows() {
  return {
      {"ParkWithEmptyArgs", "{origination_uuid=1234}loopback/9196 &park()",
       app("{origination_uuid=1234}loopback/9196", "park", "")},
      {"ApplicationWithoutParentheses", "loopback/9196 &park", app("loopback/9196", "park", "")},
      {"SocketUnquoted", "loopback/9196 &socket(127.0.0.1:9999 async full)",
       app("loopback/9196", "socket", "127.0.0.1:9999 async full")},
      {"SocketQuoted", "loopback/9196 '&socket(127.0.0.1:9999 async full)'",
       app("loopback/9196", "socket", "127.0.0.1:9999 async full")},
      {"HangupQuoted", "null/x '&hangup()'", app("null/x", "hangup", "")},
      {"ApplicationArgsRunToTheLastParenthesis", "null/x &eval(${expr(1+1)})",
       app("null/x", "eval", "${expr(1+1)}")},
      {"QuotedApplicationWithBlankArgs", "null/x '&playback /tmp/a b.wav'",
       app("null/x", "playback", "/tmp/a b.wav")},
      {"DialStringKeptVerbatim", "{a=b c,d='e,f'}[x=y]loopback/1|error/USER_BUSY 9196",
       exten("{a=b c,d='e,f'}[x=y]loopback/1|error/USER_BUSY", "9196")},
      {"QuotedDialStringLosesItsQuotes", "'{a=b}loopback/1' 9196",
       exten("{a=b}loopback/1", "9196")},
      {"ExtensionWithDefaults", "loopback/1 1000", exten("loopback/1", "1000")},
      {"ExtensionWithEveryOption", "loopback/9196 9196 XML public 'John Doe' 5551234 30",
       with(exten("loopback/9196", "9196"), "XML", "public", "John Doe", "5551234", 30)},
      {"UndefMeansNotGiven", "loopback/1 1000 undef UNDEF undef Undef 20",
       with(exten("loopback/1", "1000"), "xml", "default", "", "", 20)},
      {"UndefNameWithNumber", "loopback/1 1000 xml default undef 5551234",
       with(exten("loopback/1", "1000"), "xml", "default", "", "5551234", 60)},
      {"EmptyQuotedOptionsAreNotGiven", "loopback/1 1000 '' '' Alice '' ''",
       with(exten("loopback/1", "1000"), "xml", "default", "Alice", "", 60)},
      {"ApplicationStillConsumesDialplanAndContext",
       "loopback/1 &park xml default Alice 5551234 45",
       with(app("loopback/1", "park", ""), "xml", "default", "Alice", "5551234", 45)},
      {"ZeroTimeoutIsTheDefault", "loopback/1 1000 xml default a b 0",
       with(exten("loopback/1", "1000"), "xml", "default", "a", "b", 60)},
      {"UndefTimeoutIsTheDefault", "loopback/1 1000 xml default a b undef",
       with(exten("loopback/1", "1000"), "xml", "default", "a", "b", 60)},
      {"BlanksAroundArguments", "   loopback/1    1000   xml  ",
       with(exten("loopback/1", "1000"), "xml", "default", "", "", 60)},
  };
}

class OriginateArgsParse : public testing::TestWithParam<OriginateRow> {};

TEST_P(OriginateArgsParse, AsFreeSwitch) {
  const OriginateRow& row = GetParam();
  const OriginateArgsResult result = parse_originate_args(row.input);
  ASSERT_TRUE(result.value.has_value()) << result.error;
  EXPECT_EQ(result.error, "");
  EXPECT_EQ(describe(*result.value), describe(row.expected));
}

INSTANTIATE_TEST_SUITE_P(Rows, OriginateArgsParse, testing::ValuesIn(originate_rows()),
                         row_name<OriginateRow>);

constexpr const char* kUsage =
    "-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] "
    "[<cid_name>] [<cid_num>] [<timeout_sec>]";

struct OriginateErrorRow {
  std::string name;
  std::string input;
  std::string error;  // expected exactly
};
void PrintTo(const OriginateErrorRow& row, std::ostream* os) {
  *os << row.name << ": " << row.input;
}

std::vector<OriginateErrorRow> originate_error_rows() {
  return {
      {"NoArguments", "", kUsage},
      {"OnlyBlanks", "   ", kUsage},
      {"OnlyDialString", "loopback/1", kUsage},
      {"OnlyDialStringWithBlankInBraces", "{a=b c}loopback/1", kUsage},
      {"TooManyArguments", "loopback/1 1000 xml default a b 30 extra", kUsage},
      {"EmptyExtension", "loopback/1 ''", "missing <exten> or &<application_name>"},
      // Found by dial_string_fuzz: an empty quoted call URL.
      {"EmptyDialString", "'' &park()", kUsage},
      {"TimeoutNotANumber", "loopback/1 1000 xml default a b abc",
       "invalid timeout 'abc': expected a whole number of seconds"},
      {"TimeoutTrailingText", "loopback/1 1000 xml default a b 12s",
       "invalid timeout '12s': expected a whole number of seconds"},
      {"TimeoutNegative", "loopback/1 &park xml default a b -5",
       "invalid timeout '-5': expected a whole number of seconds"},
      {"TimeoutTooLarge", "loopback/1 1000 xml default a b 99999999999",
       "invalid timeout '99999999999': expected a whole number of seconds"},
      {"ApplicationUnclosed", "loopback/1 &park(",
       "invalid application '&park(': expected &<application>(<args>) ending with ')'"},
      {"ApplicationTextAfterParenthesis", "loopback/1 &park(x)y",
       "invalid application '&park(x)y': expected &<application>(<args>) ending with ')'"},
      {"ApplicationCloseWithoutOpen", "loopback/1 &park)",
       "invalid application '&park)': ')' without '('"},
      {"ApplicationWithoutName", "loopback/1 &", "missing application name in '&'"},
      {"ApplicationEmptyNameWithArgs", "loopback/1 &(x)", "missing application name in '&(x)'"},
  };
}

class OriginateArgsRejects : public testing::TestWithParam<OriginateErrorRow> {};

TEST_P(OriginateArgsRejects, WithAReason) {
  const OriginateErrorRow& row = GetParam();
  const OriginateArgsResult result = parse_originate_args(row.input);
  EXPECT_FALSE(result.value.has_value()) << describe(*result.value);
  EXPECT_EQ(result.error, row.error);
}

INSTANTIATE_TEST_SUITE_P(Rows, OriginateArgsRejects, testing::ValuesIn(originate_error_rows()),
                         row_name<OriginateErrorRow>);

}  // namespace
}  // namespace eventsocket::core
