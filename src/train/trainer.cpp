// One training step: the algorithm's gradient (src/train/algorithm.hpp; AEVB,
// Algorithm 1, by default), checked for divergence, then the optimizer's update.
#include <aevb/vae.hpp>

#include "backend/cpu/gemm_bf16.hpp"
#include "backend/gemm.hpp"
#include "model/engine.hpp"
#include "optim/lr_schedule.hpp"
#include "optim/optimizer.hpp"
#include "train/algorithm.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace aevb {

struct Trainer::State {
  Optimizer<float> optimizer;
  std::unique_ptr<TrainingAlgorithm> algorithm;
  std::vector<float> shard_sum;  // the sharded gradient, summed in shard order
};

Trainer::Trainer(Vae& model, const TrainConfig& config, Communicator* communicator)
    : model_(model), config_(config), communicator_(communicator) {
  validate(config_.objective);
  if (config_.kl_warmup_steps > 0 && config_.objective.estimator == Estimator::iw)
    throw InputError("train: KL warm-up weights the KL of estimators A and B; the importance-weighted bound has none");
  if (config_.batch == 0) throw InputError("train: batch size must be at least 1");
  const FamilyInfo& family = find_family(model_.config().family);
  if (config_.objective.estimator != Estimator::B && family.classifier)
    throw InputError("train: the " + model_.config().family + " family's classifier q(y|z) is in estimator B's "
                     "bound alone (A and iw bound log p(x) through the mixture p(z) and would leave it untrained): "
                     "use --estimator B");
  if (config_.objective.estimator != Estimator::B && family.codebook)
    throw InputError("train: the " + model_.config().family + " family's q(z|x) is a point mass, so A, B and iw "
                     "are the same bound, and its codebook terms are written for B: use --estimator B");
  if (config_.objective.estimator == Estimator::iw && !model_.has_prior())
    throw InputError("train: the importance-weighted bound needs a prior; the " + model_.config().family +
                     " family has none (use estimator B)");
  if (config_.matmul_precision == MatmulPrecision::bfloat16) backend::require_bf16_products("train");
  if (config_.optimizer.schedule.kind != LrScheduleKind::constant && config_.datapoints == 0)
    throw InputError("train: the learning-rate schedule " + to_spec(config_.optimizer.schedule) +
                     " counts epochs, which needs the training set's size (TrainConfig::datapoints)");
  const AlgorithmInfo& algorithm = find_algorithm(config_.algorithm);
  if (algorithm.trains_encoder == model_.config().decoder_only)
    throw InputError(model_.config().decoder_only
                         ? "train: the model is decoder-only, which only mcem trains (--algorithm mcem)"
                         : "train: " + config_.algorithm + " trains a decoder-only model; this one has an encoder "
                           "(--algorithm mcem on the command line declares both)");
  if (algorithm.trains_weight_posterior != model_.config().weight_posterior)
    throw InputError(model_.config().weight_posterior
                         ? "train: the model has a weight posterior q(theta), which only full-vb trains (--full-vb)"
                         : "train: " + config_.algorithm + " trains a weight posterior q(theta), which the model "
                           "lacks (--full-vb declares both)");
  state_ = std::make_unique<State>(State{
      Optimizer<float>(config_.optimizer, model_.parameters().size(), model_.engine().untrained_slices()),
      algorithm.make(config_, model_.engine()), {}});
  communicator_ = &ranks_or_alone(communicator_);
  const std::size_t ranks = static_cast<std::size_t>(communicator_->size());
  const CodebookConfig& book = model_.config().codebook;
  if (ranks > 1 && family.codebook && (book.update == CodebookUpdate::ema || book.restarts))
    throw InputError("train: the " + model_.config().family + " family's moving averages and restarts read every "
                     "encoder output of a minibatch, which one process alone sees: train it in one process "
                     "(threads and --shards work), or with --codebook gradient --no-code-restarts");
  if (config_.shards == 0 || config_.shards > config_.batch)
    throw InputError("train: shards " + std::to_string(config_.shards) + ": expected 1 to the batch size " +
                     std::to_string(config_.batch));
  if (ranks > config_.shards)
    throw InputError("train: " + std::to_string(ranks) + " processes share " + std::to_string(config_.shards) +
                     " shards of each minibatch: give --shards at least the number of processes");
  if ((config_.shards > 1 || ranks > 1) && !state_->algorithm->shardable())
    throw InputError("train: " + config_.algorithm + " does not split a minibatch into shards computed apart "
                     "(only aevb does): train it with --shards 1 in one process");
  if (config_.shards > 1 || ranks > 1) state_->shard_sum.resize(model_.parameters().size());
  model_.engine().plan(config_.batch, config_.objective.samples);
}

Trainer::~Trainer() = default;

