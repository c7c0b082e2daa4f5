// The built-in API commands that need no channels, answering in FreeSWITCH's layouts.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "eventsocket/core/switch.hpp"
#include "eventsocket/core/uuid.hpp"
#include "eventsocket/wire/message.hpp"

namespace eventsocket::core {
namespace {

using event::EventType;

std::string_view first_word(std::string_view args, std::string_view* rest = nullptr) {
  const std::size_t space = args.find(' ');
  if (rest != nullptr) {
    *rest = space == std::string_view::npos ? std::string_view{} : args.substr(space + 1);
    while (!rest->empty() && rest->front() == ' ') {
      rest->remove_prefix(1);
    }
  }
  return args.substr(0, space);
}

ApiStatus status_command(Switch& sw, const ApiRequest&, std::string& out) {
  rlimit stack{};
  getrlimit(RLIMIT_STACK, &stack);
  const unsigned long long cur_k =
      stack.rlim_cur == RLIM_INFINITY ? 0 : static_cast<unsigned long long>(stack.rlim_cur) / 1024;
  const unsigned long long max_k = stack.rlim_max == RLIM_INFINITY
                                       ? cur_k
                                       : static_cast<unsigned long long>(stack.rlim_max) / 1024;
  char text[1024];
  std::snprintf(text, sizeof text,
                "UP %s\n"
                "%s (Version %s) is ready\n"
                "%llu session(s) since startup\n"
                "%llu session(s) - peak %d, last 5min %d \n"
                "%d session(s) per Sec out of max %d, peak %d, last 5min %d \n"
                "%d session(s) max\n"
                "min idle cpu %0.2f/%0.2f\n"
                "Current Stack Size/Max %lluK/%lluK\n",
                sw.uptime_text(false).c_str(), std::string(kProductName).c_str(),
                (std::string(kProductVersion) + " 64bit").c_str(),
                static_cast<unsigned long long>(sw.sessions_since_startup()),
                static_cast<unsigned long long>(sw.session_count()), 0, 0, 0,
                sw.sessions_per_second(), 0, 0, sw.max_sessions(), 0.0, 100.0, cur_k, max_k);
  out += text;
  return ApiStatus::success;
}

ApiStatus version_command(Switch& sw, const ApiRequest& req, std::string& out) {
  if (wire::istarts_with(req.args, "short") || req.args.find("short") != std::string_view::npos) {
    out += std::string(kProductVersion) + "\n";
  } else {
    out += std::string(kProductName) + " Version " + sw.version_full() + "\n";
  }
  return ApiStatus::success;
}

ApiStatus uptime_command(Switch& sw, const ApiRequest& req, std::string& out) {
  struct Unit {
    std::string_view long_name, short_name;
    long long micros;
  };
  static constexpr Unit kUnits[] = {{"microseconds", "us", 1},    {"milliseconds", "ms", 1000},
                                    {"seconds", "s", 1000000},    {"minutes", "m", 60000000LL},
                                    {"hours", "h", 3600000000LL}, {"days", "d", 86400000000LL}};
  long long scale = 1000000;
  if (!req.args.empty()) {
    scale = 0;
    for (const Unit& u : kUnits) {
      if (wire::iequals(req.args, u.long_name) || wire::iequals(req.args, u.short_name)) {
        scale = u.micros;
      }
    }
    if (scale == 0) {
      out += "-USAGE: [us|ms|s|m|h|d|microseconds|milliseconds|seconds|minutes|hours|days]\n";
      return ApiStatus::success;
    }
  }
  out += std::to_string(sw.uptime().count() / scale) + "\n";
  return ApiStatus::success;
}

ApiStatus msleep_command(Switch& sw, const ApiRequest& req, std::string& out) {
  long long ms = 0;
  for (char c : req.args) {
    if (c < '0' || c > '9') {
      break;
    }
    ms = std::min(ms * 10 + (c - '0'), 3600000LL);  // an hour at most: it holds a worker
  }
  sw.sleep_for(std::chrono::milliseconds(ms));  // cut short by a shutdown
  out += "+OK";
  return ApiStatus::success;
}

ApiStatus echo_command(Switch&, const ApiRequest& req, std::string& out) {
  out += req.args;
  return ApiStatus::success;
}

ApiStatus hostname_command(Switch& sw, const ApiRequest&, std::string& out) {
  out += sw.origin().hostname;
  return ApiStatus::success;
}

ApiStatus eval_command(Switch& sw, const ApiRequest& req, std::string& out) {
  // Variables resolve against a fresh CHANNEL_DATA event (its standard headers), then the
  // global variables, as FreeSWITCH's eval does without a uuid.
  const event::Event headers =
      sw.make_event(EventType::CHANNEL_DATA, {"mod_commands.c", "eval_function", 6230});
  out += sw.expand(req.args, &headers);
  return ApiStatus::success;
}

ApiStatus global_getvar_command(Switch& sw, const ApiRequest& req, std::string& out) {
  if (req.args.empty()) {
    for (const auto& [name, value] : sw.global_vars()) {
      out += name + "=" + value + "\n";
    }
  } else {
    out += sw.global_var(req.args).value_or("");
  }
  return ApiStatus::success;
}

// `global_setvar <var>=<value>[=<expected>]`: names and values are not trimmed; an empty
// value unsets; with <expected>, only set when the current value equals it.
ApiStatus global_setvar_command(Switch& sw, const ApiRequest& req, std::string& out) {
  if (req.args.empty()) {
    out += "-USAGE: <var>=<value> [=<value2>]\n";
    return ApiStatus::success;
  }
  const std::size_t eq = req.args.find('=');
  const std::string_view name = req.args.substr(0, eq);
  std::string_view value =
      eq == std::string_view::npos ? std::string_view{} : req.args.substr(eq + 1);
  std::optional<std::string_view> expected;
  if (const std::size_t eq2 = value.find('='); eq2 != std::string_view::npos) {
    expected = value.substr(eq2 + 1);
    value = value.substr(0, eq2);
  }
  if (expected) {
    const auto current = sw.global_var(name);
    if (current ? *current != *expected : !expected->empty()) {
      out += "+OK";
      return ApiStatus::success;
    }
  }
  sw.set_global_var(name, value);
  out += "+OK";
  return ApiStatus::success;
}

// `event <name>[ <header>=<value>[,<header>=<value>...]]`: fires an event from the console.
// CUSTOM takes the subclass after `::`-free syntax `CUSTOM <subclass>`.
ApiStatus event_command(Switch& sw, const ApiRequest& req, std::string& out) {
  std::string_view rest;
  std::string_view name = first_word(req.args, &rest);
  const auto type = event::event_type_from_name(name);
  if (name.empty() || !type || *type == EventType::ALL) {
    out += "-ERR invalid event\n";
    return ApiStatus::success;
  }
  std::string subclass;
  if (*type == EventType::CUSTOM) {
    subclass = std::string(first_word(rest, &rest));
    if (!subclass.empty()) {
      sw.register_subclass(subclass);
    }
  }
  event::Event e = sw.make_event(*type, {"mod_commands.c", "event_function", 6640}, subclass);
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    const std::string_view pair = rest.substr(0, comma);
    const std::size_t eq = pair.find('=');
    if (eq != std::string_view::npos && eq > 0) {
      e.add_header(pair.substr(0, eq), pair.substr(eq + 1));
    }
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  const std::string uuid(e.header_or_empty("Event-UUID"));
  sw.publish(std::move(e));
  out += "+OK";
  return ApiStatus::success;
}

// `bgapi <command> [<args>]` as an API command (fs_cli uses it): runs in the background and
// reports through a BACKGROUND_JOB event.
ApiStatus bgapi_command(Switch& sw, const ApiRequest& req, std::string& out) {
  if (req.args.empty()) {
    out += "-ERR Invalid syntax\n";
    return ApiStatus::success;
  }
  std::string_view line = req.args;
  std::string job_uuid;
  if (line.starts_with("uuid:")) {  // `bgapi uuid:<job-uuid> <command>` picks the job id
    std::string_view rest;
    job_uuid = std::string(first_word(line, &rest).substr(5));
    line = rest;
  }
  if (job_uuid.empty()) {
    job_uuid = make_uuid();
  }
  std::string_view rest;
  const std::string command(first_word(line, &rest));
  const std::string args(rest);
  const bool queued = sw.jobs().try_submit([&sw, command, args, job_uuid] {
    ApiResult result = sw.execute_api(command, args);
    event::Event e =
        sw.make_event(EventType::BACKGROUND_JOB, {"mod_commands.c", "bgapi_exec", 5520});
    e.add_header("Job-UUID", job_uuid);
    e.add_header("Job-Command", command);
    e.add_header("Job-Command-Arg", args);
    e.set_body(result.ok ? result.output : command + ": Command not found!\n");
    sw.publish(std::move(e));
  });
  if (!queued) {
    out += "-ERR too many background jobs queued, try again later\n";
    return ApiStatus::success;
  }
  out += "+OK Job-UUID: " + job_uuid + "\n";
  return ApiStatus::success;
}

ApiStatus module_exists_command(Switch&, const ApiRequest& req, std::string& out);

std::string json_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string xml_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

// `show calls` columns (capture 15): the a-leg's, then the b-leg's, then when the call began.
std::vector<std::string> calls_columns() {
  return {"uuid",
          "direction",
          "created",
          "created_epoch",
          "name",
          "state",
          "cid_name",
          "cid_num",
          "ip_addr",
          "dest",
          "presence_id",
          "presence_data",
          "accountcode",
          "callstate",
          "callee_name",
          "callee_num",
          "callee_direction",
          "call_uuid",
          "hostname",
          "sent_callee_name",
          "sent_callee_num",
          "b_uuid",
          "b_direction",
          "b_created",
          "b_created_epoch",
          "b_name",
          "b_state",
          "b_cid_name",
          "b_cid_num",
          "b_ip_addr",
          "b_dest",
          "b_presence_id",
          "b_presence_data",
          "b_accountcode",
          "b_callstate",
          "b_callee_name",
          "b_callee_num",
          "b_callee_direction",
          "b_sent_callee_name",
          "b_sent_callee_num",
          "call_created_epoch"};
}

// Maps `show channels` rows onto `show calls` rows; channels that are not bridged leave
// the b_ columns and call_created_epoch empty.
std::vector<std::vector<std::string>> calls_rows(
    const std::vector<std::string>& channel_columns,
    const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::vector<std::string>> out;
  const std::vector<std::string> columns = calls_columns();
  for (const auto& row : rows) {
    std::vector<std::string> call;
    for (const std::string& col : columns) {
      std::string value;
      for (std::size_t i = 0; i < channel_columns.size(); ++i) {
        if (channel_columns[i] == col) {
          value = row[i];
        }
      }
      call.push_back(value);
    }
    out.push_back(std::move(call));
  }
  return out;
}

// `show <what> [as json|as xml|count]`. Without channels every list is empty.
// FreeSWITCH's `show channels like`: the text is searched in uuid, name, cid_name, cid_num
// and presence_data; with a `%` in it, it is an SQL LIKE pattern (% any run, _ one character).
bool like_match(std::string_view text, std::string_view pattern) {
  // Greedy, going back only to the latest %: O(text x pattern) at worst. Trying every split
  // recursively was exponential in the number of %s: `show channels like %%%%...%_x` held an
  // API worker for good (found by the long session fuzz run).
  constexpr std::size_t kNone = std::string_view::npos;
  std::size_t t = 0;
  std::size_t p = 0;
  std::size_t star = kNone;  // the latest % seen, and where the text stood then
  std::size_t star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '%') {
      star = p++;
      star_text = t;
    } else if (p < pattern.size() && (pattern[p] == '_' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (star != kNone) {
      p = star + 1;  // let the latest % take one more character
      t = ++star_text;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '%') {
    ++p;
  }
  return p == pattern.size();
}

bool row_is_like(const std::vector<std::string>& row, const std::string& like) {
  const auto& columns = show_channels_columns();
  for (std::size_t i = 0; i < columns.size() && i < row.size(); ++i) {
    const std::string_view col = columns[i];
    if (col != "uuid" && col != "name" && col != "cid_name" && col != "cid_num" &&
        col != "presence_data") {
      continue;
    }
    const bool hit = like.find('%') == std::string::npos ? row[i].find(like) != std::string::npos
                                                         : like_match(row[i], like);
    if (hit) {
      return true;
    }
  }
  return false;
}

ApiStatus show_command(Switch& sw, const ApiRequest& req, std::string& out) {
  std::string_view rest;
  const std::string_view what = first_word(req.args, &rest);
  // `show channels like <match string> [as json|xml]`
  std::string like;
  if (what == "channels" && rest.starts_with("like ")) {
    std::string_view after;
    like = std::string(first_word(rest.substr(5), &after));
    rest = after;
  }
  const bool as_json = rest.starts_with("as json");
  const bool as_xml = rest.starts_with("as xml");
  constexpr std::string_view kShowUsage =
      "-USAGE: codec|endpoint|application|api|dialplan|file|timer|calls [count]|channels "
      "[count|like <match string>]|calls|detailed_calls|bridged_calls|detailed_bridged_calls|"
      "aliases|complete|chat|management|modules|nat_map|say|interfaces|interface_types|tasks|"
      "limits|status\n";
  if (what.empty()) {
    out += kShowUsage;
    return ApiStatus::success;
  }
  if (rest.starts_with("as ") && !as_json && !as_xml && !rest.starts_with("as delim")) {
    out += "-ERR Cannot find format " + std::string(rest.substr(3)) + "\n";
    return ApiStatus::success;
  }
  if (what == "api") {
    // FreeSWITCH lists only commands that have a description.
    auto commands = sw.api().list();
    std::erase_if(commands, [](const ApiCommand& c) { return c.description.empty(); });
    if (as_json) {
      out += "{\"row_count\":" + std::to_string(commands.size()) + ",\"rows\":[";
      bool first = true;
      for (const auto& c : commands) {
        out += std::string(first ? "" : ",") + "{\"name\":\"" + c.name + "\",\"description\":\"" +
               c.description + "\",\"syntax\":\"" + c.syntax + "\",\"ikey\":\"mod_commands\"}";
        first = false;
      }
      out += "]}\n";
      return ApiStatus::success;
    }
    out += "name,description,syntax,ikey\n";
    for (const auto& c : commands) {
      out += c.name + "," + c.description + "," + c.syntax + ",mod_commands\n";
    }
    out += "\n" + std::to_string(commands.size()) + " total.\n";
    return ApiStatus::success;
  }
  if (what == "channels" || what == "calls" || what == "detailed_calls" ||
      what == "bridged_calls" || what == "detailed_bridged_calls" || what == "registrations") {
    // Rows: every channel for `channels` and `calls` (a call pairs bridged legs; until
    // bridging exists each channel is its own call with empty b_ columns).
    std::vector<std::string> columns;
    std::vector<std::vector<std::string>> rows;
    const bool listed = what == "channels" || what == "calls";
    if (listed) {
      const auto channels = sw.channels().list();
      for (const ChannelPtr& c : channels) {
        rows.push_back(show_channels_row(*c, sw.origin().hostname));
        if (!like.empty() && !row_is_like(rows.back(), like)) {
          rows.pop_back();
        }
      }
      for (std::string_view col : show_channels_columns()) {
        columns.emplace_back(col);
      }
      if (what == "calls") {
        rows = calls_rows(columns, rows);
        columns = calls_columns();
      }
    }
    if (rest.starts_with("count")) {
      out += "\n" + std::to_string(rows.size()) + " total.\n";
    } else if (rows.empty()) {
      if (as_json) {
        out += "{\"row_count\": 0}\n";
      } else if (as_xml) {
        out += "<result row_count=\"0\"/>\n";
      } else {
        out += "\n0 total.\n";
      }
    } else if (as_json) {
      out += "{\"row_count\":" + std::to_string(rows.size()) + ",\"rows\":[";
      for (std::size_t r = 0; r < rows.size(); ++r) {
        out += r == 0 ? "{" : ",{";
        for (std::size_t i = 0; i < columns.size(); ++i) {
          out += (i == 0 ? "\"" : ",\"") + columns[i] + "\":\"" + json_escape(rows[r][i]) + "\"";
        }
        out += "}";
      }
      out += "]}";
    } else if (as_xml) {
      out += "<result row_count=\"" + std::to_string(rows.size()) + "\">\n";
      for (std::size_t r = 0; r < rows.size(); ++r) {
        out += "  <row row_id=\"" + std::to_string(r + 1) + "\">\n";
        for (std::size_t i = 0; i < columns.size(); ++i) {
          out += "    <" + columns[i] + ">" + xml_escape(rows[r][i]) + "</" + columns[i] + ">\n";
        }
        out += "  </row>\n";
      }
      out += "</result>\n";
    } else {
      for (std::size_t i = 0; i < columns.size(); ++i) {
        out += (i == 0 ? "" : ",") + columns[i];
      }
      out += "\n";
      for (const auto& row : rows) {
        for (std::size_t i = 0; i < row.size(); ++i) {
          out += (i == 0 ? "" : ",") + row[i];
        }
        out += "\n";
      }
      out += "\n" + std::to_string(rows.size()) + " total.\n";
    }
    return ApiStatus::success;
  }
  out += kShowUsage;
  return ApiStatus::success;
}

ApiStatus help_command(Switch& sw, const ApiRequest& req, std::string& out) {
  if (req.args.empty()) {
    out += "\nValid Commands:\n\n";
  }
  for (const ApiCommand& c : sw.api().list()) {
    out += c.name + "," + c.syntax + "," + c.description + ",mod_commands\n";
  }
  return ApiStatus::success;
}

ApiStatus fsctl_command(Switch& sw, const ApiRequest& req, std::string& out) {
  std::string_view rest;
  const std::string_view what = first_word(req.args, &rest);
  constexpr std::string_view kUsage =
      "[loglevel [level]|max_sessions [n]|sps [n]|last_sps|hupall|shutdown [cancel]]";
  if (what.empty()) {
    out += "-USAGE: " + std::string(kUsage) + "\n";
    return ApiStatus::success;
  }
  if (what == "hupall") {
    out += "+OK\n";
    return ApiStatus::success;
  }
  if (what == "loglevel") {
    if (!rest.empty()) {
      if (auto level = parse_log_level(rest); level && *level >= 0) {
        sw.logger().set_console_level(static_cast<LogLevel>(std::min(*level, 7)));
      } else {
        out += "-ERR syntax error, log level not set!\n";
        return ApiStatus::success;
      }
    }
    out += "+OK log level: " + std::string(log_level_name(sw.logger().console_level())) + " [" +
           std::to_string(static_cast<int>(sw.logger().console_level())) + "]\n";
    return ApiStatus::success;
  }
  if (what == "shutdown") {
    // FreeSWITCH's variants (cancel, elegant, asap, now, restart) all stop the daemon here.
    if (rest == "cancel") {
      out += "+OK shutdown cancelled\n";
    } else if (sw.request_shutdown()) {
      out += "+OK\n";
    } else {
      out += "-ERR shutdown is not available in this process\n";
    }
    return ApiStatus::success;
  }
  if (what == "max_sessions") {
    if (!rest.empty()) {
      const int n = std::atoi(std::string(rest).c_str());
      if (n > 0) {
        sw.set_max_sessions(n);
      }
    }
    out += "+OK max sessions: " + std::to_string(sw.max_sessions()) + "\n";
    return ApiStatus::success;
  }
  if (what == "sps") {
    if (!rest.empty()) {
      const int n = std::atoi(std::string(rest).c_str());
      if (n > 0) {
        sw.set_sessions_per_second(n);
      }
    }
    out += "+OK sessions per second: " + std::to_string(sw.sessions_per_second()) + "\n";
    return ApiStatus::success;
  }
  if (what == "last_sps") {
    out += "+OK last sessions per second: 0\n";
    return ApiStatus::success;
  }
  out += "-ERR Invalid command\nUSAGE: fsctl " + std::string(kUsage) + "\n";
  return ApiStatus::success;
}

// `log <level> <message>`: an unknown level, or no space at all, logs the whole text at DEBUG.
ApiStatus log_command(Switch& sw, const ApiRequest& req, std::string& out) {
  std::string_view message = req.args;
  int level = 7;
  if (const std::size_t space = req.args.find(' '); space != std::string_view::npos) {
    const auto parsed = parse_log_level(req.args.substr(0, space));
    if (parsed && *parsed >= 0 && *parsed <= 7) {
      level = *parsed;
    }
    message = req.args.substr(space + 1);
  }
  // FreeSWITCH logs this on the session channel (Text-Channel 3), here without a session.
  sw.logger().log(static_cast<LogLevel>(level), "mod_commands.c", "log_function", 4270, message, {},
                  3);
  out += "+OK\n";
  return ApiStatus::success;
}

ApiStatus uuid_exists_command(Switch& sw, const ApiRequest& req, std::string& out) {
  out += (!req.args.empty() && sw.channels().find(first_word(req.args))) ? "true" : "false";
  return ApiStatus::success;
}

ApiStatus uuid_getvar_command(Switch& sw, const ApiRequest& req, std::string& out) {
  std::string_view name;
  const std::string_view uuid = first_word(req.args, &name);
  name = first_word(name);
  if (uuid.empty() || name.empty()) {
    out += "-USAGE: <uuid> <var>\n";
    return ApiStatus::success;
  }
  const ChannelPtr channel = sw.channels().find(uuid);
  if (!channel) {
    out += "-ERR No such channel!\n";
    return ApiStatus::success;
  }
  out += channel->variable(name).value_or("_undef_");
  return ApiStatus::success;
}

ApiStatus uuid_setvar_command(Switch& sw, const ApiRequest& req, std::string& out) {
  std::string_view rest;
  const std::string_view uuid = first_word(req.args, &rest);
  std::string_view value;
  const std::string_view name = first_word(rest, &value);
  if (uuid.empty() || name.empty()) {
    out += "-USAGE: <uuid> <var> [value]\n";
    return ApiStatus::success;
  }
  const ChannelPtr channel = sw.channels().find(uuid);
  if (!channel) {
    out += "-ERR No such channel!\n";
    return ApiStatus::success;
  }
  channel->set_variable(name, value);  // no value unsets, as FreeSWITCH
  out += "+OK\n";
  return ApiStatus::success;
}

// The modules eventsocket provides itself, under FreeSWITCH's names.
constexpr std::string_view kModules[] = {"mod_event_socket", "mod_commands", "mod_dptools",
                                         "mod_dialplan_xml", "mod_loopback", "mod_sofia",
                                         "mod_console",      "mod_logfile"};

bool is_builtin_module(std::string_view name) {
  for (std::string_view m : kModules) {
    if (name == m) {
      return true;
    }
  }
  return false;
}

ApiStatus load_command(Switch&, const ApiRequest& req, std::string& out) {
  if (req.args.empty()) {
    out += "-USAGE: <mod_name>\n";
    return ApiStatus::success;
  }
  out += "+OK Reloading XML\n";
  out += is_builtin_module(req.args) ? "-ERR [Module already loaded]\n"
                                     : "-ERR [module load file routine returned an error]\n";
  return ApiStatus::success;
}

ApiStatus unload_command(Switch&, const ApiRequest& req, std::string& out) {
  std::string_view name = req.args;
  if (name.starts_with("-f ")) {
    name.remove_prefix(3);
  }
  if (name.empty()) {
    out += "-USAGE: [-f] <mod_name>\n";
    return ApiStatus::success;
  }
  out += is_builtin_module(name) ? "-ERR [Module is not unloadable]\n" : "-ERR [No such module!]\n";
  return ApiStatus::success;
}

// `sofia status [profile <name>]`, as mod_sofia prints it for the vanilla profiles. There
// is no SIP stack: the profiles are the names of the simulated remote-party endpoint.
ApiStatus sofia_command(Switch& sw, const ApiRequest& req, std::string& out) {
  std::string_view rest;
  const std::string_view sub = first_word(req.args, &rest);
  auto profiles = sw.options().sip_profiles;
  const std::string rule(97, '=');
  const auto url = [](const SipProfile& p, int port) {
    return "sip:mod_sofia@" + p.ip + ":" + std::to_string(port);
  };
  if (sub == "status" && rest.empty()) {
    struct Row {
      std::string name, type, data, state;
    };
    std::vector<Row> rows;
    std::size_t aliases = 0;
    for (const auto& p : profiles) {
      rows.push_back({p.name, "profile", url(p, p.port), "RUNNING (0)"});
      if (!p.alias.empty()) {
        rows.push_back({p.alias, "alias", p.name, "ALIASED"});
        ++aliases;
      }
    }
    std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.name < b.name; });
    char line[512];
    std::snprintf(line, sizeof line, "%25s\t%s\t  %40s\t%s\n", "Name", "   Type", "Data", "State");
    out += line;
    out += rule + "\n";
    for (const Row& r : rows) {
      std::snprintf(line, sizeof line, "%25s\t%7s\t  %40s\t%s\n", r.name.c_str(), r.type.c_str(),
                    r.data.c_str(), r.state.c_str());
      out += line;
    }
    out += rule + "\n";
    out += std::to_string(profiles.size()) + " profile" + (profiles.size() == 1 ? "" : "s") + " " +
           std::to_string(aliases) + " alias" + (aliases == 1 ? "" : "es") + "\n";
    return ApiStatus::success;
  }
  if (sub == "status") {
    std::string_view name;
    const std::string_view kind = first_word(rest, &name);
    for (const auto& p : profiles) {
      if (kind == "profile" &&
          (first_word(name) == p.name || (!p.alias.empty() && first_word(name) == p.alias))) {
        auto row = [&](std::string_view key, const std::string& value) {
          std::string k(key);
          k.resize(std::max<std::size_t>(k.size(), 17), ' ');
          out += k + "\t" + value + "\n";
        };
        out += rule + "\n";
        row("Name", p.name);
        row("Domain Name", "N/A");
        row("Auto-NAT", "false");
        row("DBName", "sofia_reg_" + p.name);
        row("Pres Hosts", p.ip + "," + p.ip);
        row("Dialplan", "XML");
        row("Context", p.context);
        row("Challenge Realm", "auto_from");
        row("RTP-IP", p.ip);
        row("Ext-RTP-IP", p.ip);
        row("SIP-IP", p.ip);
        row("Ext-SIP-IP", p.ip);
        row("URL", url(p, p.port));
        row("BIND-URL", url(p, p.port) + ";maddr=" + p.ip + ";transport=udp,tcp");
        if (p.ws_port != 0) {
          out += "WS-BIND-URL     \t" + url(p, p.ws_port) + ";transport=ws\n";
        }
        if (p.wss_port != 0) {
          out += "WSS-BIND-URL     \tsips:mod_sofia@" + p.ip + ":" + std::to_string(p.wss_port) +
                 ";transport=wss\n";
        }
        row("HOLD-MUSIC", "local_stream://moh");
        row("OUTBOUND-PROXY", "N/A");
        row("CODECS IN", "OPUS,G722,PCMU,PCMA,H264,VP8");
        row("CODECS OUT", "OPUS,G722,PCMU,PCMA,H264,VP8");
        row("TEL-EVENT", "101");
        row("DTMF-MODE", "rfc2833");
        row("CNG", "13");
        row("SESSION-TO", "0");
        row("MAX-DIALOG", "0");
        row("MAX-RECV-RPS", "1000");
        row("NOMEDIA", "false");
        row("LATE-NEG", "true");
        row("PROXY-MEDIA", "false");
        row("AGGRESSIVENAT", "false");
        row("CALLS-IN", "0");
        row("FAILED-CALLS-IN", "0");
        row("CALLS-OUT", "0");
        row("FAILED-CALLS-OUT", "0");
        row("REGISTRATIONS", "0");
        return ApiStatus::success;
      }
    }
    out += "Invalid Profile!\n";
    return ApiStatus::success;
  }
  if (sub.empty()) {
    out +=
        "Usage: sofia status|xmlstatus|profile|gateway|loglevel|tracelevel|global|recover|help\n";
    return ApiStatus::success;
  }
  out += "Unknown Command [" + std::string(sub) + "]\n";
  return ApiStatus::success;
}

ApiStatus module_exists_command(Switch&, const ApiRequest& req, std::string& out) {
  if (!req.args.empty()) {
    out += is_builtin_module(req.args) ? "true" : "false";
  }
  return ApiStatus::success;
}

}  // namespace

