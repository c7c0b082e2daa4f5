#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eventsocket/acl/network_list.hpp"
#include "eventsocket/acl/switch_true.hpp"

namespace eventsocket::acl {

// The machine's primary IPv4 address and netmask, as text (e.g. "192.168.1.10",
// "255.255.255.0"). FreeSWITCH detects them at load time; this library knows nothing of
// interfaces, so the caller passes them in. They feed nat.auto and localnet.auto.
struct LocalNetwork {
  std::string ipv4;
  std::string mask;
};

// Why a whole acl.conf could not be used. Bad entries inside a usable file are not errors:
// they are skipped and reported as warnings.
struct LoadError {
  std::string message;
};

// FreeSWITCH's global network lists: the built-in `*.auto` lists (ACL.md §3) plus the user
// lists of acl.conf.xml (ACL.md §2), and the event socket's way of consulting them (§5).
//
// Const member functions may run concurrently; load_*() and reset() may not run alongside
// anything else. The type is copyable so that a reload can be prepared on a copy and then
// published (e.g. through an atomic shared_ptr) without blocking connection checks.
class AclRegistry {
 public:
  // Built-in lists only, with no local network: localnet.auto then has no nodes and nat.auto
  // only its allow nodes.
  AclRegistry() : AclRegistry(std::nullopt) {}
  // With a local network; when it does not parse, its nodes are left out and a warning added.
  explicit AclRegistry(std::optional<LocalNetwork> local,
                       std::vector<std::string>* warnings = nullptr);

  // Replaces every list with the built-ins followed by the lists of an acl.conf document
  // (what `reloadacl` does). The text may be the `<configuration name="acl.conf">` element
  // itself or any document containing it. Returns an error, leaving the registry unchanged,
  // when the XML is malformed or has no such configuration element. Skipped entries (a list
  // without a name, a bare address, a bad prefix, a `domain=` node, ...) go to `warnings`.
  std::optional<LoadError> load_xml(std::string_view xml_text,
                                    std::vector<std::string>* warnings = nullptr);
  // As load_xml() on the file's content; an unreadable file is an error (registry unchanged).
  std::optional<LoadError> load_file(const std::filesystem::path& path,
                                     std::vector<std::string>* warnings = nullptr);
  // Back to the built-in lists only.
  void reset(std::vector<std::string>* warnings = nullptr);

  // Exact, case-sensitive lookup; nullptr when there is no such list.
  const NetworkList* find(std::string_view name) const;
  // Every list name, sorted.
  std::vector<std::string> names() const;

  // One `apply-inbound-acl` value against a peer address (ACL.md §5):
  //  1. the exact name of a list → that list's verdict (§4);
  //  2. else, if it contains '/' → comma-separated literal CIDRs: allowed iff the address
  //     matches at least one (no default, no deny; invalid items and items of the other
  //     family never match);
  //  3. else (unknown name) → denied.
  // An address that does not parse is denied.
  bool allows(std::string_view list_or_cidr, std::string_view address) const;

  // Every `apply-inbound-acl` value, in order, must allow the address (logical AND). Returns
  // the first denying value, or nullopt when all allow. An empty vector means the single
  // entry `loopback.auto` (the module default). Values are used as given: dropping empty
  // ones and the 100-entry cap belong to whoever reads event_socket.conf.
  std::optional<std::string> check_all(const std::vector<std::string>& apply_inbound_acl,
                                       std::string_view address) const;

 private:
  using ListMap = std::map<std::string, NetworkList, std::less<>>;

  ListMap builtin_lists(std::vector<std::string>* warnings) const;

  std::optional<LocalNetwork> local_;
  ListMap lists_;
};

}  // namespace eventsocket::acl
