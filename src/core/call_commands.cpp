// The call-control API commands (mod_commands): originate, uuid_*, sched_*, hupall, with
// FreeSWITCH's replies.
#include <charconv>

#include "eventsocket/core/calls.hpp"
#include "eventsocket/core/switch.hpp"
#include "eventsocket/event/codec.hpp"

namespace eventsocket::core {
namespace {

std::vector<std::string> args_of(std::string_view text) {
  return split_api_args(text, ' ');
}

ApiStatus usage(std::string& out, std::string_view text) {
  out += "-USAGE: " + std::string(text) + "\n";
  return ApiStatus::success;
}

ApiStatus no_channel(std::string& out) {
  out += "-ERR No such channel!\n";
  return ApiStatus::success;
}

std::optional<long long> to_number(std::string_view s) {
  long long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size())
    return std::nullopt;
  return v;
}

std::string cause_from(std::string_view text, std::string_view fallback) {
  const auto cause = hangup_cause_from_text(text);
  return std::string(cause ? cause->name : fallback);
}

constexpr std::string_view kOriginateSyntax =
    "<call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] [<cid_name>] "
    "[<cid_num>] [<timeout_sec>]";

ApiStatus originate_command(Switch& sw, const ApiRequest& req, std::string& out) {
  OriginateArgsResult args = parse_originate_args(req.args);
  if (!args.value) {
    if (args.error.starts_with("-USAGE")) {
      out += args.error + (args.error.ends_with('\n') ? "" : "\n");
    } else {
      out += "-ERR " + args.error + "\n";
    }
    return ApiStatus::success;
  }
  DialStringResult dial = parse_dial_string(args.value->dial_string);
  if (!dial.value) {
    out += "-ERR INVALID_NUMBER_FORMAT\n";
    sw.logger().log(LogLevel::err, "mod_commands.c", "originate_function", 5050,
                    "Invalid dial string: " + dial.error);
    return ApiStatus::success;
  }
  OriginateRequest request;
  request.dial = std::move(*dial.value);
  request.application = args.value->application;
  request.application_data = args.value->application_data;
  request.extension = args.value->extension;
  request.dialplan = args.value->dialplan;
  request.context = args.value->context;
  request.caller_id_name = args.value->caller_id_name;
  request.caller_id_number = args.value->caller_id_number;
  request.timeout = std::chrono::seconds(std::max(1, args.value->timeout_seconds));
  const OriginateResult result = sw.calls().originate(request);
  if (result.uuid.empty()) {
    out += "-ERR " + result.cause + "\n";
  } else {
    out += "+OK " + result.uuid + "\n";
  }
  return ApiStatus::success;
}

ApiStatus uuid_kill_command(Switch& sw, const ApiRequest& req, std::string& out) {
  const auto a = args_of(req.args);
  if (a.empty())
    return usage(out, "<uuid> [cause]");
  ChannelPtr channel = sw.channels().find(a[0]);
  bool hanging_up = false;
  if (channel) {
    channel->control([&](Channel::Control& c, ChannelData&) {
      hanging_up = c.hangup;
      return 0;
    });
  }
  // A channel already on its way out is gone for uuid_kill (capture 15: the second kill).
  if (!channel || hanging_up)
    return no_channel(out);
  const std::string cause = a.size() > 1 ? cause_from(a[1], "NORMAL_CLEARING") : "NORMAL_CLEARING";
  sw.calls().hangup(channel, cause);
  out += "+OK\n";
  return ApiStatus::success;
}

ApiStatus uuid_answer_command(Switch& sw, const ApiRequest& req, std::string& out) {
  const auto a = args_of(req.args);
  if (a.empty())
    return usage(out, "<uuid>");
  ChannelPtr channel = sw.channels().find(a[0]);
  if (!channel)
    return no_channel(out);
  sw.calls().answer(channel);
  out += "+OK\n";
  return ApiStatus::success;
}

ApiStatus uuid_bridge_command(Switch& sw, const ApiRequest& req, std::string& out) {
  const auto a = args_of(req.args);
  if (a.size() != 2)
    return usage(out, "<uuid> <other_uuid>");
  out += sw.calls().bridge(a[0], a[1]);
  return ApiStatus::success;
}

ApiStatus uuid_transfer_command(Switch& sw, const ApiRequest& req, std::string& out) {
  auto a = args_of(req.args);
  if (!a.empty() && (a[0] == "-bleg" || a[0] == "-both")) {
    a.erase(a.begin());  // the b-leg of a bridge is transferred as the channel itself here
  }
  if (a.size() < 2)
    return usage(out, "[-bleg|-both] <uuid> <dest-exten> [<dialplan>] [<context>]");
  if (!sw.channels().find(a[0]))
    return no_channel(out);
  if (!sw.calls().transfer(a[0], a[1], a.size() > 2 ? a[2] : "", a.size() > 3 ? a[3] : "")) {
    out += "-ERR Transfer failed\n";
    return ApiStatus::success;
  }
  out += "+OK\n";
  return ApiStatus::success;
}

ApiStatus uuid_park_command(Switch& sw, const ApiRequest& req, std::string& out) {
  const auto a = args_of(req.args);
  if (a.empty())
    return usage(out, "<uuid>");
  if (!sw.calls().park(a[0]))
    return no_channel(out);
  out += "+OK\n";
  return ApiStatus::success;
}

ApiStatus uuid_break_command(Switch& sw, const ApiRequest& req, std::string& out) {
  const auto a = args_of(req.args);
  if (a.empty())
    return usage(out, "<uuid> [all]");
  if (!sw.calls().interrupt(a[0], a.size() > 1 && a[1] == "all"))
    return no_channel(out);
  out += "+OK\n";
  return ApiStatus::success;
}

ApiStatus uuid_broadcast_command(Switch& sw, const ApiRequest& req, std::string& out) {
  const auto a = args_of(req.args);
  if (a.size() < 2)
    return usage(out, "<uuid> <path> [aleg|bleg|holdb|both]");
  Channel::QueuedApplication app;
  // "app::args" runs an application, anything else is played.
  if (const std::size_t sep = a[1].find("::"); sep != std::string::npos) {
    app.application = a[1].substr(0, sep);
    app.data = a[1].substr(sep + 2);
  } else {
    app.application = "playback";
    app.data = a[1];
  }
  ChannelPtr channel = sw.channels().find(a[0]);
  if (!channel)
    return no_channel(out);
  // aleg (the default): the channel itself; bleg: the leg it is bridged to; both.
  const std::string legs = a.size() > 2 ? a[2] : "aleg";
  std::string partner;
  channel->control([&](Channel::Control& c, ChannelData&) {
    partner = c.bridged ? c.partner : "";
    return 0;
  });
  if (legs != "bleg") {
    sw.calls().queue_application(channel->uuid(), app);
  }
  if ((legs == "bleg" || legs == "both") && !partner.empty()) {
    sw.calls().queue_application(partner, app);
  }
  out += "+OK Message sent\n";
  return ApiStatus::success;
}

ApiStatus uuid_setvar_multi_command(Switch& sw, const ApiRequest& req, std::string& out) {
  const std::size_t space = req.args.find(' ');
  if (req.args.empty() || space == std::string_view::npos) {
    return usage(out, "<uuid> <var>=<value>;<var>=<value>...");
  }
  ChannelPtr channel = sw.channels().find(req.args.substr(0, space));
  if (!channel)
    return no_channel(out);
  std::string_view rest = req.args.substr(space + 1);
  while (!rest.empty()) {
    const std::size_t semi = rest.find(';');
    const std::string_view item = rest.substr(0, semi);
    rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
    const std::size_t eq = item.find('=');
    if (item.empty())
      continue;
    if (eq == 0) {
      out += "-ERR No variable specified\n";
      return ApiStatus::success;
    }
    channel->set_variable(item.substr(0, eq),
                          eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1));
  }
  out += "+OK\n";
  return ApiStatus::success;
}

