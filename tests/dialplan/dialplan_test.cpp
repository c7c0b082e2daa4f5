#include "eventsocket/dialplan/dialplan.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace eventsocket::dialplan {
namespace {

// A channel for routing: caller-profile fields, channel variables that `${name}` expands to,
// and inline `set`s that change those variables (as the real core does).
struct FakeChannel {
  std::map<std::string, std::string, std::less<>> fields;
  std::map<std::string, std::string, std::less<>> variables;
  std::vector<std::string> inline_runs;

  explicit FakeChannel(std::string destination = "") {
    fields["destination_number"] = std::move(destination);
  }

  Channel channel() {
    Channel ch;
    ch.field = [this](std::string_view name) -> std::optional<std::string> {
      if (auto it = fields.find(name); it != fields.end()) {
        return it->second;
      }
      if (auto it = variables.find(name); it != variables.end()) {
        return it->second;
      }
      return std::nullopt;
    };
    ch.expand = [this](std::string_view text) {
      std::string out;
      std::size_t i = 0;
      while (i < text.size()) {
        const std::size_t open = text.find("${", i);
        const std::size_t close = open == std::string_view::npos ? open : text.find('}', open + 2);
        if (close == std::string_view::npos) {
          out += text.substr(i);
          break;
        }
        out += text.substr(i, open - i);
        if (auto it = variables.find(text.substr(open + 2, close - open - 2));
            it != variables.end()) {
          out += it->second;
        }
        i = close + 1;
      }
      return out;
    };
    ch.run_inline = [this](const Action& action) {
      inline_runs.push_back(action.application + " " + action.data);
      if (action.application == "set") {
        const std::size_t eq = action.data.find('=');
        variables[action.data.substr(0, eq)] =
            eq == std::string::npos ? "" : action.data.substr(eq + 1);
      }
    };
    return ch;
  }
};

// "application data" per action, or just "application" when there is no data.
std::vector<std::string> apps(const RouteResult& result) {
  std::vector<std::string> out;
  for (const Action& action : result.actions) {
    out.push_back(action.data.empty() ? action.application
                                      : action.application + " " + action.data);
  }
  return out;
}

std::shared_ptr<const Dialplan> load(std::string_view xml) {
  std::string error;
  auto plan = Dialplan::load_string(xml, error);
  EXPECT_NE(plan, nullptr) << error;
  EXPECT_EQ(error, "");
  return plan;
}

RouteResult route(const Dialplan& plan, std::string_view destination,
                  std::string_view context = "default") {
  FakeChannel channel{std::string(destination)};
  return plan.route(context, channel.channel());
}

using Strings = std::vector<std::string>;

constexpr std::string_view kEcho = R"(
  <extension name="echo">
    <condition field="destination_number" expression="^9196$">
      <action application="answer"/>
      <action application="echo"/>
    </condition>
  </extension>)";

std::string wrap(std::string_view before, std::string_view after) {
  return std::string(before) + std::string(kEcho) + std::string(after);
}

// --- document shapes -------------------------------------------------------------------------

struct ShapeCase {
  const char* name;
  std::string xml;
};

class DocumentShape : public testing::TestWithParam<ShapeCase> {};

TEST_P(DocumentShape, LoadsAndRoutes) {
  auto plan = load(GetParam().xml);
  ASSERT_TRUE(plan);
  EXPECT_TRUE(plan->has_context("default"));
  EXPECT_FALSE(plan->has_context("public"));
  const RouteResult result = route(*plan, "9196");
  EXPECT_TRUE(result.found);
  EXPECT_EQ(result.extensions, Strings{"echo"});
  EXPECT_EQ(apps(result), (Strings{"answer", "echo"}));
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, DocumentShape,
    testing::Values(ShapeCase{"include",
                              wrap(R"(<include><context name="default">)", "</context></include>")},
                    ShapeCase{"context", wrap(R"(<?xml version="1.0"?><context name="default">)",
                                              "</context>")},
                    ShapeCase{"document", wrap(R"(<document type="freeswitch/xml">
                    <section name="configuration"><context name="public"/></section>
                    <section name="dialplan"><context name="default">)",
                                               "</context></section></document>")},
                    ShapeCase{"include_wrapped_extensions",
                              wrap(R"(<include><context name="default"><include>)",
                                   "</include></context></include>")},
                    ShapeCase{"ignored_preprocess",
                              wrap(R"(<include><X-PRE-PROCESS cmd="set" data="domain=example.com"/>
                       <context name="default">)",
                                   "</context></include>")}),
    [](const testing::TestParamInfo<ShapeCase>& info) { return info.param.name; });

