// Finite differences in double of the code prior's cross-entropy
// (src/prior/gated_pixelcnn.hpp) with respect to every parameter tensor: the
// embedding, each layer's vertical and horizontal kernels and biases, the
// link, the residual 1x1, and the head. The loss is a mean of 3 * 12
// log-softmax terms of size ~log 5, |L| ~ 2, inside expect_gradient's
// derivation for |L| ~ 1 (support/gradcheck.hpp).
#include "support/gradcheck.hpp"
#include "support/kernel_inputs.hpp"

#include "prior/gated_pixelcnn.hpp"

#include <cmath>
#include <cstdint>
#include <vector>

namespace aevb {
namespace {

// Random codes in [0, K) from `seed`.
std::vector<std::uint32_t> random_codes(std::size_t count, std::uint32_t K, std::uint64_t seed) {
  std::vector<std::uint32_t> codes(count);
  CounterRng rng(seed, 0);
  for (auto& c : codes) c = static_cast<std::uint32_t>(rng.below(K));
  return codes;
}

void check_gradient(const CodePriorConfig& config, std::size_t grids) {
  pixelcnn::GatedPixelCnn<double> network(config);
  // Every parameter, biases too, drawn from N(0, 0.3^2): no ReLU of the head
  // on its kink, no gradient trivially zero, gates neither saturated nor linear.
  std::vector<double> params = test::normals(network.parameter_count(), 11, 0.3);
  const std::vector<std::uint32_t> codes = random_codes(grids * config.height * config.width,
                                                        static_cast<std::uint32_t>(config.codes), 12);
  const auto loss = [&] {
    network.forward(params.data(), codes, grids);
    double sum = 0;
    for (const double v : network.nll()) sum += v;
    return sum / double(network.nll().size());
  };
  network.forward(params.data(), codes, grids);
  // NaN everywhere first: a slice that backward failed to write would show.
  std::vector<double> grads(params.size(), std::nan(""));
  const double mean = network.backward(params.data(), grads.data());
  EXPECT_DOUBLE_EQ(mean, loss());
  for (const ParameterInfo& p : network.layout().table())
    testing::expect_gradient(loss, params.data() + p.offset, p.size(), grads.data() + p.offset, p.name);
}

TEST(CodePriorGradient, MatchesFiniteDifferencesForEveryTensor) {
  check_gradient({.codes = 5, .height = 3, .width = 4, .channels = 4, .layers = 2}, 3);
}

// One layer: the first layer's kernels are also the last (no vertical output,
// no residual term), the case the loops treat specially.
TEST(CodePriorGradient, MatchesFiniteDifferencesWithOneLayer) {
  check_gradient({.codes = 5, .height = 3, .width = 4, .channels = 4, .layers = 1}, 3);
}

// Three layers on a grid one column wide and one row high: taps that read
// nothing inside the grid on one side.
TEST(CodePriorGradient, MatchesFiniteDifferencesOnThinGrids) {
  check_gradient({.codes = 3, .height = 4, .width = 1, .channels = 3, .layers = 3}, 2);
  check_gradient({.codes = 3, .height = 1, .width = 4, .channels = 3, .layers = 3}, 2);
}

}  // namespace
}  // namespace aevb
