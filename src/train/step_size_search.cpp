#include "train/step_size_search.hpp"

#include "train/epoch_runner.hpp"
#include "train/initial_model.hpp"

#include <aevb/vae.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

namespace aevb {

namespace {

// The bound of the trial chosen so far.
double best_of(const StepSizeChoice& choice) {
  for (const StepSizeTrial& t : choice.trials)
    if (t.lr == choice.lr) return t.bound;
  return -std::numeric_limits<double>::infinity();
}

}  // namespace

std::vector<float> step_size_candidates(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::adagrad: return {0.01f, 0.02f, 0.1f};
    case OptimizerKind::adam: return {1e-4f, 3e-4f, 1e-3f};
    case OptimizerKind::sgd: return {1e-3f, 1e-2f, 1e-1f};
  }
  return {};
}

StepSizeChoice choose_step_size(const RunSettings& settings, const DataRows& train, std::size_t steps) {
  StepSizeChoice choice;
  const std::size_t half = std::max<std::size_t>(1, steps / 2);
  for (const float lr : step_size_candidates(settings.train.optimizer.kind)) {
    TrainConfig config = settings.train;
    config.optimizer.lr = lr;
    Vae model = initial_model(settings, train);
    Trainer trainer(model, config);
    EpochRunner runner(trainer, train, settings.binarize, config.seed);
    // Scored on the second half of the steps, past the first ones where every
    // step size still climbs from the initialization. Each call starts an
    // epoch (its own shuffle); a phase ends on a call's boundary.
    double sum = 0, samples = 0;
    StepSizeTrial trial{lr, -std::numeric_limits<double>::infinity()};
    try {
      std::size_t done = 0;
      for (std::uint64_t epoch = 0; done < 2 * half; ++epoch) {
        const std::size_t phase_end = done < half ? half : 2 * half;
        const std::size_t batches = std::min(runner.batches_per_epoch(), phase_end - done);
        const EpochResult r = runner.run(epoch, {}, batches);
        if (done >= half) sum += r.position.sums.bound, samples += double(r.position.samples);
        done += batches;
      }
      trial.bound = sum / samples;
    } catch (const NumericError&) {
      // Diverged: this step size loses.
    }
    choice.trials.push_back(trial);
    if (!std::isfinite(trial.bound)) continue;
    if (choice.lr == 0 || trial.bound > best_of(choice)) choice.lr = lr;
  }
  if (choice.lr == 0) throw NumericError("--lr auto: training diverged with every candidate step size");
  return choice;
}

}  // namespace aevb
