// Where VirtualIPs come from: a local YAML file (run --file) or the Kubernetes API (run).
// The loop asks for a snapshot on every pass and touches nothing until the source has synced.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/virtual_ip.h"

namespace lvsrs {

// A VirtualIP the source refused before reconcile (its current spec is invalid). One snapshot
// carries both the VirtualIPs and these, so that status, Events, metrics and logs of a pass all
// report the same refusals.
struct SourceRefusal {
  std::string message;  // why the current spec is refused
  // Only its latest edit is refused: the last accepted spec is in the snapshot's vips and stays in
  // force. False: the VirtualIP was never accepted (by this agent) and is not served.
  bool serving_last_good = false;
  bool operator==(const SourceRefusal&) const = default;
};
using SourceRefusals = std::map<std::string, SourceRefusal>;  // by VirtualIP name

class DesiredSource {
 public:
  virtual ~DesiredSource() = default;
  struct Snapshot {
    bool synced = false;  // a first complete read happened; before it, nothing is changed
    std::vector<VirtualIp> vips;
    NodeInfo node;
    SourceRefusals refused;
    // Kubernetes mode: by uid, the last spec of each object that passed validation (kept in force
    // while a later edit is invalid), for the agent to save across restarts; null otherwise. A
    // new map only when it changed.
    std::shared_ptr<const std::map<std::string, VirtualIp>> validated;
  };
  virtual Snapshot Get() = 0;
  // Called on every loop turn and timer; returns true when the input changed.
  virtual bool Poll() { return false; }
  // Whether Poll() is the only way to see a change (a file): the loop then turns at least once a
  // second. A source that wakes the loop itself (Kubernetes watches) lets it sleep until a timer.
  virtual bool NeedsPolling() const { return false; }
};

}  // namespace lvsrs
