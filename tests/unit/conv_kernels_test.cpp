// The convolutional layers' fast path (im2col + GEMM, src/nn/conv.cpp)
// against the direct loops of reference:: and against identities that
// neither depends on: output shapes as PyTorch computes them, the transposed
// convolution as the adjoint of the convolution, results independent of the
// thread count, and the parameter table.
//
// Error bounds. A computed sum of n terms is within n u of the sum of their
// absolute values (first order; u the unit roundoff). Each output here is a
// chain of such sums (a GEMM entry, then col2im's k*k adds, the bias, a
// residual sum...); `count` adds up the terms along the longest chain, plus
// 16 for an activation and its derivative (a vector_math function within
// 4 ulp = 8u of its value, and the multiply; tests/unit/fast_kernels_test.cpp
// measures them), and the absolute-value sums come from the reference run
// on |parameters|, |x| and |dL/dy| without activations (every activation
// used where it feeds a later sum has |f(v)| <= |v| and |f'| <= 1, so that
// run bounds every intermediate). The bound is count * u * (that sum + the
// value). A broken kernel (a plane, a tile or a patch entry skipped or
// misplaced) errs by at least one term, about sum / n, which is far above
// n u sum for every size here.
#include "core/param_layout.hpp"
#include "nn/conv.hpp"
#include "support/kernel_inputs.hpp"
#include "support/scratch.hpp"

