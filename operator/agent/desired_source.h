// Where VirtualIPs come from: a local YAML file (run --file) or the Kubernetes API (run).
// The loop asks for a snapshot on every pass and touches nothing until the source has synced.
#pragma once

#include <string>
#include <vector>

#include "model/virtual_ip.h"

namespace lvsrs {

class DesiredSource {
 public:
  virtual ~DesiredSource() = default;
  struct Snapshot {
    bool synced = false;  // a first complete read happened; before it, nothing is changed
    std::vector<VirtualIp> vips;
    NodeInfo node;
  };
  virtual Snapshot Get() = 0;
  // Called on every loop turn and timer; returns true when the input changed.
  virtual bool Poll() { return false; }
};

}  // namespace lvsrs