TEST(DialplanLoad, ContextsOfOneNameAddUp) {
  auto plan = load(R"(<include>
    <context name="default">
      <extension name="first" continue="true"><condition><action application="a"/></condition></extension>
    </context>
    <context name="other"/>
    <context name="default">
      <extension name="second"><condition><action application="b"/></condition></extension>
    </context>
  </include>)");
  ASSERT_TRUE(plan);
  EXPECT_TRUE(plan->has_context("other"));
  const RouteResult result = route(*plan, "1");
  EXPECT_EQ(apps(result), (Strings{"a", "b"}));
  EXPECT_EQ(result.extensions, (Strings{"first", "second"}));
}

struct BadCase {
  const char* name;
  std::string xml;
  std::vector<std::string> in_error;  // each must appear in the message
};

class BadDocument : public testing::TestWithParam<BadCase> {};

TEST_P(BadDocument, FailsWithMessage) {
  std::string error;
  EXPECT_EQ(Dialplan::load_string(GetParam().xml, error), nullptr);
  EXPECT_FALSE(error.empty());
  for (const std::string& part : GetParam().in_error) {
    EXPECT_NE(error.find(part), std::string::npos) << "missing \"" << part << "\" in: " << error;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Errors, BadDocument,
    testing::Values(BadCase{"unclosed_tag",
                            R"(<include><context name="default"></include>)",
                            {"<string>:1:", "XML"}},
                    BadCase{"empty", "", {"<string>"}},
                    BadCase{"not_xml", "just text", {"<string>"}},
                    BadCase{"bad_root", R"(<configuration name="acl.conf"/>)", {"<configuration>"}},
                    BadCase{"bad_regex",
                            R"(<include><context name="default">
            <extension name="broken"><condition field="destination_number" expression="^(12$">
            </condition></extension></context></include>)",
                            {"<string>", "broken", "^(12$"}},
                    BadCase{"bad_regex_in_regex_child",
                            R"(<context name="default">
            <extension name="rx"><condition regex="any">
              <regex field="ani" expression="[a-"/></condition></extension></context>)",
                            {"rx", "[a-"}},
                    BadCase{"bad_nested_regex",
                            R"(<context name="default">
            <extension name="deep"><condition><condition field="ani" expression="*"/>
            </condition></extension></context>)",
                            {"deep", "\"*\""}},
                    BadCase{"unterminated_slash",
                            R"(<context name="default">
            <extension name="slash"><condition field="ani" expression="/abc"/></extension>
            </context>)",
                            {"slash", "'/'"}},
                    BadCase{"extension_outside_context",
                            R"(<include><extension name="stray"/></include>)",
                            {"stray", "context"}},
                    BadCase{"context_without_name", R"(<include><context/></include>)", {"name"}},
                    BadCase{"missing_include",
                            R"(<context name="default">
            <X-PRE-PROCESS cmd="include" data="/nonexistent/dialplan/file.xml"/></context>)",
                            {"/nonexistent/dialplan/file.xml"}}),
    [](const testing::TestParamInfo<BadCase>& info) { return info.param.name; });

// --- conditions: break, anti-actions, and whether the extension is taken ---------------------

struct BreakCase {
  const char* name;
  const char* on;
  bool first_passes;
  Strings actions;
};

class BreakRule : public testing::TestWithParam<BreakCase> {};

TEST_P(BreakRule, DecidesWhetherLaterConditionsRun) {
  const BreakCase& c = GetParam();
  auto plan = load(std::string(R"(<context name="default"><extension name="x">
      <condition field="destination_number" expression="^yes$" break=")") +
                   c.on + R"(">
        <action application="first"/><anti-action application="first_anti"/>
      </condition>
      <condition><action application="second"/></condition>
    </extension></context>)");
  ASSERT_TRUE(plan);
  const RouteResult result = route(*plan, c.first_passes ? "yes" : "no");
  EXPECT_EQ(apps(result), c.actions);
  EXPECT_TRUE(result.found);
}

