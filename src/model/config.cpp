#include <aevb/config.hpp>
#include <aevb/error.hpp>

#include "model/latent_space.hpp"
#include "optim/lr_schedule.hpp"

#include <algorithm>
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
constexpr NameTable<CodebookUpdate, 2> kCodebookUpdates{
    {{CodebookUpdate::ema, "ema"}, {CodebookUpdate::gradient, "gradient"}}};
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

struct LayerSyntax {
  LayerKind kind;
  std::string_view name;
  std::size_t min_fields, max_fields;  // numbers after the name
  std::string_view usage;
};
constexpr std::array<LayerSyntax, 5> kLayerSyntax{{
    {LayerKind::dense, "dense", 1, 1, "dense:OUT"},
    {LayerKind::conv, "conv", 4, 4, "conv:OUT:KERNEL:STRIDE:PADDING"},
    {LayerKind::deconv, "deconv", 4, 5, "deconv:OUT:KERNEL:STRIDE:PADDING[:OUTPUT_PADDING]"},
    {LayerKind::residual, "residual", 1, 1, "residual:HIDDEN"},
    {LayerKind::unflatten, "unflatten", 3, 3, "unflatten:C:H:W"},
}};

const LayerSyntax& syntax_of(LayerKind kind) {
  for (const auto& s : kLayerSyntax)
    if (s.kind == kind) return s;
  throw std::logic_error("layer kind without syntax");
}

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const std::size_t end = text.find(sep, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// A whole decimal number of at most 9 digits (layer sizes are never larger).
bool parse_size(std::string_view s, std::size_t& out) {
  if (s.empty() || s.size() > 9) return false;
  out = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + std::size_t(c - '0');
  }
  return true;
}

LayerSpec parse_layer(std::string_view item, std::string_view what) {
  const auto fields = split(item, ':');
  const auto fail = [&](const std::string& why) -> InputError {
    return InputError(std::string(what) + ": layer '" + std::string(item) + "': " + why);
  };
  const LayerSyntax* syntax = nullptr;
  std::string names;
  for (const auto& s : kLayerSyntax) {
    if (s.name == fields[0]) syntax = &s;
    names += (names.empty() ? "" : ", ") + std::string(s.usage);
  }
  if (syntax == nullptr) throw fail("expected one of " + names);
  const std::size_t n = fields.size() - 1;
  if (n < syntax->min_fields || n > syntax->max_fields) throw fail("expected " + std::string(syntax->usage));
  std::size_t v[5] = {0, 0, 0, 0, 0};
  for (std::size_t i = 0; i < n; ++i)
    if (!parse_size(fields[i + 1], v[i]))
      throw fail("expected whole numbers (" + std::string(syntax->usage) + "), found '" + std::string(fields[i + 1]) +
                 "'");
  LayerSpec spec;
  spec.kind = syntax->kind;
  spec.out = v[0];
  if (spec.out == 0) throw fail("the output size must be positive");
  switch (spec.kind) {
    case LayerKind::conv:
    case LayerKind::deconv:
      spec.kernel = v[1];
      spec.stride = v[2];
      spec.padding = v[3];
      spec.output_padding = v[4];
      if (spec.kernel == 0 || spec.stride == 0) throw fail("kernel and stride must be positive");
      if (spec.output_padding >= spec.stride) throw fail("the output padding must be smaller than the stride");
      break;
    case LayerKind::unflatten:
      spec.height = v[1];
      spec.width = v[2];
      if (spec.height == 0 || spec.width == 0) throw fail("height and width must be positive");
      break;
    case LayerKind::dense:
    case LayerKind::residual: break;
  }
  return spec;
}

}  // namespace

std::string_view to_string(Activation v) { return name_of(kActivations, v); }
std::string_view to_string(Likelihood v) { return name_of(kLikelihoods, v); }
std::string_view to_string(Estimator v) { return name_of(kEstimators, v); }
std::string_view to_string(Init v) { return name_of(kInits, v); }
std::string_view to_string(OptimizerKind v) { return name_of(kOptimizers, v); }
std::string_view to_string(MatmulPrecision v) { return name_of(kMatmulPrecisions, v); }
std::string_view to_string(CodebookUpdate v) { return name_of(kCodebookUpdates, v); }

Activation parse_activation(std::string_view s) { return parse(kActivations, s, "activation"); }
Likelihood parse_likelihood(std::string_view s) { return parse(kLikelihoods, s, "likelihood"); }
Estimator parse_estimator(std::string_view s) { return parse(kEstimators, s, "estimator"); }
Init parse_init(std::string_view s) { return parse(kInits, s, "init"); }
OptimizerKind parse_optimizer(std::string_view s) { return parse(kOptimizers, s, "optimizer"); }
MatmulPrecision parse_matmul_precision(std::string_view s) {
  return parse(kMatmulPrecisions, s, "matmul_precision");
}
CodebookUpdate parse_codebook_update(std::string_view s) { return parse(kCodebookUpdates, s, "codebook update"); }

