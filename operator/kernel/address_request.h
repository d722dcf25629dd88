// The RTM_NEWADDR / RTM_DELADDR requests for the operator's addresses. One builder for the adds
// of a plan and for the IFA_PROTO probe (address_protocol_probe.h), so that the probe asks the
// kernel exactly what the adds ask it.
#pragma once

#include "kernel/netlink_socket.h"
#include "reconcile/plan.h"

namespace lvsrs {

// add: the address with every property the operator gives it (IFA_PROTO kOwnerProtocol, the
// owner label on IPv4 where it fits, host scope on IPv4, VipAddressFlags, and IPv6 deprecated:
// preferred lifetime 0, valid forever). A delete names only the address and its interface.
NlMsgPtr AddressRequest(int type, int flags, const AddressChange& c, bool add);

}  // namespace lvsrs
