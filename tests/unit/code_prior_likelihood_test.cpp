// The code prior is a distribution over grids (src/prior/code_prior.hpp):
// log p(grid) is the sum of the per-position log-softmax values at the
// grid's codes, and over every grid of a tiny case (K = 2, 2 x 2: 16 grids)
// p sums to 1, in double within 1e-9 (the chain rule holds only if each
// position's logits ignore the codes at and after it). The float CodePrior
// computes the same numbers to float precision, and its cross-entropy is
// their mean.
#include "support/kernel_inputs.hpp"

#include "core/rng.hpp"
#include "prior/code_prior.hpp"
#include "prior/gated_pixelcnn.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

namespace aevb {
namespace {

constexpr CodePriorConfig kTiny{.codes = 2, .height = 2, .width = 2, .channels = 4, .layers = 2};

// Every grid of kTiny: grid g holds the bits of g, position 0 the lowest.
std::vector<std::uint32_t> all_grids() {
  std::vector<std::uint32_t> codes(16 * 4);
  for (std::uint32_t g = 0; g < 16; ++g)
    for (std::uint32_t p = 0; p < 4; ++p) codes[g * 4 + p] = (g >> p) & 1u;
  return codes;
}

// Parameters at 0.8 scale: distributions far from uniform, so that a wrong
// normalization cannot hide behind p = 1/2 everywhere.
std::vector<float> float_parameters(std::size_t n) { return test::normals<float>(n, 31, 0.8f); }

// log p of each grid from the logits directly: sum_p logits[x_p] - log sum_k exp(logits).
std::vector<double> log_p_from_logits(const pixelcnn::GatedPixelCnn<double>& network,
                                      const std::vector<std::uint32_t>& codes, std::size_t grids, std::size_t P) {
  const MatrixView<const double> logits = network.logits();
  std::vector<double> log_p(grids, 0.0);
  for (std::size_t r = 0; r < grids * P; ++r) {
    double z = 0;
    for (std::size_t k = 0; k < logits.cols; ++k) z += std::exp(logits.row(r)[k]);
    log_p[r / P] += logits.row(r)[codes[r]] - std::log(z);
  }
  return log_p;
}

TEST(CodePriorLikelihood, SumsToOneOverEveryGridInDouble) {
  pixelcnn::GatedPixelCnn<double> network(kTiny);
  const std::vector<float> f = float_parameters(network.parameter_count());
  const std::vector<double> params(f.begin(), f.end());
  const std::vector<std::uint32_t> codes = all_grids();
  network.forward(params.data(), codes, 16);
  const std::vector<double> direct = log_p_from_logits(network, codes, 16, 4);
  double total = 0, smallest = 1;
  for (std::size_t g = 0; g < 16; ++g) {
    double log_p = 0;
    for (std::size_t p = 0; p < 4; ++p) log_p -= network.nll()[g * 4 + p];
    EXPECT_NEAR(log_p, direct[g], 1e-12) << "grid " << g;
    total += std::exp(log_p);
    smallest = std::min(smallest, std::exp(log_p));
  }
  EXPECT_NEAR(total, 1.0, 1e-9);
  EXPECT_LT(smallest, 0.03) << "the parameters should make the distribution far from uniform (1/16 each)";
}

TEST(CodePriorLikelihood, FloatPriorMatchesTheDoubleNetwork) {
  CodePrior prior(kTiny);
  const std::vector<float> f = float_parameters(prior.parameter_count());
  std::copy(f.begin(), f.end(), prior.parameters().begin());
  pixelcnn::GatedPixelCnn<double> network(kTiny);
  const std::vector<double> params(f.begin(), f.end());
  const std::vector<std::uint32_t> codes = all_grids();
  network.forward(params.data(), codes, 16);
  const std::vector<double> exact = log_p_from_logits(network, codes, 16, 4);

  std::vector<double> log_p(16);
  prior.log_probabilities(codes, 16, log_p.data());
  double total = 0, mean_nll = 0;
  for (std::size_t g = 0; g < 16; ++g) {
    // float: a few ulp of the logits (~1e-7 relative) per position.
    EXPECT_NEAR(log_p[g], exact[g], 1e-5) << "grid " << g;
    total += std::exp(log_p[g]);
    mean_nll -= log_p[g] / (16.0 * 4.0);
  }
  EXPECT_NEAR(total, 1.0, 1e-5);
  EXPECT_NEAR(prior.cross_entropy(codes, 16), mean_nll, 1e-12);

  // The conditionals are the softmax of the logits, each summing to 1.
  std::vector<float> conditionals(16 * 4 * 2);
  prior.conditional_probabilities(codes, 16, conditionals);
  for (std::size_t r = 0; r < 16 * 4; ++r) {
    EXPECT_NEAR(conditionals[2 * r] + conditionals[2 * r + 1], 1.0, 1e-6);
    EXPECT_NEAR(std::log(conditionals[2 * r + codes[r]]), -network.nll()[r], 1e-5) << "position " << r;
  }
}

// Grid g's log-probability does not depend on how many grids follow it, past
// a chunk boundary too (chunks are padded to a fixed size, so every product
// has the same shape, and each column of a product reads only its own).
TEST(CodePriorLikelihood, AGridsNumberDoesNotDependOnTheGridsAfterIt) {
  const CodePriorConfig config{.codes = 7, .height = 3, .width = 3, .channels = 8, .layers = 2};
  CodePrior prior(config);
  const std::size_t chunk = prior.chunk_grids(), n = 2 * chunk + 3;
  std::vector<std::uint32_t> codes(n * 9);
  CounterRng rng(33, 0);
  for (auto& c : codes) c = static_cast<std::uint32_t>(rng.below(7));
  std::vector<double> all(n);
  prior.log_probabilities(codes, n, all.data());
  for (const std::size_t m : {std::size_t{1}, std::size_t{2}, chunk + 1, 2 * chunk}) {
    std::vector<double> prefix(m);
    prior.log_probabilities(std::span(codes).first(m * 9), m, prefix.data());
    for (std::size_t g = 0; g < m; ++g) ASSERT_EQ(prefix[g], all[g]) << "grid " << g << " of " << m;
  }
}

}  // namespace
}  // namespace aevb
