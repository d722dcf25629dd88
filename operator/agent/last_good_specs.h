// The VirtualIP specs the agent must not forget across a restart: without them, an agent that
// restarts while an edit is refused would refuse that VirtualIP as new and withdraw its live VIPs.
//  - validated (Kubernetes mode): per object (uid), the last spec that passed validation; the
//    KubeSource keeps it in force while a later edit is invalid (SelectVirtualIps' `previous`).
//  - applied: per VirtualIP (ObjectIdentity), the spec this node applied last; the Reconciler keeps
//    it in force while this node refuses a later edit (BuildDesiredState's `last_accepted`).
// <state-dir>/last-good-virtualips.json, replaced atomically as the sysctl state file is, and only
// when a pass changed either half. Both halves hold only objects that existed at the last
// complete list, so a deleted VirtualIP is forgotten with the first pass after it.
//
// Format (version 1): each spec as the VirtualIP object that ParseVirtualIp reads back:
//   {"version": 1, "validated": {"<uid>": {"apiVersion": ..., "metadata": ..., "spec": ...}},
//    "applied": {"<uid, or name:<name> in file mode>": {...}}}
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/reconciler.h"
#include "model/virtual_ip.h"

namespace lvsrs {

struct LastGoodSpecs {
  std::map<std::string, VirtualIp> validated;
  std::map<std::string, VirtualIp> applied;
};

class LastGoodFile {
 public:
  static constexpr int kVersion = 1;

  explicit LastGoodFile(std::string state_dir);
  // Empty when the file does not exist. Throws std::runtime_error naming the file when it cannot
  // be read, is not this format, or was written by a newer version. An entry that does not read
  // back as a VirtualIP of its key is left out and described in `skipped`.
  LastGoodSpecs Load(std::vector<std::string>* skipped = nullptr) const;
  // Throws std::runtime_error naming the file; the previous file then stays as it was.
  void Save(const std::map<std::string, VirtualIp>& validated, const std::map<std::string, VirtualIp>& applied) const;
  const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
};

// An AgentLoop observer: saves the specs of a pass (the source's validated ones, the applied
// ones the pass decided) when they differ from what is saved. A failed save is logged and tried
// again after the next pass; it costs only the restart guarantee, so nothing waits for it.
class LastGoodRecorder {
 public:
  // saved: what the file holds now (LastGoodFile::Load at start).
  LastGoodRecorder(const LastGoodFile& file, LastGoodSpecs saved);
  void Observe(const ReconcileOutcome& outcome);

 private:
  const LastGoodFile& file_;
  std::shared_ptr<const std::map<std::string, VirtualIp>> validated_;
  std::map<std::string, VirtualIp> applied_;
  std::string last_error_;
};

}  // namespace lvsrs
