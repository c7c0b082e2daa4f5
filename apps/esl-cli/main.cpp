// esl-cli: a command-line Event Socket client in the spirit of fs_cli.
//
//   esl-cli [-H host] [-P port] [-p password] [-u user@domain] [-x command]... [--json]
//
// Profiles, as fs_cli.conf has them, come from ~/.esl-cli (or --config FILE):
//   [default]              host => 127.0.0.1
//   [office]               port => 8021, password => ..., user => 1000@example.com
// `esl-cli office` uses [office] (on top of [default]); flags given on the line win.
//
// With -x it runs each command as `api <command>` (a leading `/` gives a console command, see
// /help), prints the results and exits: 0 when every reply was positive, 1 otherwise, 2 when
// it could not connect. Without -x it is an interactive console (libedit: history in
// ~/.esl-cli_history, Tab completes API command names and console commands); events and log
// lines are printed as they arrive. --json prints one JSON object per line instead of text.
#include <editline/readline.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "eventsocket/client/blocking.hpp"
#include "eventsocket/event/codec.hpp"

namespace {

using eventsocket::client::BlockingConnection;
using eventsocket::client::ClientError;
using eventsocket::client::ConnectOptions;
using eventsocket::client::Reply;

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char hex[8];
          std::snprintf(hex, sizeof hex, "\\u%04x", c);
          out += hex;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

const char* kHelp =
    "Commands:\n"
    "  <api command> [args]       run an API command (e.g. status, show channels)\n"
    "  /event <plain|json|xml> <names>  subscribe to events (e.g. /event plain ALL)\n"
    "  /noevents                  stop all events\n"
    "  /nixevent <names>          unsubscribe from some events\n"
    "  /filter <header> <value>   only events with that header value (/filter delete ...)\n"
    "  /log <level>               receive log lines up to that level (0-7 or a name)\n"
    "  /nolog                     stop log lines\n"
    "  /help                      this text\n"
    "  /exit, /quit, /bye         leave\n";

// What a console line becomes: the Event Socket command, or nothing (help, exit).
struct Line {
  std::string command;  // "" when handled locally
  bool exit = false;
  bool help = false;
};

Line translate(const std::string& input) {
  Line l;
  if (input.empty() || input[0] != '/') {
    l.command = "api " + input;
    return l;
  }
  const std::string word = input.substr(1, input.find(' ') - 1);
  const std::string rest =
      input.find(' ') == std::string::npos ? "" : input.substr(input.find(' ') + 1);
  if (word == "exit" || word == "quit" || word == "bye") {
    l.exit = true;
  } else if (word == "help") {
    l.help = true;
  } else if (word == "event" || word == "nixevent" || word == "filter" || word == "log") {
    l.command = word + (rest.empty() ? "" : " " + rest);
  } else if (word == "noevents" || word == "nolog") {
    l.command = word;
  } else {
    l.help = true;
  }
  return l;
}

// What to print for a reply: the body of an api/response, else its Reply-Text; always
// ending with a line break (`echo` has none of its own), as fs_cli prints.
std::string reply_text(const Reply& r) {
  std::string text = r.content_type == "api/response" ? r.body : r.text();
  if (text.empty() || text.back() != '\n') {
    text += '\n';
  }
  return text;
}

// Console colours by log level, as fs_cli shows them.
const char* level_colour(int level) {
  switch (level) {
    case 0:
    case 1:
    case 2:
    case 3:
      return "\033[31m";  // red
    case 4:
      return "\033[35m";  // magenta
    case 5:
      return "\033[36m";  // cyan
    case 6:
      return "\033[32m";  // green
    default:
      return "\033[33m";  // yellow
  }
}

std::vector<std::string> completion_words;

char* complete_word(const char* text, int state) {
  static std::size_t index;
  if (state == 0) {
    index = 0;
  }
  const std::size_t n = std::strlen(text);
  while (index < completion_words.size()) {
    const std::string& w = completion_words[index++];
    if (w.compare(0, n, text) == 0) {
      return strdup(w.c_str());
    }
  }
  return nullptr;
}

char** complete(const char* text, int start, int) {
  rl_attempted_completion_over = 1;
  if (start != 0) {
    return nullptr;  // only the first word: API command names and console commands
  }
  return rl_completion_matches(text, complete_word);
}

// `[name]` sections of `key => value` (or `key = value`) lines; `;` and `#` start comments.
std::map<std::string, std::map<std::string, std::string>> read_profiles(const std::string& path) {
  std::map<std::string, std::map<std::string, std::string>> profiles;
  std::ifstream in(path);
  std::string line;
  std::string section = "default";
  auto trim = [](std::string t) {
    const auto b = t.find_first_not_of(" \t\r");
    const auto e = t.find_last_not_of(" \t\r");
    return b == std::string::npos ? std::string() : t.substr(b, e - b + 1);
  };
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.empty() || line[0] == ';' || line[0] == '#') {
      continue;
    }
    if (line.front() == '[' && line.back() == ']') {
      section = trim(line.substr(1, line.size() - 2));
      continue;
    }
    std::size_t sep = line.find("=>");
    std::size_t skip = 2;
    if (sep == std::string::npos) {
      sep = line.find('=');
      skip = 1;
    }
    if (sep != std::string::npos) {
      profiles[section][trim(line.substr(0, sep))] = trim(line.substr(sep + skip));
    }
  }
  return profiles;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"esl-cli: an Event Socket client (eventsocketd or FreeSWITCH)"};
  ConnectOptions options;
  std::string host = "127.0.0.1";
  int port = 8021;
  std::vector<std::string> commands;
  bool json = false;
  int timeout_s = 30;
  app.add_option("-H,--host", host, "server address");
  app.add_option("-P,--port", port, "server port")->check(CLI::Range(1, 65535));
  app.add_option("-p,--password", options.password, "password (ClueCon)");
  app.add_option("-u,--user", options.user, "user@domain: userauth instead of auth");
  app.add_option("-x,--execute", commands, "run this command and exit (repeatable)");
  app.add_flag("--json", json, "print JSON lines (for scripts)");
  app.add_option("-t,--timeout", timeout_s, "seconds to wait for each reply")
      ->check(CLI::Range(1, 3600));
  std::string profile = "default";
  std::string config = std::string(std::getenv("HOME") ? std::getenv("HOME") : ".") + "/.esl-cli";
  app.add_option("profile", profile, "a [section] of the profile file");
  app.add_option("--config", config, "profile file (~/.esl-cli)");
  CLI11_PARSE(app, argc, argv);
  {
    const auto profiles = read_profiles(config);
    if (profile != "default" && !profiles.contains(profile)) {
      std::cerr << "esl-cli: no profile [" << profile << "] in " << config << "\n";
      return 2;
    }
    // [default] first, then the chosen profile; a flag given on the line wins over both.
    for (const std::string& name : {std::string("default"), profile}) {
      const auto it = profiles.find(name);
      if (it == profiles.end()) {
        continue;
      }
      for (const auto& [key, value] : it->second) {
        if (key == "host" && !app.count("-H")) {
          host = value;
        } else if (key == "port" && !app.count("-P")) {
          port = std::atoi(value.c_str());
        } else if (key == "password" && !app.count("-p")) {
          options.password = value;
        } else if (key == "user" && !app.count("-u")) {
          options.user = value;
        } else if (key == "timeout" && !app.count("-t")) {
          timeout_s = std::max(1, std::atoi(value.c_str()));
        }
      }
    }
    if (port < 1 || port > 65535) {
      std::cerr << "esl-cli: bad port " << port << "\n";
      return 2;
    }
  }
  options.host = host;
  options.port = static_cast<std::uint16_t>(port);
  options.timeout = std::chrono::seconds(std::min(timeout_s, 10));
  const auto command_timeout = std::chrono::milliseconds(std::chrono::seconds(timeout_s));

  std::unique_ptr<BlockingConnection> c;
  try {
    c = std::make_unique<BlockingConnection>(options);
  } catch (const ClientError& e) {
    if (json) {
      std::cout << "{\"error\":" << json_string(e.what()) << "}\n";
    } else {
      std::cerr << "esl-cli: " << e.what() << "\n";
    }
    return 2;
  }

  if (!commands.empty()) {
    int status = 0;
    for (const std::string& input : commands) {
      const Line l = translate(input);
      if (l.help) {
        std::cout << kHelp;
        continue;
      }
      if (l.exit) {
        break;
      }
      try {
        const Reply r = c->command(l.command, {}, {}, command_timeout);
        if (!r.ok()) {
          status = 1;
        }
        if (json) {
          std::cout << "{\"command\":" << json_string(input)
                    << ",\"ok\":" << (r.ok() ? "true" : "false") << ",\"reply\":"
                    << json_string(r.content_type == "api/response" ? r.body : r.text()) << "}\n";
        } else {
          std::cout << reply_text(r);
        }
      } catch (const ClientError& e) {
        status = 1;
        if (json) {
          std::cout << "{\"command\":" << json_string(input)
                    << ",\"error\":" << json_string(e.what()) << "}\n";
        } else {
          std::cerr << "esl-cli: " << e.what() << "\n";
        }
      }
    }
    return status;
  }

  // Interactive. API names for completion, from the server itself.
  try {
    const std::string list = c->api("show api", command_timeout);
    std::size_t pos = list.find('\n');  // skip the header row
    std::set<std::string> names;
    while (pos != std::string::npos && pos + 1 < list.size()) {
      const std::size_t end = list.find('\n', pos + 1);
      const std::string row = list.substr(pos + 1, end - pos - 1);
      const std::string name = row.substr(0, row.find(','));
      if (!name.empty() && name.find(' ') == std::string::npos) {
        names.insert(name);
      }
      pos = end;
    }
    completion_words.assign(names.begin(), names.end());
  } catch (const ClientError&) {
  }
  for (const char* w : {"/event", "/noevents", "/nixevent", "/filter", "/log", "/nolog", "/help",
                        "/exit", "/quit", "/bye"}) {
    completion_words.emplace_back(w);
  }
  rl_attempted_completion_function = complete;
  const std::string history =
      std::string(std::getenv("HOME") ? std::getenv("HOME") : ".") + "/.esl-cli_history";
  read_history(history.c_str());

  std::mutex out;
  std::atomic<bool> running{true};
  // Events and log lines as they arrive (polled: the connection is shared with the prompt).
  std::thread printer([&] {
    while (running) {
      try {
        if (auto e = c->next_event(std::chrono::milliseconds(100))) {
          std::string text;
          eventsocket::event::encode(
              *e,
              json ? eventsocket::wire::EventFormat::json : eventsocket::wire::EventFormat::plain,
              text);
          std::lock_guard lock(out);
          std::cout << "\n" << text << (json ? "\n" : "") << std::flush;
        }
        while (auto l = c->next_log(std::chrono::milliseconds(0))) {
          std::lock_guard lock(out);
          std::cout << level_colour(l->level) << l->text << "\033[0m" << std::flush;
        }
      } catch (const ClientError&) {
        running = false;
      }
    }
  });

  const std::string prompt = "esl-cli@" + host + ":" + std::to_string(port) + "> ";
  int status = 0;
  while (running) {
    char* raw = readline(prompt.c_str());
    if (raw == nullptr) {
      break;  // end of input
    }
    std::string input(raw);
    std::free(raw);
    while (!input.empty() && (input.back() == ' ' || input.back() == '\t')) {
      input.pop_back();
    }
    if (input.empty()) {
      continue;
    }
    add_history(input.c_str());
    const Line l = translate(input);
    if (l.exit) {
      break;
    }
    if (l.help) {
      std::lock_guard lock(out);
      std::cout << kHelp;
      continue;
    }
    try {
      const Reply r = c->command(l.command, {}, {}, command_timeout);
      std::lock_guard lock(out);
      std::cout << reply_text(r) << std::flush;
    } catch (const ClientError& e) {
      std::lock_guard lock(out);
      std::cerr << "esl-cli: " << e.what() << "\n";
      if (!c->connected()) {
        status = 1;
        break;
      }
    }
  }
  running = false;
  printer.join();
  write_history(history.c_str());
  return status;
}
