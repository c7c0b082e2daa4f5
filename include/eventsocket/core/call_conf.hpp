#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eventsocket/core/calls.hpp"
#include "eventsocket/core/switch.hpp"

namespace eventsocket::core {

// sofia.conf.xml: FreeSWITCH's profile list (name, aliases, sip-ip, sip-port, context,
// ws-binding, wss-binding), plus our <remote-parties>: how the simulated far end of each
// sofia/ call behaves, by destination pattern (first match wins).
struct SofiaConf {
  std::vector<SipProfile> profiles;
  std::vector<RemoteParty> parties;
};
std::optional<SofiaConf> parse_sofia_conf(std::string_view xml, std::string& error);

// Reads <conf>/autoload_configs/sofia.conf.xml when present (nullopt and `error` when it is
// broken; an absent file gives the defaults).
std::optional<SofiaConf> load_sofia_conf(const std::filesystem::path& conf, std::string& error);

// Gives the switch its dialplan (<conf>/dialplan) and remote parties. False and `error`
// when a file is broken.
bool configure_calls(Switch& sw, const std::filesystem::path& conf, const SofiaConf& sofia,
                     std::string& error);

}  // namespace eventsocket::core
