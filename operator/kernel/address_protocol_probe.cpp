#include "kernel/address_protocol_probe.h"

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <sched.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <map>
#include <optional>
#include <thread>
#include <vector>

#include "kernel/address_request.h"
#include "kernel/netlink_socket.h"

namespace lvsrs {
namespace {

// Every network namespace registers its loopback device first, with this index (LOOPBACK_IFINDEX).
constexpr int kLoopbackIndex = 1;

// IFA_PROTO of each address in the namespace (0 when absent).
std::map<IpAddress, int> AddressProtocols(NetlinkSocket& sock) {
  std::map<IpAddress, int> out;
  NlMsgPtr req = NewRequest(RTM_GETADDR, 0);
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_UNSPEC;
  AppendHeader(req.get(), ifa);
  sock.Dump(
      std::move(req),
      [&](nlmsghdr* h) {
        if (h->nlmsg_type != RTM_NEWADDR) return;
        const auto* info = static_cast<const ifaddrmsg*>(nlmsg_data(h));
        nlattr* tb[IFA_MAX + 1] = {};
        if (nlmsg_parse(h, sizeof(ifaddrmsg), tb, IFA_MAX, nullptr) < 0) return;
        // IPv6 reports its addresses in IFA_ADDRESS only (IFA_LOCAL is for point-to-point peers).
        nlattr* a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
        const Family fam = info->ifa_family == AF_INET ? Family::V4 : Family::V6;
        if (!a || nla_len(a) != (fam == Family::V4 ? 4 : 16)) return;
        out[IpAddress::FromBytes(fam, nla_data(a))] = tb[IFA_PROTO] ? nla_get_u8(tb[IFA_PROTO]) : 0;
      },
      [&] { out.clear(); });
  return out;
}

// Runs in the probe's thread: everything here happens in its private namespace.
AddressProtocolProbe ProbeInPrivateNamespace() {
  if (unshare(CLONE_NEWNET) != 0)
    return {false, std::string("cannot make a network namespace to probe in (unshare: ") + std::strerror(errno) +
                       "; needs CAP_SYS_ADMIN)"};
  NetlinkSocket sock;
  const std::vector<IpAddress> probes = {*IpAddress::Parse("192.0.2.1"), *IpAddress::Parse("2001:db8::1")};
  std::vector<NlMsgPtr> reqs;
  reqs.reserve(probes.size());
  for (const auto& ip : probes)
    reqs.push_back(
        AddressRequest(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, AddressChange{ip, kLoopbackIndex, "lo"}, true));
  const auto acks = sock.Transact(reqs);
  if (acks[0].error != 0)
    return {false, "adding " + probes[0].ToString() + " in the probe's namespace: " + acks[0].message};
  const auto protocols = AddressProtocols(sock);
  std::string found;
  bool kept = true;
  for (std::size_t i = 0; i < probes.size(); ++i) {
    if (acks[i].error != 0) continue;  // no IPv6 in this namespace: only IPv4 counts
    auto it = protocols.find(probes[i]);
    const int proto = it == protocols.end() ? -1 : it->second;
    kept = kept && proto == kOwnerProtocol;
    found += (found.empty() ? "" : ", ") + probes[i].ToString() + " " +
             (proto < 0    ? std::string("not found")
              : proto == 0 ? "without it"
                           : "with " + std::to_string(proto));
  }
  return {kept, std::string(kept ? "kept" : "dropped") + " IFA_PROTO " + std::to_string(kOwnerProtocol) +
                    " on addresses added in a private network namespace (" + found + ")"};
}

}  // namespace

AddressProtocolProbe ProbeAddressProtocol() {
  AddressProtocolProbe out;
  std::thread t([&out] {
    try {
      out = ProbeInPrivateNamespace();
    } catch (const std::exception& e) {
      out = {false, std::string("probe failed: ") + e.what()};
    }
  });
  t.join();
  return out;
}

}  // namespace lvsrs