ApiStatus uuid_dump_command(Switch& sw, const ApiRequest& req, std::string& out) {
  const auto a = args_of(req.args);
  if (a.empty())
    return usage(out, "<uuid> [format]");
  ChannelPtr channel = sw.channels().find(a[0]);
  if (!channel)
    return no_channel(out);
  // FreeSWITCH dumps a CHANNEL_DATA event: standard headers, then the channel's.
  event::Event dump =
      sw.make_event(event::EventType::CHANNEL_DATA, {"mod_commands.c", "uuid_dump_function", 5711});
  channel->add_event_headers(dump);
  const bool json = a.size() > 1 && a[1] == "json";
  const bool xml = a.size() > 1 && a[1] == "xml";
  event::encode(
      dump,
      json ? wire::EventFormat::json : (xml ? wire::EventFormat::xml : wire::EventFormat::plain),
      out);
  return ApiStatus::success;
}

ApiStatus uuid_hold_command(Switch& sw, const ApiRequest& req, std::string& out) {
  auto a = args_of(req.args);
  std::optional<bool> mode = true;
  if (!a.empty() && a[0] == "off") {
    mode = false;
    a.erase(a.begin());
  } else if (!a.empty() && a[0] == "toggle") {
    mode.reset();
    a.erase(a.begin());
  }
  if (a.empty())
    return usage(out, "[off|toggle] <uuid> [<display>]");
  if (!sw.calls().hold(a[0], mode))
    return no_channel(out);
  out += "+OK Success\n";
  return ApiStatus::success;
}

