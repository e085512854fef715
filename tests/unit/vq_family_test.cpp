// The vq family (src/model/family_vq.cpp) against the VQ-VAE paper's
// definitions written out here: nearest codes by brute force, the bound
// log p(x|z_q) - P log K, the straight-through gradient (an identity from
// dL/dz_q to dL/dz_e), the codebook and commitment terms against finite
// differences in double, the moving averages of App. A.1 computed by hand,
// restarts of dead codes, and the optimizer leaving the averages alone.
#include "core/param_layout.hpp"
#include "core/rng.hpp"
#include "model/engine.hpp"
#include "optim/optimizer.hpp"
#include "support/gradcheck.hpp"

#include <aevb/error.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace aevb {
namespace {

constexpr std::size_t kInput = 6, kDim = 2, kPositions = 3, kCodes = 4, kRows = 5, kSamples = 2;
constexpr std::size_t kLatent = kDim * kPositions;

ModelConfig small_vq_model(CodebookUpdate update = CodebookUpdate::gradient, bool restarts = false) {
  ModelConfig c;
  c.family = "vq";
  c.input_dim = kInput;
  c.hidden = {5};
  c.latent = kLatent;
  c.codebook.codes = kCodes;
  c.codebook.dim = kDim;
  c.codebook.update = update;
  c.codebook.restarts = restarts;
  c.activation = Activation::tanh;
  c.likelihood = Likelihood::gaussian_fixed;
  return c;
}

std::vector<double> normals(std::size_t n, std::uint64_t seed, double scale = 1.0) {
  std::vector<double> v(n);
  fill_normal(v.data(), n, seed, 0);
  for (double& x : v) x *= scale;
  return v;
}

// z_e of position p of a row laid out channel-major: value d at d * P + p.
double ze(const double* row, std::size_t p, std::size_t d) { return row[d * kPositions + p]; }

std::uint32_t brute_force_nearest(const double* row, std::size_t p, const double* book) {
  std::uint32_t best = 0;
  double best_distance = std::numeric_limits<double>::infinity();
  for (std::uint32_t k = 0; k < kCodes; ++k) {
    double sq = 0;
    for (std::size_t d = 0; d < kDim; ++d) sq += std::pow(ze(row, p, d) - book[k * kDim + d], 2);
    if (sq < best_distance) best_distance = sq, best = k;
  }
  return best;
}

// The latent space alone, with a random head (z_e) and random parameters.
struct Latent {
  ModelConfig config;
  std::unique_ptr<LatentSpace<double>> space;
  ParamLayout layout;
  std::unique_ptr<Layer<double>> head_layer;
  std::vector<double> params, grads, head, z, log_q, log_prior, kl, dz, dhead;
  std::size_t book = 0, usage = 0;

