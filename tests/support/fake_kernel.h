// In-memory fakes of the agent's side effects, for unit tests without root (the model is Calico
// Felix's mocknetlink): FakeKernel implements KernelApi on an ObservedState, FakeRecordStore the
// state file.
//
// What FakeKernel implements, with the real kernel's semantics as RtnlKernel sees them:
//  - Apply() executes a Plan in RtnlKernel's order (add addresses, add routes, set sysctls,
//    remove routes, remove addresses, restore sysctls) on its ObservedState, per item: one
//    failing item never stops the others, and each failure is an ApplyResult error under the
//    item's ItemKey with the errno text.
//  - Addresses get what RtnlKernel gives them (host scope on IPv4, the operator's flags, IPv6
//    deprecated, the owner label) and IFA_PROTO 245 only when the fake kernel keeps it
//    (keeps_address_protocol: false is a kernel before 5.18, which drops the attribute).
//  - Idempotence as the kernel answers it and RtnlKernel accepts it: adding an address or a route
//    that is already there is EEXIST (counted as a successful write, nothing changes); removing
//    one that is gone is EADDRNOTAVAIL / ESRCH (also success). Routes are removed only when they
//    carry protocol 245, as the real request does; addresses by address and interface whatever
//    their mark, as RTM_DELADDR does.
//  - A write to a missing interface fails with ENODEV (address, route, per-interface sysctl).
//  - Failure injection: a per-item errno on every write of that item (FailItem), a failing
//    Observe()/ObserveSysctls() (FailObserve), and in FakeRecordStore a failing Save().
//  - Drift: tests change state() directly, as another tool would.
//  - Connections: CountEstablished() answers what SetConnections() set (0 for other addresses),
//    or throws KernelError while FailCount() holds a message.
// What it does NOT implement: local-table routes, lifetimes running out, routes removed
// with their interface or address, link state changes, the effective max(all, dev) ARP value
// (ObservedState's helpers compute that), extended acks, request batching and races. Those are
// covered by tests/kernel and tests/faults against the real kernel.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/address_record.h"
#include "agent/drain_record.h"
#include "agent/sysctl_record.h"
#include "kernel/kernel_api.h"
#include "reconcile/item_key.h"

namespace lvsrs::testing {

// Executes plan on state as FakeKernel::Apply does; failures: items whose writes fail, by errno.
// journal, when given, gets one line per write attempted ("add ip:192.0.2.10", "set
// sysctl:net.ipv4.conf.all.arp_ignore=1", ...).
ApplyResult ApplyToState(ObservedState& state, const Plan& plan, const std::map<ItemKey, int>& failures = {},
                         std::vector<std::string>* journal = nullptr, bool keeps_address_protocol = true);

class FakeKernel : public KernelApi {
 public:
  explicit FakeKernel(ObservedState initial, bool keeps_address_protocol = true)
      : state_(std::move(initial)), keeps_address_protocol_(keeps_address_protocol) {}

  ObservedState Observe() override;
  SysctlValues ObserveSysctls(const std::vector<SysctlKey>& keys) override;
  ApplyResult Apply(const Plan& plan) override;
  std::map<IpAddress, std::size_t> CountEstablished(const std::vector<IpAddress>& addresses) override;
  std::size_t RequestCount() const override { return requests_; }
  bool KeepsAddressProtocol() override { return keeps_address_protocol_; }

  // Every write of item fails with err (an errno) until ClearFailure.
  void FailItem(const ItemKey& item, int err) { failures_[item] = err; }
  void ClearFailure(const ItemKey& item) { failures_.erase(item); }
  // Observe() and ObserveSysctls() throw KernelError(message) until called with nullopt.
  void FailObserve(std::optional<std::string> message) { observe_error_ = std::move(message); }

  // ESTABLISHED connections to ip, as CountEstablished() will report them.
  void SetConnections(const IpAddress& ip, std::size_t n) { connections_[ip] = n; }
  void FailCount(std::optional<std::string> message) { count_error_ = std::move(message); }
  int count_calls() const { return count_calls_; }

  // The kernel's state: read it to assert outcomes, change it to simulate drift.
  ObservedState& state() { return state_; }
  // Writes attempted so far, in order (see ApplyToState). Share one with FakeRecordStore to see
  // the order of saves and writes.
  void set_journal(std::vector<std::string>* journal) { journal_ = journal; }
  int apply_calls() const { return apply_calls_; }

 private:
  ObservedState state_;
  std::map<ItemKey, int> failures_;
  std::optional<std::string> observe_error_;
  std::map<IpAddress, std::size_t> connections_;
  std::optional<std::string> count_error_;
  int count_calls_ = 0;
  std::vector<std::string>* journal_ = nullptr;
  bool keeps_address_protocol_;
  std::size_t requests_ = 0;
  int apply_calls_ = 0;
};

// The state file in memory. Save() throws std::runtime_error while fail_saves is set, as the real
// one does when the disk is full or read-only.
class FakeRecordStore : public SysctlRecordStore {
 public:
  SysctlRecord Load() const override { return saved; }
  void Save(const SysctlRecord& record) const override;

  bool fail_saves = false;
  mutable SysctlRecord saved;
  mutable int saves = 0;
  std::vector<std::string>* journal = nullptr;  // gets "save" per successful save
};

// The address record in memory; Save() fails while fail_saves is set.
class FakeAddressRecordStore : public AddressRecordStore {
 public:
  AddressRecord Load() const override { return saved; }
  void Save(const AddressRecord& record) const override;

  bool fail_saves = false;
  mutable AddressRecord saved;
  mutable int saves = 0;
  std::vector<std::string>* journal = nullptr;  // gets "record addresses" per successful save
};

// draining.json and the drain request in memory; Save() fails while fail_saves is set.
class FakeDrainStore : public DrainStore {
 public:
  Drains Load() const override { return saved; }
  void Save(const Drains& drains) const override;
  bool Requested() const override { return requested; }

  bool fail_saves = false;
  bool requested = false;
  mutable Drains saved;
  mutable int saves = 0;
  std::vector<std::string>* journal = nullptr;  // gets "save drains" per successful save
};

}  // namespace lvsrs::testing
