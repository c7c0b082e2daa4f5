#include "eventsocket/server/config.hpp"

#include <pugixml.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "eventsocket/acl/switch_true.hpp"
#include "eventsocket/wire/message.hpp"

namespace eventsocket::server {

bool switch_true(std::string_view value) {
  return acl::parse_switch_bool(value);
}

std::optional<EventSocketSettings> parse_event_socket_conf(std::string_view xml,
                                                           std::vector<std::string>* warnings) {
  auto warn = [&](std::string text) {
    if (warnings != nullptr) {
      warnings->push_back(std::move(text));
    }
  };
  pugi::xml_document doc;
  const auto parsed = doc.load_buffer(xml.data(), xml.size());
  if (!parsed) {
    warn(std::string("event_socket.conf.xml: ") + parsed.description() + " at byte " +
         std::to_string(parsed.offset));
    return std::nullopt;
  }
  pugi::xml_node config = doc.child("configuration");
  if (!config) {
    // The file may also be a whole FreeSWITCH document with <configuration> deeper down.
    config = doc.find_node([](pugi::xml_node n) {
      return std::string_view(n.name()) == "configuration" &&
             std::string_view(n.attribute("name").value()) == "event_socket.conf";
    });
  }
  EventSocketSettings s;
  for (pugi::xml_node param : config.child("settings").children("param")) {
    const std::string_view name = param.attribute("name").value();
    const std::string_view value = param.attribute("value").value();
    if (name == "listen-ip") {
      if (!value.empty()) {
        s.listen_ip = value;
      }
    } else if (name == "listen-port") {
      const int port = std::atoi(std::string(value).c_str());
      if (port != 0) {
        s.listen_port = port;
      }
    } else if (name == "password") {
      if (!value.empty()) {
        s.password = value;
      }
    } else if (wire::iequals(name, "apply-inbound-acl")) {
      if (value.empty()) {
        continue;
      }
      if (s.apply_inbound_acl.size() >= 100) {
        warn("event_socket.conf.xml: more than 100 apply-inbound-acl entries, ignoring " +
             std::string(value));
        continue;
      }
      s.apply_inbound_acl.emplace_back(value);
    } else if (wire::iequals(name, "stop-on-bind-error")) {
      s.stop_on_bind_error = switch_true(value);
    } else if (name == "debug") {
      s.debug = std::atoi(std::string(value).c_str());
    } else if (name == "nat-map") {
      s.nat_map = false;  // FreeSWITCH parses it, then forces it off
    } else if (name == "max-connections") {
      if (auto n = parse_byte_size(value);
          n && *n > 0 && value.find_first_of("kKmMgG") == std::string_view::npos) {
        s.max_connections = *n;
      } else {
        warn("event_socket.conf.xml: max-connections must be a positive number, not \"" +
             std::string(value) + "\"");
      }
    } else if (name == "auth-timeout-ms") {
      if (auto n = parse_rate(value); n && *n >= 1 && *n <= 3600000) {
        s.auth_timeout_ms = static_cast<int>(*n);
      } else {
        warn("event_socket.conf.xml: auth-timeout-ms must be 1..3600000, not \"" +
             std::string(value) + "\"");
      }
    } else if (name == "login-timeout-ms") {
      if (auto n = parse_rate(value); n && *n <= 86400000) {
        s.login_timeout_ms = static_cast<int>(*n);
      } else {
        warn("event_socket.conf.xml: login-timeout-ms must be 0..86400000, not \"" +
             std::string(value) + "\"");
      }
    } else if (name == "connection-rate-per-ip" || name == "command-rate") {
      if (auto n = parse_rate(value)) {
        (name == "command-rate" ? s.command_rate : s.connection_rate_per_ip) = *n;
      } else {
        warn("event_socket.conf.xml: " + std::string(name) +
             " must be a number of per second (0: no limit), not \"" + std::string(value) + "\"");
      }
    } else if (name == "event-queue-bytes") {
      if (auto n = parse_byte_size(value); n && *n >= 1024) {
        s.event_queue_bytes = *n;
      } else {
        warn(
            "event_socket.conf.xml: event-queue-bytes must be at least 1024 (k, m, g "
            "suffixes allowed), not \"" +
            std::string(value) + "\"");
      }
    } else if (name == "limit-log-interval") {
      if (auto n = parse_rate(value); n && *n >= 1 && *n <= 86400) {
        s.limit_log_interval = static_cast<int>(*n);
      } else {
        warn("event_socket.conf.xml: limit-log-interval must be 1..86400 seconds, not \"" +
             std::string(value) + "\"");
      }
    } else if (name == "stats-listen") {
      s.stats_listen = value;
    }
  }
  return s;
}

std::optional<std::size_t> parse_byte_size(std::string_view text) {
  if (text.empty() || text.size() > 24) {
    return std::nullopt;
  }
  std::size_t shift = 0;
  switch (text.back()) {
    case 'k':
    case 'K':
      shift = 10;
      break;
    case 'm':
    case 'M':
      shift = 20;
      break;
    case 'g':
    case 'G':
      shift = 30;
      break;
    default:
      break;
  }
  if (shift != 0) {
    text.remove_suffix(1);
  }
  if (text.empty()) {
    return std::nullopt;
  }
  std::size_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    if (value > (std::numeric_limits<std::size_t>::max() >> (shift + 4))) {
      return std::nullopt;  // would overflow
    }
    value = value * 10 + static_cast<std::size_t>(c - '0');
  }
  return value << shift;
}