ApiStatus uuid_send_dtmf_command(Switch& sw, const ApiRequest& req, std::string& out) {
  const auto a = args_of(req.args);
  if (a.size() < 2)
    return usage(out, "<uuid> <dtmf_data>");
  // The digits are sent to the far end: the loopback twin or the bridged leg hears them.
  ChannelPtr channel = sw.channels().find(a[0]);
  if (!channel)
    return no_channel(out);
  std::string other;
  channel->control([&](Channel::Control& c, ChannelData&) {
    other = c.partner;
    return 0;
  });
  if (!other.empty()) {
    sw.calls().receive_dtmf(other, a[1]);
  }
  out += "+OK Success\n";
  return ApiStatus::success;
}

// `[+@]<time>`: seconds from now, at a time of day... (`@` repeats in FreeSWITCH; here it
// means every <time> seconds), or an absolute epoch.
std::optional<std::chrono::system_clock::time_point> when_from(std::string_view text,
                                                               bool* repeat = nullptr) {
  bool relative = false;
  if (!text.empty() && (text[0] == '+' || text[0] == '@')) {
    relative = true;
    if (repeat != nullptr)
      *repeat = text[0] == '@';
    text.remove_prefix(1);
  }
  const auto n = to_number(text);
  // Past ~290 years the nanosecond time point overflows (found by the long session fuzz run:
  // `sched_api +299999999999 ...`); a hundred years is "never" enough.
  constexpr long long kMaxSeconds = 100LL * 366 * 24 * 3600;
  const long long limit = relative ? kMaxSeconds
                                   : std::chrono::duration_cast<std::chrono::seconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                             .count() +
                                         kMaxSeconds;
  if (!n || *n < 0 || *n > limit)
    return std::nullopt;
  return relative ? std::chrono::system_clock::now() + std::chrono::seconds(*n)
                  : std::chrono::system_clock::time_point(std::chrono::seconds(*n));
}

ApiStatus sched_api_command(Switch& sw, const ApiRequest& req, std::string& out) {
  std::string_view rest = req.args;
  auto next = [&]() {
    const std::size_t space = rest.find(' ');
    std::string_view word = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1);
    while (!rest.empty() && rest.front() == ' ')
      rest.remove_prefix(1);
    return word;
  };
  const std::string_view time_text = next();
  const std::string_view group = next();
  std::string command(rest);
  const auto when = when_from(time_text);
  if (!when || group.empty() || command.empty()) {
    out += "-ERR Invalid syntax. USAGE: [+@]<time> <group_name> <command_string>[&]\n";
    return ApiStatus::success;
  }
  const bool background = command.ends_with('&');
  if (background)
    command.pop_back();
  const std::size_t space = command.find(' ');
  const std::string name = command.substr(0, space);
  const std::string args = space == std::string::npos ? "" : command.substr(space + 1);
  Switch* core = &sw;
  const std::uint64_t id = sw.calls().schedule(*when, std::string(group), [core, name, args] {
    (void)core->jobs().try_submit([core, name, args] { core->execute_api(name, args); });
  });
  out += "+OK Added: " + std::to_string(id) + "\n";
  return ApiStatus::success;
}

