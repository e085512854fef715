// Layer-declared networks (convolutions, transposed convolutions, residual
// blocks, unflatten) against the independent PyTorch float64 reference
// (tools/make_reference.py, which writes tests/fixtures/reference_conv_v1.bin;
// this test needs no Python). Two configs, each built by the engine from the
// fixture's own config JSON (cfg.json, as a model file carries it):
//   gaussian:  [2, 8, 10] images, encoder conv:4:3:2:1,residual:3,conv:6:3:1:0,dense:5,
//              declared decoder dense:80,unflatten:4:4:5,deconv:5:3:2:1:1,residual:2,conv:2:3:1:1
//              (learned variance: two parallel conv heads), leaky-relu 0.25;
//   bernoulli: [1, 8, 8] images, encoder conv:4:3:2:1,conv:6:3:1:0,dense:5 and
//              no decoder, so the engine mirrors it (the reference writes the
//              mirror out by hand: deconv:1:3:2:1:1 comes back to 8 x 8), tanh.
// Parameters are copied by name (the engine's names and shapes must be
// exactly the fixture's: PyTorch's nn.Conv2d / nn.ConvTranspose2d / nn.Linear
// conventions). Compared per tensor, for estimator B (beta 1) and the
// importance-weighted bound: mu and logvar (the encoder's output), z, the
// decoder's output, each loss term and every parameter gradient; then the
// encode / decode_mean entry points.
//
// Engine<double> (the primary check). Tolerance per element:
//     |engine - stored| <= 2^-24 |stored| (1 + 2^-20) + 1e-10 max|stored of the tensor|.
// The fixture's inputs (weights, x, eps) are float32 values, exact in double,
// and the reference is float64 on exactly them, so the engine in double
// computes the same numbers up to double rounding; the stored outputs are the
// reference rounded to float32, off by at most 2^-24 of themselves (round to
// nearest). Double rounding through these small networks (sums of at most a
// few hundred terms) is ~1e-13 of a tensor's scale; 1e-10 leaves 1000x for
// different summation orders. Any real mistake (a flipped or transposed
// kernel, a wrong padding or output padding, channels in the wrong order, a
// missing activation) is O(1e-2..1).
//
// Engine<float> (the kernels that train). Tolerance per tensor, relative to
// max|ref|, from the script's float32 replay of the same computation (torch in
// float32 against float64, printed by make_reference.py): every intermediate
// and loss term within 2.3e-7, the B gradients 9.1e-7, so 1e-5 as in
// reference_test.cpp (11x and more); the importance-weighted gradients of the
// Gaussian config 1.35e-5 (log w ~ -160 summed over 160 pixels carries ~1e-5
// absolute float32 error into the normalized weights), so 1e-4 (7x) for
// the iw gradients.
#include "io/config_json.hpp"
#include "model/engine.hpp"
#include "support/fixture.hpp"

#include <aevb/error.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <type_traits>
#include <string>
#include <vector>

namespace {

using aevb::test::Fixture;
using aevb::test::FixtureTensor;

constexpr const char* kRegenerate = "/usr/bin/python3 tools/make_reference.py";

const Fixture& reference() {
  static const Fixture f = [] {
    try {
      return Fixture::load(std::string(AEVB_SOURCE_DIR) + "/tests/fixtures/reference_conv_v1.bin");
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string("REFERENCE FIXTURE UNUSABLE: ") + e.what() + "; regenerate it with `" +
                               kRegenerate + "` from the repository root");
    }
  }();
  return f;
}

/// How close a tensor must be: per element, rel_elem * |ref| + rel_tensor * max|ref|.
struct Tolerance {
  double rel_elem = 0, rel_tensor = 0;
};
constexpr double kStorage = 0x1p-24 * (1 + 0x1p-20);  // float32 rounding of the stored outputs
constexpr Tolerance kDouble{kStorage, 1e-10};
constexpr Tolerance kFloat{0, 1e-5};
constexpr Tolerance kFloatIwGrad{0, 1e-4};

