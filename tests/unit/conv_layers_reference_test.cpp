// The convolutional layers against PyTorch (tools/make_conv_layers_reference.py,
// which writes tests/fixtures/conv_layers_reference_v1.bin; this test needs no
// Python): nn.Conv2d, nn.ConvTranspose2d and the residual block in float64,
// their outputs and every gradient. This pins what the other conv tests
// cannot, since the fast path and the reference loops were written from the
// same reading of the definitions: the weight layouts, the padding, stride
// and output-padding conventions, and the parameter order.
//
// Tolerance: the fixture stores float64 results rounded to float32, within
// 2^-24 of their value; the double fast path on the same (float32) inputs is
// within n 2^-53 of the sum of |terms| of each output, n < 2^7 terms here,
// each below 2^5 in size (inputs N(0, 1) times weights below 3): under
// 2^-36. So |aevb - fixture| <= 2^-24 |fixture| + 2^-30 holds with a wide
// margin, while one wrong or missing term (of size ~0.1) is far outside it.
#include "core/param_layout.hpp"
#include "nn/conv.hpp"
#include "support/fixture.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace aevb {
namespace {

using test::Fixture;
using test::FixtureTensor;

constexpr const char* kRegenerate = "/usr/bin/python3 tools/make_conv_layers_reference.py";

const Fixture& fixture() {
  static const Fixture f =
      Fixture::load(std::string(AEVB_SOURCE_DIR) + "/tests/fixtures/conv_layers_reference_v1.bin");
  return f;
}

void expect_matches(const std::vector<double>& got, const FixtureTensor& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what << ": " << got.size() << " values in aevb, " << want.size()
                                     << " in the fixture " << want.shape_string() << " (regenerate with `"
                                     << kRegenerate << "` if it is stale)";
  std::size_t misses = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double bound = 0x1p-24 * std::abs(double(want.data[i])) + 0x1p-30;
    if (!(std::abs(got[i] - double(want.data[i])) <= bound) && misses++ < 3)
      ADD_FAILURE() << what << "[" << i << "]: aevb " << got[i] << ", PyTorch " << want.data[i];
  }
  EXPECT_EQ(misses, 0u) << what << ": " << misses << " of " << got.size() << " differ from PyTorch";
}

struct Case {
  const char* name;
  LayerKind kind;
  std::size_t out, kernel, stride, padding, output_padding;
  Act act;
  std::vector<const char*> params;  // PyTorch's names, in aevb's order
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class ConvLayersReference : public ::testing::TestWithParam<Case> {};

TEST_P(ConvLayersReference, MatchesPyTorch) {
  const Case& c = GetParam();
  const std::string at = std::string(c.name) + "/";
  const FixtureTensor& x = fixture().get(at + "x");
  ASSERT_EQ(x.shape.size(), 4u);
  const std::size_t rows = x.shape[0];
  const Shape in{x.shape[1], x.shape[2], x.shape[3]};
  LayerSpec spec;
  spec.kind = c.kind;
  spec.out = c.out;
  spec.kernel = c.kernel;
  spec.stride = c.stride;
  spec.padding = c.padding;
  spec.output_padding = c.output_padding;
  ParamLayout layout;
  std::unique_ptr<Layer<double>> layer;
  if (c.kind == LayerKind::conv) layer = std::make_unique<Conv2d<double>>(layout, "l", in, spec, c.act, 0);
  if (c.kind == LayerKind::deconv) layer = std::make_unique<ConvTranspose2d<double>>(layout, "l", in, spec, c.act, 0);
  if (c.kind == LayerKind::residual) layer = std::make_unique<Residual<double>>(layout, "l", in, spec, c.act, 0);

  // The parameters: aevb's table holds PyTorch's names, shapes and order.
  ASSERT_EQ(layout.table().size(), c.params.size());
  std::vector<double> params(layout.total());
  for (std::size_t i = 0; i < c.params.size(); ++i) {
    const ParameterInfo& info = layout.table()[i];
    EXPECT_EQ(info.name, std::string("l.") + c.params[i]);
    const FixtureTensor& t = fixture().get(at + c.params[i]);
    ASSERT_EQ(std::vector<std::uint64_t>(info.shape.begin(), info.shape.end()), t.shape) << info.name;
    std::copy(t.data.begin(), t.data.end(), params.begin() + static_cast<std::ptrdiff_t>(info.offset));
  }
  const std::size_t n_in = in.size(), n_out = layer->out_shape().size();
  const std::vector<double> xs(x.data.begin(), x.data.end());
  const FixtureTensor& upstream = fixture().get(at + "upstream");
  ASSERT_EQ(upstream.size(), rows * n_out) << "output shape " << to_string(layer->out_shape());
  std::vector<double> y(rows * n_out), dy(upstream.data.begin(), upstream.data.end()), dx(rows * n_in),
      grads(layout.total());
  layer->plan(rows);
  layer->forward(params.data(), {xs.data(), rows, n_in}, {y.data(), rows, n_out});
  layer->backward(params.data(), grads.data(), {xs.data(), rows, n_in}, {y.data(), rows, n_out},
                  {dy.data(), rows, n_out}, {dx.data(), rows, n_in}, GradMode::overwrite);
  expect_matches(y, fixture().get(at + "y"), at + "y");
  expect_matches(dx, fixture().get(at + "dx"), at + "dx");
  for (std::size_t i = 0; i < c.params.size(); ++i) {
    const ParameterInfo& info = layout.table()[i];
    const std::vector<double> g(grads.begin() + static_cast<std::ptrdiff_t>(info.offset),
                                grads.begin() + static_cast<std::ptrdiff_t>(info.offset + info.size()));
    expect_matches(g, fixture().get(at + "grad/" + c.params[i]), at + "grad/" + c.params[i]);
  }
}

std::string case_name(const ::testing::TestParamInfo<Case>& param) { return param.param.name; }

// The cases of tools/make_conv_layers_reference.py.
INSTANTIATE_TEST_SUITE_P(
    Fixture, ConvLayersReference,
    ::testing::Values(Case{"conv_s2_p1", LayerKind::conv, 3, 3, 2, 1, 0, Act::tanh, {"weight", "bias"}},
                      Case{"conv_k4_s2_p1", LayerKind::conv, 4, 4, 2, 1, 0, Act::relu, {"weight", "bias"}},
                      Case{"conv_s1_p0", LayerKind::conv, 2, 3, 1, 0, 0, Act::identity, {"weight", "bias"}},
                      Case{"deconv_s2_p1_op1", LayerKind::deconv, 3, 3, 2, 1, 1, Act::tanh, {"weight", "bias"}},
                      Case{"deconv_k4_s2_p1", LayerKind::deconv, 1, 4, 2, 1, 0, Act::identity, {"weight", "bias"}},
                      Case{"deconv_k2_s3_p1_op2", LayerKind::deconv, 2, 2, 3, 1, 2, Act::sigmoid,
                           {"weight", "bias"}},
                      Case{"residual", LayerKind::residual, 4, 0, 1, 0, 0, Act::tanh,
                           {"conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias"}}),
    case_name);

}  // namespace
}  // namespace aevb
