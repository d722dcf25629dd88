#include "kernel/rtnl_kernel.h"

#include "kernel/address_request.h"
#include "kernel/connection_count.h"
#include "kernel/netlink_socket.h"

#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <sys/socket.h>

#include <cerrno>
#include <optional>

namespace lvsrs {
namespace {

int AfOf(const IpAddress& ip) { return ip.is_v4() ? AF_INET : AF_INET6; }

// Index into IFLA_INET_CONF (an array of u32, devconf index minus one; see inet_fill_link_af).
int DevconfIndex(ArpKey key) {
  switch (key) {
    case ArpKey::Ignore: return IPV4_DEVCONF_ARP_IGNORE;
    case ArpKey::Announce: return IPV4_DEVCONF_ARP_ANNOUNCE;
    case ArpKey::RouteLocalnet: return IPV4_DEVCONF_ROUTE_LOCALNET;
  }
  return 0;
}

NlMsgPtr RouteRequest(int type, int flags, const RouteChange& c, bool add) {
  NlMsgPtr m = NewRequest(type, flags);
  rtmsg rtm{};
  rtm.rtm_family = static_cast<unsigned char>(AfOf(c.dst));
  rtm.rtm_dst_len = c.dst.host_prefix();
  rtm.rtm_table = RT_TABLE_MAIN;
  rtm.rtm_protocol = kOwnerProtocol;  // delete matches on it too: never removes a foreign route
  // `route add -host VIP dev lo` makes a link-scope IPv4 route; IPv6 routes ignore scope.
  rtm.rtm_scope = add ? (c.dst.is_v4() ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE) : RT_SCOPE_NOWHERE;
  rtm.rtm_type = RTN_UNICAST;
  AppendHeader(m.get(), rtm);
  PutAddress(m.get(), RTA_DST, c.dst);
  nla_put_u32(m.get(), RTA_OIF, static_cast<unsigned>(c.oif));
  return m;
}

// RTM_SETLINK with IFLA_AF_SPEC { AF_INET { IFLA_INET_CONF { [devconf] = value } } }: the
// per-interface sysctl through netlink, which needs CAP_NET_ADMIN but no writable /proc/sys.
NlMsgPtr InetConfRequest(const SysctlChange& c) {
  NlMsgPtr m = NewRequest(RTM_SETLINK, 0);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = c.ifindex;
  AppendHeader(m.get(), ifi);
  nlattr* af_spec = nla_nest_start(m.get(), IFLA_AF_SPEC);
  nlattr* inet = nla_nest_start(m.get(), AF_INET);
  nlattr* conf = nla_nest_start(m.get(), IFLA_INET_CONF);
  nla_put_u32(m.get(), DevconfIndex(c.key.key), static_cast<unsigned>(c.value));
  nla_nest_end(m.get(), conf);
  nla_nest_end(m.get(), inet);
  nla_nest_end(m.get(), af_spec);
  return m;
}

// Index into IFLA_INET6_CONF (an array of s32 indexed by DEVCONF_*; see ipv6_store_devconf).
int Devconf6Index(NdpKey key) { return key == NdpKey::Forwarding ? DEVCONF_FORWARDING : DEVCONF_PROXY_NDP; }

// One RTM_GETLINK dump: every link, and the per-interface ARP settings that come with it (so
// one request reads them all); with ndp, the per-interface NDP settings too (a link without
// IPv6 carries no AF_INET6 block and gets none).
void DumpLinks(NetlinkSocket& sock, std::vector<Link>& links, SysctlValues& sysctls,
               std::map<NdpSysctlKey, int>* ndp = nullptr) {
  NlMsgPtr req = NewRequest(RTM_GETLINK, 0);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  AppendHeader(req.get(), ifi);
  sock.Dump(
      std::move(req),
      [&](nlmsghdr* h) {
        if (h->nlmsg_type != RTM_NEWLINK) return;
        const auto* info = static_cast<const ifinfomsg*>(nlmsg_data(h));
        nlattr* tb[IFLA_MAX + 1] = {};
        if (nlmsg_parse(h, sizeof(ifinfomsg), tb, IFLA_MAX, nullptr) < 0 || !tb[IFLA_IFNAME]) return;
        Link l;
        l.index = info->ifi_index;
        l.name = nla_get_string(tb[IFLA_IFNAME]);
        l.up = info->ifi_flags & IFF_UP;
        l.loopback = info->ifi_flags & IFF_LOOPBACK;
        l.noarp = info->ifi_flags & IFF_NOARP;
        if (tb[IFLA_MASTER]) l.master = static_cast<int>(nla_get_u32(tb[IFLA_MASTER]));
        if (tb[IFLA_LINKINFO]) {
          nlattr* li[IFLA_INFO_MAX + 1] = {};
          if (nla_parse_nested(li, IFLA_INFO_MAX, tb[IFLA_LINKINFO], nullptr) == 0 && li[IFLA_INFO_KIND])
            l.kind = nla_get_string(li[IFLA_INFO_KIND]);
        }
        if (tb[IFLA_AF_SPEC]) {
          nlattr* af[AF_MAX + 1] = {};
          const bool parsed = nla_parse_nested(af, AF_MAX, tb[IFLA_AF_SPEC], nullptr) == 0;
          if (parsed && af[AF_INET]) {
            nlattr* in[IFLA_INET_MAX + 1] = {};
            if (nla_parse_nested(in, IFLA_INET_MAX, af[AF_INET], nullptr) == 0 && in[IFLA_INET_CONF]) {
              const auto* conf = static_cast<const std::uint32_t*>(nla_data(in[IFLA_INET_CONF]));
              const int n = nla_len(in[IFLA_INET_CONF]) / 4;
              for (ArpKey k : {ArpKey::Ignore, ArpKey::Announce, ArpKey::RouteLocalnet}) {
                const int i = DevconfIndex(k) - 1;
                if (i < n) sysctls[SysctlKey{l.name, k}] = static_cast<int>(conf[i]);
              }
            }
          }
          if (ndp && parsed && af[AF_INET6]) {
            nlattr* in6[IFLA_INET6_MAX + 1] = {};
            if (nla_parse_nested(in6, IFLA_INET6_MAX, af[AF_INET6], nullptr) == 0 && in6[IFLA_INET6_CONF]) {
              const auto* conf = static_cast<const std::int32_t*>(nla_data(in6[IFLA_INET6_CONF]));
              const int n = nla_len(in6[IFLA_INET6_CONF]) / 4;
              for (NdpKey k : {NdpKey::Forwarding, NdpKey::ProxyNdp})
                if (Devconf6Index(k) < n) (*ndp)[NdpSysctlKey{l.name, k}] = conf[Devconf6Index(k)];
            }
          }
        }
        links.push_back(std::move(l));
      },
      [&] {
        links.clear();
        sysctls.clear();
        if (ndp) ndp->clear();
      });
}

// IPv6 addresses the kernel answers solicitations for without holding them, one dump each:
// proxy entries (RTM_GETNEIGH with NTF_PROXY walks the proxy table) and anycast addresses
// (RTM_GETANYCAST, what /proc/net/anycast6 shows).
void DumpProxyEntries(NetlinkSocket& sock, std::vector<NeighbourEntry>& out) {
  NlMsgPtr req = NewRequest(RTM_GETNEIGH, 0);
  ndmsg ndm{};
  ndm.ndm_family = AF_INET6;
  ndm.ndm_flags = NTF_PROXY;
  AppendHeader(req.get(), ndm);
  sock.Dump(
      std::move(req),
      [&](nlmsghdr* h) {
        if (h->nlmsg_type != RTM_NEWNEIGH) return;
        const auto* info = static_cast<const ndmsg*>(nlmsg_data(h));
        if (info->ndm_family != AF_INET6 || !(info->ndm_flags & NTF_PROXY)) return;
        nlattr* tb[NDA_MAX + 1] = {};
        if (nlmsg_parse(h, sizeof(ndmsg), tb, NDA_MAX, nullptr) < 0 || !tb[NDA_DST] || nla_len(tb[NDA_DST]) != 16)
          return;
        out.push_back(NeighbourEntry{IpAddress::FromBytes(Family::V6, nla_data(tb[NDA_DST])), info->ndm_ifindex});
      },
      [&] { out.clear(); });
}

void DumpAnycast(NetlinkSocket& sock, std::vector<NeighbourEntry>& out) {
  NlMsgPtr req = NewRequest(RTM_GETANYCAST, 0);
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_INET6;
  AppendHeader(req.get(), ifa);
  sock.Dump(
      std::move(req),
      [&](nlmsghdr* h) {
        if (h->nlmsg_type != RTM_GETANYCAST) return;  // the type inet6_fill_ifacaddr answers a dump with
        const auto* info = static_cast<const ifaddrmsg*>(nlmsg_data(h));
        nlattr* tb[IFA_MAX + 1] = {};
        if (nlmsg_parse(h, sizeof(ifaddrmsg), tb, IFA_MAX, nullptr) < 0 || !tb[IFA_ANYCAST] ||
            nla_len(tb[IFA_ANYCAST]) != 16)
          return;
        out.push_back(NeighbourEntry{IpAddress::FromBytes(Family::V6, nla_data(tb[IFA_ANYCAST])),
                                     static_cast<int>(info->ifa_index)});
      },
      [&] { out.clear(); });
}

// RTM_GETROUTE for one address, as `ip route get`: the route the kernel would use and, in
// RTA_PREFSRC, the source address it picks. nullopt when there is no route (ENETUNREACH, or an
// unreachable, blackhole or prohibit route).
std::optional<SourceChoice> RouteGet(NetlinkSocket& sock, const IpAddress& dst) {
  NlMsgPtr req = NewRequest(RTM_GETROUTE, 0);
  rtmsg rtm{};
  rtm.rtm_family = static_cast<unsigned char>(AfOf(dst));
  rtm.rtm_dst_len = dst.host_prefix();
  AppendHeader(req.get(), rtm);
  PutAddress(req.get(), RTA_DST, dst);
  std::optional<SourceChoice> out;
  const int err = sock.Request(std::move(req), [&](nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWROUTE) return;
    const auto* r = static_cast<const rtmsg*>(nlmsg_data(h));
    nlattr* tb[RTA_MAX + 1] = {};
    if (nlmsg_parse(h, sizeof(rtmsg), tb, RTA_MAX, nullptr) < 0 || !tb[RTA_PREFSRC]) return;
    const Family fam = r->rtm_family == AF_INET ? Family::V4 : Family::V6;
    if (nla_len(tb[RTA_PREFSRC]) != (fam == Family::V4 ? 4 : 16)) return;
    out = SourceChoice{dst, IpAddress::FromBytes(fam, nla_data(tb[RTA_PREFSRC])),
                       tb[RTA_OIF] ? static_cast<int>(nla_get_u32(tb[RTA_OIF])) : 0};
  });
  if (err != 0) return std::nullopt;
  return out;
}

bool BenignAddError(int err) { return err == EEXIST; }
bool BenignRemoveError(int err) { return err == EADDRNOTAVAIL || err == ESRCH || err == ENOENT || err == ENODEV; }

}  // namespace

