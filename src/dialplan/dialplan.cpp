#include "eventsocket/dialplan/dialplan.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <glob.h>
#include <pcre2.h>
#include <pugixml.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <system_error>
#include <utility>

#include "eventsocket/acl/switch_true.hpp"

namespace eventsocket::dialplan {
namespace {

// FreeSWITCH gives up on includes nested deeper than this; a cycle would otherwise never end.
constexpr int kMaxIncludeDepth = 32;
// Nested <condition>s recurse while routing; FreeSWITCH stops at 100 levels.
constexpr int kMaxConditionNesting = 100;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// C's atoi(), which FreeSWITCH applies to `loop`: leading blanks, a sign, then digits; anything
// else ends the number (so "abc" is 0 and "3x" is 3).
int atoi_like(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && (text[i] == ' ' || (text[i] >= '\t' && text[i] <= '\r'))) {
    ++i;
  }
  bool negative = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    negative = text[i] == '-';
    ++i;
  }
  long value = 0;
  for (; i < text.size() && is_digit(text[i]) && value < 1000000000L; ++i) {
    value = value * 10 + (text[i] - '0');
  }
  return static_cast<int>(negative ? -value : value);
}

// ---------------------------------------------------------------------------------------------
// PCRE2, the way switch_regex_perform() uses it.

struct CodeFree {
  void operator()(pcre2_code* code) const noexcept { pcre2_code_free(code); }
};
using Code = std::unique_ptr<pcre2_code, CodeFree>;

struct MatchDataFree {
  void operator()(pcre2_match_data* data) const noexcept { pcre2_match_data_free(data); }
};
using MatchData = std::unique_ptr<pcre2_match_data, MatchDataFree>;

// switch_ast2regex(): `_NXXXXXX` Asterisk patterns. N, X and Z are digit classes, `.` is "the
// rest", everything else is literal (as in FreeSWITCH, not escaped), and the whole is anchored.
std::string asterisk_to_regex(std::string_view pattern) {
  std::string regex = "^";
  for (char c : pattern) {
    switch (c) {
      case 'N':
        regex += "[2-9]";
        break;
      case 'X':
        regex += "[0-9]";
        break;
      case 'Z':
        regex += "[1-9]";
        break;
      case '.':
        regex += ".*";
        break;
      default:
        regex += c;
    }
  }
  regex += '$';
  return regex;
}

// Compiles an expression as FreeSWITCH reads it: a leading `_` makes it an Asterisk pattern,
// `/regex/flags` takes the flags i (caseless) and s (dot matches newline). Returns null and
// fills `error` when it does not compile.
Code compile_expression(std::string_view expression, std::string& error) {
  std::string pattern(expression);
  if (!pattern.empty() && pattern.front() == '_') {
    pattern = asterisk_to_regex(std::string_view(pattern).substr(1));
  }
  uint32_t options = 0;
  if (!pattern.empty() && pattern.front() == '/') {
    const std::size_t close = pattern.rfind('/');
    if (close == 0) {
      error = "missing the closing '/'";
      return nullptr;
    }
    const std::string_view flags = std::string_view(pattern).substr(close + 1);
    if (flags.find('i') != std::string_view::npos) {
      options |= PCRE2_CASELESS;
    }
    if (flags.find('s') != std::string_view::npos) {
      options |= PCRE2_DOTALL;
    }
    pattern = pattern.substr(1, close - 1);
  }
  int code = 0;
  PCRE2_SIZE offset = 0;
  Code compiled(pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), options,
                              &code, &offset, nullptr));
  if (!compiled) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(code, message, sizeof(message));
    error = reinterpret_cast<const char*>(message);
    error += " at offset " + std::to_string(offset);
  }
  return compiled;
}

// What a successful match captured: group i's text, empty for a group that took no part.
using Captures = std::vector<std::string>;