#include <aevb/vae.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace aevb {
namespace {

// ---- Output shapes: PyTorch 1.13's, from
//   nn.Conv2d(c, o, k, s, p)(torch.zeros(1, c, h, w)).shape[1:]
//   nn.ConvTranspose2d(c, o, k, s, p, op)(torch.zeros(1, c, h, w)).shape[1:]

struct ShapeCase {
  LayerKind kind;
  Shape in;
  std::size_t out, kernel, stride, padding, output_padding;
  Shape torch;
};

TEST(ConvShapes, MatchPyTorch) {
  const ShapeCase cases[] = {
      {LayerKind::conv, {1, 28, 28}, 32, 4, 2, 1, 0, {32, 14, 14}},
      {LayerKind::conv, {32, 14, 14}, 64, 4, 2, 1, 0, {64, 7, 7}},
      {LayerKind::conv, {2, 7, 5}, 3, 3, 1, 0, 0, {3, 5, 3}},
      {LayerKind::conv, {2, 7, 5}, 3, 3, 2, 1, 0, {3, 4, 3}},
      {LayerKind::conv, {3, 5, 8}, 4, 5, 3, 2, 0, {4, 2, 3}},
      {LayerKind::conv, {1, 3, 3}, 2, 5, 1, 1, 0, {2, 1, 1}},  // the kernel exactly fills the padded input
      {LayerKind::conv, {4, 1, 9}, 2, 1, 1, 0, 0, {2, 1, 9}},
      {LayerKind::conv, {1, 10, 10}, 1, 3, 4, 0, 0, {1, 2, 2}},
      {LayerKind::conv, {2, 6, 6}, 3, 7, 1, 3, 0, {3, 6, 6}},
      {LayerKind::deconv, {64, 7, 7}, 32, 4, 2, 1, 0, {32, 14, 14}},
      {LayerKind::deconv, {32, 14, 14}, 1, 4, 2, 1, 0, {1, 28, 28}},
      {LayerKind::deconv, {2, 7, 5}, 3, 3, 2, 1, 1, {3, 14, 10}},
      {LayerKind::deconv, {2, 4, 3}, 1, 3, 1, 0, 0, {1, 6, 5}},
      {LayerKind::deconv, {3, 5, 8}, 4, 5, 3, 2, 2, {4, 15, 24}},
      {LayerKind::deconv, {1, 1, 1}, 2, 1, 1, 0, 0, {2, 1, 1}},
      {LayerKind::deconv, {2, 3, 4}, 2, 2, 3, 1, 2, {2, 8, 11}},
      {LayerKind::deconv, {1, 2, 2}, 1, 4, 2, 3, 1, {1, 1, 1}},
  };
  for (const ShapeCase& c : cases) {
    const LayerSpec spec = test::spec_of(c.kind, c.out, c.kernel, c.stride, c.padding, c.output_padding);
    const Shape got = c.kind == LayerKind::conv ? Conv2d<float>::output_shape(c.in, spec)
                                                : ConvTranspose2d<float>::output_shape(c.in, spec);
    EXPECT_EQ(got, c.torch) << to_string(spec) << " on " << to_string(c.in) << ": " << to_string(got) << ", torch "
                            << to_string(c.torch);
  }
  EXPECT_EQ(Residual<float>::output_shape({32, 7, 7}, test::spec_of(LayerKind::residual, 16)), (Shape{32, 7, 7}));
}

TEST(ConvShapes, ErrorsSayWhatIsWrong) {
  const LayerSpec conv = test::spec_of(LayerKind::conv, 64, 4, 2, 1);
  EXPECT_ERROR_CONTAINS(Conv2d<float>::output_shape({256, 0, 0}, conv), "needs an image input, found [256]");
  EXPECT_ERROR_CONTAINS(ConvTranspose2d<float>::output_shape({256, 0, 0}, conv), "needs an image input, found [256]");
  EXPECT_ERROR_CONTAINS(Residual<float>::output_shape({256, 0, 0}, test::spec_of(LayerKind::residual, 8)),
                        "needs an image input, found [256]");
  // PyTorch: "Kernel size can't be greater than actual input size", for both.
  EXPECT_ERROR_CONTAINS(Conv2d<float>::output_shape({1, 3, 3}, test::spec_of(LayerKind::conv, 2, 5, 1, 0)),
                        "kernel 5 is larger than the input [1, 3, 3] padded by 0");
  EXPECT_ERROR_CONTAINS(Conv2d<float>::output_shape({1, 3, 9}, test::spec_of(LayerKind::conv, 2, 4, 1, 0)),
                        "kernel 4 is larger than the input [1, 3, 9] padded by 0");
  // PyTorch: "Calculated output size per channel: (-1 x -1). Output size is too small".
  EXPECT_ERROR_CONTAINS(ConvTranspose2d<float>::output_shape({1, 1, 1}, test::spec_of(LayerKind::deconv, 2, 1, 1, 1)),
                        "the output height (1 - 1) * 1 - 2 * 1 + 1 + 0 = -1 is below 1 (input [1, 1, 1])");
  EXPECT_ERROR_CONTAINS(ConvTranspose2d<float>::output_shape({1, 4, 1}, test::spec_of(LayerKind::deconv, 2, 1, 1, 1)),
                        "the output width");
  EXPECT_ERROR_CONTAINS(ConvTranspose2d<float>::output_shape({1, 3, 3}, test::spec_of(LayerKind::deconv, 2, 3, 2, 0, 2)),
                        "the output padding 2 must be smaller than the stride 2");
  EXPECT_ERROR_CONTAINS(Conv2d<float>::output_shape({1, 3, 3}, test::spec_of(LayerKind::conv, 2, 0, 1, 0)),
                        "kernel and stride must be positive, found kernel 0 and stride 1");
  EXPECT_ERROR_CONTAINS(Conv2d<float>::output_shape({1, 3, 3}, test::spec_of(LayerKind::conv, 0, 1, 1, 0)),
                        "at least one output channel");
  EXPECT_ERROR_CONTAINS(Residual<float>::output_shape({1, 3, 3}, test::spec_of(LayerKind::residual, 0)),
                        "at least one hidden channel");
  // The constructor checks before it registers anything.
  ParamLayout layout;
  EXPECT_ERROR_CONTAINS(Conv2d<float>(layout, "c", {256, 0, 0}, conv, Act::relu, 0), "needs an image input");
  EXPECT_EQ(layout.total(), 0u);
}

// ---- The parameter table: PyTorch's names, shapes and order (weight, then bias).

TEST(ConvParameters, RegisteredInPyTorchLayouts) {
  ParamLayout layout;
  const Conv2d<float> conv(layout, "encoder.0", {1, 28, 28}, test::spec_of(LayerKind::conv, 32, 4, 2, 1), Act::relu, 0);
  const ConvTranspose2d<float> deconv(layout, "decoder.1", {64, 7, 7}, test::spec_of(LayerKind::deconv, 32, 4, 2, 1),
                                      Act::relu, 0);
  const Residual<float> res(layout, "encoder.2", {32, 7, 7}, test::spec_of(LayerKind::residual, 16), Act::relu, 0);
  struct Expected {
    const char* name;
    std::vector<std::size_t> shape;
  };
  const Expected expected[] = {{"encoder.0.weight", {32, 1, 4, 4}},        {"encoder.0.bias", {32}},
                               {"decoder.1.weight", {64, 32, 4, 4}},       {"decoder.1.bias", {32}},
                               {"encoder.2.conv1.weight", {16, 32, 3, 3}}, {"encoder.2.conv1.bias", {16}},
                               {"encoder.2.conv2.weight", {32, 16, 1, 1}}, {"encoder.2.conv2.bias", {32}}};
  ASSERT_EQ(layout.table().size(), std::size(expected));
  std::size_t offset = 0;
  for (std::size_t i = 0; i < std::size(expected); ++i) {
    const ParameterInfo& p = layout.table()[i];
    EXPECT_EQ(p.name, expected[i].name);
    EXPECT_EQ(p.shape, expected[i].shape) << p.name;
    EXPECT_EQ(p.offset, offset) << p.name;
    offset += p.size();
  }
  EXPECT_EQ(conv.out_shape(), (Shape{32, 14, 14}));
  EXPECT_EQ(deconv.out_shape(), (Shape{32, 14, 14}));
  EXPECT_EQ(res.out_shape(), (Shape{32, 7, 7}));
}

// ---- A layer configuration, built as the fast or the reference layer.

struct Config {
  const char* name;
  LayerKind kind;
  Shape in;
  LayerSpec spec;
  Act act;
  std::size_t rows = 0;  // the batch of the parallel tests
};

void PrintTo(const Config& c, std::ostream* os) { *os << c.name; }
std::string config_name(const ::testing::TestParamInfo<Config>& param) { return param.param.name; }

template <class T>
std::unique_ptr<Layer<T>> make_fast(const Config& c, ParamLayout& layout, Act act) {
  if (c.kind == LayerKind::conv) return std::make_unique<Conv2d<T>>(layout, "l", c.in, c.spec, act, 0.1f);
  if (c.kind == LayerKind::deconv) return std::make_unique<ConvTranspose2d<T>>(layout, "l", c.in, c.spec, act, 0.1f);
  return std::make_unique<Residual<T>>(layout, "l", c.in, c.spec, act, 0.1f);
}

template <class T>
std::unique_ptr<Layer<T>> make_reference(const Config& c, ParamLayout& layout, Act act) {
  if (c.kind == LayerKind::conv) return std::make_unique<reference::Conv2d<T>>(layout, "l", c.in, c.spec, act, 0.1f);
  if (c.kind == LayerKind::deconv)
    return std::make_unique<reference::ConvTranspose2d<T>>(layout, "l", c.in, c.spec, act, 0.1f);
  return std::make_unique<reference::Residual<T>>(layout, "l", c.in, c.spec, act, 0.1f);
}

// The terms along the longest chain of sums behind each output (see the top).
struct Counts {
  double y = 0, dx = 0, grads = 0;
};

Counts counts_of(const Config& c, Shape out, std::size_t rows) {
  const double kk = double(c.spec.kernel * c.spec.kernel);
  switch (c.kind) {
    case LayerKind::conv:
      return {double(c.in.channels) * kk + 17, double(out.channels) * kk + 16,
              double(rows * out.height * out.width) + 17};
    case LayerKind::deconv:
      return {double(c.in.channels) * kk + 17, double(out.channels) * kk + 16,
              double(rows * c.in.height * c.in.width) + 17};
    default: {
      const double C = double(c.in.channels), hidden = double(c.spec.out), P = double(rows * c.in.height * c.in.width);
      return {9 * C + hidden + 36, 9 * hidden + C + 34, P + C + 34};
    }
  }
}

template <class T>
std::vector<T> cast(const std::vector<float>& v) {
  return {v.begin(), v.end()};
}

template <class T>
struct Result {
  std::vector<T> y, dx, grads;
};

// forward on x, then backward from dL/dy = upstream with `y_back` as the
// layer's output (the forward's own when empty), on `rows` of `planned` rows,
// writing the gradients (overwrite).
template <class T>
Result<T> run(Layer<T>& layer, std::size_t planned, std::size_t rows, const std::vector<T>& params,
              const std::vector<T>& x, const std::vector<T>& upstream, const std::vector<T>& y_back = {}) {
  const std::size_t in = layer.in_shape().size(), out = layer.out_shape().size();
  Result<T> r{std::vector<T>(rows * out), std::vector<T>(rows * in), std::vector<T>(params.size())};
  layer.plan(planned);
  layer.forward(params.data(), {x.data(), rows, in}, {r.y.data(), rows, out});
  std::vector<T> dy = upstream;
  const T* y = y_back.empty() ? r.y.data() : y_back.data();
  layer.backward(params.data(), r.grads.data(), {x.data(), rows, in}, {y, rows, out}, {dy.data(), rows, out},
                 {r.dx.data(), rows, in}, GradMode::overwrite);
  return r;
}

std::vector<double> absolute(const std::vector<float>& v) {
  std::vector<double> a(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) a[i] = std::abs(double(v[i]));
  return a;
}

template <class T>
void expect_within(const std::vector<T>& got, const std::vector<double>& exact, const std::vector<double>& sums,
                   double count, double u, const std::string& what) {
  ASSERT_EQ(got.size(), exact.size()) << what;
  std::size_t misses = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double bound = count * u * (sums[i] + std::abs(exact[i]));
    if (!(std::abs(double(got[i]) - exact[i]) <= bound) && misses++ < 3)
      ADD_FAILURE() << what << "[" << i << "]: " << got[i] << ", reference " << exact[i] << ", bound " << bound;
  }
  EXPECT_EQ(misses, 0u) << what << ": " << misses << " of " << got.size() << " outside the bound";
}

