// Dial strings and `originate` arguments, read the way FreeSWITCH reads them
// (switch_separate_string, switch_event_create_brackets, switch_ivr_originate and
// mod_commands' originate), so the simulated core accepts what a real switch accepts.
#include "eventsocket/core/dial_string.hpp"

#include <cctype>
#include <charconv>
#include <cstddef>
#include <system_error>

namespace eventsocket::core {
namespace {

constexpr std::size_t npos = std::string_view::npos;

// FreeSWITCH's ORIGINATE_SYNTAX, as its originate replies when the arguments do not fit.
constexpr std::string_view kOriginateUsage =
    "-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] "
    "[<cid_name>] [<cid_num>] [<timeout_sec>]";
constexpr std::string_view kEnterpriseUnsupported = "enterprise originate (<...>) is not supported";

bool is_quote(char c) {
  return c == '\'' || c == '"';
}
bool is_open_bracket(char c) {
  return c == '{' || c == '[' || c == '(';
}
bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

char close_of(char open) {
  switch (open) {
    case '{':
      return '}';
    case '[':
      return ']';
    default:
      return ')';
  }
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_blank(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && is_blank(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

// switch_find_end_paren: the index of the bracket that closes text[open_at]. Only the same kind
// nests and quotes mean nothing there, as in FreeSWITCH; npos when it never closes.
std::size_t find_close(std::string_view text, std::size_t open_at) {
  const char open = text[open_at];
  const char close = close_of(open);
  int depth = 0;
  for (std::size_t i = open_at; i < text.size(); ++i) {
    if (text[i] == open) {
      ++depth;
    } else if (text[i] == close && --depth == 0) {
      return i;
    }
  }
  return npos;
}

// A quote only groups when an unescaped partner follows; a lone one is plain text
// (cleanup_separated_string's rule).
bool has_closing_quote(std::string_view text, std::size_t from, char quote) {
  for (std::size_t i = from; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
    } else if (text[i] == quote) {
      return true;
    }
  }
  return false;
}

// FreeSWITCH's unescape_char: \n \r \t and \s (a space) are named; others stand for themselves.
char unescape(char c) {
  switch (c) {
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    case 's':
      return ' ';
    default:
      return c;
  }
}

// Cuts `text` at each `sep` that is not escaped, quoted or (with `nest`) inside a bracket,
// keeping the pieces raw. A separator at the very end opens no further (empty) piece.
std::vector<std::string_view> raw_fields(std::string_view text, char sep, bool nest) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\') {
      ++i;
    } else if (is_quote(c) && has_closing_quote(text, i + 1, c)) {
      for (++i; text[i] != c; ++i) {
        if (text[i] == '\\') {
          ++i;
        }
      }
    } else if (nest && is_open_bracket(c)) {
      const std::size_t close = find_close(text, i);
      if (close == npos) {
        break;  // never closed: the rest is one piece, for the caller to reject
      }
      i = close;
    } else if (c == sep) {
      fields.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  if (start < text.size()) {
    fields.push_back(text.substr(start));
  }
  return fields;
}

// The first `target` outside quotes and escapes, or npos.
std::size_t find_unquoted(std::string_view text, char target) {
  const auto fields = raw_fields(text, target, false);
  if (fields.empty() || fields.front().size() == text.size()) {
    return npos;
  }
  return fields.front().size();
}

// cleanup_separated_string: removes grouping quotes and escapes and trims unquoted blanks.
// With `nest`, bracketed text is copied verbatim: its quotes and backslashes belong to whoever
// parses the brackets later (the dial string's variable parser).
std::string unquote(std::string_view text, bool nest) {
  std::string out;
  std::size_t keep = 0;  // out's length without its unquoted trailing blanks
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\' && i + 1 < text.size()) {
      out += unescape(text[++i]);
      keep = out.size();
    } else if (is_quote(c) && has_closing_quote(text, i + 1, c)) {
      for (++i; text[i] != c; ++i) {
        out += text[i] == '\\' ? unescape(text[++i]) : text[i];
      }
      keep = out.size();
    } else if (nest && is_open_bracket(c)) {
      const std::size_t close = find_close(text, i);
      const std::size_t last = close == npos ? text.size() - 1 : close;
      out.append(text.substr(i, last - i + 1));
      keep = out.size();
      i = last;
    } else if (c == ' ' && out.empty()) {
      // leading blank
    } else {
      out += c;
      if (c != ' ') {
        keep = out.size();
      }
    }
  }
  out.resize(keep);
  return out;
}

// The inside of `{...}` or `[...]`: `name=value` pairs split on ',' (or on X after `^^X`), as
// switch_event_create_brackets does. Returns an error message, empty on success.
std::string parse_variables(std::string_view block, VariableList& out) {
  char delim = ',';
  if (block.starts_with("^^")) {
    if (block.size() < 3) {
      return "missing the separator after '^^' in variables '" + std::string(block) + "'";
    }
    delim = block[2];
    block.remove_prefix(3);
  }
  for (const std::string_view element : raw_fields(block, delim, false)) {
    const std::size_t eq = find_unquoted(element, '=');
    if (eq == npos) {
      continue;  // FreeSWITCH ignores an element without '='
    }
    std::string name = unquote(element.substr(0, eq), false);
    std::string value = unquote(element.substr(eq + 1), false);
    if (name.empty()) {
      return "empty variable name in '" + std::string(trim(element)) + "'";
    }
    if (value.empty()) {
      continue;  // FreeSWITCH drops `name=` too (its split finds a single field)
    }
    out.emplace_back(std::move(name), std::move(value));
  }
  return {};
}

// Parses the variable blocks at the front of `text` (while it starts with one of `opens`),
// leaving `text` after them. Returns an error message, empty on success.
std::string take_variable_blocks(std::string_view& text, std::string_view opens,
                                 VariableList& out) {
  while (!text.empty() && opens.find(text.front()) != npos) {
    const std::size_t close = find_close(text, 0);
    if (close == npos) {
      return std::string("unbalanced '") + text.front() + "' in dial string: missing '" +
             close_of(text.front()) + "'";
    }
    if (std::string error = parse_variables(text.substr(1, close - 1), out); !error.empty()) {
      return error;
    }
    text = trim(text.substr(close + 1));
  }
  return {};
}

// One `[vars]{vars}endpoint/address` target. Returns an error message, empty on success.
std::string parse_target(std::string_view raw, DialTarget& target) {
  std::string_view rest = trim(raw);
  if (rest.empty()) {
    return "empty target in dial string";
  }
  // A `{...}` before a later target is taken as that leg's own variables, like `[...]`.
  if (std::string error = take_variable_blocks(rest, "[{", target.variables); !error.empty()) {
    return error;
  }
  if (!rest.empty() && rest.front() == '<') {  // also `<ultra-global vars>` at the start
    return std::string(kEnterpriseUnsupported);
  }
  const std::string text = unquote(rest, false);
  if (text.empty()) {
    return "target '" + std::string(trim(raw)) + "' has no <endpoint>/<address>";
  }
  const std::size_t slash = text.find('/');
  if (slash == std::string::npos) {
    return "invalid target '" + text + "': expected <endpoint>/<address>";
  }
  if (slash == 0) {
    return "invalid target '" + text + "': empty endpoint";
  }
  target.endpoint = text.substr(0, slash);
  target.address = text.substr(slash + 1);
  return {};
}

DialStringResult dial_error(std::string error) {
  return {std::nullopt, std::move(error)};
}
OriginateArgsResult originate_error(std::string error) {
  return {std::nullopt, std::move(error)};
}

bool is_undef(std::string_view arg) {
  constexpr std::string_view kUndef = "undef";
  if (arg.size() != kUndef.size()) {
    return false;
  }
  for (std::size_t i = 0; i < arg.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(arg[i])) != kUndef[i]) {
      return false;
    }
  }
  return true;
}

