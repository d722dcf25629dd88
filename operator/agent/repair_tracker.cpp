#include "agent/repair_tracker.h"

#include <algorithm>

namespace lvsrs {

bool RepairTracker::Due(const std::string& item, Clock::time_point now) {
  auto it = items_.find(item);
  if (it == items_.end() || it->second.next_allowed <= now) return true;
  if (!next_due_ || it->second.next_allowed < *next_due_) next_due_ = it->second.next_allowed;
  return false;
}

bool RepairTracker::Repaired(const std::string& item, Clock::time_point now) {
  Item& i = items_[item];
  while (!i.repairs.empty() && i.repairs.front() + options_.window < now) i.repairs.pop_front();
  i.repairs.push_back(now);
  const int n = static_cast<int>(i.repairs.size());
  if (n < options_.threshold) return false;
  const bool became = !i.contested;
  i.contested = true;
  // 50 ms, 100 ms, 200 ms, ... per repair beyond the threshold, at most max_delay.
  const int doublings = std::min(n - options_.threshold, 16);
  i.next_allowed = now + std::min<Clock::duration>(options_.first_delay * (1 << doublings), options_.max_delay);
  return became;
}

std::vector<std::string> RepairTracker::Expire(Clock::time_point now) {
  std::vector<std::string> calmed;
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

std::map<std::string, int> RepairTracker::Contested() const {
  std::map<std::string, int> out;
  for (const auto& [name, i] : items_)
    if (i.contested) out[name] = static_cast<int>(i.repairs.size());
  return out;
}

}  // namespace lvsrs