// The fast layer in T against the reference in double on the same inputs
// (drawn in float, so that both types see the same numbers).
template <class T>
void compare_with_reference(const Config& c, std::size_t rows, std::size_t planned, double u) {
  ParamLayout fast_layout, ref_layout, abs_layout;
  const auto fast = make_fast<T>(c, fast_layout, c.act);
  const auto ref = make_reference<double>(c, ref_layout, c.act);
  const auto sums = make_reference<double>(c, abs_layout, Act::identity);
  ASSERT_EQ(fast_layout.total(), ref_layout.total());
  ASSERT_EQ(fast->out_shape(), ref->out_shape());
  const std::size_t in = c.in.size(), out = fast->out_shape().size();
  const std::vector<float> params = test::normals(fast_layout.total(), 21, 0.2f);
  const std::vector<float> x = test::normals(rows * in, 22, 1.0f), upstream = test::normals(rows * out, 23, 1.0f);

  const Result<T> got = run<T>(*fast, planned, rows, cast<T>(params), cast<T>(x), cast<T>(upstream));
  // The reference's backward reads the fast forward's y: the comparison then
  // measures the backward alone.
  const Result<double> exact = run<double>(*ref, rows, rows, cast<double>(params), cast<double>(x),
                                           cast<double>(upstream), std::vector<double>(got.y.begin(), got.y.end()));
  const Result<double> size = run<double>(*sums, rows, rows, absolute(params), absolute(x), absolute(upstream));
  const Counts n = counts_of(c, fast->out_shape(), rows);
  const std::string what = std::string(c.name) + (sizeof(T) == 4 ? " float" : " double");
  expect_within(got.y, exact.y, size.y, n.y, u, what + " y");
  expect_within(got.dx, exact.dx, size.dx, n.dx, u, what + " dx");
  expect_within(got.grads, exact.grads, size.grads, n.grads, u, what + " parameter gradients");
}