/// Compares `got` with the fixture tensor `name`; prints one line, fails with
/// the worst element. Returns the largest error / allowed error.
template <class T>
double compare(const std::string& name, const T* got, std::size_t n, Tolerance tol, const std::string& label = "") {
  const FixtureTensor& ref = reference().get(name);
  if (n != ref.size()) {
    ADD_FAILURE() << "REFERENCE MISMATCH: tensor " << name << " has " << n << " values in the engine, "
                  << ref.size() << " in the fixture " << ref.shape_string();
    return INFINITY;
  }
  double scale = 0;
  for (float r : ref.data) scale = std::max(scale, std::fabs(double(r)));
  double worst = 0, max_abs = 0;
  std::size_t at = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double r = ref.data[i], g = double(got[i]), e = std::fabs(g - r);
    const double allowed = tol.rel_elem * std::fabs(r) + tol.rel_tensor * scale;
    const double ratio = std::isfinite(g) ? (allowed > 0 ? e / allowed : (e > 0 ? INFINITY : 0)) : INFINITY;
    max_abs = std::max(max_abs, e);
    if (ratio > worst || !std::isfinite(ratio)) {
      worst = ratio;
      at = i;
    }
  }
  const bool ok = worst <= 1;
  std::printf("[reference-conv] %-52s %-14s max abs %.2e  max rel %.2e  error/allowed %.2e %s\n",
              (name + label).c_str(),
              ref.shape_string().c_str(), max_abs, max_abs / std::max(scale, 1e-300), worst, ok ? "ok" : "MISMATCH");
  if (!ok)
    ADD_FAILURE() << "\n*** REFERENCE MISMATCH in tensor " << name << " " << ref.shape_string() << " ***\n"
                  << "    worst element " << at << ": engine " << double(got[at]) << ", reference " << ref.data[at]
                  << " (max |ref| " << scale << "), error / allowed = " << worst << "\n"
                  << "    The engine disagrees with the PyTorch reference. If the reference itself changed on "
                     "purpose, regenerate it with `"
                  << kRegenerate << "` and commit the fixture.";
  return worst;
}

template <class T>
double compare(const std::string& name, const std::vector<T>& got, Tolerance tol, const std::string& label = "") {
  return compare(name, got.data(), got.size(), tol, label);
}

/// Columns [c0, c0 + n) of a row-major view.
template <class T>
std::vector<T> columns(aevb::MatrixView<const T> v, std::size_t c0, std::size_t n) {
  std::vector<T> out;
  for (std::size_t r = 0; r < v.rows; ++r)
    for (std::size_t c = 0; c < n; ++c) out.push_back(v.row(r)[c0 + c]);
  return out;
}

template <class T>
std::vector<T> values(const FixtureTensor& t) {
  return std::vector<T>(t.data.begin(), t.data.end());
}

/// One fixture config: its shapes and the engine's ModelConfig.
struct ConvSetup {
  std::string cfg;
  std::size_t D = 0, Nz = 0, M = 0, L = 0;
  aevb::ModelConfig model;

  explicit ConvSetup(const std::string& name) : cfg(name) {
    const Fixture& f = reference();
    const FixtureTensor& dims = f.get(key("cfg.dims"), {6});
    D = std::size_t(dims.data[0]) * std::size_t(dims.data[1]) * std::size_t(dims.data[2]);
    Nz = std::size_t(dims.data[3]);
    M = std::size_t(dims.data[4]);
    L = std::size_t(dims.data[5]);
    std::string json;
    for (float c : f.get(key("cfg.json")).data) json += char(int(c));
    const std::string where = "fixture " + key("cfg.json");
    model = aevb::model_config_from_json(aevb::parse_json_strict(json, where), where, "model");
    aevb::validate(model);
  }
  std::string key(const std::string& rest) const { return cfg + "/" + rest; }

  /// The engine's parameters must be exactly the fixture's, by name and shape.
  template <class T>
  void load_parameters(aevb::Engine<T>& engine) const {
    const Fixture& f = reference();
    const std::string prefix = key("param/");
    std::set<std::string> fixture_names, engine_names;
    for (const FixtureTensor& t : f.tensors())
      if (t.name.rfind(prefix, 0) == 0) fixture_names.insert(t.name.substr(prefix.size()));
    for (const aevb::ParameterInfo& p : engine.layout().table()) engine_names.insert(p.name);
    for (const std::string& n : engine_names)
      EXPECT_TRUE(fixture_names.count(n)) << "engine parameter \"" << n << "\" is not in the fixture (" << cfg << ")";
    for (const std::string& n : fixture_names)
      EXPECT_TRUE(engine_names.count(n)) << "fixture parameter \"" << n << "\" is not in the engine (" << cfg << ")";
    ASSERT_EQ(engine_names, fixture_names);
    std::size_t total = 0;
    for (const aevb::ParameterInfo& p : engine.layout().table()) {
      const FixtureTensor& t = f.get(prefix + p.name, std::vector<std::uint64_t>(p.shape.begin(), p.shape.end()));
      std::copy(t.data.begin(), t.data.end(), engine.params() + p.offset);
      total += t.size();
    }
    ASSERT_EQ(total, engine.param_count());
  }
};

struct ObjectiveCase {
  const char* tag;
  aevb::Estimator estimator;
};
constexpr ObjectiveCase kObjectives[] = {{"B.beta1", aevb::Estimator::B}, {"iw", aevb::Estimator::iw}};