RtnlKernel::RtnlKernel(SysctlProcfs procfs) : sock_(std::make_unique<NetlinkSocket>()), procfs_(std::move(procfs)) {}
RtnlKernel::~RtnlKernel() = default;

std::map<IpAddress, std::size_t> RtnlKernel::CountEstablished(const std::vector<IpAddress>& addresses) {
  return CountEstablishedConnections(addresses);
}

std::size_t RtnlKernel::RequestCount() const { return sock_->requests_sent(); }

const AddressProtocolProbe& RtnlKernel::AddressProtocol() {
  if (!address_protocol_) address_protocol_ = ProbeAddressProtocol();
  return *address_protocol_;
}

ObservedState RtnlKernel::Observe() {
  ObservedState o;

  DumpLinks(*sock_, o.links, o.sysctls, &o.ndp_sysctls);
  DumpProxyEntries(*sock_, o.proxy_ndp_entries);
  DumpAnycast(*sock_, o.anycast);

  {
    NlMsgPtr req = NewRequest(RTM_GETADDR, 0);
    ifaddrmsg ifa{};
    ifa.ifa_family = AF_UNSPEC;
    AppendHeader(req.get(), ifa);
    sock_->Dump(
        std::move(req),
        [&](nlmsghdr* h) {
          if (h->nlmsg_type != RTM_NEWADDR) return;
          const auto* info = static_cast<const ifaddrmsg*>(nlmsg_data(h));
          if (info->ifa_family != AF_INET && info->ifa_family != AF_INET6) return;
          nlattr* tb[IFA_MAX + 1] = {};
          if (nlmsg_parse(h, sizeof(ifaddrmsg), tb, IFA_MAX, nullptr) < 0) return;
          // IFA_LOCAL is the address itself; IFA_ADDRESS is the peer on point-to-point links.
          nlattr* a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
          const Family fam = info->ifa_family == AF_INET ? Family::V4 : Family::V6;
          if (!a || nla_len(a) != (fam == Family::V4 ? 4 : 16)) return;
          KernelAddress ka;
          ka.ip = IpAddress::FromBytes(fam, nla_data(a));
          ka.prefix = info->ifa_prefixlen;
          ka.ifindex = static_cast<int>(info->ifa_index);
          if (tb[IFA_LABEL]) ka.label = nla_get_string(tb[IFA_LABEL]);
          if (tb[IFA_PROTO]) ka.proto = nla_get_u8(tb[IFA_PROTO]);
          ka.scope = info->ifa_scope;
          const std::uint32_t flags = tb[IFA_FLAGS] ? nla_get_u32(tb[IFA_FLAGS]) : info->ifa_flags;
          ka.secondary = flags & IFA_F_SECONDARY;
          ka.flags = flags;
          o.addresses.push_back(std::move(ka));
        },
        [&] { o.addresses.clear(); });
  }

  for (int family : {AF_INET, AF_INET6}) {
    NlMsgPtr req = NewRequest(RTM_GETROUTE, 0);
    rtmsg rtm{};
    rtm.rtm_family = static_cast<unsigned char>(family);
    rtm.rtm_table = RT_TABLE_MAIN;  // with NETLINK_GET_STRICT_CHK the kernel filters for us
    AppendHeader(req.get(), rtm);
    const std::size_t keep = o.routes.size();
    sock_->Dump(
        std::move(req),
        [&](nlmsghdr* h) {
          if (h->nlmsg_type != RTM_NEWROUTE) return;
          const auto* r = static_cast<const rtmsg*>(nlmsg_data(h));
          if (r->rtm_type != RTN_UNICAST) return;
          nlattr* tb[RTA_MAX + 1] = {};
          if (nlmsg_parse(h, sizeof(rtmsg), tb, RTA_MAX, nullptr) < 0) return;
          const std::uint32_t table = tb[RTA_TABLE] ? nla_get_u32(tb[RTA_TABLE]) : r->rtm_table;
          if (table != kMainTable || !tb[RTA_DST]) return;  // no RTA_DST: the default route
          const Family fam = r->rtm_family == AF_INET ? Family::V4 : Family::V6;
          if (nla_len(tb[RTA_DST]) != (fam == Family::V4 ? 4 : 16)) return;
          KernelRoute kr;
          kr.dst = IpAddress::FromBytes(fam, nla_data(tb[RTA_DST]));
          kr.prefix = r->rtm_dst_len;
          kr.oif = tb[RTA_OIF] ? static_cast<int>(nla_get_u32(tb[RTA_OIF])) : 0;
          kr.table = table;
          kr.protocol = r->rtm_protocol;
          o.routes.push_back(kr);
        },
        [&] { o.routes.resize(keep); });
  }

  // The source the node's own traffic to the world would leave from, per family with a route.
  for (const auto& dst : SourceCheckDestinations())
    if (auto choice = RouteGet(*sock_, dst)) o.sources.push_back(*choice);

  // conf/all and conf/default have no netlink read that carries ARP keys: procfs.
  for (const char* conf : {"all", "default"}) {
    for (ArpKey k : {ArpKey::Ignore, ArpKey::Announce, ArpKey::RouteLocalnet}) {
      const SysctlKey key{conf, k};
      if (auto v = procfs_.Read(key))
        o.sysctls[key] = *v;
      else
        throw KernelError("cannot read /proc/sys/net/ipv4/conf/" + std::string(conf) + "/" + ToString(k));
    }
  }
  // The same for IPv6's conf/all; absent when the kernel runs without IPv6, and then nothing
  // answers a solicitation anyway.
  for (NdpKey k : {NdpKey::Forwarding, NdpKey::ProxyNdp}) {
    const NdpSysctlKey key{"all", k};
    if (auto v = procfs_.Read(key)) o.ndp_sysctls[key] = *v;
  }
  return o;
}