constexpr double kFloatU = 0x1p-24;
// Double against double: both sides round, twice the bound of one.
constexpr double kDoubleU = 2 * 0x1p-53;

// ---- Small odd sizes, every stride/padding combination, in double (where
// the bound is tight enough to see any single wrong term) and in float.

class ConvSmall : public ::testing::TestWithParam<Config> {};

TEST_P(ConvSmall, FastMatchesReferenceLoops) {
  // 3 rows of 5 planned: the buffers' leading dimensions follow the rows run.
  compare_with_reference<double>(GetParam(), 3, 5, kDoubleU);
  compare_with_reference<float>(GetParam(), 3, 5, kFloatU);
}

constexpr Shape kOdd{2, 7, 5};

INSTANTIATE_TEST_SUITE_P(
    Layers, ConvSmall,
    ::testing::Values(
        Config{"conv_s1_p0_tanh", LayerKind::conv, kOdd, test::spec_of(LayerKind::conv, 3, 3, 1, 0), Act::tanh},
        Config{"conv_s1_p1_relu", LayerKind::conv, kOdd, test::spec_of(LayerKind::conv, 3, 3, 1, 1), Act::relu},
        Config{"conv_s2_p0_identity", LayerKind::conv, kOdd, test::spec_of(LayerKind::conv, 3, 3, 2, 0), Act::identity},
        Config{"conv_s2_p1_sigmoid", LayerKind::conv, kOdd, test::spec_of(LayerKind::conv, 3, 3, 2, 1), Act::sigmoid},
        Config{"conv_k2_s3_p1_softplus", LayerKind::conv, kOdd, test::spec_of(LayerKind::conv, 4, 2, 3, 1), Act::softplus},
        Config{"conv_k5_p3_leaky", LayerKind::conv, kOdd, test::spec_of(LayerKind::conv, 2, 5, 2, 3), Act::leaky_relu},
        Config{"conv_k1", LayerKind::conv, kOdd, test::spec_of(LayerKind::conv, 3, 1, 1, 0), Act::tanh},
        Config{"deconv_s1_p0_tanh", LayerKind::deconv, kOdd, test::spec_of(LayerKind::deconv, 3, 3, 1, 0), Act::tanh},
        Config{"deconv_s1_p1_relu", LayerKind::deconv, kOdd, test::spec_of(LayerKind::deconv, 3, 3, 1, 1), Act::relu},
        Config{"deconv_s2_p0_identity", LayerKind::deconv, kOdd, test::spec_of(LayerKind::deconv, 3, 3, 2, 0),
               Act::identity},
        Config{"deconv_s2_p1_op1_sigmoid", LayerKind::deconv, kOdd, test::spec_of(LayerKind::deconv, 3, 3, 2, 1, 1),
               Act::sigmoid},
        Config{"deconv_k2_s3_p1_op2_softplus", LayerKind::deconv, kOdd, test::spec_of(LayerKind::deconv, 4, 2, 3, 1, 2),
               Act::softplus},
        Config{"deconv_k5_p3_leaky", LayerKind::deconv, kOdd, test::spec_of(LayerKind::deconv, 2, 5, 2, 3), Act::leaky_relu},
        Config{"residual_tanh", LayerKind::residual, Shape{3, 5, 4}, test::spec_of(LayerKind::residual, 4), Act::tanh},
        Config{"residual_relu", LayerKind::residual, Shape{2, 1, 6}, test::spec_of(LayerKind::residual, 3), Act::relu}),
    config_name);