std::string to_string(const LayerSpec& l) {
  std::string s(syntax_of(l.kind).name);
  const auto add = [&s](std::size_t v) {
    s += ':';
    s += std::to_string(v);
  };
  add(l.out);
  switch (l.kind) {
    case LayerKind::conv:
    case LayerKind::deconv:
      add(l.kernel);
      add(l.stride);
      add(l.padding);
      if (l.kind == LayerKind::deconv && l.output_padding != 0) add(l.output_padding);
      break;
    case LayerKind::unflatten:
      add(l.height);
      add(l.width);
      break;
    case LayerKind::dense:
    case LayerKind::residual: break;
  }
  return s;
}

std::string to_string(const std::vector<LayerSpec>& layers) {
  std::string s;
  for (const auto& l : layers) {
    if (!s.empty()) s += ',';
    s += to_string(l);
  }
  return s;
}

std::vector<LayerSpec> parse_layers(std::string_view text, std::string_view what) {
  if (text.empty()) throw InputError(std::string(what) + ": expected at least one layer, found none");
  std::vector<LayerSpec> layers;
  for (std::string_view item : split(text, ',')) layers.push_back(parse_layer(item, what));
  return layers;
}

void validate(const ModelConfig& c) {
  const FamilyInfo& family = find_family(c.family);
  require(c.input_dim > 0, "model: input_dim must be positive");
  require(c.latent > 0, "model: latent must be positive");
  for (std::size_t h : c.hidden) require(h > 0, "model: hidden widths must be positive");
  if (family.stochastic_layers == 2) {
    require(c.top_latent > 0, "model: the " + c.family + " family needs top_latent, the width of z2 (--top-latent)");
  } else {
    require(c.top_latent == 0 && c.top_hidden.empty(),
            "model: top_latent and top_hidden describe a second stochastic layer; the " + c.family +
                " family has one (--family vae-2layer has two)");
  }
  for (std::size_t h : c.top_hidden) require(h > 0, "model: top_hidden widths must be positive");
  if (family.clusters) {
    require(c.clusters >= 2, "model: the " + c.family + " family needs at least 2 clusters (--clusters K), found " +
                                 std::to_string(c.clusters));
    require(family.classifier || c.classifier_hidden.empty(),
            "model: classifier_hidden describes a classifier q(y|z); the " + c.family +
                " family's p(y|z) comes from its prior (--family cluster has a classifier)");
  } else {
    require(c.clusters == 0 && c.classifier_hidden.empty(),
            "model: clusters and classifier_hidden describe a categorical latent; the " + c.family +
                " family has none (--family cluster and vade have one)");
  }
  for (std::size_t h : c.classifier_hidden) require(h > 0, "model: classifier_hidden widths must be positive");
  if (family.conditional) {
    require(c.classes >= 2, "model: the " + c.family + " family needs at least 2 label classes (--classes K), found " +
                                std::to_string(c.classes));
    // The one-hot label joins x's values and z as columns: only dense layers read flat rows.
    const auto dense = [](const LayerSpec& l) { return l.kind == LayerKind::dense; };
    require(std::all_of(c.encoder.begin(), c.encoder.end(), dense) &&
                std::all_of(c.decoder.begin(), c.decoder.end(), dense),
            "model: the " + c.family + " family reads the label beside x and z as columns, which needs dense layers; "
            "the declared layers have " + to_string(c.encoder) + " | " + to_string(c.decoder));
  } else {
    require(c.classes == 0, "model: classes is the number of labels a conditional model is given; the " + c.family +
                                " family takes none (--family cvae does)");
  }
  const CodebookConfig& book = c.codebook;
  if (family.codebook) {
    require(book.codes >= 1, "model: the " + c.family + " family needs a codebook of at least 1 code (--codes K), found " +
                                 std::to_string(book.codes));
    require(book.dim >= 1, "model: the " + c.family + " family needs codes of at least 1 value (--code-dim D), found " +
                               std::to_string(book.dim));
    require(c.latent % book.dim == 0,
            "model: codes of " + std::to_string(book.dim) + " values do not fit a latent grid of " +
                std::to_string(c.latent) + " values (latent must be code_dim x positions)");
    require(book.commitment >= 0, "model: the commitment weight must be >= 0, found " + std::to_string(book.commitment));
    require(book.decay > 0 && book.decay < 1,
            "model: the codebook's moving-average decay must be in (0, 1), found " + std::to_string(book.decay));
  } else {
    require(book == CodebookConfig{}, "model: codebook describes a discrete latent; the " + c.family +
                                          " family has none (--family vq has one)");
  }
  require(c.fixed_variance > 0, "model: fixed_variance must be positive, found " +
                                    std::to_string(c.fixed_variance));
  require(c.leaky_slope >= 0 && c.leaky_slope < 1, "model: leaky_slope must be in [0, 1)");
  require(c.image_channels > 0, "model: image_channels must be positive");
  require((c.image_height == 0) == (c.image_width == 0) &&
              (c.image_height == 0 || c.image_channels * c.image_height * c.image_width == c.input_dim),
          "model: image_channels * image_height * image_width must equal input_dim (" +
              std::to_string(c.input_dim) + ")");
  require(!c.decoder_only || family.has_prior,
          "model: a decoder-only model needs a prior p(z) to sample its posterior; the " + c.family + " family has none");
  require(!(c.decoder_only && c.weight_posterior),
          "model: decoder_only (Monte Carlo EM) and weight_posterior (full VB) are different algorithms' models");
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
  validate(c.schedule);
}

}  // namespace aevb