std::optional<Captures> match(const pcre2_code* code, const std::string& subject) {
  MatchData data(pcre2_match_data_create_from_pattern(code, nullptr));
  if (!data) {
    return std::nullopt;
  }
  const int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), 0,
                             0, data.get(), nullptr);
  if (rc <= 0) {
    return std::nullopt;
  }
  const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data.get());
  Captures groups;
  groups.reserve(static_cast<std::size_t>(rc));
  for (int i = 0; i < rc; ++i) {
    const PCRE2_SIZE begin = ovector[2 * i];
    const PCRE2_SIZE end = ovector[2 * i + 1];
    // \K can put the end before the start; FreeSWITCH would copy nothing useful either.
    if (begin == PCRE2_UNSET || end < begin) {
      groups.emplace_back();
    } else {
      groups.push_back(subject.substr(begin, end - begin));
    }
  }
  return groups;
}

// switch_perform_substitution(): `$N` and `${N}` (up to nine digits) become capture N, empty if
// it does not exist; any other `$` (`${var}` included) is copied as it is.
std::string substitute(std::string_view data, const Captures& groups) {
  std::string out;
  out.reserve(data.size());
  std::size_t i = 0;
  while (i < data.size()) {
    if (data[i] != '$') {
      out += data[i++];
      continue;
    }
    std::size_t start = i + 1;
    const bool brace = start < data.size() && data[start] == '{';
    if (brace) {
      ++start;
    }
    std::size_t end = start;
    while (end < data.size() && end - start < 9 && is_digit(data[end])) {
      ++end;
    }
    if (end == start || (brace && (end >= data.size() || data[end] != '}'))) {
      out += '$';
      ++i;
      continue;
    }
    std::size_t index = 0;
    std::from_chars(data.data() + start, data.data() + end, index);
    if (index < groups.size()) {
      out += groups[index];
    }
    i = brace ? end + 1 : end;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The compiled dialplan.

// An expression, compiled at load unless it holds `${...}`: FreeSWITCH expands channel
// variables in expressions, so those are expanded and compiled on each hunt.
struct Pattern {
  std::string text;
  Code code;  // null when `text` needs expanding first
};

// A field and the expression matched against it: a <condition> or one of its <regex>es.
struct Test {
  std::optional<std::string> field;  // absent: the test always passes ("absolute condition")
  Pattern expression;
};

enum class Break { kOnTrue, kOnFalse, kAlways, kNever };
enum class RegexRule { kNone, kAny, kAll, kXor };

struct ActionSpec {
  std::string application;
  std::string data;
  bool run_inline = false;
  int loop = 1;
};

struct Condition {
  Test test;
  Break on = Break::kOnFalse;
  RegexRule rule = RegexRule::kNone;
  std::vector<Test> regexes;  // with `rule`, the <regex> children replace `test`
  std::vector<ActionSpec> actions;
  std::vector<ActionSpec> anti_actions;
  std::vector<Condition> nested;
  bool require_nested = true;
};

struct Extension {
  std::string name;
  bool continue_hunt = false;
  std::vector<Condition> conditions;
};

struct Context {
  std::string name;
  std::vector<Extension> extensions;
};

}  // namespace

struct Dialplan::Impl {
  std::map<std::string, Context, std::less<>> contexts;
};

namespace {

// ---------------------------------------------------------------------------------------------
// Loading.

// Where nodes came from: the name used in errors, and the directory includes are relative to.
struct Source {
  std::string label;
  std::filesystem::path dir;
};

bool read_file(const std::filesystem::path& path, std::string& text, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path.string() + ": cannot open: " + std::strerror(errno);
    return false;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    error = path.string() + ": cannot read";
    return false;
  }
  text = std::move(buffer).str();
  return true;
}

bool parse_xml(const std::string& text, const std::string& label, pugi::xml_document& doc,
               std::string& error) {
  const pugi::xml_parse_result parsed = doc.load_buffer(text.data(), text.size());
  if (parsed) {
    return true;
  }
  // A line and column point at the problem better than pugixml's byte offset.
  const auto offset = static_cast<std::size_t>(std::max<std::ptrdiff_t>(parsed.offset, 0));
  const std::string_view before = std::string_view(text).substr(0, std::min(offset, text.size()));
  const std::size_t line =
      1 + static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n'));
  const std::size_t last_newline = before.rfind('\n');
  const std::size_t column =
      1 +
      (last_newline == std::string_view::npos ? before.size() : before.size() - last_newline - 1);
  error = label + ":" + std::to_string(line) + ":" + std::to_string(column) +
          ": XML error: " + parsed.description();
  return false;
}

std::string expression_text(const pugi::xml_node& node) {
  if (const pugi::xml_node child = node.child("expression")) {
    return child.text().get();
  }
  return node.attribute("expression").value();
}

Break parse_break(std::string_view text) {
  if (iequals(text, "on-true")) {
    return Break::kOnTrue;
  }
  if (iequals(text, "always")) {
    return Break::kAlways;
  }
  if (iequals(text, "never")) {
    return Break::kNever;
  }
  return Break::kOnFalse;  // the default, and what FreeSWITCH does with an unknown value
}

ActionSpec parse_action(const pugi::xml_node& node) {
  ActionSpec action;
  action.application = node.attribute("application").value();
  // The element's text, when there is some, wins over `data` (handy for data with quotes).
  action.data = node.text().get();
  if (action.data.empty()) {
    action.data = node.attribute("data").value();
  }
  action.run_inline = acl::parse_switch_bool(node.attribute("inline").value());
  if (const pugi::xml_attribute loop = node.attribute("loop")) {
    action.loop = atoi_like(loop.value());
  }
  return action;
}

class Loader {
 public:
  explicit Loader(Dialplan::Impl& plan) : plan_(plan) {}

  // One document's root element(s), as a file of conf/dialplan or a load_string() argument.
  bool document(const pugi::xml_document& doc, const Source& source) {
    bool any = false;
    for (const pugi::xml_node& root : doc.children()) {
      if (root.type() != pugi::node_element) {
        continue;
      }
      const std::string_view name = root.name();
      if (name != "include" && name != "context" && name != "document") {
        return fail(source.label + ": root element <" + std::string(name) +
                    "> is not <include>, <context> or <document>");
      }
      any = true;
      if (!top(root, source, 0)) {
        return false;
      }
    }
    if (!any) {
      return fail(source.label + ": no root element");
    }
    return true;
  }

  std::string& error() { return error_; }

 private:
  using Visit = std::function<bool(const pugi::xml_node&, const Source&, int)>;

  bool fail(std::string message) {
    error_ = std::move(message);
    return false;
  }

  // Nodes outside any context: contexts, wrappers around them and includes of more of them.
  bool top(const pugi::xml_node& node, const Source& source, int depth) {
    const std::string_view name = node.name();
    if (name == "context") {
      return context(node, source, depth);
    }
    if (name == "section" && !iequals(node.attribute("name").value(), "dialplan")) {
      return true;  // a whole freeswitch.xml: only its dialplan section matters here
    }
    if (name == "include" || name == "document" || name == "section") {
      for (const pugi::xml_node& child : node.children()) {
        if (child.type() == pugi::node_element && !top(child, source, depth)) {
          return false;
        }
      }
      return true;
    }
    if (name == "X-PRE-PROCESS") {
      return pre_process(
          node, source, depth,
          [this](const pugi::xml_node& n, const Source& s, int d) { return top(n, s, d); });
    }
    if (name == "extension") {
      return fail(source.label + ": <extension name=\"" + node.attribute("name").value() +
                  "\"> is outside any <context>");
    }
    return true;  // FreeSWITCH only looks for the elements it knows
  }

  bool context(const pugi::xml_node& node, const Source& source, int depth) {
    const pugi::xml_attribute name = node.attribute("name");
    if (!name) {
      return fail(source.label + ": <context> without a name");
    }
    // Several <context>s of one name (in one file or several) add up, in load order.
    Context& target = plan_.contexts[name.value()];
    target.name = name.value();
    for (const pugi::xml_node& child : node.children()) {
      if (child.type() == pugi::node_element && !in_context(child, source, depth, &target)) {
        return false;
      }
    }
    return true;
  }

  // Nodes inside a context: extensions, and <include> wrappers and includes of more of them.
  bool in_context(const pugi::xml_node& node, const Source& source, int depth, Context* target) {
    const std::string_view name = node.name();
    if (name == "extension") {
      return extension(node, source, *target);
    }
    if (name == "include") {
      for (const pugi::xml_node& child : node.children()) {
        if (child.type() == pugi::node_element && !in_context(child, source, depth, target)) {
          return false;
        }
      }
      return true;
    }
    if (name == "X-PRE-PROCESS") {
      return pre_process(node, source, depth,
                         [this, target](const pugi::xml_node& n, const Source& s, int d) {
                           return in_context(n, s, d, target);
                         });
    }
    return true;
  }

  // <X-PRE-PROCESS cmd="include" data="glob"/>: FreeSWITCH pastes the files in, relative to the
  // including file's directory, in name order. Other commands (set, exec, ...) are ignored.
  bool pre_process(const pugi::xml_node& node, const Source& source, int depth,
                   const Visit& visit) {
    if (!iequals(node.attribute("cmd").value(), "include")) {
      return true;
    }
    const std::string data = node.attribute("data").value();
    if (depth >= kMaxIncludeDepth) {
      return fail(source.label + ": includes nested deeper than " +
                  std::to_string(kMaxIncludeDepth) + " (an include cycle?) at \"" + data + "\"");
    }
    std::filesystem::path pattern(data);
    if (pattern.is_relative()) {
      pattern = source.dir / pattern;
    }
    std::vector<std::filesystem::path> files;
    if (!expand_glob(pattern, files)) {
      return fail(source.label + ": X-PRE-PROCESS include \"" + data + "\": cannot list files");
    }
    // An empty glob (say an empty default/ directory) is normal; a named file that is missing
    // is a mistake (FreeSWITCH only logs it, but a silent hole in the dialplan is worse).
    if (files.empty() && data.find_first_of("*?[") == std::string::npos) {
      return fail(source.label + ": X-PRE-PROCESS include \"" + data + "\": no such file");
    }
    for (const std::filesystem::path& file : files) {
      std::string text;
      if (!read_file(file, text, error_)) {
        return false;
      }
      pugi::xml_document doc;
      const Source included{file.string(), file.parent_path()};
      if (!parse_xml(text, included.label, doc, error_)) {
        return false;
      }
      // The pasted text may be <include>-wrapped or bare elements; the visitor takes both.
      for (const pugi::xml_node& root : doc.children()) {
        if (root.type() == pugi::node_element && !visit(root, included, depth + 1)) {
          return false;
        }
      }
    }
    return true;
  }

  static bool expand_glob(const std::filesystem::path& pattern,
                          std::vector<std::filesystem::path>& files) {
    struct Guard {
      glob_t result{};
      ~Guard() { globfree(&result); }
    } guard;
    const int rc = glob(pattern.c_str(), 0, nullptr, &guard.result);
    if (rc == GLOB_NOMATCH) {
      return true;
    }
    if (rc != 0) {
      return false;
    }
    for (std::size_t i = 0; i < guard.result.gl_pathc; ++i) {
      files.emplace_back(guard.result.gl_pathv[i]);
    }
    // glob() sorts by locale; the dialplan order must not depend on it.
    std::sort(files.begin(), files.end());
    return true;
  }

  bool extension(const pugi::xml_node& node, const Source& source, Context& target) {
    Extension ext;
    const pugi::xml_attribute name = node.attribute("name");
    ext.name = name ? name.value() : "UNKNOWN";  // FreeSWITCH's name for an unnamed one
    ext.continue_hunt = acl::parse_switch_bool(node.attribute("continue").value());
    const std::string where =
        source.label + ": context \"" + target.name + "\", extension \"" + ext.name + "\"";
    for (const pugi::xml_node& child : node.children("condition")) {
      Condition condition;
      if (!parse_condition(child, where, 0, condition)) {
        return false;
      }
      ext.conditions.push_back(std::move(condition));
    }
    target.extensions.push_back(std::move(ext));
    return true;
  }

  bool compile(Pattern& pattern, const std::string& where) {
    if (pattern.text.find("${") != std::string::npos) {
      return true;  // compiled once the channel's variables are known
    }
    std::string why;
    pattern.code = compile_expression(pattern.text, why);
    if (!pattern.code) {
      return fail(where + ": bad expression \"" + pattern.text + "\": " + why);
    }
    return true;
  }

  bool parse_condition(const pugi::xml_node& node, const std::string& where, int nesting,
                       Condition& out) {
    if (nesting >= kMaxConditionNesting) {
      return fail(where + ": conditions nested deeper than " +
                  std::to_string(kMaxConditionNesting));
    }
    // Time-of-day attributes (wday, hour, minute, mday, year, date-time, ...) are not evaluated:
    // they are ignored, so a condition made of them alone is always true.
    if (const pugi::xml_attribute field = node.attribute("field")) {
      out.test.field = field.value();
    }
    out.test.expression.text = expression_text(node);
    out.on = parse_break(node.attribute("break").value());
    if (const pugi::xml_attribute rule = node.attribute("regex")) {
      // Any value turns on <regex> children; FreeSWITCH reads all that is not all or xor as any.
      out.rule = iequals(rule.value(), "all")   ? RegexRule::kAll
                 : iequals(rule.value(), "xor") ? RegexRule::kXor
                                                : RegexRule::kAny;
      for (const pugi::xml_node& child : node.children("regex")) {
        Test test;
        if (const pugi::xml_attribute field = child.attribute("field")) {
          test.field = field.value();
        }
        test.expression.text = expression_text(child);
        if (test.field && !compile(test.expression, where)) {
          return false;
        }
        out.regexes.push_back(std::move(test));
      }
    } else if (out.test.field && !compile(out.test.expression, where)) {
      return false;  // without a field the expression is never used, so never checked
    }
    for (const pugi::xml_node& child : node.children("action")) {
      out.actions.push_back(parse_action(child));
    }
    for (const pugi::xml_node& child : node.children("anti-action")) {
      out.anti_actions.push_back(parse_action(child));
    }
    for (const pugi::xml_node& child : node.children("condition")) {
      Condition nested;
      if (!parse_condition(child, where, nesting + 1, nested)) {
        return false;
      }
      out.nested.push_back(std::move(nested));
    }
    if (const pugi::xml_attribute require = node.attribute("require-nested")) {
      out.require_nested = acl::parse_switch_bool(require.value());
    }
    return true;
  }

  Dialplan::Impl& plan_;
  std::string error_;
};

// ---------------------------------------------------------------------------------------------
// Routing: one hunt through a context for one channel (mod_dialplan_xml's parse_exten()).

class Hunt {
 public:
  Hunt(const Channel& channel, RouteResult& result) : channel_(channel), result_(result) {}

  // Returns FreeSWITCH's `proceed`: whether the extension counts as taken, which ends the hunt
  // unless it has continue="true".
  bool extension(const Extension& ext) {
    contributed_ = false;
    const bool proceed = conditions(ext.conditions, false);
    if (contributed_) {
      result_.extensions.push_back(ext.name);
    }
    return proceed;
  }

  std::string expand(std::string_view text) const {
    return channel_.expand ? channel_.expand(text) : std::string(text);
  }

  std::string field(std::string_view name) const {
    // A field with a `$` is an expression over channel variables, the rest are profile fields.
    if (name.find('$') != std::string_view::npos) {
      return expand(name);
    }
    if (channel_.field) {
      if (std::optional<std::string> value = channel_.field(name)) {
        return std::move(*value);
      }
    }
    return {};  // an unknown field matches as the empty string
  }

 private:
  struct Outcome {
    bool matched = false;
    // Set when the actions get $N substituted: the expression has a `(` (FreeSWITCH's test).
    std::optional<Captures> captures;
  };

  Outcome run(const Test& test) const {
    Outcome outcome;
    if (!test.field) {
      outcome.matched = true;
      return outcome;
    }
    const std::string subject = field(*test.field);
    std::optional<Captures> groups;
    bool has_paren = false;
    if (test.expression.code) {
      groups = match(test.expression.code.get(), subject);
      has_paren = test.expression.text.find('(') != std::string::npos;
    } else {
      const std::string expression = expand(test.expression.text);
      has_paren = expression.find('(') != std::string::npos;
      std::string ignored;
      // As in FreeSWITCH, an expanded expression that does not compile just does not match.
      if (const Code code = compile_expression(expression, ignored)) {
        groups = match(code.get(), subject);
      }
    }
    outcome.matched = groups.has_value();
    if (outcome.matched && has_paren) {
      outcome.captures = std::move(groups);
    }
    return outcome;
  }

  // regex="all|any|xor": any stops at the first pass, all at the first failure, xor wants
  // exactly one pass. Captures come from the last passing <regex> with a `(`.
  Outcome run_regexes(const Condition& condition) const {
    int pass = 0;
    int fail = 0;
    Outcome result;
    for (const Test& test : condition.regexes) {
      Outcome outcome = run(test);
      if (outcome.matched) {
        ++pass;
        if (outcome.captures) {
          result.captures = std::move(outcome.captures);
        }
        if (condition.rule == RegexRule::kAny) {
          break;
        }
      } else {
        ++fail;
        if (condition.rule == RegexRule::kAll) {
          break;
        }
      }
    }
    switch (condition.rule) {
      case RegexRule::kAll:
        result.matched = fail == 0;
        break;
      case RegexRule::kXor:
        result.matched = pass == 1;
        break;
      default:
        result.matched = pass > 0;
    }
    if (!result.matched) {
      result.captures.reset();
    }
    return result;
  }

  void emit(const ActionSpec& spec, const std::string& data) {
    // FreeSWITCH creates the caller extension as soon as it meets an (anti-)action, even one
    // that runs inline or loops zero times: that is what makes the route "found".
    contributed_ = true;
    for (int i = 0; i < spec.loop; ++i) {
      if (emitted_ == kMaxActionsPerRoute) {
        result_.truncated = true;
        return;
      }
      ++emitted_;
      Action action{spec.application, data};
      if (spec.run_inline) {
        if (channel_.run_inline) {
          channel_.run_inline(action);
        }
      } else {
        result_.actions.push_back(std::move(action));
      }
    }
  }

  // One level of conditions: an extension's, or those nested in a condition (`nested`, with
  // the parent's require-nested).
  bool conditions(const std::vector<Condition>& list, bool nested, bool require_nested = true) {
    // Returned when a nested level does not require its conditions to hold.
    const bool forced = nested && !require_nested;
    // As in FreeSWITCH, `proceed` is the last evaluated condition's outcome, and any
    // anti-action that ran sets it: a failure with anti-actions still takes the extension.
    bool proceed = false;
    for (const Condition& condition : list) {
      Outcome outcome =
          condition.rule == RegexRule::kNone ? run(condition.test) : run_regexes(condition);
      proceed = outcome.matched;
      const bool anti = !outcome.matched;
      if (anti) {
        for (const ActionSpec& spec : condition.anti_actions) {
          emit(spec, spec.data);
          proceed = true;
        }
      } else {
        for (const ActionSpec& spec : condition.actions) {
          emit(spec, outcome.captures ? substitute(spec.data, *outcome.captures) : spec.data);
        }
      }
      if ((!anti && condition.on == Break::kOnTrue) || (anti && condition.on == Break::kOnFalse) ||
          condition.on == Break::kAlways) {
        break;
      }
      if (proceed && !condition.nested.empty()) {
        proceed = conditions(condition.nested, true, condition.require_nested);
        if (!proceed) {
          if (condition.on == Break::kNever) {
            continue;
          }
          return forced;
        }
      }
    }
    return proceed || forced;
  }

  const Channel& channel_;
  RouteResult& result_;
  bool contributed_ = false;
  std::size_t emitted_ = 0;  // actions of this route, inline ones included
};

std::shared_ptr<const Dialplan> finish(std::unique_ptr<Dialplan::Impl> impl) {
  return std::make_shared<const Dialplan>(std::move(impl));
}

}  // namespace

