// Wake-sleep (Hinton, Dayan, Frey & Neal 1995), the paper's baseline in
// Figs. 2 and 3 with the same encoder and decoder as AEVB (sec. 5), and
// reweighted wake-sleep (Bornschein & Bengio 2015), its modern form.
//   wake-sleep: wake, z ~ q(z|x) held constant, ascend log p(x, z) in the
//     decoder's parameters; sleep, z' ~ p(z), x' ~ p(x|z') sampled, ascend
//     log q(z'|x') in the encoder's. Two objectives, neither a bound.
//   rws: K = --samples draws z_k ~ q(z|x) weighted by their normalized
//     importance weights: the decoder ascends sum_k w_k log p(x, z_k) (the
//     gradient of log (1/K) sum_k p(x, z_k)/q(z_k|x), the IWAE bound); the
//     encoder ascends sum_k w_k log q(z_k|x) on the data (q-wake), the
//     sleep phase's objective on dreams (q-sleep), or their mean.
// Both report the ordinary bound of the configured estimator (A or B) on the
// wake draws, so that their curves compare with AEVB's. docs/paper.md.
#include "train/algorithms.hpp"

#include "core/rng.hpp"
#include "prob/likelihood.hpp"

#include <aevb/error.hpp>

#include <string>
#include <vector>

namespace aevb {
namespace {

class WakeSleep final : public TrainingAlgorithm {
 public:
  // q_wake and q_sleep: the share of the encoder's gradient from each phase.
  WakeSleep(const TrainConfig& config, const Engine<float>& engine, WakeWeighting weighting, float q_wake,
            float q_sleep)
      : objective_(config.objective),
        seed_(config.seed),
        weighting_(weighting),
        q_wake_(q_wake),
        q_sleep_(q_sleep),
        eps_(config.batch * config.objective.samples * engine.noise_dim()),
        dream_z_noise_(config.batch * engine.config().latent),
        dream_noise_(config.batch * engine.config().input_dim) {}

  Bound gradient(Engine<float>& engine, ConstMatrix batch, std::uint64_t step, float kl_weight) override {
    fill_normal(eps_.data(), batch.rows * objective_.samples * engine.noise_dim(), seed_,
                rng_stream(RngPurpose::eps, step));
    ObjectiveConfig objective = objective_;
    objective.beta = kl_weight;  // weights the reported bound's KL only: no phase has a KL gradient
    const Bound bound = engine.wake(batch, eps_.data(), objective, weighting_, q_wake_, GradMode::overwrite);
    if (q_sleep_ > 0) {
      // As many dreams as datapoints (the authors' step_wakesleep).
      fill_normal(dream_z_noise_.data(), batch.rows * engine.config().latent, seed_, rng_stream(RngPurpose::dream_z, step));
      const std::size_t values = batch.rows * engine.config().input_dim;
      const std::uint64_t stream = rng_stream(RngPurpose::dream_x, step);
      if (LikelihoodSpec::from(engine.config()).samples_from_uniform())
        fill_uniform(dream_noise_.data(), values, seed_, stream);
      else
        fill_normal(dream_noise_.data(), values, seed_, stream);
      engine.sleep(dream_z_noise_.data(), dream_noise_.data(), batch.rows, q_sleep_,
                   q_wake_ > 0 ? GradMode::accumulate : GradMode::overwrite);
    }
    return bound;
  }

 private:
  ObjectiveConfig objective_;
  std::uint64_t seed_;
  WakeWeighting weighting_;
  float q_wake_, q_sleep_;
  std::vector<float> eps_, dream_z_noise_, dream_noise_;  // eps; z' ~ p(z); the noise x' ~ p(x|z') is drawn from
};

// What both algorithms need of the model and the objective.
void require_served(const TrainConfig& config, const Engine<float>& engine, const std::string& name) {
  if (!engine.family().has_prior)
    throw InputError(name + " samples p(z) and needs the density q(z|x); the " + std::string(engine.family().name) +
                     " family has neither");
  if (config.objective.estimator == Estimator::iw)
    throw InputError(name + " reports the ordinary bound (--estimator A or B); the importance-weighted bound is "
                     "aevb's objective" + (name == "rws" ? " (rws draws its K samples with --samples)" : ""));
}

}  // namespace

std::unique_ptr<TrainingAlgorithm> make_wake_sleep(const TrainConfig& config, Engine<float>& engine) {
  require_served(config, engine, "wake-sleep");
  return std::make_unique<WakeSleep>(config, engine, WakeWeighting::uniform, 0.0f, 1.0f);
}

std::unique_ptr<TrainingAlgorithm> make_rws(const TrainConfig& config, Engine<float>& engine) {
  require_served(config, engine, "rws");
  const std::string& q = config.rws_q;
  if (q != "wake" && q != "sleep" && q != "both")
    throw InputError("rws encoder update: expected one of wake, sleep, both, found '" + q + "'");
  const float q_wake = q == "wake" ? 1.0f : q == "both" ? 0.5f : 0.0f;
  return std::make_unique<WakeSleep>(config, engine, WakeWeighting::importance, q_wake, 1.0f - q_wake);
}

}  // namespace aevb
