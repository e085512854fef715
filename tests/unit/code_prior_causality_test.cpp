// The code prior's masks (src/prior/code_prior.hpp): which codes the logits
// at each position depend on, measured by changing one code at a time, and
// compared with the receptive field the header derives. After L layers the
// logits at (i, j) depend on exactly the codes at (i, j') with
// 1 <= j - j' <= L and at (i', j') with 1 <= i - i' <= L, |j - j'| <= L:
// never on a position at or after (i, j) in raster order (causality), and
// on every earlier one once L >= max(H, W) - 1 (no blind spot: however
// deep, a stack of masked 3 x 3 convolutions never sees a wedge of positions
// above and to the right, van den Oord et al. 2016, Fig. 1).
#include "support/kernel_inputs.hpp"

#include "core/rng.hpp"
#include "prior/gated_pixelcnn.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace aevb {
namespace {

// The receptive field of the header's derivation: does the code at q reach the logits at p?
bool in_receptive_field(std::size_t p, std::size_t q, std::size_t width, std::size_t layers) {
  const auto i = static_cast<long>(p / width), j = static_cast<long>(p % width);
  const auto iq = static_cast<long>(q / width), jq = static_cast<long>(q % width);
  const auto L = static_cast<long>(layers);
  if (iq == i) return j - jq >= 1 && j - jq <= L;
  return i - iq >= 1 && i - iq <= L && std::labs(j - jq) <= L;
}

// influence[p * P + q]: whether changing the code at q changes any logit at p.
// A reached position moves them by O(0.1); an unreached one leaves the same
// inputs to p's sums, which may still come out a few ulps apart (BLAS sums a
// row differently by where it falls in its tile, and grid 0 and grid 1 + q
// lie in different tiles), so "moved" means by more than 1e-9, and anything
// between that and rounding (1e-12) fails.
std::vector<bool> measured_influence(const CodePriorConfig& config) {
  const std::size_t P = config.height * config.width, K = config.codes;
  pixelcnn::GatedPixelCnn<double> network(config);
  std::vector<double> params = test::normals(network.parameter_count(), 21, 0.5);
  // The head's hidden biases at +10: every ReLU there on, so the logits move
  // wherever the stacks' output moves (an off unit would hide a dependence).
  const ParameterInfo& bias = network.layout().find("prior.head.hidden.bias");
  std::fill_n(params.begin() + static_cast<std::ptrdiff_t>(bias.offset), bias.size(), 10.0);
  // Grid 0 is random; grid 1 + q is grid 0 with the code at q changed.
  std::vector<std::uint32_t> codes((P + 1) * P);
  CounterRng rng(22, 0);
  for (std::size_t p = 0; p < P; ++p) codes[p] = static_cast<std::uint32_t>(rng.below(K));
  for (std::size_t q = 0; q < P; ++q) {
    std::copy_n(codes.begin(), P, codes.begin() + static_cast<std::ptrdiff_t>((1 + q) * P));
    codes[(1 + q) * P + q] = static_cast<std::uint32_t>((codes[q] + 1) % K);
  }
  network.forward(params.data(), codes, P + 1);
  const MatrixView<const double> logits = network.logits();
  std::vector<bool> influence(P * P);
  for (std::size_t q = 0; q < P; ++q)
    for (std::size_t p = 0; p < P; ++p) {
      double change = 0;
      for (std::size_t k = 0; k < K; ++k)
        change = std::max(change, std::abs(logits.row((1 + q) * P + p)[k] - logits.row(p)[k]));
      EXPECT_TRUE(change < 1e-12 || change > 1e-9) << "p " << p << ", q " << q << ": logits moved by " << change;
      influence[p * P + q] = change > 1e-9;
    }
  return influence;
}

void expect_receptive_field(const CodePriorConfig& config) {
  const std::size_t P = config.height * config.width;
  const std::vector<bool> influence = measured_influence(config);
  std::size_t wrong = 0;
  for (std::size_t p = 0; p < P; ++p)
    for (std::size_t q = 0; q < P; ++q) {
      const bool expected = in_receptive_field(p, q, config.width, config.layers);
      if (influence[p * P + q] != expected && wrong++ < 8)
        ADD_FAILURE() << config.layers << " layers: the logits at (" << p / config.width << ", " << p % config.width
                      << ") " << (expected ? "do not depend" : "depend") << " on the code at (" << q / config.width
                      << ", " << q % config.width << ")" << (q >= p ? ", at or after them in raster order" : "");
    }
  EXPECT_EQ(wrong, 0u) << config.layers << " layers: " << wrong << " of " << P * P << " dependences off";
}

// 4 x 5: one layer reaches the neighbours, two and three a rectangle cut by
// the grid's edges, four (= max(H, W) - 1) the whole past of every position.
TEST(CodePriorCausality, LogitsDependOnExactlyTheDerivedReceptiveField) {
  for (std::size_t layers = 1; layers <= 4; ++layers)
    expect_receptive_field({.codes = 5, .height = 4, .width = 5, .channels = 4, .layers = layers});
}

TEST(CodePriorCausality, EnoughLayersSeeTheWholePast) {
  const CodePriorConfig config{.codes = 5, .height = 3, .width = 4, .channels = 4, .layers = 3};
  const std::size_t P = 12;
  const std::vector<bool> influence = measured_influence(config);
  for (std::size_t p = 0; p < P; ++p)
    for (std::size_t q = 0; q < P; ++q)
      EXPECT_EQ(influence[p * P + q], q < p) << "logits at position " << p << ", code at position " << q;
}

}  // namespace
}  // namespace aevb
