#include "eventsocket/core/call_conf.hpp"

#include <pugixml.hpp>

#include <charconv>
#include <fstream>
#include <sstream>

namespace eventsocket::core {
namespace {

int to_int(std::string_view text, int fallback) {
  int v = fallback;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  return ec == std::errc() && p == text.data() + text.size() ? v : fallback;
}

// "127.0.0.1:5066" or ":5066" -> 5066.
int binding_port(std::string_view binding) {
  const std::size_t colon = binding.rfind(':');
  return to_int(colon == std::string_view::npos ? binding : binding.substr(colon + 1), 0);
}

}  // namespace

std::optional<SofiaConf> parse_sofia_conf(std::string_view xml, std::string& error) {
  pugi::xml_document doc;
  const pugi::xml_parse_result parsed = doc.load_buffer(xml.data(), xml.size());
  if (!parsed) {
    error = std::string("sofia.conf.xml: ") + parsed.description();
    return std::nullopt;
  }
  pugi::xml_node root = doc.child("configuration");
  if (!root) {
    root = doc.select_node("//configuration[@name='sofia.conf']").node();
  }
  if (!root) {
    error = "sofia.conf.xml: no <configuration name=\"sofia.conf\">";
    return std::nullopt;
  }
  SofiaConf conf;
  for (pugi::xml_node p : root.child("profiles").children("profile")) {
    SipProfile profile;
    profile.name = p.attribute("name").as_string();
    if (profile.name.empty()) {
      error = "sofia.conf.xml: a <profile> without a name";
      return std::nullopt;
    }
    profile.ws_port = 0;
    profile.wss_port = 0;
    for (pugi::xml_node alias : p.child("aliases").children("alias")) {
      if (profile.alias.empty())
        profile.alias = alias.attribute("name").as_string();
    }
    for (pugi::xml_node param : p.child("settings").children("param")) {
      const std::string_view name = param.attribute("name").as_string();
      const std::string_view value = param.attribute("value").as_string();
      if (name == "sip-ip") {
        profile.ip = std::string(value);
      } else if (name == "sip-port") {
        profile.port = to_int(value, -1);
        if (profile.port <= 0 || profile.port > 65535) {
          error =
              "sofia.conf.xml: profile " + profile.name + ": bad sip-port " + std::string(value);
          return std::nullopt;
        }
      } else if (name == "context") {
        profile.context = std::string(value);
      } else if (name == "ws-binding") {
        profile.ws_port = binding_port(value);
      } else if (name == "wss-binding") {
        profile.wss_port = binding_port(value);
      }
    }
    conf.profiles.push_back(std::move(profile));
  }
  for (pugi::xml_node p : root.child("remote-parties").children("party")) {
    RemoteParty party;
    party.pattern = p.attribute("destination").as_string(".*");
    party.ring = std::chrono::milliseconds(p.attribute("ring-ms").as_int(0));
    party.outcome = p.attribute("outcome").as_string("answer");
    party.hangup_after = std::chrono::milliseconds(p.attribute("hangup-after-ms").as_int(0));
    party.dtmf = p.attribute("dtmf").as_string();
    if (party.outcome != "answer" && !hangup_cause_by_name(party.outcome)) {
      error = "sofia.conf.xml: party " + party.pattern +
              ": outcome must be answer or a hangup "
              "cause, not " +
              party.outcome;
      return std::nullopt;
    }
    if (party.ring.count() < 0 || party.hangup_after.count() < 0) {
      error = "sofia.conf.xml: party " + party.pattern + ": negative time";
      return std::nullopt;
    }
    if (!event::Filter::make("destination", "/" + party.pattern + "/").regex) {
      error = "sofia.conf.xml: party " + party.pattern + ": bad regular expression";
      return std::nullopt;
    }
    conf.parties.push_back(std::move(party));
  }
  return conf;
}

std::optional<SofiaConf> load_sofia_conf(const std::filesystem::path& conf, std::string& error) {
  const auto file = conf / "autoload_configs" / "sofia.conf.xml";
  std::ifstream in(file);
  if (!in) {
    SofiaConf defaults;
    defaults.profiles = SwitchOptions{}.sip_profiles;
    defaults.parties.push_back(RemoteParty{});  // anyone answers at once
    return defaults;
  }
  std::stringstream text;
  text << in.rdbuf();
  return parse_sofia_conf(text.str(), error);
}

bool configure_calls(Switch& sw, const std::filesystem::path& conf, const SofiaConf& sofia,
                     std::string& error) {
  const auto dir = conf / "dialplan";
  if (std::filesystem::is_directory(dir)) {
    auto plan = dialplan::Dialplan::load_directory(dir, error);
    if (!plan) {
      return false;
    }
    sw.calls().set_dialplan(std::move(plan));
  }
  sw.calls().set_remote_parties(sofia.parties);
  return true;
}

}  // namespace eventsocket::core
