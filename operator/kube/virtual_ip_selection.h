// The pure half of KubeSource: from the VirtualIP objects as the API server has them, which
// VirtualIPs this node's pass works with and which are refused, with the last accepted spec of
// each object (by metadata.uid) kept across calls. Kubernetes mode rebuilds from the current
// objects on every change, so without this an edit the schema accepts but the operator refuses
// would drop the VirtualIP and withdraw its live VIPs on every node; with it, such an edit leaves
// the last accepted spec in force (as file mode keeps the last good file) and is reported as
// refused. A deleted object is gone from `objects`, so its last good spec is forgotten: a delete
// still deletes, and an object re-created under the same name (a new uid) starts afresh.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/desired_source.h"
#include "model/virtual_ip.h"

namespace lvsrs::kube {

struct VirtualIpSelection {
  std::vector<VirtualIp> vips;  // accepted specs, and the last accepted one of each refused edit
  // Refusals to report on this node: a never-accepted VirtualIP only where its selector could
  // select this node (or is itself invalid), a refused edit only where the kept spec selects it.
  SourceRefusals refused;
  std::map<std::string, VirtualIp> last_good;  // by uid, of the objects that exist: pass it next time
};

// objects: by name. previous: what the last call returned as last_good.
VirtualIpSelection SelectVirtualIps(const std::map<std::string, nlohmann::json>& objects,
                                    const std::map<std::string, std::string>& node_labels,
                                    const std::map<std::string, VirtualIp>& previous);

}  // namespace lvsrs::kube
