// Addresses, CIDR nodes and the evaluation of one network list (ACL.md §2 and §4).
// Data uses only documentation (192.0.2.0/24, 198.51.100.0/24, 2001:db8::/32), loopback and
// private ranges.
#include "eventsocket/acl/network_list.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace eventsocket::acl {
namespace {

IpAddress v4(std::uint32_t value) {
  IpAddress a;
  a.family = Family::ipv4;
  a.v4 = value;
  return a;
}

// ---------------------------------------------------------------------------------------------
// parse_address

struct AddressCase {
  const char* label;
  const char* text;
  std::optional<Family> family;  // nullopt: not an address
};

const AddressCase kAddressCases[] = {
    {"dotted quad", "192.0.2.1", Family::ipv4},
    {"loopback v4", "127.0.0.1", Family::ipv4},
    {"loopback v6", "::1", Family::ipv6},
    {"documentation v6", "2001:db8::1", Family::ipv6},
    {"mapped lower case", "::ffff:192.0.2.1", Family::ipv4},
    {"mapped upper case", "::FFFF:192.0.2.1", Family::ipv4},
    {"mapped hex spelling", "::ffff:c000:201", Family::ipv4},
    {"mapped long spelling", "0:0:0:0:0:ffff:192.0.2.1", Family::ipv4},
    {"v4-compatible is not mapped", "::192.0.2.1", Family::ipv6},
    {"empty", "", std::nullopt},
    {"three octets", "192.0.2", std::nullopt},
    {"octet too large", "192.0.2.256", std::nullopt},
    {"trailing blank", "192.0.2.1 ", std::nullopt},
    {"a name", "localhost", std::nullopt},
    {"cidr is not an address", "192.0.2.0/24", std::nullopt},
    {"bad v6", "2001:db8:::1", std::nullopt},
    {"mapped with bad v4", "::ffff:192.0.2.300", std::nullopt},
};

TEST(ParseAddress, FamiliesAndRejections) {
  for (const auto& c : kAddressCases) {
    const auto parsed = parse_address(c.text);
    ASSERT_EQ(parsed.has_value(), c.family.has_value()) << c.label;
    if (parsed) {
      EXPECT_EQ(parsed->family, *c.family) << c.label;
    }
  }
}

TEST(ParseAddress, Ipv4MappedPeerIsTheSameAsItsIpv4Address) {
  EXPECT_EQ(parse_address("::ffff:192.0.2.1"), parse_address("192.0.2.1"));
  EXPECT_EQ(parse_address("::ffff:c000:201"), parse_address("192.0.2.1"));
  EXPECT_EQ(parse_address("192.0.2.1"), v4(0xC0000201u));
}

// ---------------------------------------------------------------------------------------------
// Node::from_cidr

struct CidrCase {
  const char* label;
  const char* text;
  bool valid;
  Family family = Family::ipv4;
  unsigned bits = 0;
};

const CidrCase kCidrCases[] = {
    {"v4 /24", "192.0.2.0/24", true, Family::ipv4, 24},
    {"v4 /0", "0.0.0.0/0", true, Family::ipv4, 0},
    {"v4 /32", "192.0.2.1/32", true, Family::ipv4, 32},
    {"v6 /32", "2001:db8::/32", true, Family::ipv6, 32},
    {"v6 /128", "::1/128", true, Family::ipv6, 128},
    {"v6 /0", "::/0", true, Family::ipv6, 0},
    {"mapped becomes v4 with v4 bits", "::ffff:192.0.2.0/24", true, Family::ipv4, 24},
    {"blanks around are ignored", "  192.0.2.0/24\t", true, Family::ipv4, 24},
    {"bare address rejected", "192.0.2.1", false},
    {"bare v6 address rejected", "2001:db8::1", false},
    {"empty bits rejected", "192.0.2.0/", false},
    {"non-numeric bits rejected", "192.0.2.0/abc", false},
    {"negative bits rejected", "192.0.2.0/-1", false},
    {"v4 bits above 32 rejected", "192.0.2.0/33", false},
    {"v6 bits above 128 rejected", "2001:db8::/129", false},
    {"mapped bits are v4 bits", "::ffff:192.0.2.0/120", false},
    {"bad v4 network rejected", "192.0.2.300/24", false},
    {"bad v6 network rejected", "2001:db8:::/48", false},
    {"missing network rejected", "/8", false},
    {"name rejected", "localhost/8", false},
    {"empty rejected", "", false},
};

TEST(NodeFromCidr, ValidAndInvalidEntries) {
  for (const auto& c : kCidrCases) {
    std::string error;
    const auto node = Node::from_cidr(c.text, true, &error);
    ASSERT_EQ(node.has_value(), c.valid) << c.label;
    if (node) {
      EXPECT_EQ(node->family(), c.family) << c.label;
      EXPECT_EQ(node->bits, c.bits) << c.label;
      EXPECT_TRUE(node->allow) << c.label;
      EXPECT_TRUE(error.empty()) << c.label;
    } else {
      EXPECT_FALSE(error.empty()) << c.label;
    }
  }
}

TEST(NodeFromCidr, BareAddressIsRejectedWithAnExplanation) {
  std::string error;
  EXPECT_FALSE(Node::from_cidr("192.0.2.1", true, &error));
  EXPECT_NE(error.find("192.0.2.1"), std::string::npos) << error;
  EXPECT_NE(error.find("/bits"), std::string::npos) << error;
}

// ---------------------------------------------------------------------------------------------
// Node::matches, including the mask quirks of ACL.md §4.

struct MatchCase {
  const char* label;
  const char* cidr;
  const char* address;
  bool matches;
};

const MatchCase kMatchCases[] = {
    {"inside /24", "192.0.2.0/24", "192.0.2.77", true},
    {"outside /24", "192.0.2.0/24", "198.51.100.1", false},
    {"network bits beyond prefix are ignored", "192.0.2.99/24", "192.0.2.1", true},
    {"/8", "10.0.0.0/8", "10.255.1.2", true},
    {"/12 upper edge", "172.16.0.0/12", "172.31.255.255", true},
    {"/12 just outside", "172.16.0.0/12", "172.32.0.0", false},
    {"/32 matches its address", "192.0.2.1/32", "192.0.2.1", true},
    {"/32 matches nothing else", "192.0.2.1/32", "192.0.2.2", false},
    {"0.0.0.0/0 matches everything", "0.0.0.0/0", "198.51.100.7", true},
    {"non-zero /0 matches its exact address", "192.0.2.1/0", "192.0.2.1", true},
    {"non-zero /0 matches nothing else", "192.0.2.1/0", "192.0.2.2", false},
    {"0.0.0.0/32 matches everything (quirk)", "0.0.0.0/32", "198.51.100.7", true},
    {"0.0.0.0/8 is a normal prefix", "0.0.0.0/8", "0.1.2.3", true},
    {"0.0.0.0/8 excludes others", "0.0.0.0/8", "192.0.2.1", false},
    {"v6 /48 inside", "2001:db8:1::/48", "2001:db8:1:ffff::1", true},
    {"v6 /48 outside", "2001:db8:1::/48", "2001:db8:2::1", false},
    {"v6 /10 odd bit boundary inside", "fe80::/10", "febf::1", true},
    {"v6 /10 odd bit boundary outside", "fe80::/10", "fec0::1", false},
    {"::1/128 matches ::1", "::1/128", "::1", true},
    {"::1/128 does not match ::2", "::1/128", "::2", false},
    {"::/0 matches every v6", "::/0", "2001:db8::1", true},
    {"X::/0 matches X exactly", "2001:db8::/0", "2001:db8::", true},
    {"X::/0 matches nothing else", "2001:db8::/0", "2001:db8::1", false},
    {"v4 node never matches v6", "0.0.0.0/0", "2001:db8::1", false},
    {"v6 node never matches v4", "::/0", "192.0.2.1", false},
    {"mapped node matches v4 peer", "::ffff:192.0.2.0/24", "192.0.2.5", true},
    {"v4 node matches mapped peer", "192.0.2.0/24", "::ffff:192.0.2.5", true},
};

TEST(NodeMatches, PrefixesAndQuirks) {
  for (const auto& c : kMatchCases) {
    const auto node = Node::from_cidr(c.cidr, true);
    ASSERT_TRUE(node) << c.label;
    const auto address = parse_address(c.address);
    ASSERT_TRUE(address) << c.label;
    EXPECT_EQ(node->matches(*address), c.matches) << c.label;
  }
}

// ---------------------------------------------------------------------------------------------
// Node::from_host_mask

TEST(HostMaskNode, IsIpv4WithBitsFromTheMask) {
  const auto node = Node::from_host_mask("172.20.0.0", "255.255.0.0", true);
  ASSERT_TRUE(node);
  EXPECT_EQ(node->family(), Family::ipv4);
  EXPECT_EQ(node->bits, 16u);
  EXPECT_EQ(node->text, "172.20.0.0:255.255.0.0");
  EXPECT_TRUE(node->matches(*parse_address("172.20.5.5")));
  EXPECT_FALSE(node->matches(*parse_address("172.21.0.1")));
  EXPECT_FALSE(node->matches(*parse_address("2001:db8::1")));
}

TEST(HostMaskNode, HostBitsNeedNotBeZero) {
  // nat.auto/localnet.auto use the machine's own address with its netmask.
  const auto node = Node::from_host_mask("192.168.1.10", "255.255.255.0", false);
  ASSERT_TRUE(node);
  EXPECT_EQ(node->bits, 24u);
  EXPECT_TRUE(node->matches(*parse_address("192.168.1.200")));
}

TEST(HostMaskNode, NonContiguousMaskCountsOneBits) {
  const auto node = Node::from_host_mask("10.0.20.0", "255.0.255.0", true);
  ASSERT_TRUE(node);
  EXPECT_EQ(node->bits, 16u);
  EXPECT_TRUE(node->matches(*parse_address("10.99.20.1")));
  EXPECT_FALSE(node->matches(*parse_address("10.99.21.1")));
}

TEST(HostMaskNode, ZeroMaskFollowsTheZeroMaskRule) {
  const auto any = Node::from_host_mask("0.0.0.0", "0.0.0.0", true);
  ASSERT_TRUE(any);
  EXPECT_EQ(any->bits, 0u);
  EXPECT_TRUE(any->matches(*parse_address("198.51.100.7")));
  const auto exact = Node::from_host_mask("192.0.2.1", "0.0.0.0", true);
  ASSERT_TRUE(exact);
  EXPECT_TRUE(exact->matches(*parse_address("192.0.2.1")));
  EXPECT_FALSE(exact->matches(*parse_address("192.0.2.2")));
}

TEST(HostMaskNode, RejectsNonIpv4Parts) {
  std::string error;
  EXPECT_FALSE(Node::from_host_mask("2001:db8::", "255.255.0.0", true, &error));
  EXPECT_FALSE(error.empty());
  EXPECT_FALSE(Node::from_host_mask("192.0.2.0", "24", true));
  EXPECT_FALSE(Node::from_host_mask("", "255.255.255.0", true));
}

// ---------------------------------------------------------------------------------------------
// Comma-separated cidr values

TEST(CidrList, CommaSeparatedValueBecomesSeveralNodesInOrder) {
  std::vector<std::string> warnings;
  const auto nodes = parse_cidr_list("10.1.0.0/16,10.2.0.0/16, 2001:db8:1::/48", false, &warnings);
  ASSERT_EQ(nodes.size(), 3u);
  EXPECT_EQ(nodes[0].text, "10.1.0.0/16");
  EXPECT_EQ(nodes[1].text, "10.2.0.0/16");
  EXPECT_EQ(nodes[2].text, "2001:db8:1::/48");
  EXPECT_FALSE(nodes[0].allow);
  EXPECT_TRUE(warnings.empty());
}

TEST(CidrList, BadItemsAreSkippedWithOneWarningEach) {
  std::vector<std::string> warnings;
  const auto nodes =
      parse_cidr_list("10.1.0.0/16,192.0.2.1,,10.2.0.0/99,10.3.0.0/16", true, &warnings);
  ASSERT_EQ(nodes.size(), 2u);
  EXPECT_EQ(nodes[0].text, "10.1.0.0/16");
  EXPECT_EQ(nodes[1].text, "10.3.0.0/16");
  EXPECT_EQ(warnings.size(), 3u);
}

TEST(CidrList, NullWarningsIsAllowed) {
  EXPECT_EQ(parse_cidr_list("bogus,192.0.2.0/24", true).size(), 1u);
}

// ---------------------------------------------------------------------------------------------
// NetworkList evaluation (ACL.md §4)

struct Verdict {
  const char* address;
  bool allowed;
};

void expect_verdicts(const NetworkList& list, std::initializer_list<Verdict> verdicts) {
  for (const auto& v : verdicts) {
    EXPECT_EQ(list.allows(v.address), v.allowed) << list.name() << " / " << v.address;
  }
}

NetworkList lan_example() {
  NetworkList lan("lan", true);
  lan.add_cidr("192.168.42.0/24", false);
  lan.add_cidr("192.168.42.42/32", true);
  return lan;
}

TEST(NetworkList, LanExampleOfTheSpec) {
  expect_verdicts(lan_example(), {{"192.168.42.42", true},
                                  {"192.168.42.7", false},
                                  {"10.0.0.1", true},
                                  {"::ffff:192.168.42.42", true},
                                  {"::ffff:192.168.42.7", false}});
}

TEST(NetworkList, LongestPrefixBeatsDefinitionOrder) {
  // The /32 wins whether it is defined before or after the /24.
  NetworkList before("before", false);
  before.add_cidr("192.0.2.1/32", false);
  before.add_cidr("192.0.2.0/24", true);
  expect_verdicts(before, {{"192.0.2.1", false}, {"192.0.2.2", true}});

  NetworkList after("after", false);
  after.add_cidr("192.0.2.0/24", true);
  after.add_cidr("192.0.2.1/32", false);
  expect_verdicts(after, {{"192.0.2.1", false}, {"192.0.2.2", true}});

  // /32 deny beats /8 allow (the live check of PROTOCOL.md §16).
  NetworkList loopback("loopback.auto", false);
  loopback.add_cidr("127.0.0.0/8", true);
  loopback.add_cidr("127.0.0.2/32", false);
  expect_verdicts(loopback, {{"127.0.0.1", true}, {"127.0.0.2", false}});
}

TEST(NetworkList, TieGoesToTheFirstDefinedNode) {
  NetworkList allow_first("allow_first", false);
  allow_first.add_cidr("192.0.2.0/24", true);
  allow_first.add_cidr("192.0.2.0/24", false);
  expect_verdicts(allow_first, {{"192.0.2.9", true}});
  EXPECT_EQ(allow_first.deciding_node(*parse_address("192.0.2.9")), &allow_first.nodes()[0]);

  NetworkList deny_first("deny_first", true);
  deny_first.add_cidr("192.0.2.0/24", false);
  deny_first.add_cidr("192.0.2.128/24", true);
  expect_verdicts(deny_first, {{"192.0.2.9", false}});
  EXPECT_EQ(deny_first.deciding_node(*parse_address("192.0.2.9")), &deny_first.nodes()[0]);
}

TEST(NetworkList, NoMatchingNodeGivesTheDefault) {
  NetworkList allow("allow", true);
  allow.add_cidr("192.0.2.0/24", false);
  expect_verdicts(allow, {{"198.51.100.1", true}, {"2001:db8::1", true}});
  EXPECT_EQ(allow.deciding_node(*parse_address("198.51.100.1")), nullptr);

  NetworkList deny("deny", false);
  deny.add_cidr("192.0.2.0/24", true);
  expect_verdicts(deny, {{"198.51.100.1", false}, {"2001:db8::1", false}});

  NetworkList empty("empty", true);
  expect_verdicts(empty, {{"192.0.2.1", true}});
}

TEST(NetworkList, SlashZeroBeatsTheDefault) {
  NetworkList list("all_v4_denied", true);
  list.add_cidr("0.0.0.0/0", false);
  expect_verdicts(list, {{"192.0.2.1", false}, {"127.0.0.1", false}, {"2001:db8::1", true}});
}

TEST(NetworkList, SlashZeroWithNonZeroNetworkMatchesOnlyThatAddress) {
  NetworkList list("quirk", false);
  list.add_cidr("192.0.2.1/0", true);
  expect_verdicts(list, {{"192.0.2.1", true}, {"192.0.2.2", false}});
}

TEST(NetworkList, ZeroNetworkSlash32MatchesEverything) {
  NetworkList list("quirk32", false);
  list.add_cidr("0.0.0.0/32", true);
  expect_verdicts(list, {{"192.0.2.1", true}, {"10.0.0.1", true}, {"2001:db8::1", false}});
}

TEST(NetworkList, Ipv6SlashZeroQuirks) {
  NetworkList all("all_v6", false);
  all.add_cidr("::/0", true);
  expect_verdicts(all, {{"2001:db8::1", true}, {"::1", true}, {"192.0.2.1", false}});

  NetworkList exact("exact_v6", false);
  exact.add_cidr("2001:db8::/0", true);
  expect_verdicts(exact, {{"2001:db8::", true}, {"2001:db8::1", false}});
}

TEST(NetworkList, Ipv6Lists) {
  NetworkList list("v6", false);
  list.add_cidr("2001:db8::/32", true);
  list.add_cidr("2001:db8:dead::/48", false);
  list.add_cidr("2001:db8:dead::7/128", true);
  expect_verdicts(list, {{"2001:db8:1::1", true},
                         {"2001:db8:dead::1", false},
                         {"2001:db8:dead::7", true},
                         {"2001:db9::1", false},
                         {"192.0.2.1", false}});
}

TEST(NetworkList, NodesOfTheOtherFamilyAreSkipped) {
  // A v4 /0 deny must not decide for an IPv6 peer, and vice versa.
  NetworkList list("mixed", true);
  list.add_cidr("0.0.0.0/0", false);
  list.add_cidr("2001:db8::/32", false);
  expect_verdicts(list, {{"192.0.2.1", false}, {"2001:db8::1", false}, {"2001:db9::1", true}});
}

TEST(NetworkList, Ipv4MappedPeersUseIpv4Nodes) {
  NetworkList list("v4only", false);
  list.add_cidr("127.0.0.0/8", true);
  expect_verdicts(list, {{"::ffff:127.0.0.1", true}, {"::FFFF:127.0.0.1", true}, {"::1", false}});
}

TEST(NetworkList, HostMaskNodes) {
  NetworkList list("office", false);
  EXPECT_TRUE(list.add_host_mask("172.20.0.0", "255.255.0.0", true));
  EXPECT_TRUE(list.add_host_mask("172.20.9.0", "255.255.255.0", false));
  expect_verdicts(list, {{"172.20.1.1", true}, {"172.20.9.9", false}, {"172.21.0.1", false}});
}

TEST(NetworkList, BadHostMaskIsSkippedWithWarning) {
  NetworkList list("office", false);
  std::vector<std::string> warnings;
  EXPECT_FALSE(list.add_host_mask("172.20.0.0", "/16", true, &warnings));
  EXPECT_TRUE(list.nodes().empty());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("\"office\""), std::string::npos) << warnings[0];
}

TEST(NetworkList, CommaSeparatedCidrAddsSeveralNodes) {
  NetworkList list("office", false);
  EXPECT_EQ(list.add_cidr("10.1.0.0/16,10.2.0.0/16", true), 2u);
  ASSERT_EQ(list.nodes().size(), 2u);
  expect_verdicts(list, {{"10.1.2.3", true}, {"10.2.3.4", true}, {"10.3.0.1", false}});
}

TEST(NetworkList, BareAddressIsRejectedAndTheListUnchanged) {
  NetworkList list("strict", false);
  std::vector<std::string> warnings;
  EXPECT_EQ(list.add_cidr("192.0.2.1", true, &warnings), 0u);
  EXPECT_TRUE(list.nodes().empty());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("\"strict\""), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("192.0.2.1"), std::string::npos) << warnings[0];
  expect_verdicts(list, {{"192.0.2.1", false}});
}

TEST(NetworkList, UnparsableAddressIsDeniedEvenWithDefaultAllow) {
  NetworkList list("open", true);
  expect_verdicts(list, {{"", false}, {"not-an-address", false}, {"192.0.2.1", true}});
}

}  // namespace
}  // namespace eventsocket::acl
