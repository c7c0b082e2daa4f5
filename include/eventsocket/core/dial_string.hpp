#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eventsocket::core {

using VariableList = std::vector<std::pair<std::string, std::string>>;

// One endpoint to call: `[per-leg vars]endpoint/rest`, e.g. `loopback/9196/default`.
struct DialTarget {
  VariableList variables;  // from `[a=b,c=d]` (and `{...}` given just before this target)
  std::string endpoint;    // "loopback", "null", "error", "user", "sofia", ...
  std::string address;     // everything after the first '/', e.g. "9196/default"
};

// FreeSWITCH's dial string: `{global vars}` for every leg, then targets. `,` rings targets
// at once, `|` tries the groups one after another (failover).
// Variable blocks hold `name=value` pairs split on ',' (or on X after `^^X`); single or double
// quotes group a value (`{a='x,y'}`) and `\,` is a literal comma. As in FreeSWITCH, an element
// without '=' or with an empty value is ignored. Enterprise originate (`<...>`, `:_:`) is
// refused.
struct DialString {
  VariableList global_variables;
  std::vector<std::vector<DialTarget>> groups;  // groups[i] = targets rung together
};

struct DialStringResult {
  std::optional<DialString> value;
  std::string error;  // why parsing failed, when value is empty
};
DialStringResult parse_dial_string(std::string_view text);

// What `originate` runs on the answered leg: either `&app(args)` / `&app args` / `&app`,
// or a dialplan extension with optional dialplan and context.
struct OriginateArgs {
  std::string dial_string;
  // Application form.
  std::string application;  // empty when an extension was given
  std::string application_data;
  // Extension form.
  std::string extension;
  std::string dialplan = "xml";
  std::string context = "default";
  std::string caller_id_name;    // empty: the default
  std::string caller_id_number;  // empty: the default
  int timeout_seconds = 60;
};
struct OriginateArgsResult {
  std::optional<OriginateArgs> value;
  std::string error;
};
// `originate <dial string> <exten>|&<app>(<args>) [<dialplan>] [<context>] [<cid_name>]
// [<cid_num>] [<timeout_sec>]`, split as FreeSWITCH splits API arguments (quotes group).
// The dial string is kept as given (see parse_dial_string). `undef` (any case) or an empty
// argument leaves an optional one at its default; a timeout of 0 means the default (60).
// Fewer than 2 or more than 7 arguments: error is FreeSWITCH's `-USAGE: ...` text.
OriginateArgsResult parse_originate_args(std::string_view args);

// Splits API arguments on `separator` as FreeSWITCH's switch_separate_string does: single
// or double quotes group (and are removed), a backslash escapes the next character; in
// addition nothing splits inside {}, [] or () so dial strings and `&app(a b)` stay whole
// (bracketed text is kept verbatim, quotes and backslashes included). Blank separators
// collapse; any other separator gives empty fields between two in a row (`a,,b`).
std::vector<std::string> split_api_args(std::string_view text, char separator = ' ');

}  // namespace eventsocket::core