// ---- The conv VAE's layers for 28x28 MNIST and a residual block, each at a
// batch of several chunks (detail::Chunks: at least one per processor), so
// that on 2 threads the chunks, and their weight gradients summed in chunk
// order, run on both. (These batches were first chosen above every plane
// loop's parallel threshold, 1 << 15 values, from when a layer ran its whole
// batch at once: conv_1_32_28 (16 rows) im2col 16 x 16 x 196 = 50176, the
// others 37632.)

std::vector<Config> mnist_layers() {
  return {
      Config{"conv_1_32_28", LayerKind::conv, {1, 28, 28}, test::spec_of(LayerKind::conv, 32, 4, 2, 1), Act::relu, 16},
      Config{"conv_32_64_14", LayerKind::conv, {32, 14, 14}, test::spec_of(LayerKind::conv, 64, 4, 2, 1), Act::relu, 12},
      Config{"deconv_64_32_7", LayerKind::deconv, {64, 7, 7}, test::spec_of(LayerKind::deconv, 32, 4, 2, 1), Act::relu,
             12},
      Config{"deconv_32_1_14", LayerKind::deconv, {32, 14, 14}, test::spec_of(LayerKind::deconv, 1, 4, 2, 1),
             Act::identity, 48},
      Config{"residual_32_32_7", LayerKind::residual, {32, 7, 7}, test::spec_of(LayerKind::residual, 32), Act::tanh, 24},
  };
}