double Trainer::lr_scale() const {
  // An epoch is ceil(N / M) batches of the algorithm's updates (MCEM makes several per batch).
  const double batches = std::ceil(double(config_.datapoints) / double(config_.batch));
  return lr_factor(config_.optimizer.schedule, step_, batches * double(state_->algorithm->updates_per_batch())) *
         warmup_factor(config_.optimizer.lr_warmup_steps, step_);
}

float Trainer::kl_weight() const {
  const float beta = config_.objective.beta;
  if (config_.kl_warmup_steps == 0 || step_ >= config_.kl_warmup_steps) return beta;
  return beta * static_cast<float>(double(step_ + 1) / double(config_.kl_warmup_steps));
}

Bound Trainer::step(ConstMatrix batch, std::span<const std::uint32_t> indices) {
  if (batch.rows == 0 || batch.rows > config_.batch)
    throw InputError("train step: batch has " + std::to_string(batch.rows) + " rows, expected 1 to " +
                     std::to_string(config_.batch));
  if (!indices.empty() && indices.size() != batch.rows)
    throw InputError("train step: " + std::to_string(indices.size()) + " datapoint indices for " +
                     std::to_string(batch.rows) + " rows");
  Engine<float>& engine = model_.engine();
  const backend::ScopedMatmulPrecision precision(config_.matmul_precision);
  TrainingAlgorithm& algorithm = *state_->algorithm;
  algorithm.begin_batch(engine, {batch, indices}, step_);
  Bound first;
  for (std::size_t update = 0; update < algorithm.updates_per_batch(); ++update) {
    engine.begin_update();
    const Bound bound =
        state_->shard_sum.empty() ? algorithm.gradient(engine, batch, step_, kl_weight()) : sharded_gradient(batch, kl_weight());
    const float* grads = engine.grads();
    if (!std::isfinite(bound.bound) || !all_finite(grads, engine.param_count()))
      throw NumericError("training diverged at step " + std::to_string(step_ + 1) +
                         ": the bound or its gradient is not finite (try a smaller learning rate or clipping)");
    if (update == 0) first = bound;
    ++step_;
    state_->optimizer.apply(engine.params(), grads, step_, lr_scale());
    engine.end_update(config_.seed, step_);
  }
  return first;
}

// The minibatch's gradient as the sum over its shards s of (rows_s / M) times
// the mean gradient of shard s, added in shard order (ordered_sum), this
// rank's shards computed here: the same bits on every rank and for any
// number of ranks. The bound is combined the same way, in double.
Bound Trainer::sharded_gradient(ConstMatrix batch, float kl_weight) {
  Engine<float>& engine = model_.engine();
  std::vector<float>& sum = state_->shard_sum;
  std::fill(sum.begin(), sum.end(), 0.0f);
  double bound[3] = {0, 0, 0};
  // Plain names, not a structured binding: the lambda below captures them (clang 14 cannot capture bindings).
  const std::pair<std::size_t, std::size_t> mine =
      shards_of_rank(communicator_->rank(), communicator_->size(), config_.shards);
  const std::size_t first_shard = mine.first, last_shard = mine.second;
  ordered_sum(*communicator_, sum, bound, [&] {
    for (std::size_t shard = first_shard; shard < last_shard; ++shard) {
      const auto [first, last] = rows_of_shard(shard, config_.shards, batch.rows);
      if (first == last) continue;  // a last minibatch with fewer rows than shards
      const Bound b = state_->algorithm->gradient_of_rows(engine, batch, first, last - first, step_, kl_weight);
      const float weight = float(last - first) / float(batch.rows);
      const float* g = engine.grads();
      for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += weight * g[i];
      const double w = double(last - first) / double(batch.rows);
      bound[0] += w * b.bound;
      bound[1] += w * b.reconstruction;
      bound[2] += w * b.kl;
    }
  });
  std::copy(sum.begin(), sum.end(), engine.grads());
  return {bound[0], bound[1], bound[2]};
}

std::span<float> Trainer::optimizer_state() { return state_->optimizer.state(); }

std::span<float> Trainer::algorithm_state() { return state_->algorithm->state(); }

void Trainer::restore(std::uint64_t steps, std::span<const float> optimizer_state,
                      std::span<const float> algorithm_state) {
  const auto state = state_->optimizer.state();
  if (optimizer_state.size() != state.size())
    throw InputError("checkpoint: optimizer state has " + std::to_string(optimizer_state.size()) +
                     " values, this optimizer needs " + std::to_string(state.size()));
  const auto own = state_->algorithm->state();
  if (algorithm_state.size() != own.size())
    throw InputError("checkpoint: algorithm state has " + std::to_string(algorithm_state.size()) + " values, " +
                     config_.algorithm + " needs " + std::to_string(own.size()));
  std::copy(optimizer_state.begin(), optimizer_state.end(), state.begin());
  std::copy(algorithm_state.begin(), algorithm_state.end(), own.begin());
  step_ = steps;
}

}  // namespace aevb
