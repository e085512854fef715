// Monte Carlo EM (App. E; the paper's third algorithm in Fig. 3): no encoder.
// One persistent chain z_i per training datapoint samples p(z | x_i) under the
// current decoder. Per minibatch (on the command line the whole training
// set: the paper's batch method, the authors' step_batch_mcem):
//   E step: one HMC transition of the batch's chains on log p(x, z)
//     (10 leapfrog steps, one step size for all chains, tuned toward 90%
//     acceptance after every transition: the target moves with theta, so it
//     is never frozen);
//   M steps: 5 updates of the decoder on (1/M) sum_m log p(x_m | z_m) with
//     the chains' states held fixed (the prior on theta as weight decay).
// The reported value is log p(x, z) at the chains (not a bound: log p(x)
// needs the App. D estimator). docs/paper.md says why each choice.
#include "train/algorithms.hpp"

#include "core/rng.hpp"
#include "model/posterior_target.hpp"
#include "prob/hmc.hpp"

#include <aevb/error.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>
#include <vector>

namespace aevb {
namespace {

constexpr std::size_t kLeapfrogSteps = 10;  // App. E ("10 HMC leapfrog steps")
constexpr std::size_t kMSteps = 5;          // App. E ("followed by 5 weight updates steps")
constexpr double kTargetAcceptance = 0.9;   // App. E
constexpr float kInitialStepSize = 0.01f;   // the authors' hmc_stepsize
/// The largest training set MCEM accepts (docs/paper.md: a batch method).
constexpr std::size_t kMaxDatapoints = 10000;

HmcOptions e_step_options() {
  HmcOptions o;
  o.leapfrog_steps = kLeapfrogSteps;
  o.target_acceptance = kTargetAcceptance;
  o.rule = StepSizeRule::shared;
  o.streams = RngPurpose::mcem;
  return o;
}

class MonteCarloEm final : public TrainingAlgorithm {
 public:
  MonteCarloEm(const TrainConfig& config, const Engine<float>& engine)
      : seed_(config.seed),
        datapoints_(config.datapoints),
        nz_(engine.config().latent),
        hmc_(nz_, e_step_options()),
        state_(datapoints_ * nz_ + 1),
        z_(config.batch * nz_),
        grad_(config.batch * nz_),
        log_density_(config.batch),
        step_size_(config.batch),
        id_(config.batch) {
    // Each chain starts at a draw from the prior, from its own stream.
    for (std::size_t i = 0; i < datapoints_; ++i)
      fill_normal(&state_[i * nz_], nz_, seed_, hmc_stream(i, HmcDraw::start, RngPurpose::mcem));
    state_.back() = kInitialStepSize;
    hmc_.plan(config.batch);
  }

  std::size_t updates_per_batch() const override { return kMSteps; }

  void begin_batch(Engine<float>& engine, const Minibatch& batch, std::uint64_t step) override {
    if (batch.indices.size() != batch.x.rows)
      throw InputError("mcem: each row's index in the training set is needed: it names the row's chain");
    rows_ = batch.x.rows;
    for (std::size_t r = 0; r < rows_; ++r) {
      const std::size_t i = batch.indices[r];
      if (i >= datapoints_)
        throw InputError("mcem: datapoint index " + std::to_string(i) + " outside the " + std::to_string(datapoints_) +
                         " chains of the training set");
      std::copy_n(&state_[i * nz_], nz_, &z_[r * nz_]);
      id_[r] = i;
      step_size_[r] = state_.back();
    }
    const MatrixView<float> z{z_.data(), rows_, nz_}, grad{grad_.data(), rows_, nz_};
    PosteriorTarget<float> target(engine, batch.x);
    target.log_density_grad(z, log_density_.data(), grad);  // under the decoder the last M steps left
    hmc_.transition(target, {z, log_density_.data(), grad, step_size_.data(), id_.data()}, seed_,
                    step / kMSteps, true);
    // The shared rule moved every chain's step size by one factor; stored as
    // a float so that a checkpoint holds it exactly.
    state_.back() = static_cast<float>(step_size_[0]);
    double log_prior = 0;
    for (std::size_t r = 0; r < rows_; ++r) {
      std::copy_n(&z_[r * nz_], nz_, &state_[id_[r] * nz_]);
      for (std::size_t j = 0; j < nz_; ++j) log_prior -= 0.5 * double(z_[r * nz_ + j]) * z_[r * nz_ + j];
    }
    log_prior_ = log_prior / double(rows_) - 0.5 * double(nz_) * std::log(2 * std::numbers::pi);
  }

  // bound: log p(x, z) at the chains; reconstruction: log p(x|z); kl: -log p(z).
  Bound gradient(Engine<float>& engine, ConstMatrix batch, std::uint64_t, float) override {
    if (batch.rows != rows_) throw std::logic_error("mcem: gradient() on a batch begin_batch() did not see");
    const double log_likelihood = engine.decoder_gradient(batch, {z_.data(), rows_, nz_}, GradMode::overwrite);
    return {log_likelihood + log_prior_, log_likelihood, -log_prior_};
  }

  /// The chains' states [N, latent], then the E step's step size.
  std::span<float> state() override { return state_; }

 private:
  std::uint64_t seed_;
  std::size_t datapoints_, nz_;
  Hmc<float> hmc_;
  std::vector<float> state_;
  // The current batch's chains, gathered.
  std::size_t rows_ = 0;
  std::vector<float> z_, grad_, log_density_;
  std::vector<double> step_size_;
  std::vector<std::uint64_t> id_;
  double log_prior_ = 0;  // mean log p(z) at the batch's chains
};

}  // namespace

std::unique_ptr<TrainingAlgorithm> make_mcem(const TrainConfig& config, Engine<float>& engine) {
  const std::size_t n = config.datapoints;
  if (n == 0) throw InputError("mcem keeps one chain per training datapoint: the training set's size N is not known");
  if (n > kMaxDatapoints)
    throw InputError("mcem: " + std::to_string(n) + " training datapoints; Monte Carlo EM is a batch method (App. E; "
                     "the paper runs it on 1000 and notes it cannot be applied efficiently to all of MNIST) and "
                     "aevb runs it on at most " + std::to_string(kMaxDatapoints) + " (use --limit)");
  if (config.batch > n)
    throw InputError("mcem: a minibatch of " + std::to_string(config.batch) + " from " + std::to_string(n) +
                     " datapoints");
  if (config.objective.estimator == Estimator::iw || config.objective.samples != 1)
    throw InputError("mcem follows one chain per datapoint and has no estimator of its own: expected --estimator A "
                     "or B with one sample, found " + std::string(to_string(config.objective.estimator)) + " with " +
                     std::to_string(config.objective.samples));
  if (config.kl_warmup_steps > 0 || config.objective.beta != 1.0f)
    throw InputError("mcem's objective log p(x, z) has no KL term to weight (--beta, --kl-warmup)");
  return std::make_unique<MonteCarloEm>(config, engine);
}

}  // namespace aevb
