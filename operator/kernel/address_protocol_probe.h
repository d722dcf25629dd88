// Does this kernel keep IFA_PROTO on addresses? Linux has it since 5.18; older kernels accept the
// attribute in RTM_NEWADDR and silently drop it, so the operator's mark would be lost and its
// addresses would look foreign after a restart (agent/address_record.h is the fallback).
#pragma once

#include <string>

namespace lvsrs {

struct AddressProtocolProbe {
  bool kept = false;   // false also when the probe could not run: the record is the safe side
  std::string detail;  // what was asked and found, for the log
};

// Adds 192.0.2.1/32 and 2001:db8::1/128 to lo with the request every add of the operator sends
// (kernel/address_request.h), and reads them back. It does so in a network namespace of its own,
// made for it by a thread of its own (unshare(CLONE_NEWNET) moves only the calling thread): the
// node's interfaces are never touched, and the namespace ends with the thread's netlink socket,
// so nothing is left behind even when the process is killed mid-probe. Needs CAP_SYS_ADMIN; without
// it the answer is "not kept". IPv6 counts only where the namespace has it.
AddressProtocolProbe ProbeAddressProtocol();

}  // namespace lvsrs
