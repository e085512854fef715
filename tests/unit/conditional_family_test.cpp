// The conditional VAE (the cvae family) against its networks written out
// here from the model's own tensors: q(z|x, y) reads [x | one-hot y], p(x|z, y)
// reads [z | one-hot y]. The bound, the HMC target and the public decode,
// the gathering of labelled rows, the refusals, and a short training on
// MNIST whose samples of each class look like that class.
#include <aevb/data.hpp>
#include <aevb/vae.hpp>

#include "core/rng.hpp"
#include "model/engine.hpp"
#include "support/gradcheck.hpp"
#include "support/written_out_dense.hpp"
#include "train/epoch_runner.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numbers>
#include <string>
#include <vector>

namespace aevb {
namespace {

constexpr std::size_t kInput = 6, kLatent = 3, kClasses = 4, kRows = 5, kWidth = kInput + kClasses;

ModelConfig small_conditional_model() {
  ModelConfig c;
  c.family = "cvae";
  c.input_dim = kInput;
  c.hidden = {5};
  c.latent = kLatent;
  c.classes = kClasses;
  c.activation = Activation::tanh;
  c.likelihood = Likelihood::bernoulli;
  return c;
}

std::vector<double> one_hot_after(std::vector<double> v, std::size_t y) {
  for (std::size_t c = 0; c < kClasses; ++c) v.push_back(c == y ? 1.0 : 0.0);
  return v;
}

// p(x|z, y)'s Bernoulli logits: tanh hidden layer on [z | one-hot y].
template <class T>
std::vector<double> decoder_logits(const ParamLayout& layout, const T* params, const std::vector<double>& z,
                                   std::size_t y) {
  std::vector<double> h = testing::written_out_dense(layout, params, "decoder.0", one_hot_after(z, y));
  for (double& v : h) v = std::tanh(v);
  return testing::written_out_dense(layout, params, "decoder.logits", h);
}

double bernoulli_log_likelihood(const std::vector<double>& x, const std::vector<double>& logits) {
  double v = 0;
  for (std::size_t i = 0; i < x.size(); ++i) v += x[i] * logits[i] - std::log1p(std::exp(logits[i]));
  return v;
}

struct Fixture {
  Engine<double> engine{small_conditional_model()};
  std::vector<double> rows, eps;  // rows: [x | one-hot label], label r mod K
  Fixture() {
    testing::randomize_parameters(engine, 3);
    std::vector<float> u(kRows * kInput);
    fill_uniform(u.data(), u.size(), 2, 0);
    for (std::size_t r = 0; r < kRows; ++r) {
      std::vector<double> x(kInput);
      for (std::size_t i = 0; i < kInput; ++i) x[i] = u[r * kInput + i] < 0.5f ? 0.0 : 1.0;
      const std::vector<double> row = one_hot_after(x, label(r));
      rows.insert(rows.end(), row.begin(), row.end());
    }
    eps.resize(kRows * kLatent);
    fill_normal(eps.data(), eps.size(), 4, 0);
  }
  static std::size_t label(std::size_t r) { return r % kClasses; }
  std::vector<double> x_of(std::size_t r) const {
    return {rows.begin() + std::ptrdiff_t(r * kWidth), rows.begin() + std::ptrdiff_t(r * kWidth + kInput)};
  }
  std::vector<double> row_of(std::size_t r) const {
    return {rows.begin() + std::ptrdiff_t(r * kWidth), rows.begin() + std::ptrdiff_t((r + 1) * kWidth)};
  }
  const double* params() const { return engine.params(); }
};

// log p(x|z, y) + log N(z; 0, I) - KL: estimator B with q(z|x, y) = N(mu, sigma^2)
// on [x | y], one reparameterized z (eq. 7; the KL analytic, App. B).
TEST(ConditionalFamily, TheBoundReadsTheLabelInBothNetworks) {
  Fixture f;
  const ParamLayout& layout = f.engine.layout();
  double recon = 0, kl = 0;
  for (std::size_t r = 0; r < kRows; ++r) {
    std::vector<double> h = testing::written_out_dense(layout, f.params(), "encoder.0", f.row_of(r));
    for (double& v : h) v = std::tanh(v);
    const std::vector<double> mu = testing::written_out_dense(layout, f.params(), "encoder.mu", h);
    const std::vector<double> logvar = testing::written_out_dense(layout, f.params(), "encoder.logvar", h);
    std::vector<double> z(kLatent);
    for (std::size_t j = 0; j < kLatent; ++j) {
      z[j] = mu[j] + std::exp(0.5 * logvar[j]) * f.eps[r * kLatent + j];
      kl -= 0.5 * (1 + logvar[j] - mu[j] * mu[j] - std::exp(logvar[j]));
    }
    recon += bernoulli_log_likelihood(f.x_of(r), decoder_logits(layout, f.params(), z, Fixture::label(r)));
  }
  const Bound b = f.engine.forward({f.rows.data(), kRows, kWidth}, f.eps.data(), {Estimator::B, 1, 1.0f});
  EXPECT_NEAR(b.reconstruction, recon / kRows, 1e-12);
  EXPECT_NEAR(b.kl, kl / kRows, 1e-12);
  EXPECT_NEAR(b.bound, (recon - kl) / kRows, 1e-12);
}

// The HMC target log p(x, z | y) at given z (App. D's sampler) takes each
// datapoint's label from its row, for every sample of it, and its gradient
// in z matches finite differences.
TEST(ConditionalFamily, TheJointAtGivenZReadsEachRowsLabel) {
  Fixture f;
  constexpr std::size_t kSamples = 2;
  std::vector<double> z(kRows * kSamples * kLatent);
  fill_normal(z.data(), z.size(), 9, 0);
  std::vector<double> log_joint(kRows * kSamples), dz(z.size());
  f.engine.log_joint_grad({f.rows.data(), kRows, kWidth}, {z.data(), kRows * kSamples, kLatent}, kSamples,
                          log_joint.data(), {dz.data(), kRows * kSamples, kLatent});
  for (std::size_t n = 0; n < kRows * kSamples; ++n) {
    const std::size_t r = n / kSamples;
    const std::vector<double> zn(z.begin() + std::ptrdiff_t(n * kLatent),
                                 z.begin() + std::ptrdiff_t((n + 1) * kLatent));
    double prior = 0;
    for (double v : zn) prior -= 0.5 * (std::log(2 * std::numbers::pi) + v * v);
    const double want =
        bernoulli_log_likelihood(f.x_of(r), decoder_logits(f.engine.layout(), f.params(), zn, Fixture::label(r)));
    EXPECT_NEAR(log_joint[n], want + prior, 1e-12) << "draw " << n;
  }
  const auto value = [&] {
    std::vector<double> v(kRows * kSamples);
    f.engine.log_joint_grad({f.rows.data(), kRows, kWidth}, {z.data(), kRows * kSamples, kLatent}, kSamples,
                            v.data(), {});
    double sum = 0;
    for (double x : v) sum += x;
    return sum;
  };
  testing::expect_gradient(value, z.data(), z.size(), dz.data(), "d log p(x, z | y) / dz");
}

TEST(ConditionalFamily, DecodeClassIsTheDecoderGivenThatClass) {
  const Vae model(small_conditional_model(), 5);
  ASSERT_EQ(model.classes(), kClasses);
  std::vector<float> z(3 * kLatent);
  fill_normal(z.data(), z.size(), 6, 0);
  ParamLayout layout;
  for (const ParameterInfo& p : model.parameter_table()) layout.add(p.name, p.shape);
  for (std::size_t y = 0; y < kClasses; ++y) {
    std::vector<float> mean(3 * kInput);
    model.decode_class({z.data(), 3, kLatent}, y, {mean.data(), 3, kInput});
    for (std::size_t r = 0; r < 3; ++r) {
      const std::vector<double> zr(z.begin() + std::ptrdiff_t(r * kLatent),
                                   z.begin() + std::ptrdiff_t((r + 1) * kLatent));
      const std::vector<double> logits = decoder_logits(layout, model.parameters().data(), zr, y);
      for (std::size_t i = 0; i < kInput; ++i)
        EXPECT_NEAR(mean[r * kInput + i], 1 / (1 + std::exp(-logits[i])), 1e-6) << "class " << y << " row " << r;
    }
  }
}

TEST(ConditionalFamily, CallsWithoutTheLabelAreRefusedWithOneLine) {
  const Vae model(small_conditional_model(), 5);
  std::vector<float> z(kLatent), out(kInput);
  const auto message = [](auto&& call) {
    try {
      call();
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message([&] { model.decode({z.data(), 1, kLatent}, {out.data(), 1, kInput}); }),
            "decode: the cvae model is conditioned on a label y of 4 classes; give it with decode_class");
  EXPECT_EQ(message([&] { model.sample(1, {out.data(), 1, kInput}); }),
            "sample: the cvae model is conditioned on a label y of 4 classes; give it with sample_class");
  EXPECT_EQ(message([&] { model.sample_class(4, 1, {out.data(), 1, kInput}); }),
            "sample a class: class 4 of a model with 4 (0 to 3)");
  std::vector<float> x(kInput), mu(kLatent), logvar(kLatent);
  const auto encode = [&] {
    model.encode({x.data(), 1, kInput}, {mu.data(), 1, kLatent}, {logvar.data(), 1, kLatent});
  };
  EXPECT_EQ(message(encode), "encode input: expected 10 columns, found 6");
  ModelConfig vae = small_conditional_model();
  vae.family = "vae";
  vae.classes = 0;
  EXPECT_EQ(message([&] { Vae(vae).sample_class(0, 1, {out.data(), 1, kInput}); }),
            "sample a class: the vae family is not conditioned on a label (--family cvae is)");
}

// Wake-sleep's sleep phase dreams x without a label: refused with one line at the first step.
TEST(ConditionalFamily, TheSleepPhaseIsRefused) {
  Vae model(small_conditional_model(), 5);
  TrainConfig t;
  t.algorithm = "wake-sleep";
  t.batch = kRows;
  Trainer trainer(model, t);
  std::vector<float> rows(kRows * kWidth, 0.0f);
  for (std::size_t r = 0; r < kRows; ++r) rows[r * kWidth + kInput + Fixture::label(r)] = 1.0f;
  try {
    trainer.step({rows.data(), kRows, kWidth});
    ADD_FAILURE() << "the sleep phase ran";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "the sleep phase dreams x from p(z) p(x|z), and the cvae model is conditioned on a label "
                           "the dreams do not have: train it with --algorithm aevb");
  }
}

Dataset labelled_rows() {
  Dataset d;
  d.count = 3;
  d.dim = 2;
  d.bytes = {0, 255, 128, 64, 255, 0};
  d.labels = {2, 0, 1};
  d.source = "three rows";
  return d;
}

// The label is appended one-hot after the values, never binarized, and the
// values are the plain rows' to the bit (the same binarization stream).
TEST(LabelColumns, GatheredRowsEndWithTheOneHotLabel) {
  const Dataset d = labelled_rows();
  const std::vector<std::uint32_t> order = {2, 0, 1};
  for (const Binarize mode : {Binarize::none, Binarize::dynamic}) {
    std::vector<float> plain(3 * 2), labelled(3 * 5);
    gather_batch(d, order, mode, 7, 3, plain.data());
    gather_batch(with_label_columns(d, 3), order, mode, 7, 3, labelled.data());
    for (std::size_t r = 0; r < 3; ++r) {
      for (std::size_t p = 0; p < 2; ++p) EXPECT_EQ(labelled[r * 5 + p], plain[r * 2 + p]);
      for (std::size_t c = 0; c < 3; ++c)
        EXPECT_EQ(labelled[r * 5 + 2 + c], std::size_t(d.labels[order[r]]) == c ? 1.0f : 0.0f) << r << " " << c;
    }
  }
  EXPECT_EQ(label_classes(d), 3u);
  EXPECT_EQ(with_label_columns(d, 0).row_width(), 2u);
}

TEST(LabelColumns, MissingOrOutOfRangeLabelsGetOneLine) {
  Dataset d = labelled_rows();
  try {
    with_label_columns(d, 2);
    ADD_FAILURE() << "label 2 of 2 classes was accepted";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "three rows: the model is conditioned on 2 classes, labels 0 to 1, and datapoint 0 has "
                           "label 2");
  }
  d.labels.clear();
  try {
    with_label_columns(d, 3);
    ADD_FAILURE() << "data without labels was accepted";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "three rows: a conditional model needs each datapoint's label, and this data has none "
                           "(IDX label files beside the images, a label column for CSV; docs/data.md)");
  }
  EXPECT_THROW(label_classes(d), InputError);
}