INSTANTIATE_TEST_SUITE_P(
    Breaks, BreakRule,
    testing::Values(BreakCase{"on_false_pass", "on-false", true, {"first", "second"}},
                    BreakCase{"on_false_fail", "on-false", false, {"first_anti"}},
                    BreakCase{"on_true_pass", "on-true", true, {"first"}},
                    BreakCase{"on_true_fail", "on-true", false, {"first_anti", "second"}},
                    BreakCase{"always_pass", "always", true, {"first"}},
                    BreakCase{"always_fail", "always", false, {"first_anti"}},
                    BreakCase{"never_pass", "never", true, {"first", "second"}},
                    BreakCase{"never_fail", "never", false, {"first_anti", "second"}},
                    BreakCase{"unknown_is_on_false", "sometimes", false, {"first_anti"}}),
    [](const testing::TestParamInfo<BreakCase>& info) { return info.param.name; });

TEST(DialplanRoute, DefaultBreakIsOnFalse) {
  auto plan = load(R"(<context name="default"><extension name="x">
      <condition field="destination_number" expression="^yes$"/>
      <condition><action application="second"/></condition>
    </extension></context>)");
  ASSERT_TRUE(plan);
  EXPECT_EQ(apps(route(*plan, "yes")), Strings{"second"});
  const RouteResult miss = route(*plan, "no");
  EXPECT_FALSE(miss.found);
  EXPECT_TRUE(miss.actions.empty());
}

TEST(DialplanRoute, FailedConditionWithAntiActionsTakesTheExtension) {
  // FreeSWITCH: anti-actions make the extension count as matched, so the hunt stops there.
  auto plan = load(R"(<context name="default">
    <extension name="anti">
      <condition field="destination_number" expression="^1$">
        <action application="one"/>
        <anti-action application="log" data="not one: $1"/>
      </condition>
    </extension>
    <extension name="catch_all"><condition><action application="fallback"/></condition></extension>
  </context>)");
  ASSERT_TRUE(plan);
  const RouteResult result = route(*plan, "2");
  EXPECT_EQ(apps(result), Strings{"log not one: $1"});  // anti-actions get no $N substitution
  EXPECT_EQ(result.extensions, Strings{"anti"});
}

TEST(DialplanRoute, FailedConditionWithoutAntiActionsFallsThrough) {
  auto plan = load(R"(<context name="default">
    <extension name="one"><condition field="destination_number" expression="^1$">
      <action application="one"/></condition></extension>
    <extension name="catch_all"><condition><action application="fallback"/></condition></extension>
  </context>)");
  ASSERT_TRUE(plan);
  const RouteResult result = route(*plan, "2");
  EXPECT_EQ(apps(result), Strings{"fallback"});
  EXPECT_EQ(result.extensions, Strings{"catch_all"});
}

TEST(DialplanRoute, ExtensionIsTakenOnlyIfTheLastConditionHeld) {
  // break="never" lets a later failing condition decide: the actions already collected stay,
  // but the hunt goes on (FreeSWITCH's `proceed` is the last condition's outcome).
  auto plan = load(R"(<context name="default">
    <extension name="partial">
      <condition break="never"><action application="kept"/></condition>
      <condition field="destination_number" expression="^never$"/>
    </extension>
    <extension name="next"><condition><action application="next"/></condition></extension>
  </context>)");
  ASSERT_TRUE(plan);
  const RouteResult result = route(*plan, "1");
  EXPECT_EQ(apps(result), (Strings{"kept", "next"}));
  EXPECT_EQ(result.extensions, (Strings{"partial", "next"}));
}

TEST(DialplanRoute, MatchWithoutActionsIsNoRoute) {
  // FreeSWITCH routes only when the hunt built a caller extension, i.e. met some action.
  auto plan = load(R"(<context name="default">
    <extension name="empty"><condition field="destination_number" expression="^1$"/></extension>
    <extension name="after"><condition><action application="after"/></condition></extension>
  </context>)");
  ASSERT_TRUE(plan);
  const RouteResult result = route(*plan, "1");
  EXPECT_FALSE(result.found);
  EXPECT_TRUE(result.actions.empty());  // the empty match still ended the hunt
}

