// The per-VIP serving table (reconcile/vip_health.h) the reconcile loop publishes after each pass,
// read by the director-facing listeners from their own threads. A reader takes a reference to the
// whole table of one pass under a short lock and answers from it without holding the lock, so a
// slow client can never hold up the loop, nor the loop a client.
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "reconcile/vip_health.h"

namespace lvsrs {

class VipHealthBoard {
 public:
  using Table = std::map<IpAddress, VipHealth>;
  void Publish(Table table) {
    auto next = std::make_shared<const Table>(std::move(table));
    const std::lock_guard<std::mutex> lock(mu_);
    table_ = std::move(next);
  }
  // nullptr until the first pass.
  std::shared_ptr<const Table> Current() const {
    const std::lock_guard<std::mutex> lock(mu_);
    return table_;
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Table> table_;
};

}  // namespace lvsrs
