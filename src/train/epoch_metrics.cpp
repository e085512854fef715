#include "train/epoch_metrics.hpp"

#include <string>

namespace aevb {

std::optional<Bound> evaluate_held_out(const Vae& model, ConstMatrix x, const ObjectiveConfig& training_objective,
                                       std::uint64_t seed, Communicator* ranks) {
  if (x.rows == 0 || model.config().decoder_only) return std::nullopt;
  ObjectiveConfig objective = training_objective;
  objective.beta = 1.0f;  // the true bound, whatever KL weight the gradient used
  return model.evaluate(x, objective, seed, Vae::kWeightSamples, ranks);
}

nlohmann::json epoch_metrics(std::uint64_t epoch, const Trainer& trainer, std::uint64_t samples_seen,
                             const EpochResult& result, const std::optional<Bound>& validation,
                             const std::optional<Bound>& test) {
  nlohmann::json m = {{"epoch", epoch},
                      {"step", trainer.steps()},
                      {"samples", samples_seen},
                      {"seconds", result.position.seconds},
                      {"samples_per_second", double(result.position.samples) / result.position.seconds},
                      {"kl_weight", trainer.kl_weight()},
                      {"lr", double(trainer.config().optimizer.lr) * trainer.lr_scale()},
                      {"train_reconstruction", result.train.reconstruction}};
  if (trainer.model().config().decoder_only) {
    // MCEM: log p(x, z) at the chains, not a bound (src/train/algorithm_mcem.cpp).
    m["train_log_joint"] = result.train.bound;
  } else {
    m["train_bound"] = result.train.bound;
    m["train_kl"] = result.train.kl;
  }
  auto add = [&](const char* name, const std::optional<Bound>& b) {
    if (!b) return;
    m[std::string(name) + "_bound"] = b->bound;
    m[std::string(name) + "_reconstruction"] = b->reconstruction;
    m[std::string(name) + "_kl"] = b->kl;
  };
  add("validation", validation);
  add("test", test);
  return m;
}

}  // namespace aevb
