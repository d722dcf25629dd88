#include "cli/node_identity.h"

#include <unistd.h>

#include <cstdlib>

namespace lvsrs {

bool NodeFromFlags(const Flags& flags, NodeInfo& node, std::string& error) {
  if (auto n = flags.Get("node-name")) {
    node.name = *n;
  } else if (const char* env = std::getenv("NODE_NAME"); env && *env) {
    node.name = env;
  } else {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) == 0) node.name = host;
  }
  if (node.name.empty()) {
    error = "cannot tell this node's name: pass --node-name or set NODE_NAME";
    return false;
  }
  // Kubernetes puts kubernetes.io/hostname on every node; file mode mirrors it so selectors match.
  node.labels["kubernetes.io/hostname"] = node.name;
  for (const auto& list : flags.GetAll("node-labels"))
    if (!ParseLabelList(list, node.labels, error)) return false;
  return true;
}

}  // namespace lvsrs
