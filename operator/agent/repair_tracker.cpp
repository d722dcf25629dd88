#include "agent/repair_tracker.h"

#include <algorithm>

namespace lvsrs {

bool RepairTracker::Due(const ItemKey& item, Clock::time_point now) {
  auto it = items_.find(item);
  if (it == items_.end() || it->second.next_allowed <= now) return true;
  if (!next_due_ || it->second.next_allowed < *next_due_) next_due_ = it->second.next_allowed;
  return false;
}

bool RepairTracker::Repaired(const ItemKey& item, Clock::time_point now) {
  Item& i = items_[item];
  while (!i.repairs.empty() && i.repairs.front() + options_.window < now) i.repairs.pop_front();
  i.repairs.push_back(now);
  const int n = static_cast<int>(i.repairs.size());
  if (n < options_.threshold) return false;
  const bool became = !i.contested;
  i.contested = true;
  // 50 ms, 100 ms, 200 ms, ... per repair beyond the threshold, at most 1 s. The attempt is the
  // number of repairs in the window, not a running count, so a slow fight (a repair every few
  // seconds) keeps the shortest delay.
  i.next_allowed = now + options_.backoff.Delay(n - options_.threshold);
  return became;
}

std::vector<ItemKey> RepairTracker::Expire(Clock::time_point now) {
  std::vector<ItemKey> calmed;
  for (auto it = items_.begin(); it != items_.end();) {
    auto& i = it->second;
    while (!i.repairs.empty() && i.repairs.front() + options_.window < now) i.repairs.pop_front();
    if (i.repairs.empty()) {
      if (i.contested) calmed.push_back(it->first);
      it = items_.erase(it);
    } else {
      ++it;
    }
  }
  return calmed;
}

std::optional<RepairTracker::Clock::time_point> RepairTracker::NextExpiry() const {
  std::optional<Clock::time_point> next;
  for (const auto& [name, i] : items_) {
    if (i.repairs.empty()) continue;
    // Expire() drops a repair once it is strictly older than the window.
    const auto t = i.repairs.front() + options_.window + Clock::duration(1);
    if (!next || t < *next) next = t;
  }
  return next;
}

std::map<ItemKey, int> RepairTracker::Contested() const {
  std::map<ItemKey, int> out;
  for (const auto& [name, i] : items_)
    if (i.contested) out[name] = static_cast<int>(i.repairs.size());
  return out;
}

}  // namespace lvsrs
