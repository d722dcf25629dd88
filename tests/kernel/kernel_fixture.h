// Shared fixture of the kernel tests: a fresh namespace with one veth pair (an ARP-capable
// "NIC" eth0 with the node's own address 198.51.100.7/24), a temp dir for state and files.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "support/netns.h"

namespace lvsrs::testing {

class KernelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ns_ = std::make_unique<TestNetns>("lvsrs-kt");
    ASSERT_EQ(ns_->Exec("ip link add eth0 type veth peer name peer0 && ip link set eth0 up && ip link set peer0 up && "
                        "ip addr add 198.51.100.7/24 dev eth0")
                  .exit_code,
              0);
    dir_ = std::filesystem::temp_directory_path() / ("lvsrs-kt-" + ns_->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    ns_.reset();
  }

  std::string WriteFile(const std::string& name, const std::string& text) {
    const auto path = (dir_ / name).string();
    // Write then rename, as editors and ConfigMap updates do, so a reader never sees half a file.
    std::ofstream(path + ".new") << text;
    std::filesystem::rename(path + ".new", path);
    return path;
  }
  std::string StateDir() const { return (dir_ / "state").string(); }
  std::string Run(const std::string& args) { return args + " --state-dir " + StateDir() + " --node-name rs1"; }

  bool HasAddress(const std::string& dev, const std::string& cidr) {
    const auto a = ns_->Addresses(dev);
    return std::find(a.begin(), a.end(), cidr) != a.end();
  }
  // The main-table route for dst, or null json.
  nlohmann::json Route(const std::string& dst, int family = 4) {
    for (const auto& r : ns_->IpJson("-" + std::to_string(family) + " route show table main"))
      if (r.value("dst", "") == dst) return r;
    return nullptr;
  }
  // Every address as "dev local/prefix label", sorted: what a user compares before and after.
  // Flags are left out on purpose: IPv6 link-local DAD flips "tentative" by itself.
  std::vector<std::string> AllAddresses() {
    std::vector<std::string> out;
    for (const auto& link : ns_->IpJson("addr show"))
      for (const auto& a : link.value("addr_info", nlohmann::json::array()))
        out.push_back(link["ifname"].get<std::string>() + " " + a["local"].get<std::string>() + "/" +
                      std::to_string(a["prefixlen"].get<int>()) + " " + a.value("label", ""));
    std::sort(out.begin(), out.end());
    return out;
  }
  int CountAddress(const std::string& ip) {
    int n = 0;
    for (const auto& link : ns_->IpJson("addr show"))
      for (const auto& a : link.value("addr_info", nlohmann::json::array())) n += a.value("local", "") == ip;
    return n;
  }

  std::unique_ptr<TestNetns> ns_;
  std::filesystem::path dir_;
};

inline std::string VipDoc(const std::string& name, const std::string& addresses, const std::string& extra = "") {
  return "apiVersion: lvsdr.io/v1alpha1\nkind: VirtualIP\nmetadata:\n  name: " + name + "\nspec:\n  addresses: [" +
         addresses + "]\n" + extra;
}

}  // namespace lvsrs::testing