TEST(DialplanRoute, AbsentFieldMatchesAsEmpty) {
  auto plan = load(R"(<context name="default">
    <extension name="no_rdnis"><condition field="rdnis" expression="^$">
      <action application="empty"/></condition></extension>
  </context>)");
  ASSERT_TRUE(plan);
  EXPECT_EQ(apps(route(*plan, "1")), Strings{"empty"});
  FakeChannel channel("1");
  channel.fields["rdnis"] = "5551212";
  EXPECT_FALSE(plan->route("default", channel.channel()).found);
}

TEST(DialplanRoute, TimeOfDayAttributesAreIgnored) {
  auto plan = load(R"(<context name="default">
    <extension name="office"><condition wday="2-6" hour="9-17">
      <action application="open"/></condition></extension>
  </context>)");
  ASSERT_TRUE(plan);
  EXPECT_EQ(apps(route(*plan, "1")), Strings{"open"});
}

// --- $N substitution --------------------------------------------------------------------------

struct SubstitutionCase {
  const char* name;
  const char* expression;
  const char* destination;
  const char* data;
  const char* expected;
};

class Substitution : public testing::TestWithParam<SubstitutionCase> {};

TEST_P(Substitution, ReplacesCaptures) {
  const SubstitutionCase& c = GetParam();
  auto plan = load(std::string(R"(<context name="default"><extension name="x">
      <condition field="destination_number"><expression><![CDATA[)") +
                   c.expression + R"(]]></expression>
        <action application="app"><![CDATA[)" +
                   c.data + R"(]]></action></condition></extension></context>)");
  ASSERT_TRUE(plan);
  const RouteResult result = route(*plan, c.destination);
  ASSERT_EQ(result.actions.size(), 1u);
  EXPECT_EQ(result.actions[0].data, c.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Captures, Substitution,
    testing::Values(
        SubstitutionCase{"two_groups", R"(^(\d{3})(\d{4})$)", "5551234", "$2-$1", "1234-555"},
        SubstitutionCase{"braces_and_whole", R"(^(\d{3})(\d{4})$)", "5551234", "${1}|$0",
                         "555|5551234"},
        SubstitutionCase{"missing_group_is_empty", "^(1)(2)$", "12", "[$3][$9]", "[][]"},
        SubstitutionCase{"unset_group_is_empty", "^(a)?(b)$", "b", "[$1][$2]", "[][b]"},
        SubstitutionCase{"variables_left_alone", "^(1000)$", "1000",
                         "user/$1@${domain_name} $$ ${x $", "user/1000@${domain_name} $$ ${x $"},
        SubstitutionCase{"no_paren_no_substitution", "^1000$", "1000", "$1 $0", "$1 $0"},
        SubstitutionCase{"asterisk_pattern", "_10XX", "1019", "ok $0", "ok $0"},
        SubstitutionCase{"slash_flags", "/^(HELLO)$/i", "hello", "$1!", "hello!"}),
    [](const testing::TestParamInfo<SubstitutionCase>& info) { return info.param.name; });

TEST(DialplanRoute, AsteriskPatternIsAnchored) {
  auto plan = load(R"(<context name="default"><extension name="x">
    <condition field="destination_number" expression="_1NXX"><action application="hit"/>
    </condition></extension></context>)");
  ASSERT_TRUE(plan);
  EXPECT_TRUE(route(*plan, "1200").found);
  EXPECT_FALSE(route(*plan, "1100").found);   // N is 2-9
  EXPECT_FALSE(route(*plan, "12000").found);  // anchored at the end
}

TEST(DialplanRoute, ActionTextLoopAndElementOrder) {
  auto plan = load(R"(<context name="default"><extension name="x">
    <condition field="destination_number" expression="^(\d+)$">
      <action application="say" data="ignored">text wins $1</action>
      <action application="beep" loop="3"/>
      <action application="never" loop="0"/>
      <action application="bridge" data="a,b"/>
    </condition></extension></context>)");
  ASSERT_TRUE(plan);
  EXPECT_EQ(apps(route(*plan, "42")),
            (Strings{"say text wins 42", "beep", "beep", "beep", "bridge a,b"}));
}

// A huge loop (found by the long fuzz run: loop="0000...06148914691236517205") once built a
// caller extension of a billion actions; a route now stops at kMaxActionsPerRoute and says so.
TEST(DialplanRoute, ActionsOfOneRouteAreBounded) {
  auto plan = load(R"(<context name="default"><extension name="x"><condition>
      <action application="first"/>
      <action application="spin" loop="0000000000000000000006148914691236517205"/>
      <action application="never"/>
    </condition></extension></context>)");
  ASSERT_TRUE(plan);
  const RouteResult result = route(*plan, "1");
  EXPECT_TRUE(result.found);
  EXPECT_TRUE(result.truncated);
  ASSERT_EQ(result.actions.size(), kMaxActionsPerRoute);
  EXPECT_EQ(result.actions.front().application, "first");
  EXPECT_EQ(result.actions.back().application, "spin");

  auto small = load(R"(<context name="default"><extension name="x"><condition>
      <action application="a" loop="5000"/><action application="b" loop="5000"/>
    </condition></extension></context>)");
  ASSERT_TRUE(small);
  const RouteResult exact = route(*small, "1");
  EXPECT_FALSE(exact.truncated);  // exactly the bound is not truncated
  EXPECT_EQ(exact.actions.size(), kMaxActionsPerRoute);
}

// --- hunting across extensions ----------------------------------------------------------------

TEST(DialplanRoute, ContinueKeepsHunting) {
  auto plan = load(R"(<context name="default">
    <extension name="one" continue="true"><condition><action application="a"/></condition></extension>
    <extension name="skip"><condition field="destination_number" expression="^x$">
      <action application="skipped"/></condition></extension>
    <extension name="two" continue="false"><condition><action application="b"/></condition></extension>
    <extension name="three"><condition><action application="c"/></condition></extension>
  </context>)");
  ASSERT_TRUE(plan);
  const RouteResult result = route(*plan, "1");
  EXPECT_EQ(apps(result), (Strings{"a", "b"}));
  EXPECT_EQ(result.extensions, (Strings{"one", "two"}));
}

TEST(DialplanRoute, UnknownContext) {
  auto plan = load(wrap(R"(<context name="default">)", "</context>"));
  ASSERT_TRUE(plan);
  EXPECT_FALSE(plan->has_context("nowhere"));
  const RouteResult result = route(*plan, "9196", "nowhere");
  EXPECT_FALSE(result.found);
  EXPECT_TRUE(result.actions.empty());
  EXPECT_TRUE(result.extensions.empty());
}

TEST(DialplanRoute, UnknownContextFallsBackToGlobal) {
  auto plan = load(R"(<include><context name="global"><extension name="g">
      <condition><action application="global"/></condition></extension></context>
    <context name="default"/></include>)");
  ASSERT_TRUE(plan);
  EXPECT_FALSE(plan->has_context("nowhere"));
  EXPECT_EQ(apps(route(*plan, "1", "nowhere")), Strings{"global"});
  EXPECT_FALSE(route(*plan, "1", "default").found);  // an existing empty context is used as is
}

TEST(DialplanRoute, AutoHuntStartsAtTheNamedExtension) {
  auto plan = load(R"(<context name="default">
    <extension name="first"><condition><action application="first"/></condition></extension>
    <extension name="1234"><condition><action application="named"/></condition></extension>
  </context>)");
  ASSERT_TRUE(plan);
  FakeChannel channel("1234");
  EXPECT_EQ(apps(plan->route("default", channel.channel())), Strings{"first"});
  channel.variables["auto_hunt"] = "true";
  EXPECT_EQ(apps(plan->route("default", channel.channel())), Strings{"named"});
}

// --- inline actions ---------------------------------------------------------------------------

TEST(DialplanRoute, InlineActionsRunInOrderAndFeedLaterConditions) {
  auto plan = load(R"(<context name="default">
    <extension name="prep" continue="true">
      <condition field="destination_number" expression="^(\d+)$">
        <action application="set" data="dialed=$1" inline="true"/>
        <action application="log" data="queued ${dialed}"/>
        <action application="set" data="stage=two" inline="true"/>
      </condition>
      <condition field="${dialed}" expression="^1234$">
        <action application="matched_expand"/>
      </condition>
      <condition field="stage" expression="^two$">
        <action application="matched_field"/>
      </condition>
    </extension>
    <extension name="dynamic">
      <condition field="destination_number" expression="^${dialed}$">
        <action application="matched_expression"/>
      </condition>
    </extension>
  </context>)");
  ASSERT_TRUE(plan);
  FakeChannel channel("1234");
  const RouteResult result = plan->route("default", channel.channel());
  EXPECT_EQ(channel.inline_runs, (Strings{"set dialed=1234", "set stage=two"}));
  EXPECT_EQ(apps(result), (Strings{"log queued ${dialed}", "matched_expand", "matched_field",
                                   "matched_expression"}));
  EXPECT_EQ(result.extensions, (Strings{"prep", "dynamic"}));
}

TEST(DialplanRoute, InlineOnlyRouteIsFound) {
  auto plan = load(R"(<context name="default"><extension name="x">
    <condition><action application="set" data="a=b" inline="true"/></condition>
  </extension></context>)");
  ASSERT_TRUE(plan);
  FakeChannel channel("1");
  const RouteResult result = plan->route("default", channel.channel());
  EXPECT_TRUE(result.found);
  EXPECT_TRUE(result.actions.empty());
  EXPECT_EQ(channel.variables["a"], "b");
}

TEST(DialplanRoute, ExpandedExpressionThatDoesNotCompileDoesNotMatch) {
  auto plan = load(R"(<context name="default">
    <extension name="dyn"><condition field="destination_number" expression="^${pattern}$">
      <action application="hit"/></condition></extension>
  </context>)");
  ASSERT_TRUE(plan);
  FakeChannel channel("1");
  channel.variables["pattern"] = "(";
  EXPECT_FALSE(plan->route("default", channel.channel()).found);
  channel.variables["pattern"] = "[0-9]";
  EXPECT_TRUE(plan->route("default", channel.channel()).found);
}

// --- regex="all|any|xor" ----------------------------------------------------------------------

struct RegexRuleCase {
  const char* name;
  const char* rule;
  const char* a;  // values of the fields the three <regex>es test
  const char* b;
  const char* c;
  bool passes;
};

class RegexRule : public testing::TestWithParam<RegexRuleCase> {};

TEST_P(RegexRule, CombinesTheRegexes) {
  const RegexRuleCase& c = GetParam();
  auto plan = load(std::string(R"(<context name="default"><extension name="x">
    <condition regex=")") +
                   c.rule +
                   R"(">
      <regex field="caller_id_name" expression="^yes$"/>
      <regex field="caller_id_number" expression="^yes$"/>
      <regex field="${c}" expression="^yes$"/>
      <action application="pass"/>
      <anti-action application="fail"/>
    </condition></extension></context>)");
  ASSERT_TRUE(plan);
  FakeChannel channel("1");
  channel.fields["caller_id_name"] = c.a;
  channel.fields["caller_id_number"] = c.b;
  channel.variables["c"] = c.c;
  EXPECT_EQ(apps(plan->route("default", channel.channel())), Strings{c.passes ? "pass" : "fail"});
}

INSTANTIATE_TEST_SUITE_P(
    Rules, RegexRule,
    testing::Values(RegexRuleCase{"all_pass", "all", "yes", "yes", "yes", true},
                    RegexRuleCase{"all_one_fails", "all", "yes", "no", "yes", false},
                    RegexRuleCase{"any_one_passes", "any", "no", "no", "yes", true},
                    RegexRuleCase{"any_none_pass", "any", "no", "no", "no", false},
                    RegexRuleCase{"xor_exactly_one", "xor", "no", "yes", "no", true},
                    RegexRuleCase{"xor_two", "xor", "yes", "yes", "no", false},
                    RegexRuleCase{"xor_none", "xor", "no", "no", "no", false},
                    RegexRuleCase{"unknown_rule_is_any", "ANY-ish", "no", "yes", "no", true}),
    [](const testing::TestParamInfo<RegexRuleCase>& info) { return info.param.name; });

TEST(DialplanRoute, RegexRuleCapturesComeFromTheLastMatchWithGroups) {
  auto plan = load(R"(<context name="default"><extension name="x">
    <condition regex="all">
      <regex field="destination_number" expression="^(\d)(\d+)$"/>
      <regex field="caller_id_number" expression="^(\w+)@"/>
      <regex field="caller_id_name" expression="^Bob$"/>
      <action application="log" data="$1 $2"/>
    </condition></extension></context>)");
  ASSERT_TRUE(plan);
  FakeChannel channel("1234");
  channel.fields["caller_id_number"] = "alice@example.com";
  channel.fields["caller_id_name"] = "Bob";
  EXPECT_EQ(apps(plan->route("default", channel.channel())), Strings{"log alice "});
}

TEST(DialplanRoute, RegexAnyStopsAtTheFirstPass) {
  // Later <regex>es are not even evaluated, so the captures are the first passing one's.
  auto plan = load(R"xml(<context name="default"><extension name="x">
    <condition regex="any">
      <regex field="caller_id_name" expression="^(nobody)$"/>
      <regex field="destination_number" expression="^(\d)"/>
      <regex field="destination_number" expression="^(\d\d)"/>
      <action application="log" data="$1"/>
    </condition></extension></context>)xml");
  ASSERT_TRUE(plan);
  EXPECT_EQ(apps(route(*plan, "1234")), Strings{"log 1"});
}

// --- nested conditions ------------------------------------------------------------------------

TEST(DialplanRoute, NestedConditionsAndRequireNested) {
  const auto make = [](const char* require) {
    return std::string(R"(<context name="default">
      <extension name="outer">
        <condition field="destination_number" expression="^1$" require-nested=")") +
           require + R"(">
          <action application="outer"/>
          <condition field="${vip}" expression="^yes$"><action application="vip"/></condition>
        </condition>
      </extension>
      <extension name="next"><condition><action application="next"/></condition></extension>
    </context>)";
  };
  auto strict = load(make("true"));
  auto lax = load(make("false"));
  ASSERT_TRUE(strict);
  ASSERT_TRUE(lax);
  FakeChannel channel("1");
  channel.variables["vip"] = "yes";
  EXPECT_EQ(apps(strict->route("default", channel.channel())), (Strings{"outer", "vip"}));
  channel.variables["vip"] = "no";
  // The nested failure un-takes the extension, so the hunt goes on; unless not required.
  EXPECT_EQ(apps(strict->route("default", channel.channel())), (Strings{"outer", "next"}));
  EXPECT_EQ(apps(lax->route("default", channel.channel())), Strings{"outer"});
}

// --- files ------------------------------------------------------------------------------------

class DialplanDirectory : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("dialplan_test_" + std::to_string(::getpid()) + "_" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "x");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void write(const std::filesystem::path& relative, std::string_view text) {
    std::ofstream(dir_ / relative) << text;
  }

  static std::string extension(std::string_view app) {
    return "<extension name=\"" + std::string(app) + "\" continue=\"true\"><condition>" +
           "<action application=\"" + std::string(app) + "\"/></condition></extension>";
  }

  std::filesystem::path dir_;
};

TEST_F(DialplanDirectory, FilesInNameOrderWithIncludes) {
  write("b.xml", "<include><context name=\"x\">" + extension("b") + "</context></include>");
  write("a.xml", "<include><context name=\"x\">" + extension("a1") +
                     "<X-PRE-PROCESS cmd=\"include\" data=\"x/*.xml\"/>" +
                     "<X-PRE-PROCESS cmd=\"include\" data=\"empty/*.xml\"/>" + extension("a2") +
                     "</context></include>");
  write("x/2.xml", "<include>" + extension("x2") + "</include>");
  write("x/1.xml", extension("x1a") + extension("x1b"));  // bare elements, as FreeSWITCH pastes
  write("notes.txt", "<not xml");
  write(".hidden.xml", "<not xml");
  std::string error;
  auto plan = Dialplan::load_directory(dir_, error);
  ASSERT_TRUE(plan) << error;
  EXPECT_EQ(error, "");
  EXPECT_EQ(apps(route(*plan, "1", "x")), (Strings{"a1", "x1a", "x1b", "x2", "a2", "b"}));
}

TEST_F(DialplanDirectory, ErrorsNameTheFile) {
  write("a.xml", "<include><context name=\"x\"/></include>");
  write("b.xml", "<include><context name=\"x\">\n<extension name=\"e\"></include>");
  std::string error;
  EXPECT_EQ(Dialplan::load_directory(dir_, error), nullptr);
  EXPECT_NE(error.find((dir_ / "b.xml").string() + ":2:"), std::string::npos) << error;
}

TEST_F(DialplanDirectory, ErrorsInIncludedFilesNameThem) {
  write("a.xml", "<context name=\"x\"><X-PRE-PROCESS cmd=\"include\" data=\"x/*.xml\"/></context>");
  write("x/bad.xml",
        "<extension name=\"bad\"><condition field=\"ani\" expression=\"(\"/>"
        "</extension>");
  std::string error;
  EXPECT_EQ(Dialplan::load_directory(dir_, error), nullptr);
  EXPECT_NE(error.find("bad.xml"), std::string::npos) << error;
  EXPECT_NE(error.find("\"bad\""), std::string::npos) << error;
}

TEST_F(DialplanDirectory, IncludeCycleFails) {
  write("a.xml",
        "<context name=\"x\"><X-PRE-PROCESS cmd=\"include\" data=\"x/loop.xml\"/></context>");
  write("x/loop.xml", "<X-PRE-PROCESS cmd=\"include\" data=\"loop.xml\"/>");
  std::string error;
  EXPECT_EQ(Dialplan::load_directory(dir_, error), nullptr);
  EXPECT_NE(error.find("cycle"), std::string::npos) << error;
}

TEST_F(DialplanDirectory, MissingDirectoryFails) {
  std::string error;
  EXPECT_EQ(Dialplan::load_directory(dir_ / "absent", error), nullptr);
  EXPECT_FALSE(error.empty());
}

// --- the shipped conf/dialplan ----------------------------------------------------------------

class ShippedDialplan : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string error;
    plan_ =
        Dialplan::load_directory(std::filesystem::path(EVENTSOCKET_CONF_DIR) / "dialplan", error);
    ASSERT_TRUE(plan_) << error;
  }
  static void TearDownTestSuite() { plan_.reset(); }
  static inline std::shared_ptr<const Dialplan> plan_;
};

