// The RealServer status (lvsdr.io/v1alpha1) as a pure function of the node's evaluated status and
// the previously written status, so that an unchanged node yields a byte-identical document and
// nothing is written (0 API writes at steady state). Kubernetes condition conventions: every
// condition has reason and message, and lastTransitionTime moves only when its status changes.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/desired_source.h"
#include "reconcile/node_status.h"

namespace lvsrs::kube {

// Its size is O(VirtualIPs + problems), not O(addresses + interfaces): one entry per VirtualIP
// (Ready, NotReady, Refused or EditRefused, with configured/wanted addresses), then only the
// addresses and interfaces that are not as wanted, at most 20 of each plus a count of the rest.
// refused: VirtualIPs refused before reconcile (by the KubeSource, in the same snapshot as the
// pass that made `status`). One whose edit is refused while its last accepted spec is served has
// state EditRefused and the counts of the addresses it still serves. now: metav1.Time (FormatRfc3339).
// contested: items another tool keeps undoing (ReconcileOutcome::contested); they make the
// Contested condition True. Only the item names go into the status (not the repair counts, which
// change every pass), so a fight costs one write when it starts and one when it ends.
// Returns `previous` unchanged when nothing but the time would change.
nlohmann::json BuildRealServerStatus(const NodeStatus& status, const SourceRefusals& refused,
                                     const nlohmann::json& previous, const std::string& now,
                                     const std::map<std::string, int>& contested = {});

}  // namespace lvsrs::kube