SysctlValues RtnlKernel::ObserveSysctls(const std::vector<SysctlKey>& keys) {
  SysctlValues out;
  bool per_interface = false;
  for (const auto& key : keys) {
    if (key.conf == "all" || key.conf == "default" || key.conf == "lo") {
      if (auto v = procfs_.Read(key)) out[key] = *v;
    } else {
      per_interface = true;
    }
  }
  if (per_interface) {
    std::vector<Link> links;
    SysctlValues all;
    DumpLinks(*sock_, links, all);
    for (const auto& key : keys)
      if (auto it = all.find(key); it != all.end()) out.insert(*it);
  }
  if (out.empty() && !keys.empty()) throw KernelError("cannot read any of the ARP sysctls from /proc/sys or netlink");
  return out;
}

ApplyResult RtnlKernel::Apply(const Plan& plan) {
  ApplyResult result;
  // One pipeline, in dependency order: the kernel processes a batch's messages in sequence.
  enum class Kind { AddAddr, AddRoute, SetConf, DelRoute, DelAddr, RestoreConf };
  struct Item {
    Kind kind;
    IpAddress ip;
    SysctlKey key;
    std::string what;
  };
  std::vector<NlMsgPtr> reqs;
  std::vector<Item> items;
  for (const auto& a : plan.add_addresses) {
    reqs.push_back(AddressRequest(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, a, true));
    items.push_back({Kind::AddAddr, a.ip, {}, "add " + a.Describe()});
  }
  for (const auto& r : plan.add_routes) {
    reqs.push_back(RouteRequest(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, r, true));
    items.push_back({Kind::AddRoute, r.dst, {}, "add " + r.Describe()});
  }
  for (const auto& s : plan.set_sysctls) {
    if (s.ifindex == 0) continue;
    reqs.push_back(InetConfRequest(s));
    items.push_back({Kind::SetConf, {}, s.key, "set " + s.Describe()});
  }
  for (const auto& r : plan.remove_routes) {
    reqs.push_back(RouteRequest(RTM_DELROUTE, 0, r, false));
    items.push_back({Kind::DelRoute, r.dst, {}, "remove " + r.Describe()});
  }
  for (const auto& a : plan.remove_addresses) {
    reqs.push_back(AddressRequest(RTM_DELADDR, 0, a, false));
    items.push_back({Kind::DelAddr, a.ip, {}, "remove " + a.Describe()});
  }
  for (const auto& s : plan.restore_sysctls) {
    if (s.ifindex == 0) continue;
    reqs.push_back(InetConfRequest(s));
    items.push_back({Kind::RestoreConf, {}, s.key, "restore " + s.Describe()});
  }

  const auto acks = sock_->Transact(reqs);
  for (std::size_t i = 0; i < acks.size(); ++i) {
    const Item& it = items[i];
    const bool removal = it.kind == Kind::DelAddr || it.kind == Kind::DelRoute;
    const bool ok = acks[i].error == 0 || (removal ? BenignRemoveError(acks[i].error)
                                                   : (it.kind == Kind::AddAddr || it.kind == Kind::AddRoute) &&
                                                         BenignAddError(acks[i].error));
    if (ok) {
      ++result.writes_ok;
      continue;
    }
    const std::string msg = it.what + ": " + acks[i].message;
    if (it.kind == Kind::SetConf || it.kind == Kind::RestoreConf)
      result.errors[ItemKey::OfSysctl(it.key)] = msg;
    else if (it.kind == Kind::AddRoute || it.kind == Kind::DelRoute)
      result.errors[ItemKey::OfRoute(it.ip)] = msg;
    else
      result.errors[ItemKey::OfAddress(it.ip)] = msg;
  }

  for (const auto* list : {&plan.set_sysctls, &plan.restore_sysctls}) {
    for (const auto& s : *list) {
      if (s.ifindex != 0) continue;
      const std::string err = procfs_.Write(s.key, s.value);
      if (err.empty())
        ++result.writes_ok;
      else
        result.errors[ItemKey::OfSysctl(s.key)] = s.Describe() + ": " + err;
    }
  }
  return result;
}

}  // namespace lvsrs
