// The vq family against the independent PyTorch float64 reference
// (tools/make_vq_reference.py, which writes tests/fixtures/reference_vq_v1.bin;
// this test needs no Python): one VQ step of a 7-value MLP model with a
// 3-position grid of 2-value codes from a codebook of 4, 6 datapoints, for a
// codebook learned by gradient and one by moving averages. The engine is
// built from the fixture's config JSON and its parameters copied by name.
// Compared: the codes, z_q, the bound and its terms, the codebook term's
// value (aevb's squared error per datapoint, what eval reports), every
// trained tensor's gradient (straight-through to the encoder, the commitment
// term, the codebook term for the gradient codebook) and, for the moving
// averages, the counts, sums and codebook after the step's update.
//
// Tolerances as reference_two_layer_test.cpp argues them: the inputs are
// float32 values, exact in double; the stored results are the float64
// reference rounded to float32 (2^-24 of themselves) and the networks sum a
// handful of terms, so Engine<double> is held to 2^-24 relative plus 1e-10
// of a tensor's scale; Engine<float> to 1e-5 of a tensor's scale.
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
  static const Fixture f = Fixture::load(std::string(AEVB_SOURCE_DIR) + "/tests/fixtures/reference_vq_v1.bin");
  return f;
}

template <class T>
void expect_close(const std::string& name, const T* got, std::size_t n, double rel_elem, double rel_tensor) {
  aevb::test::expect_close_to_fixture(reference(), name, got, n, rel_elem, rel_tensor, "reference-vq", "tools/make_vq_reference.py");
}

template <class T>
void check_against_reference(const std::string& tag, double rel_elem, double rel_tensor) {
  const Fixture& f = reference();
  std::string json;
  for (float c : f.get(tag + "/cfg.json").data) json += char(int(c));
  const aevb::ModelConfig model =
      aevb::model_config_from_json(aevb::parse_json_strict(json, "fixture"), "fixture", "model");
  aevb::Engine<T> engine(model);
  std::set<std::string> engine_names, fixture_names;
  for (const aevb::ParameterInfo& p : engine.layout().table()) engine_names.insert(p.name);
  const std::string prefix = tag + "/param/";
  for (const FixtureTensor& t : f.tensors())
    if (t.name.rfind(prefix, 0) == 0) fixture_names.insert(t.name.substr(prefix.size()));
  ASSERT_EQ(engine_names, fixture_names);
  for (const aevb::ParameterInfo& p : engine.layout().table()) {
    const FixtureTensor& t = f.get(prefix + p.name, std::vector<std::uint64_t>(p.shape.begin(), p.shape.end()));
    std::copy(t.data.begin(), t.data.end(), engine.params() + p.offset);
  }
  const FixtureTensor& xs = f.get("x");
  const std::size_t m = xs.shape[0], d = xs.shape[1], positions = model.latent / model.codebook.dim;
  const std::vector<T> x(xs.data.begin(), xs.data.end());

  std::vector<std::uint32_t> codes(m * positions);
  std::vector<T> squared_error(m);
  engine.quantize({x.data(), m, d}, codes.data(), squared_error.data());
  const FixtureTensor& want = f.get(tag + "/codes", {m, positions});
  for (std::size_t i = 0; i < codes.size(); ++i) EXPECT_EQ(double(codes[i]), want.data[i]) << tag << " code " << i;
  T codebook_term = 0;
  for (T s : squared_error) codebook_term += s / T(m);
  expect_close(tag + "/codebook_term", &codebook_term, 1, rel_elem, rel_tensor);

  engine.begin_update();
  const aevb::Bound bound =
      engine.forward_backward({x.data(), m, d}, nullptr, {aevb::Estimator::B, 1, 1.0f}, aevb::GradMode::overwrite);
  expect_close(tag + "/z_q", engine.z().data, engine.z().size(), rel_elem, rel_tensor);
  expect_close(tag + "/bound", &bound.bound, 1, rel_elem, rel_tensor);
  expect_close(tag + "/reconstruction", &bound.reconstruction, 1, rel_elem, rel_tensor);
  expect_close(tag + "/kl", &bound.kl, 1, rel_elem, rel_tensor);
  std::size_t compared = 0;
  for (const aevb::ParameterInfo& p : engine.layout().table()) {
    if (!f.has(tag + "/grad/" + p.name)) continue;  // not trained by gradient
    expect_close(tag + "/grad/" + p.name, engine.grads() + p.offset, p.size(), rel_elem, rel_tensor);
    ++compared;
  }
  EXPECT_EQ(compared, tag == "ema" ? 8u : 9u) << "trained tensors compared (the codebook by gradient only)";
  if (tag != "ema") return;
  engine.end_update(1, 1);
  for (const char* name : {"latent.code_usage", "latent.code_sums", "latent.codebook"})
    expect_close("ema/after/" + std::string(name), engine.params() + engine.layout().find(name).offset,
                 engine.layout().find(name).size(), rel_elem, rel_tensor);
}

TEST(ReferenceVq, DoubleEngineMatchesPyTorch) {
  for (const char* tag : {"gradient", "ema"}) check_against_reference<double>(tag, 0x1p-24 * (1 + 0x1p-20), 1e-10);
}

TEST(ReferenceVq, FloatEngineMatchesPyTorch) {
  for (const char* tag : {"gradient", "ema"}) check_against_reference<float>(tag, 0, 1e-5);
}

}  // namespace