// Trained briefly on MNIST, the samples of class y are nearer the mean image
// of the training set's y than of any other class for most draws, where a
// decoder that ignored the label would score 1 in 10.
TEST(ConditionalFamily, SamplesOfEachClassLookLikeThatClass) {
  const std::vector<std::filesystem::path> extra = {std::filesystem::path(AEVB_SOURCE_DIR) / ".." / "shared" / "data"};
  Dataset train;
  try {
    train = first_rows(resolve_dataset("mnist", Split::train, extra), 20000);
  } catch (const InputError& e) {
    GTEST_SKIP() << "MNIST not found: " << e.what();
  }
  ModelConfig c;
  c.family = "cvae";
  c.input_dim = train.dim;
  c.hidden = {256};
  c.latent = 2;
  c.classes = 10;
  c.activation = Activation::relu;
  c.init = Init::he;
  TrainConfig t;
  t.batch = 100;
  t.optimizer.kind = OptimizerKind::adam;
  t.optimizer.lr = 1e-3f;
  t.datapoints = train.count;
  Vae model(c, 1);
  Trainer trainer(model, t);
  EpochRunner runner(trainer, with_label_columns(train, 10), Binarize::dynamic, 1);
  for (std::uint64_t epoch = 0; epoch < 3; ++epoch) runner.run(epoch, {});

  std::vector<double> means(10 * train.dim, 0.0);
  std::vector<double> counts(10, 0.0);
  for (std::size_t i = 0; i < train.count; ++i) {
    const auto y = std::size_t(train.labels[i]);
    counts[y] += 1;
    for (std::size_t p = 0; p < train.dim; ++p) means[y * train.dim + p] += train.value(i, p);
  }
  for (std::size_t y = 0; y < 10; ++y)
    for (std::size_t p = 0; p < train.dim; ++p) means[y * train.dim + p] /= counts[y];
  constexpr std::size_t kDraws = 100;
  std::size_t nearest_own = 0;
  std::vector<float> x(kDraws * train.dim);
  for (std::size_t y = 0; y < 10; ++y) {
    model.sample_class(y, 2, {x.data(), kDraws, train.dim});
    for (std::size_t s = 0; s < kDraws; ++s) {
      std::vector<double> distance(10, 0.0);
      for (std::size_t k = 0; k < 10; ++k)
        for (std::size_t p = 0; p < train.dim; ++p)
          distance[k] += std::pow(double(x[s * train.dim + p]) - means[k * train.dim + p], 2);
      nearest_own += std::size_t(std::min_element(distance.begin(), distance.end()) - distance.begin()) == y;
    }
  }
  const double fraction = double(nearest_own) / double(10 * kDraws);
  std::printf("samples nearest their own class's mean: %.3f\n", fraction);
  // Chance is 0.1 with a standard error of 0.0095 over 1000 draws: 0.5 is 40 of them above it.
  EXPECT_GT(fraction, 0.5);
}

}  // namespace
}  // namespace aevb