void register_builtin_commands(Switch& sw) {
  ApiRegistry& api = sw.api();
  api.add("status", "Show current status", "", status_command);
  api.add("version", "Version", "[short]", version_command);
  api.add("uptime", "Show uptime",
          "[us|ms|s|m|h|d|microseconds|milliseconds|seconds|minutes|hours|days]", uptime_command);
  api.add("msleep", "Sleep N milliseconds", "<milliseconds>", msleep_command, ApiSpeed::may_block);
  api.add("echo", "Echo", "<data>", echo_command);
  api.add("hostname", "Return the system hostname", "", hostname_command);
  api.add("eval", "eval (noop)", "[uuid:<uuid> ]<expression>", eval_command);
  api.add("global_getvar", "Get global var", "<var>", global_getvar_command);
  api.add("global_setvar", "Set global var", "<var>=<value> [=<value2>]", global_setvar_command);
  api.add("event", "Fire an event", "<event_name> [<header>=<value>,...]", event_command);
  api.add("bgapi", "Execute an api command in a thread", "<command>[ <arg>]", bgapi_command);
  api.add("module_exists", "Check if module exists", "<module>", module_exists_command);
  api.add("show", "Show various reports", "codec|endpoint|application|api|channels|calls",
          show_command);
  api.add("help", "Show help for all the api commands", "", help_command);
  api.add("fsctl", "FS control messages", "[loglevel [level]|max_sessions|sps|last_sps]",
          fsctl_command);
  api.add("log", "Log", "<level> <message>", log_command);
  api.add("sofia", "Sofia SIP stack control", "status [profile <name>]", sofia_command);
  api.add("uuid_exists", "Check if a uuid exists", "<uuid>", uuid_exists_command);
  api.add("uuid_getvar", "Get a variable from a channel", "<uuid> <var>", uuid_getvar_command);
  api.add("uuid_setvar", "Set a variable", "<uuid> <var> [value]", uuid_setvar_command);
  api.add("load", "Load Module", "<mod_name>", load_command);
  api.add("unload", "Unload Module", "[-f] <mod_name>", unload_command);
}

}  // namespace eventsocket::core
