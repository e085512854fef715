// When `aevb train` writes its files at an epoch's end (src/train/save_schedule.hpp).
#include "train/save_schedule.hpp"

#include <gtest/gtest.h>

namespace aevb {
namespace {

TEST(EpochEndSaves, TheFirstEpochEndWritesAndAnIntervalOfZeroWritesAtEveryOne) {
  EXPECT_TRUE(EpochEndSaves(600).due(0.001, false));
  EpochEndSaves every_end(0);
  every_end.wrote(10.0);  // however costly
  EXPECT_TRUE(every_end.due(0.001, false));
}

TEST(EpochEndSaves, WritesKeepWithinTheirShareOfTheTime) {
  EpochEndSaves saves(600, 0.05);
  saves.wrote(0.010);
  // 10 ms of writing is 5% of 200 ms: due from 190 ms after it ended, not before.
  EXPECT_FALSE(saves.due(0.027, false));
  EXPECT_FALSE(saves.due(0.189, false));
  EXPECT_TRUE(saves.due(0.191, false));
  EXPECT_TRUE(saves.due(0.300, false));
  // A cheap write is due again at once.
  saves.wrote(0.0001);
  EXPECT_TRUE(saves.due(0.00191, false));
  EXPECT_FALSE(saves.due(0.00189, false));
}

TEST(EpochEndSaves, TheIntervalAndTheRunsLastEpochOrAStopWriteWhateverTheCost) {
  EpochEndSaves saves(1.0, 0.05);
  saves.wrote(1.0);  // would be due only 19 s later by its cost
  EXPECT_FALSE(saves.due(0.5, false));
  EXPECT_TRUE(saves.due(0.5, true));
  EXPECT_TRUE(saves.due(1.0, false));
}

}  // namespace
}  // namespace aevb
