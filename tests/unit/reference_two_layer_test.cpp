// The two-stochastic-layer family (vae-2layer) against the independent
// PyTorch float64 reference (tools/make_two_layer_reference.py, which writes
// tests/fixtures/reference_two_layer_v1.bin; this test needs no Python): a
// 12-pixel Bernoulli model, encoder 8-6 to z1 (5), q(z2|z1) through 4-3 to z2
// (3), p(z1|z2) through the mirror 3-4, 4 datapoints with 3 samples each.
// The engine is built from the fixture's own config JSON and its parameters
// are copied by name (names and shapes must be exactly the fixture's). Per
// objective (B, whose KL is the Monte Carlo mean for this family, and the
// importance-weighted bound) the bound, its terms, z1, log w and every
// parameter gradient are compared.
//
// Engine<double>: the inputs are float32 values, exact in double, so the
// engine computes the reference's numbers up to double rounding; the stored
// values are that reference rounded to float32 (2^-24 of themselves), and
// 1e-10 of a tensor's scale leaves room for different summation orders (the
// networks sum at most a dozen terms). A real mistake (a term missing, a
// mirror the wrong way round, eps1 and eps2 swapped) is O(1e-2..1).
// Engine<float>: 1e-5 of a tensor's scale, as in reference_test.cpp.
#include "io/config_json.hpp"
#include "model/engine.hpp"
#include "support/fixture.hpp"
#include "support/fixture_compare.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

namespace {

using aevb::test::Fixture;
using aevb::test::FixtureTensor;

const Fixture& reference() {
  static const Fixture f = Fixture::load(std::string(AEVB_SOURCE_DIR) + "/tests/fixtures/reference_two_layer_v1.bin");
  return f;
}

template <class T>
void expect_close(const std::string& name, const T* got, std::size_t n, double rel_elem, double rel_tensor) {
  aevb::test::expect_close_to_fixture(reference(), name, got, n, rel_elem, rel_tensor, "reference-2layer", "tools/make_two_layer_reference.py");
}

template <class T>
void check_against_reference(double rel_elem, double rel_tensor) {
  const Fixture& f = reference();
  std::string json;
  for (float c : f.get("cfg.json").data) json += char(int(c));
  const aevb::ModelConfig model = aevb::model_config_from_json(aevb::parse_json_strict(json, "fixture"), "fixture",
                                                               "model");
  const FixtureTensor& dims = f.get("cfg.dims", {5});
  const std::size_t d = std::size_t(dims.data[0]), m = std::size_t(dims.data[3]), l = std::size_t(dims.data[4]);
  aevb::Engine<T> engine(model);
  ASSERT_EQ(engine.noise_dim(), std::size_t(dims.data[1] + dims.data[2]));
  std::set<std::string> engine_names, fixture_names;
  for (const aevb::ParameterInfo& p : engine.layout().table()) engine_names.insert(p.name);
  for (const FixtureTensor& t : f.tensors())
    if (t.name.rfind("param/", 0) == 0) fixture_names.insert(t.name.substr(6));
  ASSERT_EQ(engine_names, fixture_names);
  for (const aevb::ParameterInfo& p : engine.layout().table()) {
    const FixtureTensor& t = f.get("param/" + p.name, std::vector<std::uint64_t>(p.shape.begin(), p.shape.end()));
    std::copy(t.data.begin(), t.data.end(), engine.params() + p.offset);
  }
  const std::vector<T> x(f.get("x", {m, d}).data.begin(), f.get("x").data.end());
  const std::vector<T> eps(f.get("eps").data.begin(), f.get("eps").data.end());
  ASSERT_EQ(eps.size(), m * l * engine.noise_dim());

  for (const auto& [tag, estimator] : {std::pair{"B", aevb::Estimator::B}, std::pair{"iw", aevb::Estimator::iw}}) {
    const aevb::Bound bound = engine.forward_backward({x.data(), m, d}, eps.data(), {estimator, l, 1.0f},
                                                      aevb::GradMode::overwrite);
    expect_close(std::string(tag) + "/bound", &bound.bound, 1, rel_elem, rel_tensor);
    if (estimator == aevb::Estimator::B) {
      expect_close("B/reconstruction", &bound.reconstruction, 1, rel_elem, rel_tensor);
      expect_close("B/kl", &bound.kl, 1, rel_elem, rel_tensor);
      expect_close("z1", engine.z().data, engine.z().size(), rel_elem, rel_tensor);
      std::vector<T> log_w(m * l);
      engine.log_weights({x.data(), m, d}, eps.data(), l, log_w.data());
      expect_close("log_w", log_w.data(), log_w.size(), rel_elem, rel_tensor);
    }
    for (const aevb::ParameterInfo& p : engine.layout().table())
      expect_close(std::string(tag) + "/grad/" + p.name, engine.grads() + p.offset, p.size(), rel_elem, rel_tensor);
  }
}

TEST(ReferenceTwoLayer, DoubleEngineMatchesPyTorch) { check_against_reference<double>(0x1p-24 * (1 + 0x1p-20), 1e-10); }

TEST(ReferenceTwoLayer, FloatEngineMatchesPyTorch) { check_against_reference<float>(0, 1e-5); }

}  // namespace