class ConvParallel : public ::testing::TestWithParam<Config> {
 protected:
  void TearDown() override { set_threads(0); }
};

TEST_P(ConvParallel, FastMatchesReferenceLoopsOnTwoThreads) {
  set_threads(2);
  compare_with_reference<float>(GetParam(), GetParam().rows, GetParam().rows, kFloatU);
  compare_with_reference<double>(GetParam(), GetParam().rows, GetParam().rows, kDoubleU);
}

template <class T>
void expect_same_on_one_and_two_threads(const Config& c) {
  ParamLayout layout;
  const auto layer = make_fast<T>(c, layout, c.act);
  const std::size_t in = c.in.size(), out = layer->out_shape().size();
  const std::vector<T> params = cast<T>(test::normals(layout.total(), 31, 0.2f));
  const std::size_t rows = c.rows;
  const std::vector<T> x = cast<T>(test::normals(rows * in, 32, 1.0f));
  const std::vector<T> upstream = cast<T>(test::normals(rows * out, 33, 1.0f));
  set_threads(1);
  const Result<T> one = run<T>(*layer, rows, rows, params, x, upstream);
  set_threads(2);
  const Result<T> two = run<T>(*layer, rows, rows, params, x, upstream);
  const std::string what = std::string(c.name) + (sizeof(T) == 4 ? " float" : " double");
  EXPECT_TRUE(one.y == two.y) << what << ": y differs between 1 and 2 threads";
  EXPECT_TRUE(one.dx == two.dx) << what << ": dx differs between 1 and 2 threads";
  EXPECT_TRUE(one.grads == two.grads) << what << ": parameter gradients differ between 1 and 2 threads";
}

TEST_P(ConvParallel, BitwiseTheSameOnOneAndTwoThreads) {
  expect_same_on_one_and_two_threads<float>(GetParam());
  expect_same_on_one_and_two_threads<double>(GetParam());
}

INSTANTIATE_TEST_SUITE_P(Mnist, ConvParallel, ::testing::ValuesIn(mnist_layers()),
                         config_name);

