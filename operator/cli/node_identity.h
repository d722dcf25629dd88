// This node's name and labels from flags: --node-name, else $NODE_NAME (the downward API in the
// DaemonSet), else the host name; --node-labels k=v,... in file mode.
#pragma once

#include <string>

#include "cli/flags.h"
#include "model/virtual_ip.h"

namespace lvsrs {

bool NodeFromFlags(const Flags& flags, NodeInfo& node, std::string& error);

}  // namespace lvsrs
