// Finite-difference checks of the convolutional layers (src/nn/conv.hpp) in
// double: dL/dx and every parameter of Conv2d, ConvTranspose2d and the
// residual block, for L = sum(upstream * y) with a fixed random upstream, at
// strides 1, 2 and 3 (gaps between windows), padding 0 and 1, odd sizes,
// output padding, tanh and the identity; and the two gradient modes.
// expect_gradient's tolerance (support/gradcheck.hpp) is derived there for
// |L| ~ 1; these losses are sums of a few hundred terms of size ~1, |L| ~ 10,
// which moves the rounding error to ~1e-9, still far inside 1e-6.
#include "support/gradcheck.hpp"
#include "support/kernel_inputs.hpp"

#include "core/param_layout.hpp"
#include "core/rng.hpp"
#include "nn/conv.hpp"

#include <cmath>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace aevb {
namespace {

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

using Make = std::function<std::unique_ptr<Layer<double>>(ParamLayout&)>;

// Checks every parameter and every input of the layer that `make` builds.
// The weights are scaled so that tanh's inputs stay O(1) (not saturated).
void check_layer(const Make& make, std::size_t rows, const std::string& what) {
  ParamLayout layout;
  const std::unique_ptr<Layer<double>> layer = make(layout);
  const std::size_t in = layer->in_shape().size(), out = layer->out_shape().size();
  std::vector<double> params = test::normals(layout.total(), 1, 0.3);
  std::vector<double> x = test::normals(rows * in, 2, 1.0);
  const std::vector<double> upstream = test::normals(rows * out, 3, 1.0);
  std::vector<double> y(rows * out);
  layer->plan(rows);
  const auto loss = [&] {
    layer->forward(params.data(), {x.data(), rows, in}, {y.data(), rows, out});
    return dot(upstream, y);
  };
  loss();
  std::vector<double> grads(params.size(), 0.0), dx(rows * in), dy = upstream;
  layer->backward(params.data(), grads.data(), {x.data(), rows, in}, {y.data(), rows, out}, {dy.data(), rows, out},
                  {dx.data(), rows, in}, GradMode::accumulate);
  testing::expect_gradient(loss, params.data(), params.size(), grads.data(), what + ": dL/d(parameters)");
  testing::expect_gradient(loss, x.data(), x.size(), dx.data(), what + ": dL/dx");
}

struct Case {
  const char* name;
  LayerKind kind;
  Shape in;
  std::size_t out, kernel, stride, padding, output_padding;
  Act act;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }
std::string case_name(const ::testing::TestParamInfo<Case>& param) { return param.param.name; }

class ConvGradient : public ::testing::TestWithParam<Case> {};

TEST_P(ConvGradient, MatchesFiniteDifferences) {
  const Case& c = GetParam();
  const LayerSpec spec = test::spec_of(c.kind, c.out, c.kernel, c.stride, c.padding, c.output_padding);
  const Make make = [&](ParamLayout& layout) -> std::unique_ptr<Layer<double>> {
    if (c.kind == LayerKind::conv) return std::make_unique<Conv2d<double>>(layout, "c", c.in, spec, c.act, 0.1f);
    if (c.kind == LayerKind::deconv)
      return std::make_unique<ConvTranspose2d<double>>(layout, "c", c.in, spec, c.act, 0.1f);
    return std::make_unique<Residual<double>>(layout, "c", c.in, spec, c.act, 0.1f);
  };
  check_layer(make, 2, c.name);
}

constexpr Shape kOdd{2, 7, 5};

INSTANTIATE_TEST_SUITE_P(
    Layers, ConvGradient,
    ::testing::Values(
        Case{"conv_s1_p0_tanh", LayerKind::conv, kOdd, 3, 3, 1, 0, 0, Act::tanh},
        Case{"conv_s1_p1_identity", LayerKind::conv, kOdd, 3, 3, 1, 1, 0, Act::identity},
        Case{"conv_s2_p0_identity", LayerKind::conv, kOdd, 3, 3, 2, 0, 0, Act::identity},
        Case{"conv_s2_p1_tanh", LayerKind::conv, kOdd, 3, 3, 2, 1, 0, Act::tanh},
        Case{"conv_k2_s3_gaps_softplus", LayerKind::conv, kOdd, 2, 2, 3, 1, 0, Act::softplus},
        Case{"conv_k4_s2_p1_mnist_like", LayerKind::conv, Shape{1, 8, 8}, 2, 4, 2, 1, 0, Act::tanh},
        Case{"deconv_s1_p0_tanh", LayerKind::deconv, kOdd, 3, 3, 1, 0, 0, Act::tanh},
        Case{"deconv_s1_p1_identity", LayerKind::deconv, kOdd, 3, 3, 1, 1, 0, Act::identity},
        Case{"deconv_s2_p0_identity", LayerKind::deconv, kOdd, 3, 3, 2, 0, 0, Act::identity},
        Case{"deconv_s2_p1_op1_tanh", LayerKind::deconv, kOdd, 3, 3, 2, 1, 1, Act::tanh},
        Case{"deconv_k2_s3_gaps_op2_sigmoid", LayerKind::deconv, kOdd, 2, 2, 3, 1, 2, Act::sigmoid},
        Case{"deconv_k4_s2_p1_mnist_like", LayerKind::deconv, Shape{2, 4, 4}, 1, 4, 2, 1, 0, Act::identity},
        Case{"residual_tanh", LayerKind::residual, Shape{3, 5, 4}, 4, 0, 1, 0, 0, Act::tanh},
        Case{"residual_softplus", LayerKind::residual, Shape{2, 3, 6}, 3, 0, 1, 0, 0, Act::softplus}),
    case_name);

// The two gradient modes: overwrite writes the gradients whatever the buffer
// held (NaN here: a read of it would show), accumulate adds to what it held.
// Both run the same sums on the same operands (GEMM beta 0 on any buffer,
// beta 1 on zeros; the bias's total written, or added to 0), so overwrite
// equals accumulate-onto-zeros to the bit. Onto g0 each entry is g0 + g with
// one rounding (the bias adds its total once; a product as short as these,
// k <= 90, adds its result to C once): within 2^-53 |g0 + g| of g0 + g,
// rounded the same way, so 2^-52 (|g0| + |g|) leaves a margin.
class ConvGradMode : public ::testing::TestWithParam<LayerKind> {};

TEST_P(ConvGradMode, OverwriteWritesAndAccumulateAdds) {
  const std::size_t rows = 3;
  const Shape in{3, 6, 5};
  const LayerKind kind = GetParam();
  const LayerSpec spec = test::spec_of(kind, 4, 3, 2, 1, kind == LayerKind::deconv ? 1 : 0);
  ParamLayout layout;
  std::unique_ptr<Layer<double>> layer;
  if (kind == LayerKind::conv) layer = std::make_unique<Conv2d<double>>(layout, "c", in, spec, Act::tanh, 0);
  if (kind == LayerKind::deconv)
    layer = std::make_unique<ConvTranspose2d<double>>(layout, "c", in, spec, Act::tanh, 0);
  if (kind == LayerKind::residual) layer = std::make_unique<Residual<double>>(layout, "c", in, spec, Act::tanh, 0);
  const std::size_t n_in = in.size(), n_out = layer->out_shape().size(), n = layout.total();
  const std::vector<double> params = test::normals(n, 4, 0.3), x = test::normals(rows * n_in, 5, 1.0), g0 = test::normals(n, 6, 1.0);
  const std::vector<double> upstream = test::normals(rows * n_out, 7, 1.0);
  std::vector<double> y(rows * n_out);
  layer->plan(rows);
  layer->forward(params.data(), {x.data(), rows, n_in}, {y.data(), rows, n_out});
  const auto run = [&](std::vector<double> grads, GradMode mode) {
    std::vector<double> dy = upstream, dx(rows * n_in);
    layer->backward(params.data(), grads.data(), {x.data(), rows, n_in}, {y.data(), rows, n_out},
                    {dy.data(), rows, n_out}, {dx.data(), rows, n_in}, mode);
    return grads;
  };
  const std::vector<double> written = run(std::vector<double>(n, std::nan("")), GradMode::overwrite);
  const std::vector<double> onto_zeros = run(std::vector<double>(n, 0.0), GradMode::accumulate);
  const std::vector<double> onto_g0 = run(g0, GradMode::accumulate);
  std::size_t misses = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!(written[i] == onto_zeros[i]) && misses++ < 3)
      ADD_FAILURE() << "overwrite [" << i << "] " << written[i] << ", accumulate onto zeros " << onto_zeros[i];
    const double bound = 0x1p-53 * (std::abs(g0[i]) + std::abs(onto_zeros[i])) * 2;
    if (!(std::abs(onto_g0[i] - (g0[i] + onto_zeros[i])) <= bound) && misses++ < 3)
      ADD_FAILURE() << "accumulate onto g0 [" << i << "] " << onto_g0[i] << ", g0 + g " << g0[i] + onto_zeros[i];
  }
  EXPECT_EQ(misses, 0u);
}

std::string kind_name(const ::testing::TestParamInfo<LayerKind>& param) {
  return param.param == LayerKind::conv ? "conv" : param.param == LayerKind::deconv ? "deconv" : "residual";
}

INSTANTIATE_TEST_SUITE_P(Layers, ConvGradMode,
                         ::testing::Values(LayerKind::conv, LayerKind::deconv, LayerKind::residual), kind_name);

}  // namespace
}  // namespace aevb