// ---- How a batch is cut into chunks: every image in exactly one chunk, no
// chunk over the budget unless it holds one image, and never more chunks
// than Chunks::most says for a batch that size or larger (what plan() sizes
// the chunks' weight gradients for).
TEST(ConvChunks, CoverTheBatchWithinTheBudgetAndThePlannedCount) {
  const std::size_t budget = std::size_t(2) << 20;  // conv.cpp's kChunkBytes
  for (const std::size_t bytes : {std::size_t(1), std::size_t(4096), std::size_t(245000), budget, 3 * budget}) {
    std::size_t most_so_far = 0;
    for (std::size_t rows = 1; rows <= 300; ++rows) {
      const detail::Chunks c(rows, bytes);
      ASSERT_GE(c.size, 1u);
      ASSERT_EQ(c.count, (rows + c.size - 1) / c.size) << rows << " rows, " << bytes << " bytes";
      std::size_t covered = 0;
      for (std::size_t j = 0; j < c.count; ++j) {
        ASSERT_EQ(c.first(j), covered);
        ASSERT_GE(c.images(j), 1u);
        covered += c.images(j);
      }
      EXPECT_EQ(covered, rows) << rows << " rows, " << bytes << " bytes";
      EXPECT_TRUE(c.size == 1 || c.size * bytes <= budget) << c.size << " images of " << bytes << " bytes";
      most_so_far = std::max(most_so_far, c.count);
      EXPECT_LE(most_so_far, detail::Chunks::most(rows, bytes)) << rows << " rows, " << bytes << " bytes";
    }
  }
}

// ---- Every fast activation kernel on image planes (bias per channel), in
// float against the reference in double, at a size that splits: 26 rows of
// [3, 19, 23] (the smallest loop, the deconv's transposition of x, has
// 26 x 3 x 437 = 34086 values; the smallest product 2 x 8 x 11362 x 27 flops).

TEST(ConvActivations, EveryActivationOnPlanes) {
  set_threads(2);
  for (const Act act : {Act::identity, Act::tanh, Act::relu, Act::leaky_relu, Act::softplus, Act::sigmoid}) {
    const std::string name = "conv_act_" + std::to_string(static_cast<int>(act));
    const Config conv{name.c_str(), LayerKind::conv, {3, 19, 23}, test::spec_of(LayerKind::conv, 8, 3, 1, 1), act};
    compare_with_reference<float>(conv, 26, 26, kFloatU);
    const std::string dname = "de" + name;
    const Config deconv{dname.c_str(), LayerKind::deconv, {3, 19, 23}, test::spec_of(LayerKind::deconv, 8, 3, 1, 1), act};
    compare_with_reference<float>(deconv, 26, 26, kFloatU);
  }
  set_threads(0);
}

// ---- The adjoint identity: ConvTranspose2d with weight W is the adjoint of
// Conv2d with the same W and window (biases 0, no activation), so
// <y, conv(x)> = <convT(y), x> for every x and y. Each side is a sum of the
// same products y W x (conv: C k k terms per output, then the dot product),
// so each is within (terms) u of S = sum |y| |W| |x| = <|y|, conv_|W|(|x|)>.

struct AdjointCase {
  Shape in;
  std::size_t out, kernel, stride, padding;
};

