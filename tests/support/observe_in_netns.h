// Test support: the namespace as the operator reads it (RtnlKernel::Observe), for what `ip` of
// this machine does not show (IFA_PROTO needs iproute2 6.2) or what a model is held against.
#pragma once

#include <string>

#include "reconcile/observed_state.h"

namespace lvsrs::testing {

// RtnlKernel::Observe() run inside the named namespace (/run/netns/<name>): a thread enters it
// (setns moves only the calling thread), so the netlink socket and /proc/sys/net it opens are
// the namespace's. Throws std::runtime_error when it cannot enter it.
ObservedState ObserveIn(const std::string& name);

}  // namespace lvsrs::testing
