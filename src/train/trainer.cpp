// Minibatch AEVB (Algorithm 1): draw eps, compute the gradient of the
// minibatch estimator (eq. 8, per datapoint), update the parameters.
#include <aevb/vae.hpp>

#include "backend/cpu/gemm_bf16_amx.hpp"
#include "backend/gemm.hpp"
#include "core/rng.hpp"
#include "model/engine.hpp"
#include "optim/optimizer.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace aevb {

struct Trainer::State {
  Optimizer<float> optimizer;
  std::vector<float> eps;  // [batch * samples, latent], drawn anew each step
};

Trainer::Trainer(Vae& model, const TrainConfig& config) : model_(model), config_(config) {
  validate(config_.objective);
  if (config_.kl_warmup_steps > 0 && config_.objective.estimator == Estimator::iw)
    throw InputError("train: KL warm-up weights the KL of estimators A and B; the importance-weighted bound has none");
  if (config_.batch == 0) throw InputError("train: batch size must be at least 1");
  if (config_.matmul_precision == MatmulPrecision::bfloat16) backend::require_bf16_products("train");
  const std::size_t draws = config_.batch * config_.objective.samples;
  state_ = std::make_unique<State>(State{Optimizer<float>(config_.optimizer, model_.parameters().size()),
                                         std::vector<float>(draws * model_.config().latent)});
  model_.engine().plan(config_.batch, config_.objective.samples);
}

Trainer::~Trainer() = default;

float Trainer::kl_weight() const {
  const float beta = config_.objective.beta;
  if (config_.kl_warmup_steps == 0 || step_ >= config_.kl_warmup_steps) return beta;
  return beta * static_cast<float>(double(step_ + 1) / double(config_.kl_warmup_steps));
}

Bound Trainer::step(ConstMatrix batch) {
  if (batch.rows == 0 || batch.rows > config_.batch)
    throw InputError("train step: batch has " + std::to_string(batch.rows) + " rows, expected 1 to " +
                     std::to_string(config_.batch));
  Engine<float>& engine = model_.engine();
  const std::size_t n = batch.rows * config_.objective.samples * engine.config().latent;
  fill_normal(state_->eps.data(), n, config_.seed, rng_stream(RngPurpose::eps, step_));
  ObjectiveConfig objective = config_.objective;
  objective.beta = kl_weight();
  // The gradient is written, not added: no zero-grad pass over the buffer.
  const backend::ScopedMatmulPrecision precision(config_.matmul_precision);
  const Bound bound = engine.forward_backward(batch, state_->eps.data(), objective, GradMode::overwrite);
  const float* grads = engine.grads();
  const std::size_t p = engine.param_count();
  if (!std::isfinite(bound.bound) || !all_finite(grads, p))
    throw NumericError("training diverged at step " + std::to_string(step_ + 1) +
                       ": the bound or its gradient is not finite (try a smaller learning rate or clipping)");
  ++step_;
  state_->optimizer.apply(engine.params(), grads, step_);
  return bound;
}

std::span<float> Trainer::optimizer_state() { return state_->optimizer.state(); }

void Trainer::restore(std::uint64_t steps, std::span<const float> optimizer_state) {
  const auto state = state_->optimizer.state();
  if (optimizer_state.size() != state.size())
    throw InputError("checkpoint: optimizer state has " + std::to_string(optimizer_state.size()) +
                     " values, this optimizer needs " + std::to_string(state.size()));
  std::copy(optimizer_state.begin(), optimizer_state.end(), state.begin());
  step_ = steps;
}

}  // namespace aevb
