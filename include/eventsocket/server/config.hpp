#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eventsocket::server {

// event_socket.conf.xml (ACL.md §1), FreeSWITCH's names and defaults.
struct EventSocketSettings {
  std::string listen_ip = "127.0.0.1";
  int listen_port = 8021;
  std::string password = "ClueCon";
  // Every entry must allow a peer; empty means the single entry `loopback.auto`.
  std::vector<std::string> apply_inbound_acl;
  bool stop_on_bind_error = false;
  int debug = 0;
  bool nat_map = false;  // parsed and ignored, as in FreeSWITCH

  // Ours (FreeSWITCH ignores params it does not know). Unset: the server's defaults
  // (docs/RELIABILITY.md "Limits").
  std::optional<std::size_t> max_connections;    // max-connections
  std::optional<int> auth_timeout_ms;            // auth-timeout-ms
  std::optional<int> login_timeout_ms;           // login-timeout-ms (0: off)
  std::optional<double> connection_rate_per_ip;  // connection-rate-per-ip (per second, 0: off)
  std::optional<double> command_rate;            // command-rate (per connection per second)
  std::optional<std::size_t> event_queue_bytes;  // event-queue-bytes (k, m, g suffixes)
  std::optional<int> limit_log_interval;         // limit-log-interval (seconds)
  std::string stats_listen;                      // stats-listen: ip:port of /metrics (off)
};

// A size in bytes with an optional k, m or g suffix (KiB, MiB, GiB): "65536", "64k", "64M".
std::optional<std::size_t> parse_byte_size(std::string_view text);
// A positive or zero number ("10", "2.5"); nullopt for anything else.
std::optional<double> parse_rate(std::string_view text);

// Parses the XML text of event_socket.conf.xml. Unknown params are ignored; problems are
// described in `warnings`. Returns nullopt (with a warning) when the XML is not well formed.
std::optional<EventSocketSettings> parse_event_socket_conf(std::string_view xml,
                                                           std::vector<std::string>* warnings);

// The parts of switch.conf.xml that the built-in core uses.
struct SwitchSettings {
  std::optional<int> heartbeat_interval_seconds;  // event-heartbeat-interval
  std::optional<int> max_sessions;                // max-sessions
  std::optional<int> sessions_per_second;         // sessions-per-second
  std::optional<std::string> switchname;          // switchname
  std::optional<std::string> loglevel;            // loglevel (console)
};
std::optional<SwitchSettings> parse_switch_conf(std::string_view xml,
                                                std::vector<std::string>* warnings);

// FreeSWITCH's switch_true(): yes, on, true, t, enabled, active, allow (any case), or a
// number other than zero.
bool switch_true(std::string_view value);

// One user of the directory, for `userauth` (PROTOCOL.md §6.2).
struct DirectoryUser {
  std::string id;
  std::string domain;
  // Params merged from the domain, then the user's group, then the user (later win).
  std::map<std::string, std::string, std::less<>> params;
};

// FreeSWITCH-format user directory: every *.xml file under a folder, holding <domain>
// elements (with <params>, <groups><group><users><user> and/or <users><user>), or, for a file
// inside a sub-folder named after a domain, bare <user> elements (the vanilla layout of
// directory/default/1000.xml, with the folder name as the domain).
class Directory {
 public:
  void load_folder(const std::string& path, std::vector<std::string>* warnings);
  void load_xml(std::string_view xml, std::string_view default_domain,
                std::vector<std::string>* warnings);
  const DirectoryUser* find(std::string_view user, std::string_view domain) const;
  std::size_t size() const { return users_.size(); }

 private:
  std::vector<DirectoryUser> users_;
};

}  // namespace eventsocket::server
