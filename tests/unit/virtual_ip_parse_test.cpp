#include "model/virtual_ip_parse.h"

#include <gtest/gtest.h>

namespace lvsrs {
namespace {

using nlohmann::json;

json Vip(json spec, const char* name = "web") {
  return {{"apiVersion", "lvsdr.io/v1alpha1"}, {"kind", "VirtualIP"}, {"metadata", {{"name", name}}}, {"spec", spec}};
}

bool HasError(const ParsedVirtualIp& p, const std::string& needle) {
  for (const auto& e : p.errors)
    if (e.find(needle) != std::string::npos) return true;
  return false;
}

TEST(ParseVirtualIp, AppliesTheManualProcedureDefaults) {
  auto p = ParseVirtualIp(Vip({{"addresses", {"192.0.2.10", "2001:db8::10"}}}));
  ASSERT_TRUE(p.vip) << p.errors.front();
  EXPECT_EQ(p.vip->name, "web");
  EXPECT_EQ(p.vip->addresses.size(), 2u);
  EXPECT_EQ(p.vip->interface, "lo");
  EXPECT_TRUE(p.vip->host_route);
  EXPECT_EQ(p.vip->arp.ignore, 1);
  EXPECT_EQ(p.vip->arp.announce, 2);
  EXPECT_EQ(p.vip->arp.scope, ArpScope::Global);
  EXPECT_TRUE(p.vip->node_selector.Matches({}));
}

TEST(ParseVirtualIp, ReadsEveryField) {
  auto p = ParseVirtualIp(Vip({{"addresses", {"203.0.113.5"}},
                               {"interface", "lo"},
                               {"hostRoute", false},
                               {"nodeSelector", {{"matchLabels", {{"role", "rs"}}}}},
                               {"arp", {{"ignore", 8}, {"announce", 1}, {"scope", "PerInterface"}}}}));
  ASSERT_TRUE(p.vip) << p.errors.front();
  EXPECT_FALSE(p.vip->host_route);
  EXPECT_EQ(p.vip->arp.ignore, 8);
  EXPECT_EQ(p.vip->arp.announce, 1);
  EXPECT_EQ(p.vip->arp.scope, ArpScope::PerInterface);
  EXPECT_FALSE(p.vip->node_selector.Matches({}));
  EXPECT_TRUE(p.vip->node_selector.Matches({{"role", "rs"}}));
}

TEST(ParseVirtualIp, NamesTheFieldOfEveryError) {
  auto p =
      ParseVirtualIp(Vip({{"addresses", {"192.0.2.300", "192.0.2.010", "2001:DB8::1", "192.0.2.1", "192.0.2.1", 7}},
                          {"interface", "this-name-is-too-long"},
                          {"hostRoute", "yes"},
                          {"arp", {{"ignore", 4}, {"announce", "2"}, {"scope", "Everywhere"}, {"extra", 1}}},
                          {"colour", "blue"}}));
  EXPECT_FALSE(p.vip);
  EXPECT_TRUE(HasError(p, "spec.addresses[0]: \"192.0.2.300\" is not an IPv4 or IPv6 address"));
  EXPECT_TRUE(HasError(p, "spec.addresses[1]"));  // inet_pton rejects leading zeros
  EXPECT_TRUE(HasError(p, "spec.addresses[2]: \"2001:DB8::1\" is not canonical, write \"2001:db8::1\""));
  EXPECT_TRUE(HasError(p, "spec.addresses[4]: duplicate address 192.0.2.1"));
  EXPECT_TRUE(HasError(p, "spec.addresses[5]: must be a string"));
  EXPECT_TRUE(HasError(p, "spec.interface"));
  EXPECT_TRUE(HasError(p, "spec.hostRoute: must be true or false"));
  EXPECT_TRUE(HasError(p, "spec.arp.ignore: 4 is not one of 0, 1, 2, 3, 8"));
  EXPECT_TRUE(HasError(p, "spec.arp.announce: must be an integer"));
  EXPECT_TRUE(HasError(p, "spec.arp.scope"));
  EXPECT_TRUE(HasError(p, "spec.arp.extra: unknown field"));
  EXPECT_TRUE(HasError(p, "spec.colour: unknown field"));
}

TEST(ParseVirtualIp, RequiresIdentityAndAddresses) {
  auto p = ParseVirtualIp(
      json{{"apiVersion", "v1"}, {"kind", "Service"}, {"metadata", {{"name", "Bad_Name"}}}, {"spec", json::object()}});
  EXPECT_TRUE(HasError(p, "apiVersion"));
  EXPECT_TRUE(HasError(p, "kind"));
  EXPECT_TRUE(HasError(p, "metadata.name"));
  EXPECT_TRUE(HasError(p, "spec.addresses: required"));
  EXPECT_TRUE(HasError(ParseVirtualIp(Vip({{"addresses", json::array()}})), "non-empty"));
  EXPECT_TRUE(HasError(ParseVirtualIp(json::array()), "document must be an object"));
}

TEST(ParseVirtualIp, CapsAddressesPerObject) {
  json many = json::array();
  for (int i = 0; i < 1025; ++i) many.push_back("198.18." + std::to_string(i / 256) + "." + std::to_string(i % 256));
  EXPECT_TRUE(HasError(ParseVirtualIp(Vip({{"addresses", many}})), "at most 1024"));
  many.erase(many.end() - 1);
  EXPECT_TRUE(ParseVirtualIp(Vip({{"addresses", many}})).vip);
}

TEST(ParseVirtualIpDocuments, MultiDocumentYamlAndLists) {
  const std::string text = R"(
apiVersion: lvsdr.io/v1alpha1
kind: VirtualIP
metadata: {name: web}
spec:
  addresses: ["192.0.2.10"]
---
apiVersion: v1
kind: List
items:
- apiVersion: lvsdr.io/v1alpha1
  kind: VirtualIP
  metadata: {name: api, generation: 3}
  spec:
    addresses: ["192.0.2.11"]
    arp: {ignore: 2}
---
)";
  auto d = ParseVirtualIpDocuments(text, "vips.yaml");
  ASSERT_TRUE(d.errors.empty()) << d.errors.front();
  ASSERT_EQ(d.vips.size(), 2u);
  EXPECT_EQ(d.vips[1].name, "api");
  EXPECT_EQ(d.vips[1].generation, 3);
  EXPECT_EQ(d.vips[1].arp.ignore, 2);
}

TEST(ParseVirtualIpDocuments, ErrorsNameFileDocumentAndField) {
  const std::string text = R"(
apiVersion: lvsdr.io/v1alpha1
kind: VirtualIP
metadata: {name: web}
spec: {addresses: ["192.0.2.10"]}
---
apiVersion: lvsdr.io/v1alpha1
kind: VirtualIP
metadata: {name: api}
spec: {addresses: ["192.0.2.11"], hostroute: true}
---
apiVersion: lvsdr.io/v1alpha1
kind: VirtualIP
metadata: {name: web}
spec: {addresses: ["192.0.2.12"]}
)";
  auto d = ParseVirtualIpDocuments(text, "vips.yaml");
  ASSERT_EQ(d.errors.size(), 2u);
  EXPECT_EQ(d.errors[0], "vips.yaml: document 2 (VirtualIP \"api\"): spec.hostroute: unknown field");
  EXPECT_EQ(d.errors[1], "vips.yaml: document 3 (VirtualIP \"web\"): metadata.name: duplicate VirtualIP name");
}