template <class T>
void expect_adjoint(const AdjointCase& a, std::size_t rows, double u) {
  const LayerSpec conv_spec = test::spec_of(LayerKind::conv, a.out, a.kernel, a.stride, a.padding);
  const Shape mid = Conv2d<T>::output_shape(a.in, conv_spec);
  // The output padding that brings the transposed size back to the input's.
  const std::size_t op = (a.in.height + 2 * a.padding - a.kernel) % a.stride;
  ASSERT_EQ(op, (a.in.width + 2 * a.padding - a.kernel) % a.stride) << "a case needs one output padding";
  const LayerSpec deconv_spec = test::spec_of(LayerKind::deconv, a.in.channels, a.kernel, a.stride, a.padding, op);
  ParamLayout conv_layout, deconv_layout, abs_layout;
  Conv2d<T> conv(conv_layout, "c", a.in, conv_spec, Act::identity, 0);
  ConvTranspose2d<T> deconv(deconv_layout, "d", mid, deconv_spec, Act::identity, 0);
  reference::Conv2d<double> magnitude(abs_layout, "a", a.in, conv_spec, Act::identity, 0);
  ASSERT_EQ(deconv.out_shape(), a.in);
  // Both weights are [out, in, k, k] = [mid.channels, in.channels, k, k]: the same numbers.
  const std::size_t nw = a.out * a.in.channels * a.kernel * a.kernel;
  ASSERT_EQ(conv_layout.total(), nw + a.out);
  ASSERT_EQ(deconv_layout.total(), nw + a.in.channels);
  const std::vector<float> w = test::normals(nw, 41, 1.0f);
  const std::vector<float> x = test::normals(rows * a.in.size(), 42, 1.0f);
  const std::vector<float> y = test::normals(rows * mid.size(), 43, 1.0f);
  std::vector<T> conv_params(conv_layout.total(), T(0)), deconv_params(deconv_layout.total(), T(0));
  std::copy(w.begin(), w.end(), conv_params.begin());
  std::copy(w.begin(), w.end(), deconv_params.begin());
  const std::vector<T> xt = cast<T>(x), yt = cast<T>(y);
  std::vector<T> conv_x(y.size()), deconv_y(x.size());
  conv.plan(rows);
  deconv.plan(rows);
  conv.forward(conv_params.data(), {xt.data(), rows, a.in.size()}, {conv_x.data(), rows, mid.size()});
  deconv.forward(deconv_params.data(), {yt.data(), rows, mid.size()}, {deconv_y.data(), rows, a.in.size()});
  double left = 0, right = 0, s = 0;
  for (std::size_t i = 0; i < y.size(); ++i) left += double(y[i]) * double(conv_x[i]);
  for (std::size_t i = 0; i < x.size(); ++i) right += double(deconv_y[i]) * double(x[i]);
  std::vector<double> abs_params(abs_layout.total(), 0.0), abs_out(y.size());
  for (std::size_t i = 0; i < nw; ++i) abs_params[i] = std::abs(double(w[i]));
  const std::vector<double> abs_x = absolute(x), abs_y = absolute(y);
  magnitude.forward(abs_params.data(), {abs_x.data(), rows, a.in.size()}, {abs_out.data(), rows, mid.size()});
  for (std::size_t i = 0; i < y.size(); ++i) s += abs_y[i] * abs_out[i];
  const double kk = double(a.kernel * a.kernel);
  // Conv: C k k terms, deconv: out k k terms (plus col2im's adds, at most k k), each side's products rounded to T,
  // then the two dot products in double (their length times 2^-53).
  const double bound = (double(a.in.channels + a.out) * kk + 2 * kk + 4) * u * s +
                       double(x.size() + y.size()) * 0x1p-53 * s;
  EXPECT_NEAR(left, right, bound) << (sizeof(T) == 4 ? "float " : "double ") << to_string(a.in) << " -> "
                                  << to_string(mid) << " kernel " << a.kernel << " stride " << a.stride
                                  << " padding " << a.padding << " output padding " << op;
}

TEST(ConvAdjoint, TransposedConvolutionIsTheAdjoint) {
  const AdjointCase cases[] = {
      {{2, 7, 5}, 3, 3, 1, 0},   {{2, 7, 5}, 3, 3, 1, 1},   {{2, 7, 5}, 3, 3, 2, 1},  {{3, 8, 6}, 2, 3, 2, 1},
      {{1, 7, 10}, 4, 2, 3, 1},  {{1, 28, 28}, 32, 4, 2, 1}, {{32, 14, 14}, 64, 4, 2, 1}, {{2, 9, 9}, 3, 5, 2, 3},
  };
  for (const AdjointCase& a : cases) {
    expect_adjoint<double>(a, 3, 0x1p-53);
    expect_adjoint<float>(a, 3, 0x1p-24);
  }
}

}  // namespace
}  // namespace aevb