Dialplan::Dialplan(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Dialplan::~Dialplan() = default;

std::shared_ptr<const Dialplan> Dialplan::load_directory(const std::filesystem::path& dir,
                                                         std::string& error) {
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::filesystem::path& path = it->path();
    const std::string name = path.filename().string();
    // What the glob `*.xml` takes: no hidden files, no directories (default/ is included).
    if (name.empty() || name.front() == '.' || path.extension() != ".xml") {
      continue;
    }
    std::error_code type_ec;
    if (it->is_regular_file(type_ec)) {
      files.push_back(path);
    }
  }
  if (ec) {
    error = dir.string() + ": " + ec.message();
    return nullptr;
  }
  std::sort(files.begin(), files.end());

  auto impl = std::make_unique<Impl>();
  Loader loader(*impl);
  for (const std::filesystem::path& file : files) {
    std::string text;
    pugi::xml_document doc;
    const Source source{file.string(), file.parent_path()};
    if (!read_file(file, text, error) || !parse_xml(text, source.label, doc, error)) {
      return nullptr;
    }
    if (!loader.document(doc, source)) {
      error = std::move(loader.error());
      return nullptr;
    }
  }
  return finish(std::move(impl));
}

std::shared_ptr<const Dialplan> Dialplan::load_string(std::string_view xml, std::string& error) {
  const std::string text(xml);
  const Source source{"<string>", std::filesystem::current_path()};
  pugi::xml_document doc;
  if (!parse_xml(text, source.label, doc, error)) {
    return nullptr;
  }
  auto impl = std::make_unique<Impl>();
  Loader loader(*impl);
  if (!loader.document(doc, source)) {
    error = std::move(loader.error());
    return nullptr;
  }
  return finish(std::move(impl));
}

