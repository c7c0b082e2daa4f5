// The registry of network lists: built-in lists (ACL.md §3), acl.conf.xml loading (§2),
// resolving apply-inbound-acl values (§5) and FreeSWITCH's boolean rule (§1).
// Data uses only documentation (192.0.2.0/24, 198.51.100.0/24, 2001:db8::/32), loopback and
// private ranges.
#include "eventsocket/acl/acl.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace eventsocket::acl {
namespace {

bool contains(const std::vector<std::string>& messages, std::string_view needle) {
  return std::any_of(messages.begin(), messages.end(),
                     [&](const std::string& m) { return m.find(needle) != std::string::npos; });
}

std::string join(const std::vector<std::string>& messages) {
  std::string out;
  for (const auto& m : messages) {
    out += m + "\n";
  }
  return out;
}

std::string acl_conf(std::string_view lists) {
  return "<configuration name=\"acl.conf\" description=\"Network Lists\">\n"
         "  <network-lists>\n" +
         std::string(lists) +
         "  </network-lists>\n"
         "</configuration>\n";
}

// The example of ACL.md §2.
const std::string kSpecExample = acl_conf(R"(
    <list name="lan" default="allow">
      <node type="deny"  cidr="192.168.42.0/24"/>
      <node type="allow" cidr="192.168.42.42/32"/>
    </list>
    <list name="domains" default="deny">
      <node type="allow" domain="example.net"/>
    </list>
    <list name="office" default="deny">
      <node type="allow" cidr="10.1.0.0/16,10.2.0.0/16"/>
      <node type="allow" host="172.20.0.0" mask="255.255.0.0"/>
      <node type="allow" cidr="2001:db8:1::/48"/>
    </list>
)");

// ---------------------------------------------------------------------------------------------
// parse_switch_bool

TEST(ParseSwitchBool, FreeSwitchTruthiness) {
  struct Case {
    const char* text;
    bool value;
  };
  const Case cases[] = {
      {"yes", true},       {"YES", true},   {"on", true},     {"On", true},      {"true", true},
      {"TRUE", true},      {"t", true},     {"T", true},      {"enabled", true}, {"Enabled", true},
      {"active", true},    {"allow", true}, {"ALLOW", true},  {"1", true},       {"42", true},
      {"-1", true},        {"+7", true},    {"1.5", true},    {"007", true},     {"1.2.3", true},
      {"no", false},       {"off", false},  {"false", false}, {"f", false},      {"deny", false},
      {"disabled", false}, {"", false},     {"0", false},     {"00", false},     {"0.9", false},
      {".5", false},       {"-0", false},   {"+", false},     {"-", false},      {" 1", false},
      {"1 ", false},       {"1a", false},   {"yes ", false},  {"y", false},      {"tru", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(parse_switch_bool(c.text), c.value) << '"' << c.text << '"';
  }
}

// ---------------------------------------------------------------------------------------------
// Built-in lists

struct BuiltinCase {
  const char* list;
  const char* address;
  bool allowed;
};

const BuiltinCase kBuiltinCases[] = {
    {"loopback.auto", "127.0.0.1", true},
    {"loopback.auto", "127.0.0.2", true},
    {"loopback.auto", "127.255.255.254", true},
    {"loopback.auto", "::1", true},
    {"loopback.auto", "::ffff:127.0.0.1", true},
    {"loopback.auto", "192.0.2.1", false},
    {"loopback.auto", "10.0.0.1", false},
    {"loopback.auto", "::2", false},
    {"loopback.auto", "2001:db8::1", false},

    {"rfc6598.auto", "100.64.0.1", true},
    {"rfc6598.auto", "100.127.255.255", true},
    {"rfc6598.auto", "100.128.0.1", false},
    {"rfc6598.auto", "192.0.2.1", false},

    {"rfc1918.auto", "10.1.2.3", true},
    {"rfc1918.auto", "172.16.0.1", true},
    {"rfc1918.auto", "172.31.255.255", true},
    {"rfc1918.auto", "172.32.0.1", false},
    {"rfc1918.auto", "192.168.1.1", true},
    {"rfc1918.auto", "fe80::1", true},
    {"rfc1918.auto", "192.0.2.1", false},
    {"rfc1918.auto", "127.0.0.1", false},
    {"rfc1918.auto", "2001:db8::1", false},

    {"wan.auto", "192.0.2.1", true},
    {"wan.auto", "198.51.100.7", true},
    {"wan.auto", "0.1.2.3", false},
    {"wan.auto", "10.0.0.1", false},
    {"wan.auto", "172.16.0.1", false},
    {"wan.auto", "192.168.0.1", false},
    {"wan.auto", "169.254.1.1", false},
    {"wan.auto", "100.64.0.1", false},
    {"wan.auto", "fe80::1", false},
    {"wan.auto", "2001:db8::1", true},

    {"wan_v4.auto", "192.0.2.1", true},
    {"wan_v4.auto", "10.0.0.1", false},
    {"wan_v4.auto", "169.254.1.1", false},
    {"wan_v4.auto", "2001:db8::1", false},
    {"wan_v4.auto", "fe80::1", false},

    {"wan_v6.auto", "2001:db8::1", true},
    {"wan_v6.auto", "fe80::1", false},
    {"wan_v6.auto", "192.0.2.1", false},
    {"wan_v6.auto", "10.0.0.1", false},

    {"any_v4.auto", "192.0.2.1", true},
    {"any_v4.auto", "10.0.0.1", true},
    {"any_v4.auto", "127.0.0.1", true},
    {"any_v4.auto", "2001:db8::1", false},
    {"any_v4.auto", "::1", false},

    {"any_v6.auto", "2001:db8::1", true},
    {"any_v6.auto", "::1", true},
    {"any_v6.auto", "192.0.2.1", false},
    {"any_v6.auto", "127.0.0.1", false},

    // Without a local network nat.auto has only its allow nodes.
    {"nat.auto", "10.0.0.1", true},
    {"nat.auto", "172.20.0.1", true},
    {"nat.auto", "192.168.1.20", true},
    {"nat.auto", "100.64.0.1", true},
    {"nat.auto", "192.0.2.1", false},
    {"nat.auto", "2001:db8::1", false},

    // ... and localnet.auto has no nodes at all.
    {"localnet.auto", "192.168.1.20", false},
    {"localnet.auto", "127.0.0.1", false},
};

TEST(BuiltinLists, RepresentativeAddresses) {
  const AclRegistry registry;
  for (const auto& c : kBuiltinCases) {
    EXPECT_EQ(registry.allows(c.list, c.address), c.allowed) << c.list << " / " << c.address;
  }
}

TEST(BuiltinLists, AllTenExistWithTheirDefaults) {
  const AclRegistry registry;
  EXPECT_EQ(registry.names(),
            (std::vector<std::string>{"any_v4.auto", "any_v6.auto", "localnet.auto",
                                      "loopback.auto", "nat.auto", "rfc1918.auto", "rfc6598.auto",
                                      "wan.auto", "wan_v4.auto", "wan_v6.auto"}));
  const struct {
    const char* name;
    bool default_allow;
    std::size_t nodes;
  } expected[] = {
      {"rfc6598.auto", false, 1},  {"rfc1918.auto", false, 4}, {"wan.auto", true, 7},
      {"wan_v4.auto", true, 7},    {"wan_v6.auto", true, 2},   {"any_v4.auto", true, 1},
      {"any_v6.auto", true, 1},    {"nat.auto", false, 4},     {"loopback.auto", false, 2},
      {"localnet.auto", false, 0},
  };
  for (const auto& e : expected) {
    const NetworkList* list = registry.find(e.name);
    ASSERT_NE(list, nullptr) << e.name;
    EXPECT_EQ(list->name(), e.name);
    EXPECT_EQ(list->default_allow(), e.default_allow) << e.name;
    EXPECT_EQ(list->nodes().size(), e.nodes) << e.name;
  }
}

TEST(BuiltinLists, LocalNetworkFeedsNatAndLocalnet) {
  const AclRegistry registry(LocalNetwork{"192.168.1.10", "255.255.255.0"});
  // nat.auto: the local /24 is denied, beating the /16 allow; the rest of 192.168/16 stays.
  EXPECT_FALSE(registry.allows("nat.auto", "192.168.1.20"));
  EXPECT_FALSE(registry.allows("nat.auto", "192.168.1.10"));
  EXPECT_TRUE(registry.allows("nat.auto", "192.168.2.1"));
  EXPECT_TRUE(registry.allows("nat.auto", "10.0.0.1"));
  EXPECT_FALSE(registry.allows("nat.auto", "192.0.2.1"));
  ASSERT_EQ(registry.find("nat.auto")->nodes().size(), 5u);
  EXPECT_FALSE(registry.find("nat.auto")->nodes().front().allow);
  // localnet.auto: exactly the local network.
  EXPECT_TRUE(registry.allows("localnet.auto", "192.168.1.20"));
  EXPECT_TRUE(registry.allows("localnet.auto", "::ffff:192.168.1.20"));
  EXPECT_FALSE(registry.allows("localnet.auto", "192.168.2.1"));
  EXPECT_FALSE(registry.allows("localnet.auto", "2001:db8::1"));
}

TEST(BuiltinLists, InvalidLocalNetworkIsLeftOutWithAWarning) {
  std::vector<std::string> warnings;
  const AclRegistry registry(LocalNetwork{"not-an-ip", "255.255.255.0"}, &warnings);
  EXPECT_EQ(warnings.size(), 1u) << join(warnings);
  EXPECT_EQ(registry.find("nat.auto")->nodes().size(), 4u);
  EXPECT_TRUE(registry.find("localnet.auto")->nodes().empty());
}

TEST(BuiltinLists, ReloadKeepsTheLocalNetwork) {
  AclRegistry registry(LocalNetwork{"192.168.1.10", "255.255.255.0"});
  ASSERT_FALSE(registry.load_xml(acl_conf("")));
  EXPECT_TRUE(registry.allows("localnet.auto", "192.168.1.20"));
  EXPECT_FALSE(registry.allows("nat.auto", "192.168.1.20"));
}

// ---------------------------------------------------------------------------------------------
// Resolving one apply-inbound-acl value (ACL.md §5)

TEST(Resolve, UnknownNameDenies) {
  const AclRegistry registry;
  EXPECT_FALSE(registry.allows("lan", "127.0.0.1"));
  EXPECT_FALSE(registry.allows("loopback", "127.0.0.1"));
  EXPECT_FALSE(registry.allows("", "127.0.0.1"));
}

TEST(Resolve, ListNamesAreCaseSensitive) {
  const AclRegistry registry;
  EXPECT_TRUE(registry.allows("loopback.auto", "127.0.0.1"));
  EXPECT_FALSE(registry.allows("Loopback.auto", "127.0.0.1"));
  EXPECT_FALSE(registry.allows("LOOPBACK.AUTO", "127.0.0.1"));
}

TEST(Resolve, LiteralCidrEntries) {
  const AclRegistry registry;
  struct Case {
    const char* label;
    const char* value;
    const char* address;
    bool allowed;
  };
  const Case cases[] = {
      {"single cidr inside", "192.168.0.0/16", "192.168.7.7", true},
      {"single cidr outside", "192.168.0.0/16", "192.0.2.1", false},
      {"loopback literal", "127.0.0.0/8", "127.0.0.2", true},
      {"list, first matches", "192.0.2.0/24,2001:db8::/32", "192.0.2.9", true},
      {"list, second matches", "192.0.2.0/24,2001:db8::/32", "2001:db8::9", true},
      {"list, none matches", "192.0.2.0/24,2001:db8::/32", "198.51.100.1", false},
      {"blanks after commas", "192.0.2.0/24, 198.51.100.0/24", "198.51.100.1", true},
      {"garbage items never match", "bogus/8,192.0.2.0/24", "192.0.2.1", true},
      {"only garbage denies", "bogus/8", "192.0.2.1", false},
      {"other family never matches", "2001:db8::/32", "192.0.2.1", false},
      {"v4 /0 matches every v4", "0.0.0.0/0", "198.51.100.7", true},
      {"v4 /0 does not match v6", "0.0.0.0/0", "2001:db8::1", false},
      {"::/0 matches every v6", "::/0", "2001:db8::1", true},
      {"non-zero /0 quirk", "192.0.2.1/0", "192.0.2.2", false},
      {"mapped peer", "192.0.2.0/24", "::ffff:192.0.2.1", true},
      {"bare address is an unknown name", "192.0.2.1", "192.0.2.1", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(registry.allows(c.value, c.address), c.allowed) << c.label;
  }
}

TEST(Resolve, ListNameTakesPrecedenceOverCidrReading) {
  AclRegistry registry;
  // A list may be named like a CIDR; the name wins (step 1 before step 2).
  ASSERT_FALSE(registry.load_xml(acl_conf(R"(
    <list name="192.0.2.0/24" default="deny"/>
  )")));
  EXPECT_FALSE(registry.allows("192.0.2.0/24", "192.0.2.1"));
}

TEST(Resolve, UnparsableAddressIsDenied) {
  const AclRegistry registry;
  EXPECT_FALSE(registry.allows("any_v4.auto", "not-an-address"));
  EXPECT_FALSE(registry.allows("0.0.0.0/0", ""));
}

// ---------------------------------------------------------------------------------------------
// check_all: every entry must allow; the first denier is reported.

TEST(CheckAll, EmptyMeansLoopbackAuto) {
  const AclRegistry registry;
  EXPECT_EQ(registry.check_all({}, "127.0.0.1"), std::nullopt);
  EXPECT_EQ(registry.check_all({}, "::1"), std::nullopt);
  EXPECT_EQ(registry.check_all({}, "::ffff:127.0.0.1"), std::nullopt);
  EXPECT_EQ(registry.check_all({}, "192.0.2.1"), "loopback.auto");
  EXPECT_EQ(registry.check_all({}, "2001:db8::1"), "loopback.auto");
}

TEST(CheckAll, AllMustAllowAndTheFirstDenierIsReported) {
  AclRegistry registry;
  ASSERT_FALSE(registry.load_xml(kSpecExample));
  const std::vector<std::string> rfc_then_lan = {"rfc1918.auto", "lan"};
  EXPECT_EQ(registry.check_all(rfc_then_lan, "192.168.42.42"), std::nullopt);
  EXPECT_EQ(registry.check_all(rfc_then_lan, "10.0.0.1"), std::nullopt);
  EXPECT_EQ(registry.check_all(rfc_then_lan, "192.168.42.7"), "lan");
  // lan's default allows 192.0.2.1 and rfc1918.auto denies it: reported in either order.
  EXPECT_EQ(registry.check_all(rfc_then_lan, "192.0.2.1"), "rfc1918.auto");
  EXPECT_EQ(registry.check_all({"lan", "rfc1918.auto"}, "192.0.2.1"), "rfc1918.auto");
  // Where both deny, the first one configured is named.
  EXPECT_EQ(registry.check_all({"loopback.auto", "lan"}, "192.168.42.7"), "loopback.auto");
  EXPECT_EQ(registry.check_all({"lan", "loopback.auto"}, "192.168.42.7"), "lan");
}

TEST(CheckAll, LiteralAndUnknownEntries) {
  const AclRegistry registry;
  EXPECT_EQ(registry.check_all({"192.168.0.0/16"}, "192.168.3.3"), std::nullopt);
  EXPECT_EQ(registry.check_all({"192.168.0.0/16", "typo.auto"}, "192.168.3.3"), "typo.auto");
  EXPECT_EQ(registry.check_all({"any_v4.auto", "192.0.2.0/24,198.51.100.0/24"}, "198.51.100.4"),
            std::nullopt);
  EXPECT_EQ(registry.check_all({"any_v4.auto", "192.0.2.0/24"}, "2001:db8::1"), "any_v4.auto");
}

// ---------------------------------------------------------------------------------------------
// Loading acl.conf.xml (ACL.md §2)

TEST(LoadXml, SpecExample) {
  AclRegistry registry;
  std::vector<std::string> warnings;
  ASSERT_EQ(registry.load_xml(kSpecExample, &warnings), std::nullopt);

  EXPECT_TRUE(registry.allows("lan", "192.168.42.42"));
  EXPECT_FALSE(registry.allows("lan", "192.168.42.7"));
  EXPECT_TRUE(registry.allows("lan", "10.0.0.1"));

  // domain nodes contribute nothing (no user directory), with a warning.
  ASSERT_NE(registry.find("domains"), nullptr);
  EXPECT_TRUE(registry.find("domains")->nodes().empty());
  EXPECT_FALSE(registry.allows("domains", "192.0.2.1"));
  EXPECT_TRUE(contains(warnings, "example.net")) << join(warnings);
  EXPECT_EQ(warnings.size(), 1u) << join(warnings);

  const NetworkList* office = registry.find("office");
  ASSERT_NE(office, nullptr);
  EXPECT_EQ(office->nodes().size(), 4u);
  EXPECT_TRUE(registry.allows("office", "10.1.5.5"));
  EXPECT_TRUE(registry.allows("office", "10.2.0.1"));
  EXPECT_TRUE(registry.allows("office", "172.20.3.3"));
  EXPECT_TRUE(registry.allows("office", "2001:db8:1::5"));
  EXPECT_FALSE(registry.allows("office", "10.3.0.1"));
  EXPECT_FALSE(registry.allows("office", "2001:db8:2::5"));

  // Built-ins remain.
  EXPECT_TRUE(registry.allows("loopback.auto", "127.0.0.1"));
  EXPECT_EQ(registry.names().size(), 13u);
}

TEST(LoadXml, ListsWithoutNameAreSkipped) {
  AclRegistry registry;
  std::vector<std::string> warnings;
  ASSERT_FALSE(registry.load_xml(acl_conf(R"(
    <list default="allow"><node type="allow" cidr="192.0.2.0/24"/></list>
    <list name="" default="allow"><node type="allow" cidr="192.0.2.0/24"/></list>
  )"),
                                 &warnings));
  EXPECT_EQ(registry.names().size(), 10u);
  EXPECT_EQ(registry.find(""), nullptr);
  EXPECT_EQ(warnings.size(), 2u) << join(warnings);
}

TEST(LoadXml, DefaultAttributeUsesSwitchTrueAndMissingMeansAllow) {
  AclRegistry registry;
  ASSERT_FALSE(registry.load_xml(acl_conf(R"(
    <list name="missing"/>
    <list name="allow" default="allow"/>
    <list name="yes" default="YES"/>
    <list name="one" default="1"/>
    <list name="deny" default="deny"/>
    <list name="empty" default=""/>
    <list name="false" default="false"/>
    <list name="zero" default="0"/>
  )")));
  for (const char* name : {"missing", "allow", "yes", "one"}) {
    ASSERT_NE(registry.find(name), nullptr) << name;
    EXPECT_TRUE(registry.find(name)->default_allow()) << name;
    EXPECT_TRUE(registry.allows(name, "192.0.2.1")) << name;
  }
  for (const char* name : {"deny", "empty", "false", "zero"}) {
    ASSERT_NE(registry.find(name), nullptr) << name;
    EXPECT_FALSE(registry.find(name)->default_allow()) << name;
    EXPECT_FALSE(registry.allows(name, "192.0.2.1")) << name;
  }
}

TEST(LoadXml, NodeTypeUsesSwitchTrueAndMissingMeansListDefault) {
  AclRegistry registry;
  ASSERT_FALSE(registry.load_xml(acl_conf(R"(
    <list name="open" default="allow">
      <node cidr="192.0.2.1/32"/>
      <node type="deny" cidr="192.0.2.2/32"/>
      <node type="bogus" cidr="192.0.2.3/32"/>
      <node type="yes" cidr="192.0.2.4/32"/>
    </list>
    <list name="closed" default="deny">
      <node cidr="192.0.2.1/32"/>
      <node type="allow" cidr="192.0.2.2/32"/>
      <node type="Allow" cidr="192.0.2.3/32"/>
    </list>
  )")));
  const NetworkList* open = registry.find("open");
  ASSERT_NE(open, nullptr);
  ASSERT_EQ(open->nodes().size(), 4u);
  EXPECT_TRUE(open->nodes()[0].allow);
  EXPECT_FALSE(open->nodes()[1].allow);
  EXPECT_FALSE(open->nodes()[2].allow);
  EXPECT_TRUE(open->nodes()[3].allow);
  const NetworkList* closed = registry.find("closed");
  ASSERT_NE(closed, nullptr);
  ASSERT_EQ(closed->nodes().size(), 3u);
  EXPECT_FALSE(closed->nodes()[0].allow);
  EXPECT_TRUE(closed->nodes()[1].allow);
  EXPECT_TRUE(closed->nodes()[2].allow);
}

TEST(LoadXml, LaterListWithTheSameNameReplacesTheEarlier) {
  AclRegistry registry;
  ASSERT_FALSE(registry.load_xml(acl_conf(R"(
    <list name="dup" default="deny"><node type="allow" cidr="192.0.2.0/24"/></list>
    <list name="dup" default="deny"><node type="allow" cidr="198.51.100.0/24"/></list>
  )")));
  ASSERT_EQ(registry.find("dup")->nodes().size(), 1u);  // replaced, not merged
  EXPECT_FALSE(registry.allows("dup", "192.0.2.1"));
  EXPECT_TRUE(registry.allows("dup", "198.51.100.1"));
}

TEST(LoadXml, UserListReplacesLoopbackAuto) {
  // PROTOCOL.md §16: after reloadacl a user loopback.auto with a /32 deny rejects 127.0.0.2.
  AclRegistry registry;
  EXPECT_EQ(registry.check_all({}, "127.0.0.2"), std::nullopt);
  ASSERT_FALSE(registry.load_xml(acl_conf(R"(
    <list name="loopback.auto" default="deny">
      <node type="allow" cidr="127.0.0.0/8"/>
      <node type="deny" cidr="127.0.0.2/32"/>
    </list>
  )")));
  EXPECT_EQ(registry.check_all({}, "127.0.0.1"), std::nullopt);
  EXPECT_EQ(registry.check_all({}, "127.0.0.2"), "loopback.auto");
  EXPECT_EQ(registry.check_all({}, "::1"), "loopback.auto");  // ::1/128 was the built-in's
  EXPECT_EQ(registry.find("loopback.auto")->nodes().size(), 2u);
}

TEST(LoadXml, ReloadRebuildsFromBuiltinsPlusTheFile) {
  AclRegistry registry;
  ASSERT_FALSE(registry.load_xml(kSpecExample));
  ASSERT_FALSE(registry.load_xml(acl_conf(R"(
    <list name="loopback.auto" default="deny"/>
  )")));
  EXPECT_EQ(registry.find("lan"), nullptr);
  EXPECT_FALSE(registry.allows("loopback.auto", "127.0.0.1"));
  ASSERT_FALSE(registry.load_xml(acl_conf("")));
  EXPECT_TRUE(registry.allows("loopback.auto", "127.0.0.1"));  // built-in back
  EXPECT_EQ(registry.names().size(), 10u);
  ASSERT_FALSE(registry.load_xml(kSpecExample));
  registry.reset();
  EXPECT_EQ(registry.find("lan"), nullptr);
  EXPECT_EQ(registry.names().size(), 10u);
}

TEST(LoadXml, PortAttributesAreIgnored) {
  AclRegistry registry;
  std::vector<std::string> warnings;
  ASSERT_FALSE(registry.load_xml(acl_conf(R"(
    <list name="ports" default="deny">
      <node type="allow" cidr="192.0.2.0/24" port="5060"/>
      <node type="allow" cidr="198.51.100.0/24" ports="5060,5080" port-min="1" port-max="2"/>
    </list>
  )"),
                                 &warnings));
  EXPECT_TRUE(warnings.empty()) << join(warnings);
  EXPECT_TRUE(registry.allows("ports", "192.0.2.1"));
  EXPECT_TRUE(registry.allows("ports", "198.51.100.1"));
}

TEST(LoadXml, HostMaskNodesAndCidrPrecedence) {
  AclRegistry registry;
  std::vector<std::string> warnings;
  ASSERT_FALSE(registry.load_xml(acl_conf(R"(
    <list name="hm" default="deny">
      <node type="allow" host="172.20.0.0" mask="255.255.0.0"/>
      <node type="allow" cidr="192.0.2.0/24" host="198.51.100.0" mask="255.255.255.0"/>
      <node type="allow" host="10.0.0.0"/>
      <node type="allow"/>
    </list>
  )"),
                                 &warnings));
  const NetworkList* hm = registry.find("hm");
  ASSERT_NE(hm, nullptr);
  ASSERT_EQ(hm->nodes().size(), 2u);
  EXPECT_EQ(hm->nodes()[0].bits, 16u);
  EXPECT_TRUE(registry.allows("hm", "172.20.1.1"));
  EXPECT_TRUE(registry.allows("hm", "192.0.2.1"));      // cidr used ...
  EXPECT_FALSE(registry.allows("hm", "198.51.100.1"));  // ... host/mask then ignored
  EXPECT_FALSE(registry.allows("hm", "10.0.0.1"));      // host without mask: skipped
  EXPECT_EQ(warnings.size(), 2u) << join(warnings);
}

TEST(LoadXml, BadEntriesAreSkippedWithWarningsNotExceptions) {
  AclRegistry registry;
  std::vector<std::string> warnings;
  ASSERT_FALSE(registry.load_xml(acl_conf(R"(
    <list name="messy" default="deny">
      <node type="allow" cidr="192.0.2.1"/>
      <node type="allow" cidr="192.0.2.0/33"/>
      <node type="allow" cidr="2001:db8::/129"/>
      <node type="allow" cidr=""/>
      <node type="allow" cidr="198.51.100.0/24,nonsense,10.9.0.0/16"/>
      <node type="allow" host="999.0.0.1" mask="255.0.0.0"/>
    </list>
  )"),
                                 &warnings));
  const NetworkList* messy = registry.find("messy");
  ASSERT_NE(messy, nullptr);
  EXPECT_EQ(messy->nodes().size(), 2u);
  EXPECT_EQ(warnings.size(), 6u) << join(warnings);
  EXPECT_TRUE(contains(warnings, "\"messy\"")) << join(warnings);
  EXPECT_FALSE(registry.allows("messy", "192.0.2.1"));  // bare address was rejected
  EXPECT_TRUE(registry.allows("messy", "198.51.100.1"));
  EXPECT_TRUE(registry.allows("messy", "10.9.0.1"));
}

TEST(LoadXml, NullWarningsPointerIsFine) {
  AclRegistry registry;
  EXPECT_FALSE(registry.load_xml(acl_conf(R"(
    <list><node cidr="bad"/></list>
    <list name="x"><node cidr="bad"/><node domain="example.net"/></list>
  )")));
  EXPECT_NE(registry.find("x"), nullptr);
}

TEST(LoadXml, ConfigurationInsideALargerDocument) {
  AclRegistry registry;
  ASSERT_FALSE(registry.load_xml(
      "<?xml version=\"1.0\"?><document type=\"freeswitch/xml\"><section name=\"configuration\">"
      "<configuration name=\"switch.conf\"/>" +
      kSpecExample + "</section></document>"));
  EXPECT_NE(registry.find("lan"), nullptr);
}

TEST(LoadXml, MissingNetworkListsMeansBuiltinsOnly) {
  AclRegistry registry;
  ASSERT_FALSE(registry.load_xml(kSpecExample));
  std::vector<std::string> warnings;
  ASSERT_FALSE(registry.load_xml("<configuration name=\"acl.conf\"/>", &warnings));
  EXPECT_EQ(registry.names().size(), 10u);
  EXPECT_EQ(warnings.size(), 1u) << join(warnings);
}

struct XmlErrorCase {
  const char* label;
  std::string text;
  const char* mentions;
};

TEST(LoadXml, UnusableDocumentsAreErrorsAndLeaveTheRegistryUnchanged) {
  const XmlErrorCase cases[] = {
      {"empty text", "", "XML"},
      {"unclosed elements", "<configuration name=\"acl.conf\"><network-lists>", "XML"},
      {"mismatched tags", "<configuration name=\"acl.conf\"></network-lists>", "XML"},
      {"bad attribute", "<configuration name=acl.conf/>", "XML"},
      {"not xml", "this is not xml", "XML"},
      {"binary junk", std::string("\0\xff\xfe<", 4), "XML"},
      {"other configuration", "<configuration name=\"event_socket.conf\"/>", "acl.conf"},
      {"wrong root", "<network-lists><list name=\"lan\"/></network-lists>", "acl.conf"},
  };
  for (const auto& c : cases) {
    AclRegistry registry;
    ASSERT_FALSE(registry.load_xml(kSpecExample)) << c.label;
    std::vector<std::string> warnings;
    const auto error = registry.load_xml(c.text, &warnings);
    ASSERT_TRUE(error.has_value()) << c.label;
    EXPECT_NE(error->message.find(c.mentions), std::string::npos)
        << c.label << ": " << error->message;
    EXPECT_NE(registry.find("lan"), nullptr) << c.label;  // previous lists kept
    EXPECT_TRUE(registry.allows("lan", "192.168.42.42")) << c.label;
  }
}

// ---------------------------------------------------------------------------------------------
// load_file

class LoadFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("acl_test_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path write(const std::string& name, const std::string& content) {
    const auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  std::filesystem::path dir_;
};

TEST_F(LoadFile, ReadsAFile) {
  AclRegistry registry;
  std::vector<std::string> warnings;
  ASSERT_EQ(registry.load_file(write("acl.conf.xml", kSpecExample), &warnings), std::nullopt);
  EXPECT_TRUE(registry.allows("lan", "192.168.42.42"));
  EXPECT_FALSE(registry.allows("lan", "192.168.42.7"));
}

TEST_F(LoadFile, MissingFileIsAnErrorAndChangesNothing) {
  AclRegistry registry;
  ASSERT_FALSE(registry.load_xml(kSpecExample));
  const auto error = registry.load_file(dir_ / "does-not-exist.xml");
  ASSERT_TRUE(error);
  EXPECT_NE(error->message.find("does-not-exist.xml"), std::string::npos) << error->message;
  EXPECT_NE(registry.find("lan"), nullptr);
}

TEST_F(LoadFile, MalformedFileIsAnError) {
  AclRegistry registry;
  const auto error = registry.load_file(write("broken.xml", "<configuration name=\"acl.conf\">"));
  ASSERT_TRUE(error);
  EXPECT_NE(error->message.find("XML"), std::string::npos) << error->message;
  EXPECT_EQ(registry.names().size(), 10u);
}

TEST_F(LoadFile, DirectoryIsAnError) {
  AclRegistry registry;
  const auto error = registry.load_file(dir_);
  ASSERT_TRUE(error);
  EXPECT_NE(error->message.find("directory"), std::string::npos) << error->message;
}

}  // namespace
}  // namespace eventsocket::acl
