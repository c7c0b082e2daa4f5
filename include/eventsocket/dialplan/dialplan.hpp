#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eventsocket::dialplan {

// One application an extension runs: <action application="..." data="..."/>.
struct Action {
  std::string application;
  std::string data;  // $1..$9 already substituted; ${var} left for the channel to expand
};

// What routing needs from the channel: a field's value (`destination_number`,
// `caller_id_number`, `context`, `ani`, ... or a channel variable name), and `${...}`
// expansion against the channel's variables.
struct Channel {
  std::function<std::optional<std::string>(std::string_view field)> field;
  std::function<std::string(std::string_view text)> expand;
  // Called for inline actions (`inline="true"`), which run while the dialplan is hunted;
  // FreeSWITCH allows only simple ones (set, export, ...).
  std::function<void(const Action&)> run_inline;
};

// At most this many actions (inline ones included) come out of one route. FreeSWITCH has no
// such bound, so `loop="1000000000"` on an action, or a thousand actions looping a thousand
// times, would build an endless caller extension and hold a thread while it does.
inline constexpr std::size_t kMaxActionsPerRoute = 10000;

struct RouteResult {
  // Some extension matched. Precisely FreeSWITCH's rule: the hunt met at least one action or
  // anti-action (inline ones included), i.e. it built a caller extension; when false the
  // channel has no route (NO_ROUTE_DESTINATION). An extension that matches without any
  // action therefore does not count.
  bool found = false;
  // Names of the extensions that contributed actions or anti-actions, in hunt order
  // ("UNKNOWN" for an unnamed one).
  std::vector<std::string> extensions;
  std::vector<Action> actions;  // in order; inline actions are not here (they already ran)
  bool truncated = false;       // kMaxActionsPerRoute reached: the later actions were dropped
};

// FreeSWITCH's XML dialplan (mod_dialplan_xml): contexts of extensions, each a list of
// conditions on a field and a PCRE expression, with actions and anti-actions.
//
// Loading accepts a root <include> of <context>s, a root <context>, or a
// <document><section name="dialplan">; <context>s of the same name add up in load order;
// <X-PRE-PROCESS cmd="include" data="glob"/> pastes files in, relative to the including
// file. Expressions are compiled at load (a bad one fails the load), except those holding
// `${...}`, expanded and compiled on each route. Time-of-day condition attributes are
// ignored (a condition of only those is true). Immutable once loaded: route() may be called
// from several threads.
class Dialplan {
 public:
  // Reads every `*.xml` in `dir` (FreeSWITCH's conf/dialplan), in name order.
  // Returns nullptr and fills `error` when a file cannot be parsed.
  static std::shared_ptr<const Dialplan> load_directory(const std::filesystem::path& dir,
                                                        std::string& error);
  // Parses one document (for tests and `reloadxml` of a single file).
  static std::shared_ptr<const Dialplan> load_string(std::string_view xml, std::string& error);

  bool has_context(std::string_view name) const;
  // Hunts `context` (or, when it does not exist, a context named "global", as FreeSWITCH)
  // for the channel. Inline actions run through `channel.run_inline` during the hunt.
  RouteResult route(std::string_view context, const Channel& channel) const;

  struct Impl;
  explicit Dialplan(std::unique_ptr<Impl> impl);
  ~Dialplan();

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace eventsocket::dialplan
