// SelectVirtualIps: which VirtualIPs a Kubernetes-mode pass works with, and the last accepted spec
// kept per object across a refused edit (issue 13).
#include "kube/virtual_ip_selection.h"

#include <gtest/gtest.h>

namespace lvsrs::kube {
namespace {

using nlohmann::json;

const std::map<std::string, std::string> kLabels{{"lvsdr.io/real-server", "true"}};

json Object(const std::string& name, const std::string& uid, std::int64_t generation, json addresses,
            const std::string& selector_value = "true") {
  return json{
      {"apiVersion", "lvsdr.io/v1alpha1"},
      {"kind", "VirtualIP"},
      {"metadata",
       {{"name", name}, {"uid", uid}, {"generation", generation}, {"creationTimestamp", "2026-01-01T00:00:00Z"}}},
      {"spec",
       {{"addresses", addresses}, {"nodeSelector", {{"matchLabels", {{"lvsdr.io/real-server", selector_value}}}}}}}};
}

std::vector<std::string> AddressesOf(const VirtualIpSelection& s, const std::string& name) {
  std::vector<std::string> out;
  for (const auto& v : s.vips)
    if (v.name == name)
      for (const auto& ip : v.addresses) out.push_back(ip.ToString());
  return out;
}

TEST(SelectVirtualIps, RefusedEditKeepsTheLastAcceptedSpecUntilAGoodEditOrADelete) {
  auto s = SelectVirtualIps({{"web", Object("web", "u1", 1, {"192.0.2.10", "2001:db8::10"})}}, kLabels, {});
  EXPECT_EQ(AddressesOf(s, "web"), (std::vector<std::string>{"192.0.2.10", "2001:db8::10"}));
  EXPECT_TRUE(s.refused.empty());
  EXPECT_EQ(s.vips.at(0).uid, "u1");
  EXPECT_EQ(s.vips.at(0).creation_timestamp, "2026-01-01T00:00:00Z");

  // Each edit the operator refuses: upper-case IPv6, a link-local address, an unknown field.
  json unknown_field = Object("web", "u1", 4, {"192.0.2.11"});
  unknown_field["spec"]["hostroute"] = false;
  for (const auto& [edit, why] : std::vector<std::pair<json, std::string>>{
           {Object("web", "u1", 2, {"2001:DB8::11"}), "not canonical"},
           {Object("web", "u1", 3, {"169.254.0.5"}), "spec.addresses[0]: 169.254.0.5 is a link-local address"},
           {unknown_field, "spec.hostroute: unknown field"}}) {
    const auto refused = SelectVirtualIps({{"web", edit}}, kLabels, s.last_good);
    EXPECT_EQ(AddressesOf(refused, "web"), (std::vector<std::string>{"192.0.2.10", "2001:db8::10"})) << why;
    ASSERT_TRUE(refused.refused.count("web")) << why;
    EXPECT_TRUE(refused.refused.at("web").serving_last_good);
    EXPECT_NE(refused.refused.at("web").message.find(why), std::string::npos) << refused.refused.at("web").message;
    EXPECT_NE(refused.refused.at("web").message.find("generation 1"), std::string::npos);
    // Kept over several refused edits in a row.
    const auto again = SelectVirtualIps({{"web", edit}}, kLabels, refused.last_good);
    EXPECT_EQ(AddressesOf(again, "web"), (std::vector<std::string>{"192.0.2.10", "2001:db8::10"}));
  }

  // A good edit applies.
  const auto good = SelectVirtualIps({{"web", Object("web", "u1", 5, {"192.0.2.12"})}}, kLabels, s.last_good);
  EXPECT_EQ(AddressesOf(good, "web"), std::vector<std::string>{"192.0.2.12"});
  EXPECT_TRUE(good.refused.empty());

  // Deleted: gone, and its last good spec with it; re-created (new uid) invalid: refused as new.
  const auto deleted = SelectVirtualIps({}, kLabels, s.last_good);
  EXPECT_TRUE(deleted.vips.empty());
  EXPECT_TRUE(deleted.last_good.empty());
  const auto recreated = SelectVirtualIps({{"web", Object("web", "u2", 1, {"2001:DB8::10"})}}, kLabels, s.last_good);
  EXPECT_TRUE(recreated.vips.empty());
  ASSERT_TRUE(recreated.refused.count("web"));
  EXPECT_FALSE(recreated.refused.at("web").serving_last_good);
}

TEST(SelectVirtualIps, RefusalsAreReportedOnlyWhereTheyMatter) {
  // Never accepted, selecting other nodes: not this node's business.
  auto s = SelectVirtualIps({{"other", Object("other", "u3", 1, {"2001:DB8::1"}, "false")}}, kLabels, {});
  EXPECT_TRUE(s.refused.empty());
  EXPECT_TRUE(s.vips.empty());
  // A kept spec that does not select this node: still kept (the pass skips it), not reported.
  s = SelectVirtualIps({{"other", Object("other", "u3", 1, {"192.0.2.1"}, "false")}}, kLabels, {});
  const auto edit = SelectVirtualIps({{"other", Object("other", "u3", 2, {"2001:DB8::1"})}}, kLabels, s.last_good);
  EXPECT_EQ(AddressesOf(edit, "other"), std::vector<std::string>{"192.0.2.1"});
  EXPECT_TRUE(edit.refused.empty());
}

}  // namespace
}  // namespace lvsrs::kube
