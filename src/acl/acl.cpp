#include "eventsocket/acl/acl.hpp"

#include <pugixml.hpp>

#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>

namespace eventsocket::acl {
namespace {

void warn(std::vector<std::string>* warnings, std::string message) {
  if (warnings != nullptr) {
    warnings->push_back(std::move(message));
  }
}

NetworkList make_list(std::string name, bool default_allow,
                      std::initializer_list<std::string_view> cidrs, bool allow) {
  NetworkList list(std::move(name), default_allow);
  for (std::string_view cidr : cidrs) {
    // Built-in entries are constants known to parse.
    list.add_cidr(cidr, allow);
  }
  return list;
}

// The node rules of ACL.md §2 for one <node> of a user list.
void add_xml_node(NetworkList& list, const pugi::xml_node& node,
                  std::vector<std::string>* warnings) {
  const pugi::xml_attribute type = node.attribute("type");
  const bool allow = type ? parse_switch_bool(type.value()) : list.default_allow();
  const pugi::xml_attribute cidr = node.attribute("cidr");
  const pugi::xml_attribute host = node.attribute("host");
  const pugi::xml_attribute mask = node.attribute("mask");
  const pugi::xml_attribute domain = node.attribute("domain");
  // port, ports, port-min and port-max are deliberately not read: the event socket checks
  // with port 0, which FreeSWITCH treats as "any port".
  if (domain) {
    // FreeSWITCH expands a domain into one node per directory user with a `cidr`; there is no
    // user directory here, so the domain contributes nothing.
    warn(warnings, "network list \"" + list.name() + "\": ignoring domain node \"" +
                       domain.value() + "\" (no user directory)");
  }
  if (cidr) {
    list.add_cidr(cidr.value(), allow, warnings);
  } else if (host && mask) {
    list.add_host_mask(host.value(), mask.value(), allow, warnings);
  } else if (!domain) {
    warn(warnings, "network list \"" + list.name() +
                       "\": ignoring a node with neither cidr, host and mask, nor domain");
  }
}

bool is_acl_configuration(const pugi::xml_node& node) {
  return std::strcmp(node.name(), "configuration") == 0 &&
         std::strcmp(node.attribute("name").value(), "acl.conf") == 0;
}

}  // namespace

AclRegistry::AclRegistry(std::optional<LocalNetwork> local, std::vector<std::string>* warnings)
    : local_(std::move(local)) {
  lists_ = builtin_lists(warnings);
}

AclRegistry::ListMap AclRegistry::builtin_lists(std::vector<std::string>* warnings) const {
  ListMap lists;
  const auto put = [&lists](NetworkList list) {
    std::string name = list.name();
    lists.insert_or_assign(std::move(name), std::move(list));
  };

  // ACL.md §3, in FreeSWITCH's creation order.
  put(make_list("rfc6598.auto", false, {"100.64.0.0/10"}, true));
  put(make_list("rfc1918.auto", false,
                {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fe80::/10"}, true));
  put(make_list("wan.auto", true,
                {"0.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16",
                 "100.64.0.0/10", "fe80::/10"},
                false));
  put(make_list("wan_v6.auto", true, {"0.0.0.0/0", "fe80::/10"}, false));
  put(make_list("wan_v4.auto", true,
                {"0.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16",
                 "100.64.0.0/10", "::/0"},
                false));
  put(make_list("any_v6.auto", true, {"0.0.0.0/0"}, false));
  put(make_list("any_v4.auto", true, {"::/0"}, false));

  // The local network is denied in nat.auto (it is not behind NAT from our point of view) and
  // is all localnet.auto allows. Without one, those nodes are simply absent.
  std::optional<Node> local_deny;
  std::optional<Node> local_allow;
  if (local_) {
    std::string error;
    local_deny = Node::from_host_mask(local_->ipv4, local_->mask, false, &error);
    local_allow = Node::from_host_mask(local_->ipv4, local_->mask, true);
    if (!local_deny) {
      warn(warnings, "local network left out of nat.auto and localnet.auto: " + error);
    }
  }
  NetworkList nat("nat.auto", false);
  if (local_deny) {
    nat.add(*local_deny);
  }
  nat.add_cidr("10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10", true);
  put(std::move(nat));

  put(make_list("loopback.auto", false, {"127.0.0.0/8", "::1/128"}, true));

  NetworkList localnet("localnet.auto", false);
  if (local_allow) {
    localnet.add(*local_allow);
  }
  put(std::move(localnet));
  return lists;
}

void AclRegistry::reset(std::vector<std::string>* warnings) {
  lists_ = builtin_lists(warnings);
}

std::optional<LoadError> AclRegistry::load_xml(std::string_view xml_text,
                                               std::vector<std::string>* warnings) {
  pugi::xml_document doc;
  const pugi::xml_parse_result parsed = doc.load_buffer(xml_text.data(), xml_text.size());
  if (!parsed) {
    return LoadError{"acl.conf: malformed XML at offset " + std::to_string(parsed.offset) + ": " +
                     parsed.description()};
  }
  const pugi::xml_node configuration =
      is_acl_configuration(doc.document_element())
          ? doc.document_element()
          : doc.find_node([](const pugi::xml_node& node) { return is_acl_configuration(node); });
  if (!configuration) {
    return LoadError{"acl.conf: no <configuration name=\"acl.conf\"> element"};
  }

  // Built on the side so that the registry only changes once the document is known usable.
  ListMap lists = builtin_lists(warnings);
  const pugi::xml_node network_lists = configuration.child("network-lists");
  if (!network_lists) {
    warn(warnings, "acl.conf: no <network-lists> element, only the built-in lists apply");
  }
  for (const pugi::xml_node& list_node : network_lists.children("list")) {
    const std::string name = list_node.attribute("name").value();
    if (name.empty()) {
      warn(warnings, "acl.conf: ignoring a <list> without a name");
      continue;
    }
    const pugi::xml_attribute default_attribute = list_node.attribute("default");
    const bool default_allow = default_attribute ? parse_switch_bool(default_attribute.value())
                                                 : true;  // missing → allow (ACL.md §2)
    NetworkList list(name, default_allow);
    for (const pugi::xml_node& node : list_node.children("node")) {
      add_xml_node(list, node, warnings);
    }
    // A later list of the same name, built-in or not, replaces the earlier one wholesale.
    lists.insert_or_assign(name, std::move(list));
  }
  lists_ = std::move(lists);
  return std::nullopt;
}

std::optional<LoadError> AclRegistry::load_file(const std::filesystem::path& path,
                                                std::vector<std::string>* warnings) {
  // A directory opens fine as a stream and then reads as empty, which would be reported as
  // malformed XML; say what is really wrong instead.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return LoadError{"acl.conf: " + path.string() + " is a directory"};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return LoadError{"acl.conf: cannot open " + path.string()};
  }
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) {
    return LoadError{"acl.conf: cannot read " + path.string()};
  }
  return load_xml(content.view(), warnings);
}

const NetworkList* AclRegistry::find(std::string_view name) const {
  const auto it = lists_.find(name);
  return it == lists_.end() ? nullptr : &it->second;
}

std::vector<std::string> AclRegistry::names() const {
  std::vector<std::string> result;
  result.reserve(lists_.size());
  for (const auto& [name, list] : lists_) {
    result.push_back(name);
  }
  return result;
}

bool AclRegistry::allows(std::string_view list_or_cidr, std::string_view address) const {
  const auto parsed = parse_address(address);
  if (!parsed) {
    return false;
  }
  if (const NetworkList* list = find(list_or_cidr)) {
    return list->allows(*parsed);
  }
  if (list_or_cidr.find('/') == std::string_view::npos) {
    return false;  // an unknown name, typo or not, locks everybody out (ACL.md §5)
  }
  for (const Node& node : parse_cidr_list(list_or_cidr, true)) {
    if (node.matches(*parsed)) {
      return true;
    }
  }
  return false;
}

std::optional<std::string> AclRegistry::check_all(const std::vector<std::string>& apply_inbound_acl,
                                                  std::string_view address) const {
  static const std::vector<std::string> kDefault = {"loopback.auto"};
  const auto& entries = apply_inbound_acl.empty() ? kDefault : apply_inbound_acl;
  for (const std::string& entry : entries) {
    if (!allows(entry, address)) {
      return entry;
    }
  }
  return std::nullopt;
}

}  // namespace eventsocket::acl
