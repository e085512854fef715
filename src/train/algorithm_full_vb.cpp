// Full variational Bayes (App. F): AEVB with a diagonal Gaussian q(theta) =
// N(mu, sigma^2) over the decoder's parameters and p(theta) = N(0, I). The
// encoder's parameters stay point estimates (App. F's phi). The loss per
// datapoint is eq. 24 divided by N:
//   -(1/M) sum_m ELBO_m(theta) + KL(q(theta) || p(theta)) / N,
// theta = mu + sigma * zeta. One zeta per minibatch, not Algorithm 2's one per
// datapoint: per-datapoint draws would need M decoders per step, M separate
// matrix-vector products instead of one product; a shared draw is unbiased
// too, with a variance that falls more slowly with M (docs/paper.md).
#include "train/algorithms.hpp"

#include "core/rng.hpp"

#include <aevb/error.hpp>

#include <string>
#include <vector>

namespace aevb {
namespace {

class FullVb final : public TrainingAlgorithm {
 public:
  FullVb(const TrainConfig& config, const Engine<float>& engine)
      : objective_(config.objective),
        seed_(config.seed),
        per_datapoint_(1.0f / float(config.datapoints)),
        eps_(config.batch * config.objective.samples * engine.noise_dim()),
        zeta_(engine.weight_count()) {}

  Bound gradient(Engine<float>& engine, ConstMatrix batch, std::uint64_t step, float kl_weight) override {
    fill_normal(zeta_.data(), zeta_.size(), seed_, rng_stream(RngPurpose::weights, step));
    engine.draw_decoders(zeta_.data(), 1);
    fill_normal(eps_.data(), batch.rows * objective_.samples * engine.noise_dim(), seed_,
                rng_stream(RngPurpose::eps, step));
    ObjectiveConfig objective = objective_;
    objective.beta = kl_weight;  // warms up the latent KL; the weights' KL keeps its weight 1/N
    Bound bound = engine.forward_backward(batch, eps_.data(), objective, GradMode::overwrite);
    const double weight_kl = engine.weight_posterior_grad(zeta_.data(), per_datapoint_) * double(per_datapoint_);
    engine.select_decoder(-1);
    bound.kl += weight_kl;
    bound.bound -= weight_kl;
    return bound;
  }

 private:
  ObjectiveConfig objective_;
  std::uint64_t seed_;
  float per_datapoint_;
  std::vector<float> eps_, zeta_;
};

}  // namespace

std::unique_ptr<TrainingAlgorithm> make_full_vb(const TrainConfig& config, Engine<float>& engine) {
  if (config.datapoints == 0)
    throw InputError("full-vb weighs KL(q(theta) || p(theta)) by 1/N: the training set's size N is not set");
  if (config.optimizer.weight_decay != 0)
    throw InputError("full-vb's prior on the decoder is its KL term, and the encoder's parameters have none "
                     "(App. F): weight decay (--prior) does not apply");
  return std::make_unique<FullVb>(config, engine);
}

}  // namespace aevb