  explicit Latent(const ModelConfig& c) : config(c), space(make_latent_space<double>(c)) {
    head_layer = space->make_head(layout, Shape{5, 0, 0});
    params = normals(layout.total(), 21);
    grads.assign(layout.total(), 0.0);
    book = layout.find("latent.codebook").offset;
    usage = layout.find("latent.code_usage").offset;
    head = normals(kRows * kLatent, 22);
    space->plan(kRows * kSamples);
    z.assign(kRows * kSamples * kLatent, 0);
    log_q.assign(kRows * kSamples, 0);
    log_prior.assign(kRows * kSamples, 0);
    kl.assign(kRows, 0);
    dz = normals(kRows * kSamples * kLatent, 23);
    dhead.assign(kRows * kLatent, 0);
  }
  MatrixView<const double> head_view() const { return {head.data(), kRows, kLatent}; }
  void sample() {
    space->sample(params.data(), head_view(), kSamples, nullptr, {z.data(), log_q.data(), log_prior.data(), kl.data()});
  }
  void backward(GradMode mode = GradMode::overwrite) {
    space->backward(params.data(), grads.data(), mode, head_view(), kSamples, nullptr, z.data(),
                    {dz.data(), nullptr, nullptr}, {dhead.data(), kRows, kLatent});
  }
  std::vector<std::uint32_t> codes() {
    std::vector<std::uint32_t> c(kRows * kPositions);
    space->quantize(params.data(), head_view(), c.data(), nullptr);
    return c;
  }
  // (1/M) sum_m sum_p ||z_e - e_code||^2 at the given codes.
  double mean_squared_distance(const std::vector<std::uint32_t>& c) const {
    double sum = 0;
    for (std::size_t m = 0; m < kRows; ++m)
      for (std::size_t p = 0; p < kPositions; ++p)
        for (std::size_t d = 0; d < kDim; ++d)
          sum += std::pow(ze(head.data() + m * kLatent, p, d) - params[book + c[m * kPositions + p] * kDim + d], 2);
    return sum / double(kRows);
  }
};

TEST(VqFamily, EachPositionTakesItsNearestCodeAndTheBoundIsReconstructionMinusPLogK) {
  Latent l(small_vq_model());
  l.sample();
  const std::vector<std::uint32_t> codes = l.codes();
  for (std::size_t m = 0; m < kRows; ++m)
    for (std::size_t p = 0; p < kPositions; ++p) {
      const std::uint32_t k = brute_force_nearest(l.head.data() + m * kLatent, p, l.params.data() + l.book);
      ASSERT_EQ(codes[m * kPositions + p], k) << "row " << m << " position " << p;
      for (std::size_t s = 0; s < kSamples; ++s)
        for (std::size_t d = 0; d < kDim; ++d)
          EXPECT_EQ(l.z[(m * kSamples + s) * kLatent + d * kPositions + p], l.params[l.book + k * kDim + d]);
    }
  const double p_log_k = double(kPositions) * std::log(double(kCodes));
  for (std::size_t m = 0; m < kRows; ++m) EXPECT_DOUBLE_EQ(l.kl[m], p_log_k);
  for (std::size_t r = 0; r < kRows * kSamples; ++r) {
    EXPECT_EQ(l.log_q[r], 0.0);
    EXPECT_DOUBLE_EQ(l.log_prior[r], -p_log_k);
  }

  Engine<double> engine(small_vq_model());
  testing::randomize_parameters(engine, 3, 0.8);
  const std::vector<double> x = normals(kRows * kInput, 4, 0.3);
  const Bound b = engine.forward({x.data(), kRows, kInput}, nullptr, {Estimator::B, 1, 1.0f});
  EXPECT_DOUBLE_EQ(b.kl, p_log_k);
  EXPECT_DOUBLE_EQ(b.bound, b.reconstruction - p_log_k);
}

TEST(VqFamily, StraightThroughCopiesTheDecodersGradientToTheEncoderOutput) {
  ModelConfig c = small_vq_model();
  c.codebook.commitment = 0;  // the commitment term alone adds to dL/dz_e
  Latent l(c);
  l.sample();
  l.backward();
  for (std::size_t m = 0; m < kRows; ++m)
    for (std::size_t j = 0; j < kLatent; ++j) {
      double sum = 0;
      for (std::size_t s = 0; s < kSamples; ++s) sum += l.dz[(m * kSamples + s) * kLatent + j];
      EXPECT_EQ(l.dhead[m * kLatent + j], sum) << "row " << m << " value " << j;
    }
}

TEST(VqFamily, CommitmentAndCodebookGradientsMatchFiniteDifferencesOfTheirTerms) {
  Latent l(small_vq_model());
  const double beta = l.config.codebook.commitment;
  l.sample();
  const std::vector<std::uint32_t> codes = l.codes();
  std::fill(l.dz.begin(), l.dz.end(), 0.0);  // the codebook terms alone
  l.backward();
  // beta (1/M) sum ||z_e - sg[e]||^2 in z_e, and (1/M) sum ||sg[z_e] - e||^2 in e, at fixed codes.
  const auto commitment = [&] { return beta * l.mean_squared_distance(codes); };
  testing::expect_gradient(commitment, l.head.data(), l.head.size(), l.dhead.data(), "d commitment / d z_e");
  const auto codebook_term = [&] { return l.mean_squared_distance(codes); };
  testing::expect_gradient(codebook_term, l.params.data() + l.book, kCodes * kDim, l.grads.data() + l.book,
                           "d codebook term / d e");
  ASSERT_EQ(l.codes(), codes) << "the finite differences moved a position to another code";
  for (std::size_t k = 0; k < kCodes; ++k) EXPECT_EQ(l.grads[l.usage + k], 0.0);
}

TEST(VqFamily, MovingAveragesFollowAppendixA1WithLaplaceSmoothing) {
  Latent l(small_vq_model(CodebookUpdate::ema));
  const std::size_t sums = l.layout.find("latent.code_sums").offset;
  for (std::size_t k = 0; k < kCodes; ++k) {
    l.params[l.usage + k] = 0.5 + double(k);
    for (std::size_t d = 0; d < kDim; ++d) l.params[sums + k * kDim + d] = 0.1 * double(k + d);
  }
  const std::vector<double> before = l.params;
  l.space->begin_update();
  l.sample();
  const std::vector<std::uint32_t> codes = l.codes();
  l.backward();
  for (std::size_t k = 0; k < kCodes; ++k)
    for (std::size_t d = 0; d < kDim; ++d) EXPECT_EQ(l.grads[l.book + k * kDim + d], 0.0) << "no gradient step";
  l.space->end_update(l.params.data(), 1, 1);

  const double g = l.config.codebook.decay, eps = 1e-5;
  std::vector<double> n(kCodes, 0), s(kCodes * kDim, 0);
  for (std::size_t m = 0; m < kRows; ++m)
    for (std::size_t p = 0; p < kPositions; ++p) {
      const std::uint32_t k = codes[m * kPositions + p];
      n[k] += 1;
      for (std::size_t d = 0; d < kDim; ++d) s[k * kDim + d] += ze(l.head.data() + m * kLatent, p, d);
    }
  std::vector<double> usage(kCodes);
  double total = 0;
  for (std::size_t k = 0; k < kCodes; ++k) total += usage[k] = g * before[l.usage + k] + (1 - g) * n[k];
  for (std::size_t k = 0; k < kCodes; ++k) {
    EXPECT_NEAR(l.params[l.usage + k], usage[k], 1e-12);
    const double smoothed = (usage[k] + eps) * total / (total + double(kCodes) * eps);
    for (std::size_t d = 0; d < kDim; ++d) {
      const double m_k = g * before[sums + k * kDim + d] + (1 - g) * s[k * kDim + d];
      EXPECT_NEAR(l.params[sums + k * kDim + d], m_k, 1e-12);
      EXPECT_NEAR(l.params[l.book + k * kDim + d], m_k / smoothed, 1e-12);
    }
  }
}

TEST(VqFamily, DeadCodesRestartAtEncoderOutputsOfTheMinibatch) {
  Latent l(small_vq_model(CodebookUpdate::gradient, /*restarts=*/true));
  // Code 3 lies far from every z_e and has never been used; the others are in use.
  for (std::size_t d = 0; d < kDim; ++d) l.params[l.book + 3 * kDim + d] = 100.0;
  for (std::size_t k = 0; k < 3; ++k) l.params[l.usage + k] = 50.0;
  l.params[l.usage + 3] = 0.0;
  l.space->begin_update();
  l.sample();
  const std::vector<std::uint32_t> codes = l.codes();
  for (std::uint32_t c : codes) ASSERT_NE(c, 3u);
  l.backward();
  const std::vector<double> before = l.params;
  l.space->end_update(l.params.data(), 7, 1);
  bool found = false;
  for (std::size_t m = 0; m < kRows && !found; ++m)
    for (std::size_t p = 0; p < kPositions && !found; ++p) {
      bool same = true;
      for (std::size_t d = 0; d < kDim; ++d)
        same = same && l.params[l.book + 3 * kDim + d] == ze(l.head.data() + m * kLatent, p, d);
      found = same;
    }
  EXPECT_TRUE(found) << "the dead code did not move to an encoder output of the minibatch";
  EXPECT_EQ(l.params[l.usage + 3], 1.0);
  for (std::size_t i = 0; i < 3 * kDim; ++i) EXPECT_EQ(l.params[l.book + i], before[l.book + i]) << "a live code moved";
}

TEST(VqFamily, TheOptimizerLeavesTheMovingAveragesAsTheyAre) {
  Engine<double> engine(small_vq_model(CodebookUpdate::ema));
  testing::randomize_parameters(engine, 5);
  OptimizerConfig o;
  o.kind = OptimizerKind::adam;
  o.weight_decay = 0.5f;  // would move every parameter, gradient or not
  const std::vector<ParamSlice> untrained = engine.untrained_slices();
  ASSERT_EQ(untrained.size(), 3u);  // code_usage, and with ema the codebook and code_sums
  Optimizer<double> optimizer(o, engine.param_count(), untrained);
  const std::vector<double> before(engine.params(), engine.params() + engine.param_count());
  const std::vector<double> g = normals(engine.param_count(), 6);
  optimizer.apply(engine.params(), g.data(), 1);
  std::vector<bool> kept(engine.param_count(), false);
  for (const ParamSlice& s : untrained)
    for (std::size_t i = s.offset; i < s.offset + s.size; ++i) kept[i] = true;
  for (std::size_t i = 0; i < engine.param_count(); ++i) {
    if (kept[i])
      EXPECT_EQ(engine.params()[i], before[i]) << "untrained parameter " << i << " moved";
    else
      EXPECT_NE(engine.params()[i], before[i]) << "parameter " << i << " was not trained";
  }
}

TEST(VqFamily, DecoderGradientMatchesFiniteDifferencesOfTheBound) {
  // The decoder does not move the codes: its gradient is the bound's, exactly.
  Engine<double> engine(small_vq_model());
  testing::randomize_parameters(engine, 8, 0.8);
  const std::vector<double> x = normals(kRows * kInput, 9, 0.3);
  const ObjectiveConfig b{Estimator::B, 1, 1.0f};
  engine.forward_backward({x.data(), kRows, kInput}, nullptr, b, GradMode::overwrite);
  const ParameterInfo& first = engine.layout().find("decoder.0.weight");
  const std::size_t offset = first.offset, n = engine.param_count() - offset;
  const std::vector<double> analytic(engine.grads() + offset, engine.grads() + engine.param_count());
  const auto loss = [&] { return -engine.forward({x.data(), kRows, kInput}, nullptr, b).bound; };
  testing::expect_gradient(loss, engine.params() + offset, n, analytic.data(), "decoder");
}

TEST(VqFamily, RefusesAnEmptyCodebookAndCodesThatDoNotFitTheGrid) {
  ModelConfig c = small_vq_model();
  c.codebook.codes = 0;
  EXPECT_THROW(validate(c), InputError);
  c = small_vq_model();
  c.codebook.dim = 4;  // 6 latent values are not a whole number of 4-value codes
  EXPECT_THROW(validate(c), InputError);
  c = small_vq_model();
  c.family = "vae";  // a codebook on a family without one
  EXPECT_THROW(validate(c), InputError);
  // A conv encoder's 7x7 grid of 2-value codes makes 98 values, not 6.
  c = small_vq_model();
  c.input_dim = 784;
  c.image_height = c.image_width = 28;
  c.encoder = parse_layers("conv:4:4:2:1,conv:4:4:2:1", "test");
  try {
    Engine<double> engine(c);
    ADD_FAILURE() << "a latent of 6 values was accepted for a 7x7 grid of 2-value codes";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("7x7 grid make a latent of 98 values, latent is 6"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace aevb