bool Dialplan::has_context(std::string_view name) const {
  return impl_->contexts.find(name) != impl_->contexts.end();
}

RouteResult Dialplan::route(std::string_view context, const Channel& channel) const {
  RouteResult result;
  auto found = impl_->contexts.find(context);
  if (found == impl_->contexts.end()) {
    // FreeSWITCH falls back to a context named "global" before giving up.
    found = impl_->contexts.find(std::string_view("global"));
    if (found == impl_->contexts.end()) {
      return result;
    }
  }
  const std::vector<Extension>& extensions = found->second.extensions;
  Hunt hunt(channel, result);

  auto first = extensions.begin();
  // auto_hunt=true: start at the extension named after the destination, if there is one.
  if (acl::parse_switch_bool(hunt.expand("${auto_hunt}"))) {
    const std::string destination = hunt.field("destination_number");
    const auto named = std::find_if(extensions.begin(), extensions.end(),
                                    [&](const Extension& ext) { return ext.name == destination; });
    if (named != extensions.end()) {
      first = named;
    }
  }
  for (auto ext = first; ext != extensions.end(); ++ext) {
    if (hunt.extension(*ext) && !ext->continue_hunt) {
      break;
    }
  }
  result.found = !result.extensions.empty();
  return result;
}

}  // namespace eventsocket::dialplan
