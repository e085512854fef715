#pragma once
// The paper's choice of the step size (sec. 5: Adagrad's "chosen from
// {0.01, 0.02, 0.1} based on performance on the training set in the first
// few iterations"), as `aevb train --lr auto`: each candidate trains the
// same fresh model (same initialization, order and noise) for the first
// steps of the run, and the best mean bound over the second half of them wins.
#include "train/run_settings.hpp"

#include <aevb/data.hpp>

#include <vector>

namespace aevb {

struct StepSizeTrial {
  float lr = 0;
  double bound = 0;  // mean minibatch bound over the trial's second half; -inf if it diverged
};

struct StepSizeChoice {
  float lr = 0;
  std::vector<StepSizeTrial> trials;
};

/// The candidates for an optimizer: the paper's {0.01, 0.02, 0.1} for
/// Adagrad, {1e-4, 3e-4, 1e-3} for Adam, {1e-3, 1e-2, 1e-1} for SGD.
std::vector<float> step_size_candidates(OptimizerKind kind);

/// Tries each candidate for `steps` minibatch steps of `settings` (complete
/// for the data: complete_for_data) on `train`; ties go to the smaller step.
StepSizeChoice choose_step_size(const RunSettings& settings, const DataRows& train, std::size_t steps = 200);

}  // namespace aevb