// `&app(args)`, `&app`, or (one quoted argument) `&app args`. Returns an error message.
std::string parse_application(std::string_view arg, OriginateArgs& out) {
  const std::string_view body = arg.substr(1);
  const std::size_t open = body.find('(');
  std::string_view name;
  std::string_view data;
  if (open == npos) {
    if (body.find(')') != npos) {
      return "invalid application '" + std::string(arg) + "': ')' without '('";
    }
    const std::size_t blank = body.find(' ');
    name = body.substr(0, blank);
    data = blank == npos ? std::string_view{} : trim(body.substr(blank + 1));
  } else {
    // The arguments run to the last ')', so they may hold parentheses themselves.
    if (body.back() != ')') {
      return "invalid application '" + std::string(arg) +
             "': expected &<application>(<args>) ending with ')'";
    }
    name = body.substr(0, open);
    data = body.substr(open + 1, body.size() - open - 2);
  }
  name = trim(name);
  if (name.empty()) {
    return "missing application name in '" + std::string(arg) + "'";
  }
  out.application = std::string(name);
  out.application_data = std::string(data);
  return {};
}

}  // namespace

std::vector<std::string> split_api_args(std::string_view text, char separator) {
  std::vector<std::string> args;
  for (const std::string_view field : raw_fields(text, separator, true)) {
    if (separator == ' ' && field.empty()) {
      continue;  // blanks around and between arguments collapse
    }
    args.push_back(unquote(field, true));
  }
  return args;
}

