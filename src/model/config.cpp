#include <aevb/config.hpp>
#include <aevb/error.hpp>

#include <array>
#include <string>
#include <utility>

namespace aevb {
namespace {

template <class E, std::size_t N>
using NameTable = std::array<std::pair<E, std::string_view>, N>;

constexpr NameTable<Activation, 5> kActivations{{{Activation::tanh, "tanh"},
                                                 {Activation::relu, "relu"},
                                                 {Activation::leaky_relu, "leaky-relu"},
                                                 {Activation::softplus, "softplus"},
                                                 {Activation::sigmoid, "sigmoid"}}};
constexpr NameTable<Likelihood, 3> kLikelihoods{{{Likelihood::bernoulli, "bernoulli"},
                                                 {Likelihood::gaussian, "gaussian"},
                                                 {Likelihood::gaussian_fixed, "gaussian-fixed"}}};
constexpr NameTable<Estimator, 3> kEstimators{
    {{Estimator::A, "A"}, {Estimator::B, "B"}, {Estimator::iw, "iw"}}};
constexpr NameTable<Init, 3> kInits{{{Init::paper, "paper"}, {Init::glorot, "glorot"}, {Init::he, "he"}}};
constexpr NameTable<OptimizerKind, 3> kOptimizers{{{OptimizerKind::sgd, "sgd"},
                                                   {OptimizerKind::adagrad, "adagrad"},
                                                   {OptimizerKind::adam, "adam"}}};
constexpr NameTable<MatmulPrecision, 2> kMatmulPrecisions{
    {{MatmulPrecision::float32, "float32"}, {MatmulPrecision::bfloat16, "bfloat16"}}};

template <class E, std::size_t N>
std::string_view name_of(const NameTable<E, N>& table, E value) {
  for (const auto& [v, name] : table)
    if (v == value) return name;
  return "?";
}

template <class E, std::size_t N>
E parse(const NameTable<E, N>& table, std::string_view name, std::string_view what) {
  std::string choices;
  for (const auto& [v, n] : table) {
    if (n == name) return v;
    choices += (choices.empty() ? "" : ", ") + std::string(n);
  }
  throw InputError(std::string(what) + ": expected one of " + choices + ", found '" + std::string(name) + "'");
}

void require(bool ok, const std::string& message) {
  if (!ok) throw InputError(message);
}

}  // namespace

std::string_view to_string(Activation v) { return name_of(kActivations, v); }
std::string_view to_string(Likelihood v) { return name_of(kLikelihoods, v); }
std::string_view to_string(Estimator v) { return name_of(kEstimators, v); }
std::string_view to_string(Init v) { return name_of(kInits, v); }
std::string_view to_string(OptimizerKind v) { return name_of(kOptimizers, v); }
std::string_view to_string(MatmulPrecision v) { return name_of(kMatmulPrecisions, v); }

Activation parse_activation(std::string_view s) { return parse(kActivations, s, "activation"); }
Likelihood parse_likelihood(std::string_view s) { return parse(kLikelihoods, s, "likelihood"); }
Estimator parse_estimator(std::string_view s) { return parse(kEstimators, s, "estimator"); }
Init parse_init(std::string_view s) { return parse(kInits, s, "init"); }
OptimizerKind parse_optimizer(std::string_view s) { return parse(kOptimizers, s, "optimizer"); }
MatmulPrecision parse_matmul_precision(std::string_view s) {
  return parse(kMatmulPrecisions, s, "matmul_precision");
}

void validate(const ModelConfig& c) {
  require(c.input_dim > 0, "model: input_dim must be positive");
  require(c.latent > 0, "model: latent must be positive");
  for (std::size_t h : c.hidden) require(h > 0, "model: hidden widths must be positive");
  require(c.fixed_variance > 0, "model: fixed_variance must be positive, found " +
                                    std::to_string(c.fixed_variance));
  require(c.leaky_slope >= 0 && c.leaky_slope < 1, "model: leaky_slope must be in [0, 1)");
  require((c.image_height == 0) == (c.image_width == 0) &&
              (c.image_height == 0 || c.image_height * c.image_width == c.input_dim),
          "model: image_height * image_width must equal input_dim (" + std::to_string(c.input_dim) + ")");
}

void validate(const ObjectiveConfig& c) {
  require(c.samples > 0, "objective: samples must be at least 1");
  require(c.beta >= 0, "objective: beta must be >= 0, found " + std::to_string(c.beta));
  require(c.estimator != Estimator::iw || c.beta == 1.0f,
          "objective: beta weights the KL of estimators A and B; the importance-weighted bound needs beta = 1");
}

void validate(const OptimizerConfig& c) {
  require(c.lr > 0, "optimizer: lr must be positive, found " + std::to_string(c.lr));
  require(c.momentum >= 0 && c.momentum < 1, "optimizer: momentum must be in [0, 1)");
  require(c.beta1 >= 0 && c.beta1 < 1 && c.beta2 >= 0 && c.beta2 < 1, "optimizer: Adam betas must be in [0, 1)");
  require(c.eps > 0, "optimizer: eps must be positive");
  require(c.weight_decay >= 0, "optimizer: weight_decay must be >= 0");
  require(c.clip_norm >= 0, "optimizer: clip_norm must be >= 0 (0 disables clipping)");
}

}  // namespace aevb
