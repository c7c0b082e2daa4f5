#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eventsocket::acl {

enum class Family : std::uint8_t { ipv4, ipv6 };

// A parsed IP address. Only the member matching `family` is meaningful; the other stays zero
// so that defaulted equality works.
struct IpAddress {
  Family family = Family::ipv4;
  std::uint32_t v4 = 0;               // host byte order, so prefix masks are plain shifts
  std::array<std::uint8_t, 16> v6{};  // network byte order, as inet_pton writes it

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// Parses a peer address given as text (ACL.md §4) with inet_pton. IPv4-mapped IPv6 addresses
// (`::ffff:a.b.c.d`, in any case, and any other spelling of ::ffff:0:0/96) become IPv4, so
// that a dual-stack listener's peers meet the IPv4 nodes. nullopt when it is not an address.
std::optional<IpAddress> parse_address(std::string_view text);

// One network-list node: allow or deny a network.
struct Node {
  bool allow = false;
  IpAddress network;  // the family of the node is network.family
  // The mask actually compared, same family as `network`. For IPv4 CIDRs it is computed the
  // way FreeSWITCH does (`~(0xFFFFFFFF >> bits)` with x86 shift semantics), which makes it 0
  // for both /0 and /32; matches() gives mask 0 its special meaning (see there).
  IpAddress mask;
  unsigned bits = 0;  // prefix length; for host/mask nodes the number of 1-bits in the mask
  std::string text;   // the entry as configured (`addr/bits` or `host:mask`), for messages

  Family family() const noexcept { return network.family; }

  // ACL.md §4 match test for an address of the node's family (callers skip other families):
  // masked comparison, except that an all-zero mask means "everything when the network is
  // all-zero, else only the network address itself". Hence `0.0.0.0/0` and `0.0.0.0/32`
  // match every IPv4 address, `a.b.c.d/0` and `a.b.c.d/32` only a.b.c.d, `::/0` every IPv6
  // address and `X::/0` only X.
  bool matches(const IpAddress& address) const noexcept;

  // One `addr/bits` entry (IPv4 bits 0-32, IPv6 0-128, `/bits` mandatory and decimal).
  // `::ffff:a.b.c.d/bits` is an IPv4 node with IPv4 bits. Surrounding blanks are ignored.
  // On failure returns nullopt and, when `error` is given, stores why.
  static std::optional<Node> from_cidr(std::string_view cidr, bool allow,
                                       std::string* error = nullptr);
  // A `host="a.b.c.d" mask="w.x.y.z"` node: IPv4 only (ACL.md §4 allows restricting them to
  // IPv4; in FreeSWITCH they are compared with IPv6 addresses too, which never matches in
  // practice). The mask need not be contiguous; bits = popcount(mask).
  static std::optional<Node> from_host_mask(std::string_view host, std::string_view mask,
                                            bool allow, std::string* error = nullptr);
};

// Splits a comma-separated `cidr` attribute into nodes, in order. Empty or invalid items are
// skipped, each adding one message to `warnings` (when given); nothing throws.
std::vector<Node> parse_cidr_list(std::string_view cidrs, bool allow,
                                  std::vector<std::string>* warnings = nullptr);

// A named network list: a default verdict and nodes kept in definition order.
class NetworkList {
 public:
  NetworkList(std::string name, bool default_allow)
      : name_(std::move(name)), default_allow_(default_allow) {}

  const std::string& name() const noexcept { return name_; }
  bool default_allow() const noexcept { return default_allow_; }
  const std::vector<Node>& nodes() const noexcept { return nodes_; }

  void add(Node node) { nodes_.push_back(std::move(node)); }
  // Adds every valid item of a comma-separated `cidr` value; returns how many were added.
  // Bad items are skipped with a warning naming this list.
  std::size_t add_cidr(std::string_view cidrs, bool allow,
                       std::vector<std::string>* warnings = nullptr);
  // Adds a host/mask node; false (and a warning) when either part is not an IPv4 address.
  bool add_host_mask(std::string_view host, std::string_view mask, bool allow,
                     std::vector<std::string>* warnings = nullptr);

  // ACL.md §4. An address that does not parse is denied whatever the default: it cannot come
  // from a real peer, and an access check must not fail open.
  bool allows(std::string_view address) const;
  bool allows(const IpAddress& address) const noexcept;

  // The node that decides for `address`, or nullptr when the default applies. Evaluation as
  // in FreeSWITCH: nodes from last to first, a matching node of the address's family takes
  // over when its bits are >= the best so far. So the longest prefix wins and, among equal
  // prefixes, the node defined first.
  const Node* deciding_node(const IpAddress& address) const noexcept;

 private:
  std::string name_;
  bool default_allow_;
  std::vector<Node> nodes_;
};

}  // namespace eventsocket::acl