TEST(ParseVirtualIpDocuments, QuotedNumbersStayStringsAndSyntaxErrorsHaveLines) {
  auto d = ParseVirtualIpDocuments(
      "apiVersion: lvsdr.io/v1alpha1\nkind: VirtualIP\nmetadata: {name: x}\nspec: {addresses: [\"192.0.2.1\"], arp: "
      "{ignore: \"1\"}}\n",
      "f");
  ASSERT_EQ(d.errors.size(), 1u);
  EXPECT_NE(d.errors[0].find("spec.arp.ignore: must be an integer"), std::string::npos);
  d = ParseVirtualIpDocuments("a: [1, 2\nb: c\n", "f");
  ASSERT_EQ(d.errors.size(), 1u);
  EXPECT_NE(d.errors[0].find("f: line "), std::string::npos);
  d = ParseVirtualIpDocuments("a: 1\na: 2\n", "f");
  ASSERT_EQ(d.errors.size(), 1u);
  EXPECT_NE(d.errors[0].find("duplicate key"), std::string::npos);
}

TEST(DecidesBefore, OlderFirstThenName) {
  VirtualIp old_z, new_a;
  old_z.name = "zz-established";
  old_z.creation_timestamp = "2026-01-01T00:00:00Z";
  new_a.name = "aa-newcomer";
  new_a.creation_timestamp = "2026-01-01T00:00:01Z";
  EXPECT_TRUE(DecidesBefore(old_z, new_a));  // the name sorts later, the age decides
  EXPECT_FALSE(DecidesBefore(new_a, old_z));
  new_a.creation_timestamp = old_z.creation_timestamp;  // same second: name
  EXPECT_TRUE(DecidesBefore(new_a, old_z));
  new_a.creation_timestamp.clear();  // no creation time: the newest
  EXPECT_TRUE(DecidesBefore(old_z, new_a));
  EXPECT_FALSE(DecidesBefore(new_a, new_a));
}

