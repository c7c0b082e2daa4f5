#include "eventsocket/acl/network_list.hpp"

#include <arpa/inet.h>

#include <bit>
#include <cstring>

namespace eventsocket::acl {
namespace {

constexpr std::string_view kMappedPrefix = "::ffff:";

std::string_view trim(std::string_view text) noexcept {
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && blank(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && blank(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

bool starts_with_mapped_prefix(std::string_view text) noexcept {
  if (text.size() < kMappedPrefix.size()) {
    return false;
  }
  for (std::size_t i = 0; i < kMappedPrefix.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
    if (c != kMappedPrefix[i]) {
      return false;
    }
  }
  return true;
}

// inet_pton wants a NUL-terminated string; the copy also bounds what it reads.
std::optional<IpAddress> parse_ipv4(std::string_view text) {
  const std::string copy(text);
  in_addr raw{};
  if (inet_pton(AF_INET, copy.c_str(), &raw) != 1) {
    return std::nullopt;
  }
  IpAddress address;
  address.family = Family::ipv4;
  address.v4 = ntohl(raw.s_addr);
  return address;
}

std::optional<IpAddress> parse_ipv6(std::string_view text) {
  const std::string copy(text);
  in6_addr raw{};
  if (inet_pton(AF_INET6, copy.c_str(), &raw) != 1) {
    return std::nullopt;
  }
  IpAddress address;
  address.family = Family::ipv6;
  std::memcpy(address.v6.data(), &raw, address.v6.size());
  return address;
}

bool is_zero(const std::array<std::uint8_t, 16>& bytes) noexcept {
  for (std::uint8_t b : bytes) {
    if (b != 0) {
      return false;
    }
  }
  return true;
}

// `/bits`: decimal digits only. FreeSWITCH uses atoi(), which would read "" or "x" as 0 and
// turn a typo into a /0 node; rejecting is the safer reading of "bits are mandatory".
std::optional<unsigned> parse_bits(std::string_view text) noexcept {
  if (text.empty() || text.size() > 3) {
    return std::nullopt;
  }
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value;
}

// FreeSWITCH: `0xFFFFFFFF & ~(0xFFFFFFFF >> bits)`. On x86 a 32-bit shift by 32 shifts by 0,
// so /32 yields mask 0 like /0 does; the documented quirks (ACL.md §4) follow from that.
std::uint32_t original_ipv4_mask(unsigned bits) noexcept {
  if (bits == 0 || bits >= 32) {
    return 0;
  }
  return ~(UINT32_C(0xFFFFFFFF) >> bits);
}

std::array<std::uint8_t, 16> ipv6_mask(unsigned bits) noexcept {
  std::array<std::uint8_t, 16> mask{};
  for (auto& byte : mask) {
    const unsigned take = bits >= 8 ? 8 : bits;
    byte = static_cast<std::uint8_t>(0xFF00u >> take);
    bits -= take;
  }
  return mask;
}

void set_error(std::string* error, std::string message) {
  if (error != nullptr) {
    *error = std::move(message);
  }
}

}  // namespace

std::optional<IpAddress> parse_address(std::string_view text) {
  // The spec's textual rule: `::ffff:` followed by a dotted quad is that IPv4 address.
  if (starts_with_mapped_prefix(text)) {
    if (auto v4 = parse_ipv4(text.substr(kMappedPrefix.size()))) {
      return v4;
    }
  }
  if (text.find(':') == std::string_view::npos) {
    return parse_ipv4(text);
  }
  auto v6 = parse_ipv6(text);
  if (!v6) {
    return std::nullopt;
  }
  // Other spellings of ::ffff:0:0/96 (e.g. `::ffff:c000:201`) are the same IPv4 peer.
  static constexpr std::array<std::uint8_t, 12> kMapped = {0, 0, 0, 0, 0,    0,
                                                           0, 0, 0, 0, 0xFF, 0xFF};
  if (std::memcmp(v6->v6.data(), kMapped.data(), kMapped.size()) == 0) {
    IpAddress v4;
    v4.family = Family::ipv4;
    v4.v4 = (std::uint32_t{v6->v6[12]} << 24) | (std::uint32_t{v6->v6[13]} << 16) |
            (std::uint32_t{v6->v6[14]} << 8) | std::uint32_t{v6->v6[15]};
    return v4;
  }
  return v6;
}

bool Node::matches(const IpAddress& address) const noexcept {
  if (address.family != network.family) {
    return false;
  }
  if (network.family == Family::ipv4) {
    if (mask.v4 != 0) {
      return (address.v4 & mask.v4) == (network.v4 & mask.v4);
    }
    return network.v4 == 0 || network.v4 == address.v4;
  }
  if (!is_zero(mask.v6)) {
    for (std::size_t i = 0; i < 16; ++i) {
      if ((address.v6[i] & mask.v6[i]) != (network.v6[i] & mask.v6[i])) {
        return false;
      }
    }
    return true;
  }
  return is_zero(network.v6) || network.v6 == address.v6;
}

std::optional<Node> Node::from_cidr(std::string_view cidr, bool allow, std::string* error) {
  const std::string_view text = trim(cidr);
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    set_error(error, "\"" + std::string(text) + "\" has no /bits (a bare address is not a CIDR)");
    return std::nullopt;
  }
  std::string_view host = text.substr(0, slash);
  const auto bits = parse_bits(text.substr(slash + 1));
  if (!bits) {
    set_error(error, "\"" + std::string(text) + "\" has an invalid prefix length");
    return std::nullopt;
  }
  // ACL.md §2: an IPv4-mapped network is converted to IPv4 first (its bits are IPv4 bits).
  if (starts_with_mapped_prefix(host) && host.find('.') != std::string_view::npos) {
    host.remove_prefix(kMappedPrefix.size());
  }
  Node node;
  node.allow = allow;
  node.bits = *bits;
  node.text = std::string(text);
  if (host.find(':') != std::string_view::npos) {
    auto network = parse_ipv6(host);
    if (!network || *bits > 128) {
      set_error(error, "\"" + node.text + "\" is not a valid IPv6 CIDR");
      return std::nullopt;
    }
    node.network = *network;
    node.mask.family = Family::ipv6;
    node.mask.v6 = ipv6_mask(*bits);
  } else {
    auto network = parse_ipv4(host);
    if (!network || *bits > 32) {
      set_error(error, "\"" + node.text + "\" is not a valid IPv4 CIDR");
      return std::nullopt;
    }
    node.network = *network;
    node.mask.family = Family::ipv4;
    node.mask.v4 = original_ipv4_mask(*bits);
  }
  return node;
}

std::optional<Node> Node::from_host_mask(std::string_view host, std::string_view mask, bool allow,
                                         std::string* error) {
  const auto network = parse_ipv4(trim(host));
  const auto mask_address = parse_ipv4(trim(mask));
  Node node;
  node.text = std::string(trim(host)) + ":" + std::string(trim(mask));
  if (!network || !mask_address) {
    set_error(error, "host/mask \"" + node.text + "\" is not a pair of IPv4 addresses");
    return std::nullopt;
  }
  node.allow = allow;
  node.network = *network;
  node.mask = *mask_address;
  node.bits = static_cast<unsigned>(std::popcount(mask_address->v4));
  return node;
}

std::vector<Node> parse_cidr_list(std::string_view cidrs, bool allow,
                                  std::vector<std::string>* warnings) {
  std::vector<Node> nodes;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = cidrs.find(',', start);
    const std::string_view item = cidrs.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    std::string error;
    if (trim(item).empty()) {
      error = "empty cidr entry";
    } else if (auto node = Node::from_cidr(item, allow, &error)) {
      nodes.push_back(std::move(*node));
    }
    if (!error.empty() && warnings != nullptr) {
      warnings->push_back(std::move(error));
    }
    if (comma == std::string_view::npos) {
      break;
    }
    start = comma + 1;
  }
  return nodes;
}

std::size_t NetworkList::add_cidr(std::string_view cidrs, bool allow,
                                  std::vector<std::string>* warnings) {
  std::vector<std::string> local;
  std::vector<Node> parsed = parse_cidr_list(cidrs, allow, &local);
  if (warnings != nullptr) {
    for (auto& message : local) {
      warnings->push_back("network list \"" + name_ + "\": ignoring cidr: " + message);
    }
  }
  for (auto& node : parsed) {
    nodes_.push_back(std::move(node));
  }
  return parsed.size();
}

bool NetworkList::add_host_mask(std::string_view host, std::string_view mask, bool allow,
                                std::vector<std::string>* warnings) {
  std::string error;
  auto node = Node::from_host_mask(host, mask, allow, &error);
  if (!node) {
    if (warnings != nullptr) {
      warnings->push_back("network list \"" + name_ + "\": ignoring node: " + error);
    }
    return false;
  }
  nodes_.push_back(std::move(*node));
  return true;
}

const Node* NetworkList::deciding_node(const IpAddress& address) const noexcept {
  const Node* best_node = nullptr;
  unsigned best = 0;
  for (auto it = nodes_.rbegin(); it != nodes_.rend(); ++it) {
    if (it->family() != address.family) {
      continue;
    }
    if (it->bits >= best && it->matches(address)) {
      best_node = &*it;
      best = it->bits;
    }
  }
  return best_node;
}

bool NetworkList::allows(const IpAddress& address) const noexcept {
  const Node* node = deciding_node(address);
  return node != nullptr ? node->allow : default_allow_;
}

bool NetworkList::allows(std::string_view address) const {
  const auto parsed = parse_address(address);
  return parsed && allows(*parsed);
}

}  // namespace eventsocket::acl