struct ShippedCase {
  const char* name;
  const char* context;
  const char* destination;
  Strings actions;
};

class ShippedRoute : public ShippedDialplan, public testing::WithParamInterface<ShippedCase> {};

TEST_P(ShippedRoute, Routes) {
  ASSERT_TRUE(plan_);
  const ShippedCase& c = GetParam();
  const RouteResult result = route(*plan_, c.destination, c.context);
  EXPECT_EQ(result.found, !c.actions.empty());
  EXPECT_EQ(apps(result), c.actions);
}

INSTANTIATE_TEST_SUITE_P(
    Conf, ShippedRoute,
    testing::Values(
        ShippedCase{"echo", "default", "9196", {"answer", "echo"}},
        ShippedCase{"delay_echo", "default", "9195", {"answer", "delay_echo 5000"}},
        ShippedCase{
            "tone", "default", "9197", {"answer", "playback tone_stream://%(10000,0,350,440)"}},
        ShippedCase{"silence", "default", "9198", {"answer", "playback silence_stream://5000"}},
        ShippedCase{"hold_music", "default", "9664", {"answer", "playback local_stream://moh"}},
        ShippedCase{"park", "default", "park", {"park"}},
        ShippedCase{"hangup", "default", "hangup", {"hangup NORMAL_CLEARING"}},
        ShippedCase{"user",
                    "default",
                    "1005",
                    {"set dialed_extension=1005", "bridge user/1005@${domain_name}"}},
        ShippedCase{"not_a_user", "default", "1020", {}},
        ShippedCase{"public_user",
                    "public",
                    "1019",
                    {"set outside_call=true", "transfer 1019 XML default"}},
        ShippedCase{"public_other", "public", "9196", {"set outside_call=true"}}),
    [](const testing::TestParamInfo<ShippedCase>& info) { return info.param.name; });

TEST_F(ShippedDialplan, HasTheVanillaContexts) {
  ASSERT_TRUE(plan_);
  EXPECT_TRUE(plan_->has_context("default"));
  EXPECT_TRUE(plan_->has_context("public"));
  EXPECT_FALSE(plan_->has_context("features"));
}

TEST_F(ShippedDialplan, UnloopDeflectsLoopedCalls) {
  ASSERT_TRUE(plan_);
  FakeChannel channel("9196");
  channel.variables["unroll_loops"] = "true";
  channel.variables["sip_looped_call"] = "true";
  const RouteResult result = plan_->route("default", channel.channel());
  EXPECT_EQ(apps(result), Strings{"deflect ${destination_number}"});
  EXPECT_EQ(result.extensions, Strings{"unloop"});
}

}  // namespace
}  // namespace eventsocket::dialplan