std::optional<double> parse_rate(std::string_view text) {
  if (text.empty() || text.size() > 24 ||
      text.find_first_not_of("0123456789.") != std::string_view::npos) {
    return std::nullopt;
  }
  char* end = nullptr;
  const std::string copy(text);
  const double value = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || !(value >= 0) || value > 1e9) {
    return std::nullopt;
  }
  return value;
}

std::optional<SwitchSettings> parse_switch_conf(std::string_view xml,
                                                std::vector<std::string>* warnings) {
  pugi::xml_document doc;
  const auto parsed = doc.load_buffer(xml.data(), xml.size());
  if (!parsed) {
    if (warnings != nullptr) {
      warnings->push_back(std::string("switch.conf.xml: ") + parsed.description());
    }
    return std::nullopt;
  }
  pugi::xml_node config = doc.find_node([](pugi::xml_node n) {
    return std::string_view(n.name()) == "configuration" &&
           std::string_view(n.attribute("name").value()) == "switch.conf";
  });
  SwitchSettings s;
  auto number = [](std::string_view v) -> std::optional<int> {
    if (v.empty()) {
      return std::nullopt;
    }
    return std::atoi(std::string(v).c_str());
  };
  for (pugi::xml_node param : config.child("settings").children("param")) {
    const std::string_view name = param.attribute("name").value();
    const std::string_view value = param.attribute("value").value();
    if (name == "event-heartbeat-interval") {
      s.heartbeat_interval_seconds = number(value);
    } else if (name == "max-sessions") {
      s.max_sessions = number(value);
    } else if (name == "sessions-per-second") {
      s.sessions_per_second = number(value);
    } else if (name == "switchname" && !value.empty()) {
      s.switchname = std::string(value);
    } else if (name == "loglevel" && !value.empty()) {
      s.loglevel = std::string(value);
    }
  }
  return s;
}

namespace {

void merge_params(pugi::xml_node params, std::map<std::string, std::string, std::less<>>& into) {
  for (pugi::xml_node p : params.children("param")) {
    into[p.attribute("name").value()] = p.attribute("value").value();
  }
  for (pugi::xml_node p : params.children("variable")) {
    into.try_emplace(p.attribute("name").value(), p.attribute("value").value());
  }
}

}  // namespace

void Directory::load_xml(std::string_view xml, std::string_view default_domain,
                         std::vector<std::string>* warnings) {
  pugi::xml_document doc;
  const auto parsed = doc.load_buffer(xml.data(), xml.size());
  if (!parsed) {
    if (warnings != nullptr) {
      warnings->push_back(std::string("directory: ") + parsed.description());
    }
    return;
  }
  auto add_users = [&](pugi::xml_node users, std::string_view domain,
                       const std::map<std::string, std::string, std::less<>>& inherited) {
    for (pugi::xml_node user : users.children("user")) {
      DirectoryUser u;
      u.id = user.attribute("id").value();
      u.domain = domain;
      u.params = inherited;
      merge_params(user.child("params"), u.params);
      if (!u.id.empty()) {
        users_.push_back(std::move(u));
      }
    }
  };
  for (pugi::xpath_node found : doc.select_nodes("//domain")) {
    const pugi::xml_node domain = found.node();
    std::map<std::string, std::string, std::less<>> domain_params;
    merge_params(domain.child("params"), domain_params);
    const std::string name = domain.attribute("name").value();
    add_users(domain.child("users"), name, domain_params);
    for (pugi::xml_node group : domain.child("groups").children("group")) {
      auto group_params = domain_params;
      merge_params(group.child("params"), group_params);
      add_users(group.child("users"), name, group_params);
    }
  }
  if (!default_domain.empty()) {
    for (pugi::xml_node root : doc.children()) {
      add_users(root, default_domain, {});
    }
  }
}

void Directory::load_folder(const std::string& path, std::vector<std::string>* warnings) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    return;
  }
  for (const auto& entry : fs::recursive_directory_iterator(path, ec)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".xml") {
      continue;
    }
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    const fs::path parent = entry.path().parent_path();
    const std::string domain = parent == fs::path(path) ? "" : parent.filename().string();
    load_xml(text.str(), domain, warnings);
  }
}

const DirectoryUser* Directory::find(std::string_view user, std::string_view domain) const {
  for (const DirectoryUser& u : users_) {
    if (u.id == user && u.domain == domain) {
      return &u;
    }
  }
  return nullptr;
}

}  // namespace eventsocket::server