ApiStatus sched_del_command(Switch& sw, const ApiRequest& req, std::string& out) {
  if (req.args.empty())
    return usage(out, "<task_id>|<group_id>");
  out += "+OK Deleted: " + std::to_string(sw.calls().cancel_scheduled(req.args)) + "\n";
  return ApiStatus::success;
}

ApiStatus sched_hangup_command(Switch& sw, const ApiRequest& req, std::string& out) {
  const auto a = args_of(req.args);
  const auto when = a.size() >= 2 ? when_from(a[0]) : std::nullopt;
  if (!when)
    return usage(out, "[+]<time> <uuid> [<cause>]");
  if (!sw.channels().find(a[1]))
    return no_channel(out);
  const std::string uuid = a[1];
  const std::string cause =
      a.size() > 2 ? cause_from(a[2], "ALLOTTED_TIMEOUT") : "ALLOTTED_TIMEOUT";
  CallEngine* calls = &sw.calls();
  sw.calls().schedule(*when, uuid, [calls, uuid, cause] { calls->hangup(uuid, cause); });
  out += "+OK\n";
  return ApiStatus::success;
}

ApiStatus hupall_command(Switch& sw, const ApiRequest& req, std::string& out) {
  const auto a = args_of(req.args);
  const std::string cause = a.empty() ? "MANAGER_REQUEST" : cause_from(a[0], "MANAGER_REQUEST");
  const std::string var = a.size() > 1 ? a[1] : "";
  const std::string value = a.size() > 2 ? a[2] : "";
  for (const ChannelPtr& channel : sw.channels().list()) {
    if (!var.empty() && channel->variable(var).value_or("") != value) {
      continue;
    }
    sw.calls().hangup(channel, cause);
  }
  if (var.empty()) {
    out += "+OK hangup all channels with cause " + cause + "\n";
  } else {
    out += "+OK hangup all channels matching [" + var + "]=[" + value + "] with cause: " + cause +
           "\n";
  }
  return ApiStatus::success;
}

}  // namespace

void register_call_commands(Switch& sw) {
  ApiRegistry& api = sw.api();
  api.add("originate", "Originate a call", std::string(kOriginateSyntax), originate_command,
          ApiSpeed::may_block);
  api.add("uuid_kill", "Kill channel", "<uuid> [cause]", uuid_kill_command);
  api.add("uuid_answer", "answer", "<uuid>", uuid_answer_command);
  api.add("uuid_bridge", "Bridge call legs", "<uuid> <other_uuid>", uuid_bridge_command);
  api.add("uuid_transfer", "Transfer a session",
          "[-bleg|-both] <uuid> <dest-exten> [<dialplan>] [<context>]", uuid_transfer_command);
  api.add("uuid_park", "Park channel", "<uuid>", uuid_park_command);
  api.add("uuid_break", "Break out of media sent to channel", "<uuid> [all]", uuid_break_command);
  api.add("uuid_broadcast", "Execute dialplan application", "<uuid> <path> [aleg|bleg|holdb|both]",
          uuid_broadcast_command);
  api.add("uuid_setvar_multi", "Set multiple variables", "<uuid> <var>=<value>;<var>=<value>...",
          uuid_setvar_multi_command);
  api.add("uuid_dump", "Dump session vars", "<uuid> [format]", uuid_dump_command);
  api.add("uuid_hold", "Place call on hold", "[off|toggle] <uuid> [<display>]", uuid_hold_command);
  api.add("uuid_send_dtmf", "Send dtmf digits", "<uuid> <dtmf_data>", uuid_send_dtmf_command);
  api.add("sched_api", "Schedule an api command", "[+@]<time> <group_name> <command_string>[&]",
          sched_api_command);
  api.add("sched_del", "Delete a scheduled task", "<task_id>|<group_id>", sched_del_command);
  api.add("sched_hangup", "Schedule a running call to hangup", "[+]<time> <uuid> [<cause>]",
          sched_hangup_command);
  api.add("hupall", "hupall", "<cause> [<var> <value>]", hupall_command);
}

}  // namespace eventsocket::core
