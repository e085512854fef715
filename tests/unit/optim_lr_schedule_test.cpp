// Learning-rate schedules: each kind's factor against its closed form (the
// formulas of PyTorch's StepLR, ExponentialLR and CosineAnnealingLR, and
// Burda et al.'s stages), the warm-up, the spec round trip and bad specs.
#include "optim/lr_schedule.hpp"

#include <aevb/error.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

namespace aevb {
namespace {

constexpr double kStepsPerEpoch = 600;  // MNIST's 60000 at batch 100

// The first optimizer step of epoch e (steps count from 1).
std::uint64_t first_step_of(double epoch) { return std::uint64_t(epoch * kStepsPerEpoch) + 1; }

TEST(LrSchedule, ConstantIsOneAtEveryStep) {
  const LrSchedule s;
  for (const std::uint64_t t : {0, 1, 2, 599, 600, 1000000}) EXPECT_EQ(lr_factor(s, t, kStepsPerEpoch), 1.0);
}

TEST(LrSchedule, BurdaStagesLast3PowIEpochsAndEndAtATenth) {
  const LrSchedule s = parse_lr_schedule("burda");
  // Stage i covers the epochs [sum_{j<i} 3^j, sum_{j<=i} 3^j): 0 | 1-3 | 4-12 | 13-39 | ... | 1093-3279.
  double start = 0, length = 1;
  for (int i = 0; i <= 7; ++i, length *= 3) {
    const double expected = std::pow(10.0, -i / 7.0);
    EXPECT_NEAR(lr_factor(s, first_step_of(start), kStepsPerEpoch), expected, 1e-15) << "stage " << i;
    // The last step of the stage's last epoch is still in it.
    EXPECT_NEAR(lr_factor(s, first_step_of(start + length) - 1, kStepsPerEpoch), expected, 1e-15) << "stage " << i;
    start += length;
  }
  EXPECT_EQ(start, double(kBurdaEpochs));
  // Past the schedule's 3280 epochs the last stage goes on.
  EXPECT_NEAR(lr_factor(s, first_step_of(5000), kStepsPerEpoch), 0.1, 1e-15);
}

TEST(LrSchedule, StepDecaysByGammaEveryPeriod) {
  const LrSchedule s = parse_lr_schedule("step:10:0.5");
  EXPECT_EQ(lr_factor(s, 1, kStepsPerEpoch), 1.0);
  EXPECT_EQ(lr_factor(s, first_step_of(10) - 1, kStepsPerEpoch), 1.0);  // the last step of epoch 9
  EXPECT_EQ(lr_factor(s, first_step_of(10), kStepsPerEpoch), 0.5);
  EXPECT_EQ(lr_factor(s, first_step_of(25), kStepsPerEpoch), 0.25);
}

TEST(LrSchedule, ExponentialDecaysByGammaPerEpochContinuously) {
  const LrSchedule s = parse_lr_schedule("exponential:0.9");
  EXPECT_NEAR(lr_factor(s, first_step_of(3), kStepsPerEpoch), std::pow(0.9, 3.0), 1e-14);
  // Within an epoch the factor moves with the fraction of it done.
  EXPECT_NEAR(lr_factor(s, first_step_of(3.5), kStepsPerEpoch), std::pow(0.9, 3.5), 1e-14);
}

TEST(LrSchedule, CosineFallsToItsFloorAndStaysThere) {
  const LrSchedule s = parse_lr_schedule("cosine:100:0.1");
  const double m = 0.1;
  EXPECT_NEAR(lr_factor(s, 1, kStepsPerEpoch), 1.0, 1e-15);
  EXPECT_NEAR(lr_factor(s, first_step_of(50), kStepsPerEpoch), (1 + m) / 2, 1e-14);
  EXPECT_NEAR(lr_factor(s, first_step_of(25), kStepsPerEpoch),
              m + (1 - m) * (1 + std::cos(std::numbers::pi / 4)) / 2, 1e-14);
  EXPECT_NEAR(lr_factor(s, first_step_of(100), kStepsPerEpoch), m, 1e-15);
  EXPECT_NEAR(lr_factor(s, first_step_of(300), kStepsPerEpoch), m, 1e-15);
  // Without a floor it reaches 0.
  EXPECT_NEAR(lr_factor(parse_lr_schedule("cosine:100"), first_step_of(100), kStepsPerEpoch), 0.0, 1e-15);
}

TEST(LrSchedule, WarmupRampsLinearlyOnTopOfTheSchedule) {
  const LrSchedule s = parse_lr_schedule("step:1:0.5");
  // A warm-up longer than the first epoch, so the ramp meets the first decay (as Trainer::lr_scale combines them).
  auto factor = [&](std::uint64_t t) { return lr_factor(s, t, kStepsPerEpoch) * warmup_factor(1000, t); };
  EXPECT_NEAR(factor(1), 1.0 / 1000, 1e-15);
  EXPECT_NEAR(factor(300), 0.3, 1e-15);
  EXPECT_NEAR(factor(700), 0.5 * 0.7, 1e-15);
  EXPECT_NEAR(factor(1000), 0.5, 1e-15);
  EXPECT_NEAR(factor(1001), 0.5, 1e-15);
  // A warm-up alone on a constant rate; none at all.
  EXPECT_NEAR(warmup_factor(4, 2), 0.5, 1e-15);
  EXPECT_EQ(warmup_factor(4, 4), 1.0);
  EXPECT_EQ(warmup_factor(0, 1), 1.0);
}

TEST(LrSchedule, SpecsRoundTrip) {
  for (const char* spec : {"constant", "burda", "step:30:0.1", "exponential:0.99", "cosine:200:0.05", "cosine:50:0"}) {
    EXPECT_EQ(to_spec(parse_lr_schedule(spec)), spec);
    EXPECT_EQ(parse_lr_schedule(to_spec(parse_lr_schedule(spec))), parse_lr_schedule(spec));
  }
  EXPECT_EQ(to_spec(parse_lr_schedule("cosine:50")), "cosine:50:0");
}

TEST(LrSchedule, BadSpecsNameTheSpecAndWhatWasExpected) {
  const struct {
    const char* spec;
    const char* says;
  } cases[] = {
      {"", "expected constant, step:EVERY:GAMMA"},
      {"linear", "expected constant, step:EVERY:GAMMA"},
      {"step:10", "expected constant, step:EVERY:GAMMA"},
      {"burda:3", "expected constant, step:EVERY:GAMMA"},
      {"step:ten:0.5", "expected a number, found 'ten' in 'step:ten:0.5'"},
      {"step:10:0.5x", "expected a number, found '0.5x'"},
      {"exponential:nan", "expected a number, found 'nan'"},
      {"cosine:10:2", "MIN_FACTOR in [0, 1], found 'cosine:10:2'"},
      {"step:0:0.5", "EVERY > 0"},
      {"step:10:1.5", "GAMMA in (0, 1]"},
      {"exponential:0", "GAMMA in (0, 1]"},
      {"cosine:-5", "EPOCHS > 0"},
  };
  for (const auto& c : cases) {
    try {
      parse_lr_schedule(c.spec);
      ADD_FAILURE() << "accepted '" << c.spec << "'";
    } catch (const InputError& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.rfind("learning-rate schedule: expected ", 0), 0u) << what;
      EXPECT_NE(what.find(c.says), std::string::npos) << c.spec << ": " << what;
    }
  }
}

}  // namespace
}  // namespace aevb
