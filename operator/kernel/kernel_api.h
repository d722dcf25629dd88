// The seam between decisions and side effects: read the namespace's state, execute a plan.
// RtnlKernel (netlink + /proc/sys) is the real one; kernel tests use it in a network namespace of
// their own, unit tests an in-memory fake (tests/support/fake_kernel.h).
#pragma once

#include <cstddef>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "reconcile/item_key.h"
#include "reconcile/observed_state.h"
#include "reconcile/plan.h"
#include "reconcile/sysctl_watch.h"

namespace lvsrs {

struct KernelError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct ApplyResult {
  std::size_t writes_ok = 0;
  // Per-item failures, so one bad item never blocks the others. Messages carry the errno text
  // and the kernel's extended ack where it sent one.
  std::map<ItemKey, std::string> errors;
  bool ok() const { return errors.empty(); }
  bool Failed(const ItemKey& item) const { return errors.count(item) > 0; }
  std::size_t Count(ItemKey::Kind kind) const {
    std::size_t n = 0;
    for (const auto& [item, _] : errors) n += item.kind == kind;
    return n;
  }
};

class KernelApi {
 public:
  virtual ~KernelApi() = default;
  // Throws KernelError when the state cannot be read at all.
  virtual ObservedState Observe() = 0;
  // Only these ARP sysctls, for the poll between full passes (they have no notification).
  // Keys that cannot be read (the interface is gone) are left out; throws KernelError when
  // nothing can be read at all.
  virtual SysctlValues ObserveSysctls(const std::vector<SysctlKey>& keys) = 0;
  virtual ApplyResult Apply(const Plan& plan) = 0;
  // Whether the kernel keeps IFA_PROTO, the mark Apply gives every address it adds (Linux 5.18
  // and later). When it does not, the agent records each address before it is added
  // (agent/address_record.h), and recognises its addresses by the record and their properties.
  // May probe the kernel on the first call.
  virtual bool KeepsAddressProtocol() = 0;
  // ESTABLISHED TCP connections per local address, for each of `addresses` (0 when none): what a
  // draining VIP waits for (kernel/connection_count.h). Throws KernelError when they cannot be
  // counted.
  virtual std::map<IpAddress, std::size_t> CountEstablished(const std::vector<IpAddress>& addresses) = 0;
  // Netlink requests sent so far (dumps count one each): benchmarks count them.
  virtual std::size_t RequestCount() const = 0;
};

}  // namespace lvsrs