template <class T>
void check_pass(const std::string& cfg_name) {
  constexpr bool is_double = std::is_same_v<T, double>;
  const ConvSetup s(cfg_name);
  const Fixture& f = reference();
  aevb::Engine<T> engine(s.model);
  s.load_parameters(engine);
  if (testing::Test::HasFatalFailure()) return;
  engine.plan(s.M, s.L);
  const std::vector<T> x = values<T>(f.get(s.key("x"), {s.M, s.D}));
  const std::vector<T> eps = values<T>(f.get(s.key("eps"), {s.M * s.L, s.Nz}));
  const aevb::MatrixView<const T> xv{x.data(), s.M, s.D};
  const bool bernoulli = s.model.likelihood == aevb::Likelihood::bernoulli;
  const Tolerance tol = is_double ? kDouble : kFloat;
  double worst = 0;
  auto check = [&](const std::string& rest, const std::vector<T>& got, Tolerance t, const std::string& label = "") {
    worst = std::max(worst, compare(s.key(rest), got, t, label));
  };

  for (const ObjectiveCase& oc : kObjectives) {
    const std::string tag = oc.tag;
    aevb::ObjectiveConfig objective{oc.estimator, s.L, 1.0f};
    engine.zero_grad();
    const aevb::Bound b = engine.forward_backward(xv, eps.data(), objective);
    if (tag == "B.beta1") {  // the forward intermediates, the same for both objectives
      const auto enc = engine.encoder_output();
      ASSERT_EQ(enc.rows, s.M);
      ASSERT_EQ(enc.cols, 2 * s.Nz) << "encoder_output() should be [M, 2 Nz]: mu | logvar";
      check("mu", columns(enc, 0, s.Nz), tol);
      check("logvar", columns(enc, s.Nz, s.Nz), tol);
      const auto z = engine.z();
      ASSERT_EQ(z.rows, s.M * s.L);
      check("z", columns(z, 0, s.Nz), tol);
      const auto dec = engine.decoder_output();
      ASSERT_EQ(dec.rows, s.M * s.L);
      if (bernoulli) {
        ASSERT_EQ(dec.cols, s.D) << "decoder_output() should be [M L, D] logits";
        check("logits", columns(dec, 0, s.D), tol);
      } else {
        ASSERT_EQ(dec.cols, 2 * s.D) << "decoder_output() should be [M L, 2D]: mean pre-activation | logvar";
        check("mean_pre", columns(dec, 0, s.D), tol);
        check("dec_logvar", columns(dec, s.D, s.D), tol);
      }
    }
    check(tag + "/reconstruction", {T(b.reconstruction)}, tol);
    check(tag + "/kl", {T(b.kl)}, tol);
    check(tag + "/bound", {T(b.bound)}, tol);
    const Tolerance grad_tol = is_double ? kDouble : (tag == "iw" ? kFloatIwGrad : kFloat);
    for (const aevb::ParameterInfo& p : engine.layout().table())
      worst = std::max(worst, compare(s.key(tag + "/grad/" + p.name), engine.grads() + p.offset, p.size(), grad_tol));
  }

  // The inference entry points on the same inputs.
  std::vector<T> log_w(s.M * s.L);
  engine.log_weights(xv, eps.data(), s.L, log_w.data());
  check("log_w", log_w, tol, " (log_weights)");
  std::vector<T> mu(s.M * s.Nz), logvar(s.M * s.Nz);
  engine.encode(xv, {mu.data(), s.M, s.Nz}, {logvar.data(), s.M, s.Nz});
  check("mu", mu, tol, " (encode)");
  check("logvar", logvar, tol, " (encode)");
  // decode_mean from the stored z: rounded to float32, it is not the exact z,
  // and its rounding (2^-24 relative) reaches the output through the network
  // scaled by at most its Lipschitz constant, O(1) here: within the float
  // tolerance, not the double one, which checks z itself above.
  const std::vector<T> z = values<T>(f.get(s.key("z")));
  std::vector<T> mean(s.M * s.L * s.D);
  engine.decode_mean({z.data(), s.M * s.L, s.Nz}, {mean.data(), s.M * s.L, s.D});
  check(bernoulli ? "probs" : "mean", mean, kFloat, " (decode_mean)");
  std::printf("[reference-conv] %s, Engine<%s>: worst error / allowed %.2e\n", cfg_name.c_str(),
              is_double ? "double" : "float", worst);
}

TEST(ReferenceConv, GaussianDouble) { check_pass<double>("gaussian"); }
TEST(ReferenceConv, BernoulliMirroredDouble) { check_pass<double>("bernoulli"); }
TEST(ReferenceConv, GaussianFloat) { check_pass<float>("gaussian"); }
TEST(ReferenceConv, BernoulliMirroredFloat) { check_pass<float>("bernoulli"); }

// The fixture holds what the tests above read, for both configs.
TEST(ReferenceConv, FixtureHasBothConfigs) {
  for (const char* cfg : {"gaussian", "bernoulli"}) {
    const ConvSetup s(cfg);
    EXPECT_FALSE(s.model.encoder.empty()) << cfg;
    EXPECT_TRUE(reference().has(s.key("iw/grad/encoder.0.weight"))) << cfg;
  }
  EXPECT_TRUE(ConvSetup("bernoulli").model.decoder.empty()) << "the bernoulli config tests the mirrored decoder";
}

}  // namespace
