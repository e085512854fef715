#include "train/save_schedule.hpp"

namespace aevb {

EpochEndSaves::EpochEndSaves(double every_seconds, double budget) : every_(every_seconds), budget_(budget) {}

bool EpochEndSaves::due(double since_last, bool must) const {
  if (must || since_last >= every_) return true;  // an interval of 0: every epoch end
  // Writing again now makes the writes last_cost_ of the time since the last began.
  return last_cost_ <= budget_ * (since_last + last_cost_);
}

}  // namespace aevb