TEST(ParseVirtualIp, KeepsUidAndCreationTimeFromTheApiServer) {
  auto obj = nlohmann::json::parse(R"({"apiVersion": "lvsdr.io/v1alpha1", "kind": "VirtualIP",
      "metadata": {"name": "web", "uid": "5f0c-1", "creationTimestamp": "2026-03-04T05:06:07Z"},
      "spec": {"addresses": ["192.0.2.1"]}})");
  auto p = ParseVirtualIp(obj);
  ASSERT_TRUE(p.vip) << p.errors.front();
  EXPECT_EQ(p.vip->uid, "5f0c-1");
  EXPECT_EQ(p.vip->creation_timestamp, "2026-03-04T05:06:07Z");
  // Server-written metadata in an odd form orders as "newest", it is no reason to refuse.
  obj["metadata"]["creationTimestamp"] = "yesterday";
  p = ParseVirtualIp(obj);
  ASSERT_TRUE(p.vip);
  EXPECT_EQ(p.vip->creation_timestamp, "");
}

TEST(ParseVirtualIpDocuments, AgeInAFileIsTheDocumentOrder) {
  const char* text = R"(apiVersion: lvsdr.io/v1alpha1
kind: VirtualIP
metadata: {name: zz-first, creationTimestamp: "2026-05-05T00:00:00Z"}
spec: {addresses: ["192.0.2.1"]}
---
apiVersion: lvsdr.io/v1alpha1
kind: VirtualIP
metadata: {name: aa-second, creationTimestamp: "2020-01-01T00:00:00Z"}
spec: {addresses: ["192.0.2.2"]}
)";
  const auto d = ParseVirtualIpDocuments(text, "f");
  ASSERT_TRUE(d.errors.empty()) << d.errors.front();
  ASSERT_EQ(d.vips.size(), 2u);
  EXPECT_TRUE(DecidesBefore(d.vips[0], d.vips[1]));
  EXPECT_FALSE(DecidesBefore(d.vips[1], d.vips[0]));
}

// What the agent saves of a spec it must remember (VirtualIpObject) reads back as that spec.
TEST(VirtualIpObject, ParsesBackAsTheSameSpec) {
  json obj = Vip({{"addresses", {"192.0.2.10", "2001:db8::10"}},
                  {"interface", "eth1"},
                  {"hostRoute", false},
                  {"arp", {{"ignore", 2}, {"announce", 1}, {"scope", "PerInterface"}}},
                  {"nodeSelector",
                   {{"matchLabels", {{"lvsdr.io/real-server", "true"}}},
                    {"matchExpressions",
                     {{{"key", "zone"}, {"operator", "In"}, {"values", {"a", "b"}}},
                      {{"key", "drain"}, {"operator", "DoesNotExist"}}}}}}});
  obj["metadata"]["uid"] = "6c1f6c2e-0000-4000-8000-000000000001";
  obj["metadata"]["generation"] = 7;
  obj["metadata"]["creationTimestamp"] = "2026-01-02T03:04:05Z";
  const auto p = ParseVirtualIp(obj);
  ASSERT_TRUE(p.vip) << p.errors.front();
  const auto again = ParseVirtualIp(VirtualIpObject(*p.vip));
  ASSERT_TRUE(again.vip) << again.errors.front();
  EXPECT_EQ(*again.vip, *p.vip);

  const auto plain = ParseVirtualIp(Vip({{"addresses", {"192.0.2.10"}}}));
  ASSERT_TRUE(plain.vip);
  EXPECT_EQ(*ParseVirtualIp(VirtualIpObject(*plain.vip)).vip, *plain.vip);
}

}  // namespace
}  // namespace lvsrs