DialStringResult parse_dial_string(std::string_view text) {
  std::string_view rest = trim(text);
  if (rest.empty()) {
    return dial_error("empty dial string");
  }
  if (rest.find(":_:") != npos) {  // SWITCH_ENT_ORIGINATE_DELIM
    return dial_error("enterprise originate (:_:) is not supported");
  }
  DialString dial;
  if (std::string error = take_variable_blocks(rest, "{", dial.global_variables); !error.empty()) {
    return dial_error(std::move(error));
  }
  if (rest.empty()) {
    return dial_error("dial string has no target after its variables");
  }
  for (const std::string_view group_text : raw_fields(rest, '|', true)) {
    std::vector<DialTarget> group;
    for (const std::string_view target_text : raw_fields(group_text, ',', true)) {
      DialTarget target;
      if (std::string error = parse_target(target_text, target); !error.empty()) {
        return dial_error(std::move(error));
      }
      group.push_back(std::move(target));
    }
    if (group.empty()) {
      return dial_error("empty target in dial string");
    }
    dial.groups.push_back(std::move(group));
  }
  return {std::move(dial), {}};
}

OriginateArgsResult parse_originate_args(std::string_view text) {
  const std::vector<std::string> args = split_api_args(text, ' ');
  // FreeSWITCH refuses more than 7 arguments as well as fewer than 2.
  if (args.size() < 2 || args.size() > 7) {
    return originate_error(std::string(kOriginateUsage));
  }
  // An empty call URL (`'' &park()`) names no one to call.
  if (args[0].empty()) {
    return originate_error(std::string(kOriginateUsage));
  }
  OriginateArgs out;
  out.dial_string = args[0];
  const std::string& what = args[1];
  if (what.empty()) {
    return originate_error("missing <exten> or &<application_name>");
  }
  if (what.front() == '&') {
    if (std::string error = parse_application(what, out); !error.empty()) {
      return originate_error(std::move(error));
    }
  } else {
    out.extension = what;
  }
  // The optional arguments are positional even after `&app(...)`; "undef" (any case) or an
  // empty argument stands for "not given", as in FreeSWITCH.
  auto given = [&args](std::size_t i) -> const std::string* {
    if (i >= args.size() || args[i].empty() || is_undef(args[i])) {
      return nullptr;
    }
    return &args[i];
  };
  if (const std::string* dialplan = given(2)) {
    out.dialplan = *dialplan;
  }
  if (const std::string* context = given(3)) {
    out.context = *context;
  }
  if (const std::string* name = given(4)) {
    out.caller_id_name = *name;
  }
  if (const std::string* number = given(5)) {
    out.caller_id_number = *number;
  }
  if (const std::string* timeout = given(6)) {
    int seconds = 0;
    const char* end = timeout->data() + timeout->size();
    const auto [ptr, ec] = std::from_chars(timeout->data(), end, seconds);
    if (ec != std::errc{} || ptr != end || seconds < 0) {
      return originate_error("invalid timeout '" + *timeout +
                             "': expected a whole number of seconds");
    }
    // switch_ivr_originate treats a timeout of 0 as "use the default".
    if (seconds > 0) {
      out.timeout_seconds = seconds;
    }
  }
  return {std::move(out), {}};
}

}  // namespace eventsocket::core
