#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eventsocket::core {

class Switch;

// What an API command is called with. `command` and `args` are already trimmed of
// surrounding whitespace, as FreeSWITCH's switch_api_execute does.
struct ApiRequest {
  std::string_view command;
  std::string_view args;
  // The channel the calling Event Socket session controls, if any (outbound or myevents).
  std::string_view session_uuid;
};

enum class ApiStatus { success, failure };

// A command writes its output to `out` and says whether it succeeded. A failure makes the
// Event Socket answer `-ERR <name> Command not found!` and drop the output, as FreeSWITCH.
using ApiHandler =
    std::function<ApiStatus(Switch& sw, const ApiRequest& request, std::string& out)>;

// FreeSWITCH's switch_strip_whitespace as switch_api_execute applies it to command names and
// arguments: leading and trailing space, TAB, CR, LF and VT are removed.
std::string_view strip_api_whitespace(std::string_view text) noexcept;

// Whether a command can take a while (sleep, wait for a call): such commands run on the
// worker pool; quick ones run where they are called, saving two thread hand-offs.
enum class ApiSpeed { quick, may_block };

struct ApiCommand {
  std::string name;
  std::string description;
  std::string syntax;
  ApiHandler handler;
  ApiSpeed speed = ApiSpeed::quick;
};

// The registry of API commands. Names are exact and case-sensitive, as in FreeSWITCH.
class ApiRegistry {
 public:
  void add(std::string name, std::string description, std::string syntax, ApiHandler handler,
           ApiSpeed speed = ApiSpeed::quick);
  bool remove(std::string_view name);
  std::optional<ApiCommand> find(std::string_view name) const;
  bool contains(std::string_view name) const;
  // Unknown commands are quick (they only produce the not-found reply). The name is
  // stripped first, as the executor will strip it.
  bool may_block(std::string_view name) const;
  // Every command, sorted by name (for `show api` and `help`).
  std::vector<ApiCommand> list() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, ApiCommand, std::less<>> commands_;
};

}  // namespace eventsocket::core
