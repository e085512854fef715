// End-to-end tests of the commands that use a trained model (info, sample,
// reconstruct, manifold, interpolate, encode, decode, eval --regularity): the built CLI runs on a
// small model written with the library and on real MNIST slices, and its
// outputs are checked against the library computing the same thing. Every
// error path: exit code 2, one line on stderr, no output file left behind.
#include "support/cli_runner.hpp"
#include "support/float_compare.hpp"

#include "eval/evaluation.hpp"
#include "eval/latent_grid.hpp"
#include "eval/latent_regularity.hpp"
#include "io/config_json.hpp"
#include "io/model_file.hpp"
#include "model/architecture.hpp"
#include "train/epoch_runner.hpp"
#include "viz/image_grid.hpp"
#include "viz/png.hpp"

#include <aevb/data.hpp>
#include <aevb/vae.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace aevb {
namespace {

namespace fs = std::filesystem;
using test::concat;
using test::CliResult;

constexpr int kSide = 28;
constexpr std::size_t kDim = 784;

class CliUse : public ::testing::Test {
 protected:
  static inline fs::path dir;
  static inline std::string model2, model3;  // latent 2 and latent 3, both 784 -> 32 -> z, 28x28 images
  static inline std::string cluster_model;   // the cluster family, 784 -> 32 -> z (4), 5 clusters
  static inline std::string conditional_model;  // the cvae family, [784 | 10] -> 32 -> z (3), 10 classes

  static void SetUpTestSuite() {
    if (test::cli_path().empty()) return;
    dir = fs::temp_directory_path() / ("aevb_cli_use_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    for (std::size_t latent : {2, 3}) {
      ModelConfig c;
      c.input_dim = kDim;
      c.hidden = {32};
      c.latent = latent;
      c.init = Init::glorot;  // outputs that vary from one input to the next
      c.image_height = c.image_width = kSide;
      const Vae model(c, 7 + latent);
      const fs::path path = dir / ("model" + std::to_string(latent) + ".safetensors");
      save_model(path, model, {{"note", "cli test"}, {"binarize", "none"}});
      (latent == 2 ? model2 : model3) = path.string();
    }
    ModelConfig c;
    c.family = "cluster";
    c.input_dim = kDim;
    c.hidden = {32};
    c.latent = 4;
    c.clusters = 5;
    c.classifier_hidden = {8};
    c.init = Init::glorot;
    c.image_height = c.image_width = kSide;
    cluster_model = path("cluster.safetensors");
    save_model(cluster_model, Vae(c, 5), {{"binarize", "none"}});
    ModelConfig cv;
    cv.family = "cvae";
    cv.input_dim = kDim;
    cv.hidden = {32};
    cv.latent = 3;
    cv.classes = 10;
    cv.init = Init::glorot;
    cv.image_height = cv.image_width = kSide;
    conditional_model = path("cvae.safetensors");
    save_model(conditional_model, Vae(cv, 6), {{"binarize", "none"}});
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    if (!dir.empty()) fs::remove_all(dir, ec);
  }
  void SetUp() override {
    if (test::cli_path().empty()) GTEST_SKIP() << "this build has no aevb CLI";
  }

  static CliResult run(const std::vector<std::string>& args) {
    return test::run_cli(test::cli_path(), args, dir, {{"AEVB_DATA_DIR", AEVB_SOURCE_DIR "/../shared/data"}});
  }
  static std::string path(const std::string& name) { return (dir / name).string(); }

  // The first n MNIST test images as the CLI sees them (no binarization).
  static std::vector<float> mnist_rows(std::size_t n) {
    const fs::path data_dir = AEVB_SOURCE_DIR "/../shared/data";
    const Dataset d = first_rows(resolve_dataset("mnist", Split::test, {&data_dir, 1}), n);
    return gather_all(d, Binarize::none, 1, 0);
  }
};

#define EXPECT_OK(r) \
  EXPECT_EQ((r).exit_code, 0) << "stdout: " << (r).out << "\nstderr: " << (r).err

viz::Image8 read_png(const std::string& p) {
  return viz::decode_png(test::read_text_file(p));
}

// The values of an NPY file and the shape its header declares.
std::vector<float> read_npy_floats(const std::string& p, std::string* shape) {
  const std::string bytes = test::read_text_file(p);
  const auto at = bytes.find("'shape': (");
  const auto end = bytes.find(')', at);
  if (at == std::string::npos || end == std::string::npos) return {};
  *shape = bytes.substr(at + 10, end - at - 10);
  const Table t = read_table(p);
  return t.values;
}

void expect_same_image(const viz::Image8& got, const viz::Image8& want, int tolerance) {
  ASSERT_EQ(got.width, want.width);
  ASSERT_EQ(got.height, want.height);
  ASSERT_EQ(got.channels, want.channels);
  int worst = 0;
  for (std::size_t k = 0; k < got.pixels.size(); ++k) worst = std::max(worst, std::abs(int(got.pixels[k]) - int(want.pixels[k])));
  EXPECT_LE(worst, tolerance) << "largest pixel difference";
}

TEST_F(CliUse, InfoListsConfigTensorsAndMetadata) {
  const ModelFileInfo info = inspect_model(model2);
  const CliResult r = run({"info", model2});
  EXPECT_OK(r);
  for (const ParameterInfo& t : parameter_table(info.config)) {
    std::string shape = "[";
    for (std::size_t i = 0; i < t.shape.size(); ++i) shape += (i ? ", " : "") + std::to_string(t.shape[i]);
    shape += "]";
    EXPECT_NE(r.out.find(t.name + " "), std::string::npos) << t.name;
    EXPECT_NE(r.out.find(shape), std::string::npos) << shape;
  }
  EXPECT_NE(r.out.find("aevb-vae"), std::string::npos);
  EXPECT_NE(r.out.find(std::to_string(info.parameter_count)), std::string::npos);
  EXPECT_NE(r.out.find("cli test"), std::string::npos);
  const nlohmann::json config = to_json(info.config);
  for (auto it = config.begin(); it != config.end(); ++it)
    EXPECT_NE(r.out.find(it.key()), std::string::npos) << it.key();

  const CliResult rj = run({"info", model2, "--json"});
  EXPECT_OK(rj);
  const nlohmann::json j = nlohmann::json::parse(rj.out);
  EXPECT_EQ(j["format"], "aevb-vae");
  EXPECT_EQ(j["config"], to_json(info.config));
  EXPECT_EQ(j["parameter_count"], info.parameter_count);
  EXPECT_EQ(j["metadata"]["note"], "cli test");
  const std::vector<ParameterInfo> table = parameter_table(info.config);
  ASSERT_EQ(j["tensors"].size(), table.size());
  for (std::size_t k = 0; k < table.size(); ++k) {
    EXPECT_EQ(j["tensors"][k]["name"], table[k].name);
    EXPECT_EQ(j["tensors"][k]["shape"].get<std::vector<std::size_t>>(), table[k].shape);
  }
}

TEST_F(CliUse, SampleDrawsThePriorDecodedAsAGrid) {
  const std::string out = path("sample.png");
  const CliResult r = run({"sample", "--model", model2, "--count", "12", "--columns", "4", "--seed", "5", "--out", out});
  EXPECT_OK(r);
  const viz::Image8 got = read_png(out);
  EXPECT_EQ(got.width, 4 * (kSide + 1) + 1);
  EXPECT_EQ(got.height, 3 * (kSide + 1) + 1);
  // The same as the library's prior samples with that seed.
  const Vae model = load_model(model2);
  std::vector<float> x(12 * kDim);
  model.sample(5, {x.data(), 12, kDim});
  viz::GridStyle style;
  style.columns = 4;
  expect_same_image(got, viz::sample_grid({x.data(), 12, kDim}, kSide, kSide, 1, style), 1);

  const CliResult r2 = run({"sample", "--model", model2, "--count", "3", "--scale", "2", "--out", path("sample2.png")});
  EXPECT_OK(r2);
  const viz::Image8 big = read_png(path("sample2.png"));
  EXPECT_EQ(big.width, 2 * (2 * (kSide + 1) + 1));  // 3 samples: 2 columns, 2 rows
  EXPECT_EQ(big.height, 2 * (2 * (kSide + 1) + 1));
}

// A model with clusters: row y of the grid is the library's draws z ~ p(z|y)
// of cluster y, and the rows differ (each cluster its own mean and noise).
TEST_F(CliUse, SampleOfAModelWithClustersDrawsARowPerCluster) {
  const std::string out = path("clusters.png");
  EXPECT_OK(run({"sample", "--model", cluster_model, "--per-cluster", "3", "--seed", "2", "--out", out}));
  const viz::Image8 got = read_png(out);
  EXPECT_EQ(got.width, 3 * (kSide + 1) + 1);
  EXPECT_EQ(got.height, 5 * (kSide + 1) + 1);
  const Vae model = load_model(cluster_model);
  std::vector<float> x(15 * kDim);
  for (std::size_t y = 0; y < 5; ++y) model.sample_cluster(y, 2, {x.data() + y * 3 * kDim, 3, kDim});
  viz::GridStyle style;
  style.columns = 3;
  expect_same_image(got, viz::sample_grid({x.data(), 15, kDim}, kSide, kSide, 1, style), 1);
  EXPECT_NE(std::vector<float>(x.begin(), x.begin() + kDim), std::vector<float>(x.begin() + 3 * kDim, x.begin() + 4 * kDim));
  // More columns extend the same draws (to rounding: support/float_compare.hpp).
  std::vector<float> longer(5 * kDim);
  model.sample_cluster(4, 2, {longer.data(), 5, kDim});
  EXPECT_LT(test::largest_difference(std::vector<float>(longer.begin(), longer.begin() + 3 * kDim),
                                     std::vector<float>(x.begin() + 12 * kDim, x.end())),
            1e-5);

  const CliResult count = run({"sample", "--model", cluster_model, "--count", "4", "--out", path("never.png")});
  EXPECT_EQ(count.exit_code, 2);
  EXPECT_NE(count.err.find("has clusters; it draws --per-cluster N of each cluster"), std::string::npos) << count.err;
  const CliResult zero = run({"sample", "--model", cluster_model, "--per-cluster", "0", "--out", path("never.png")});
  EXPECT_EQ(zero.exit_code, 2);
  EXPECT_NE(zero.err.find("--per-cluster 0: expected 1 to 20000"), std::string::npos) << zero.err;
  EXPECT_FALSE(fs::exists(path("never.png")));
}

TEST_F(CliUse, SampleOfAConditionalModelDrawsAClassOrARowPerClass) {
  const Vae model = load_model(conditional_model);
  std::vector<float> x(10 * 3 * kDim);
  for (std::size_t y = 0; y < 10; ++y) model.sample_class(y, 4, {x.data() + y * 3 * kDim, 3, kDim});
  viz::GridStyle style;
  style.columns = 3;
  EXPECT_OK(
      run({"sample", "--model", conditional_model, "--per-class", "3", "--seed", "4", "--out", path("rows.png")}));
  expect_same_image(read_png(path("rows.png")), viz::sample_grid({x.data(), 30, kDim}, kSide, kSide, 1, style), 1);
  // --class 7 draws the same stream as row 7 of the grid.
  EXPECT_OK(run({"sample", "--model", conditional_model, "--class", "7", "--count", "3", "--columns", "3", "--seed",
                 "4", "--out", path("seven.png")}));
  expect_same_image(read_png(path("seven.png")),
                    viz::sample_grid({x.data() + 7 * 3 * kDim, 3, kDim}, kSide, kSide, 1, style), 1);
  const std::vector<float> first_of_0(x.begin(), x.begin() + kDim);
  const std::vector<float> first_of_1(x.begin() + 3 * kDim, x.begin() + 4 * kDim);
  EXPECT_NE(first_of_0, first_of_1) << "classes 0 and 1 decode the same";
}

// eval gives the model each test image's label: the library's bound on the labelled rows.
TEST_F(CliUse, EvalOfAConditionalModelReadsTheDatasLabels) {
  const std::size_t n = 200;
  const CliResult r =
      run({"eval", "--model", conditional_model, "--data", "mnist", "--limit", "200", "--iw", "10", "--json"});
  EXPECT_OK(r);
  const nlohmann::json j = nlohmann::json::parse(r.out);
  const fs::path data_dir = AEVB_SOURCE_DIR "/../shared/data";
  const Dataset d = first_rows(resolve_dataset("mnist", Split::test, {&data_dir, 1}), n);
  const std::vector<float> x = gather_all(with_label_columns(d, 10), Binarize::none, 1, 0);
  EvalOptions options;
  options.iw_samples = 10;
  const EvalResult want = evaluate_model(load_model(conditional_model), {x.data(), n, kDim + 10}, options);
  EXPECT_DOUBLE_EQ(j["elbo"].get<double>(), want.elbo.bound);
  EXPECT_DOUBLE_EQ(j["log_likelihood"].get<double>(), want.log_likelihood);
}

TEST_F(CliUse, SampleAssumingTheNormalPriorDecodesTheSameDrawsForAnAutoencoder) {
  ModelConfig c;
  c.family = "autoencoder";
  c.input_dim = kDim;
  c.hidden = {32};
  c.latent = 3;
  c.init = Init::glorot;
  c.image_height = c.image_width = kSide;
  const Vae autoencoder(c, 11);
  const std::string model = path("autoencoder.safetensors");
  save_model(model, autoencoder, {{"binarize", "none"}});
  const std::string out = path("ae_draws.png");
  const CliResult r = run({"sample", "--model", model, "--count", "6", "--seed", "4", "--assume-normal-prior", "--out", out});
  EXPECT_OK(r);
  EXPECT_NE(r.out.find("not the model's samples"), std::string::npos) << r.out;
  std::vector<float> x(6 * kDim);
  autoencoder.decode_standard_normal(4, {x.data(), 6, kDim});
  expect_same_image(read_png(out), viz::sample_grid({x.data(), 6, kDim}, kSide, kSide, 1, {}), 1);

  // For a VAE the flag changes nothing: its prior is N(0, I).
  const CliResult a = run({"sample", "--model", model2, "--count", "6", "--out", path("vae_a.png")});
  const CliResult b = run({"sample", "--model", model2, "--count", "6", "--assume-normal-prior", "--out", path("vae_b.png")});
  EXPECT_OK(a);
  EXPECT_OK(b);
  expect_same_image(read_png(path("vae_b.png")), read_png(path("vae_a.png")), 0);
}

TEST_F(CliUse, EvalRegularityReportsTheLibrarysMeasures) {
  const CliResult r = run({"eval", "--model", model3, "--data", "mnist", "--limit", "300", "--iw", "0",
                           "--regularity", "--regularity-samples", "100", "--seed", "3", "--json"});
  EXPECT_OK(r);
  const nlohmann::json j = nlohmann::json::parse(r.out)["regularity"];
  const std::vector<float> x = mnist_rows(300);
  const LatentRegularity want = latent_regularity(load_model(model3), {x.data(), 300, kDim}, {100, 3});
  EXPECT_EQ(j["reference_rows"], 150);
  EXPECT_EQ(j["held_out_rows"], 100);
  EXPECT_EQ(j["prior_samples"], 100);
  EXPECT_NEAR(j["code_kl_to_prior"].get<double>(), want.code_kl_to_prior, 1e-9 * (1 + want.code_kl_to_prior));
  EXPECT_NEAR(j["reconstruction_mse"].get<double>(), want.reconstruction_mse, 1e-12);
  EXPECT_NEAR(j["reconstruction_nn_mse"].get<double>(), want.reconstruction_nn_mse, 1e-12);
  EXPECT_NEAR(j["prior_sample_nn_mse"].get<double>(), want.prior_sample_nn_mse, 1e-12);
  EXPECT_NEAR(j["nn_ratio"].get<double>(), want.nn_ratio(), 1e-9);
}

// aevb cluster writes the library's assignments and q(y|x); aevb eval scores
// them against the labels as the library does.
TEST_F(CliUse, ClusterWritesTheLibrarysAssignmentsAndEvalScoresThem) {
  const std::size_t n = 300;
  EXPECT_OK(run({"cluster", "--model", cluster_model, "--data", "mnist", "--limit", "300", "--out", path("c.csv")}));
  const Table t = read_table(path("c.csv"));
  ASSERT_EQ(t.rows, n);
  ASSERT_EQ(t.cols, 6u);
  const Vae model = load_model(cluster_model);
  const std::vector<float> x = mnist_rows(n);
  std::vector<float> p;
  const std::vector<std::int32_t> want = assign_clusters(model, {x.data(), n, kDim}, &p);
  std::size_t distinct = 0;
  std::vector<bool> seen(5, false);
  for (std::size_t r = 0; r < n; ++r) {
    EXPECT_EQ(t.values[r * 6], float(want[r])) << "row " << r;
    double sum = 0;
    for (std::size_t y = 0; y < 5; ++y) {
      EXPECT_NEAR(t.values[r * 6 + 1 + y], p[r * 5 + y], 1e-7);
      sum += t.values[r * 6 + 1 + y];
    }
    EXPECT_NEAR(sum, 1.0, 1e-5);
    if (!seen[std::size_t(want[r])]) seen[std::size_t(want[r])] = true, ++distinct;
  }
  EXPECT_GE(distinct, 2u) << "a random classifier should not put every image in one cluster";

  const CliResult r = run({"eval", "--model", cluster_model, "--data", "mnist", "--limit", "300", "--iw", "0", "--json"});
  EXPECT_OK(r);
  const nlohmann::json j = nlohmann::json::parse(r.out);
  const fs::path data_dir = AEVB_SOURCE_DIR "/../shared/data";
  const Dataset d = first_rows(resolve_dataset("mnist", Split::test, {&data_dir, 1}), n);
  const ClusterEvaluation e = evaluate_clusters(model, {x.data(), n, kDim}, d.labels);
  EXPECT_EQ(j["clusters"], 5);
  EXPECT_DOUBLE_EQ(j["cluster_accuracy"].get<double>(), e.scores.accuracy);
  EXPECT_DOUBLE_EQ(j["cluster_accuracy_majority"].get<double>(), e.scores.accuracy_majority);
  EXPECT_DOUBLE_EQ(j["nmi"].get<double>(), e.scores.nmi);
  EXPECT_DOUBLE_EQ(j["ari"].get<double>(), e.scores.ari);
  ASSERT_EQ(j["confusion"].size(), 5u);
  std::uint64_t total = 0;
  for (const auto& row : j["confusion"]) {
    ASSERT_EQ(row.size(), 10u) << "the ten digit classes";
    for (const auto& v : row) total += v.get<std::uint64_t>();
  }
  EXPECT_EQ(total, n);
}

TEST_F(CliUse, EncodeMatchesTheLibraryAndDecodeReproducesReconstruct) {
  const Vae model = load_model(model2);
  const std::vector<float> x = mnist_rows(8);
  std::vector<float> mu(8 * 2), logvar(8 * 2);
  model.encode({x.data(), 8, kDim}, {mu.data(), 8, 2}, {logvar.data(), 8, 2});

  // encode: NPY [n, 2, latent], means then variances.
  const std::string enc = path("enc.npy");
  EXPECT_OK(run({"encode", "--model", model2, "--data", "mnist", "--limit", "8", "--out", enc}));
  std::string shape;
  const std::vector<float> e = read_npy_floats(enc, &shape);
  EXPECT_EQ(shape, "8, 2, 2");
  ASSERT_EQ(e.size(), 8u * 2 * 2);
  for (std::size_t i = 0; i < 8; ++i) {
    for (std::size_t j = 0; j < 2; ++j) {
      EXPECT_NEAR(e[i * 4 + j], mu[i * 2 + j], 1e-5f * (1 + std::abs(mu[i * 2 + j]))) << i << "," << j;
      const float var = std::exp(logvar[i * 2 + j]);
      EXPECT_NEAR(e[i * 4 + 2 + j], var, 1e-5f * var) << i << "," << j;
    }
  }
  // The CSV holds the same numbers under a header.
  const std::string csv = path("enc.csv");
  EXPECT_OK(run({"encode", "--model", model2, "--data", "mnist", "--limit", "8", "--out", csv}));
  const std::string text = test::read_text_file(csv);
  EXPECT_EQ(text.substr(0, text.find('\n')), "mu_0,mu_1,var_0,var_1");
  const Table t = read_table(csv);
  ASSERT_EQ(t.rows, 8u);
  ASSERT_EQ(t.cols, 4u);
  EXPECT_EQ(t.values, e);

  // reconstruct rows 2..7: inputs beside E[x|z] at the posterior mean.
  const std::string rec = path("rec.png"), rec_npy = path("rec.npy");
  EXPECT_OK(run({"reconstruct", "--model", model2, "--data", "mnist", "--limit", "20", "--offset", "2", "--count", "6",
                 "--out", rec, "--npy", rec_npy}));
  const std::vector<float> recon = read_npy_floats(rec_npy, &shape);
  EXPECT_EQ(shape, "6, 784");
  ASSERT_EQ(recon.size(), 6 * kDim);
  expect_same_image(read_png(rec), viz::reconstruction_grid({x.data() + 2 * kDim, 6, kDim}, {recon.data(), 6, kDim},
                                                            kSide, kSide, 1),
                    0);

  // decode of encode's output (both formats) gives the same decoded means.
  for (const std::string& latents : {enc, csv}) {
    const std::string dec = path("dec.png"), dec_npy = path("dec.npy");
    EXPECT_OK(run({"decode", "--model", model2, "--latents", latents, "--out", dec, "--npy", dec_npy}));
    const std::vector<float> d = read_npy_floats(dec_npy, &shape);
    EXPECT_EQ(shape, "8, 784");
    ASSERT_EQ(d.size(), 8 * kDim);
    float worst = 0;
    for (std::size_t k = 0; k < 6 * kDim; ++k) worst = std::max(worst, std::abs(d[2 * kDim + k] - recon[k]));
    EXPECT_LE(worst, 1e-5f) << latents;
    const viz::Image8 grid = read_png(dec);
    EXPECT_EQ(grid.width, 3 * (kSide + 1) + 1);  // 8 images: 3 columns, 3 rows
    EXPECT_EQ(grid.height, 3 * (kSide + 1) + 1);
  }
}

TEST_F(CliUse, ManifoldDecodesTheInverseCdfGrid) {
  const std::string out = path("manifold.png");
  EXPECT_OK(run({"manifold", "--model", model3, "--steps", "5", "--dims", "0,2", "--out", out}));
  const viz::Image8 got = read_png(out);
  EXPECT_EQ(got.width, 5 * (kSide + 1) + 1);
  EXPECT_EQ(got.height, 5 * (kSide + 1) + 1);
  const Vae model = load_model(model3);
  const std::vector<float> z = manifold_latents(3, 5, 0, 2);
  std::vector<float> x(25 * kDim);
  model.decode({z.data(), 25, 3}, {x.data(), 25, kDim});
  expect_same_image(got, viz::manifold_grid({x.data(), 25, kDim}, 5, 5, kSide, kSide, 1), 1);

  EXPECT_OK(run({"manifold", "--model", model2, "--steps", "3", "--out", out}));
  EXPECT_EQ(read_png(out).width, 3 * (kSide + 1) + 1);
}

// Both paths: the straight line and slerp (--path slerp).
TEST_F(CliUse, InterpolateDrawsOneRowPerPairFromEndToEnd) {
  for (const auto& [name, kind] : {std::pair{"linear", Interpolation::linear}, std::pair{"slerp", Interpolation::spherical}}) {
    const std::string out = path("interp.png");
    EXPECT_OK(run({"interpolate", "--model", model2, "--data", "mnist", "--limit", "20", "--from", "0", "--to", "1",
                   "--from", "2", "--to", "3", "--steps", "4", "--path", name, "--out", out}));
    const viz::Image8 got = read_png(out);
    EXPECT_EQ(got.width, 4 * (kSide + 1) + 1);
    EXPECT_EQ(got.height, 2 * (kSide + 1) + 1);
    const Vae model = load_model(model2);
    const std::vector<float> x = mnist_rows(4);
    std::vector<float> mu(4 * 2), logvar(4 * 2), z;
    model.encode({x.data(), 4, kDim}, {mu.data(), 4, 2}, {logvar.data(), 4, 2});
    for (std::size_t p = 0; p < 2; ++p) {
      const auto line = interpolation_latents({mu.data() + 4 * p, 2}, {mu.data() + 4 * p + 2, 2}, 4, kind);
      z.insert(z.end(), line.begin(), line.end());
    }
    std::vector<float> images(8 * kDim);
    model.decode({z.data(), 8, 2}, {images.data(), 8, kDim});
    expect_same_image(got, viz::interpolation_grid({images.data(), 8, kDim}, 2, 4, kSide, kSide, 1), 1);
  }
}

// Exit code 2, exactly one line on stderr starting "aevb: error:", and none of `outputs` left behind.
void expect_clean_failure(const CliResult& r, const std::vector<std::string>& outputs, const std::string& fragment) {
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("aevb: error:", 0), 0u) << r.err;
  ASSERT_FALSE(r.err.empty());
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "more than one line: " << r.err;
  EXPECT_NE(r.err.find(fragment), std::string::npos) << "expected '" << fragment << "' in: " << r.err;
  for (const std::string& o : outputs) EXPECT_FALSE(fs::exists(o)) << o << " was left behind";
}

TEST_F(CliUse, ErrorsAreOneLineWithExitCodeTwoAndNoOutput) {
  // Inputs that are wrong in one way each.
  const std::string truncated = path("truncated.safetensors"), corrupt = path("corrupt.safetensors");
  {
    const std::string bytes = test::read_text_file(model2);
    std::ofstream(truncated, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
    std::string bad = bytes;
    bad[9] = '#';  // the header's JSON
    std::ofstream(corrupt, std::ios::binary) << bad;
  }
  const std::string narrow = path("narrow.csv");  // 10 values per datapoint, not 784
  std::ofstream(narrow) << "0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9\n0.9,0.8,0.7,0.6,0.5,0.4,0.3,0.2,0.1,0\n";
  const std::string three_cols = path("three.csv");
  std::ofstream(three_cols) << "1,2,3\n4,5,6\n";
  const std::string regular = path("regular_file");
  std::ofstream(regular) << "x";
  const std::string out = path("never.png"), npy = path("never.npy");
  const std::vector<std::string> mnist = {"--data", "mnist", "--limit", "20"};

  struct Case {
    std::vector<std::string> args;
    std::vector<std::string> outputs;
    std::string fragment;
  };
  const std::vector<Case> cases = {
      {{"sample", "--model", model2, "--out", out, "--bogus"}, {out}, "--bogus"},
      {{"sample", "--out", out}, {out}, "--model"},
      {{"info"}, {}, "MODEL"},
      {{"sample", "--model", path("missing.safetensors"), "--out", out}, {out}, "missing.safetensors"},
      {{"info", path("missing.safetensors")}, {}, "missing.safetensors"},
      {{"sample", "--model", truncated, "--out", out}, {out}, "truncated"},
      {{"info", truncated}, {}, "truncated"},
      {{"manifold", "--model", corrupt, "--out", out}, {out}, "corrupt.safetensors"},
      {{"reconstruct", "--model", model2, "--data", narrow, "--out", out}, {out}, "784"},
      {{"encode", "--model", model2, "--data", narrow, "--out", npy}, {npy}, "784"},
      {{"sample", "--model", model2, "--out", "/proc/aevb_never.png"}, {"/proc/aevb_never.png"}, "/proc/aevb_never.png"},
      {{"sample", "--model", model2, "--out", regular + "/x.png"}, {regular + "/x.png"}, "regular_file"},
      {concat({"encode", "--model", model2, "--out", regular + "/x.npy"}, mnist), {regular + "/x.npy"}, "regular_file"},
      // One output is fine, the other cannot be written: neither stays.
      {{"decode", "--model", model2, "--latents", path("enc.npy"), "--out", out, "--npy", regular + "/x.npy"},
       {out, regular + "/x.npy"},
       "regular_file"},
      {concat({"reconstruct", "--model", model2, "--offset", "25", "--out", out}, mnist), {out}, "--offset 25"},
      {concat({"reconstruct", "--model", model2, "--offset", "10", "--count", "11", "--out", out}, mnist), {out}, "--count 11"},
      {concat({"interpolate", "--model", model2, "--from", "3", "--to", "20", "--out", out}, mnist), {out}, "--to 20"},
      {concat({"interpolate", "--model", model2, "--from", "1,2", "--to", "3", "--out", out}, mnist), {out}, "--from"},
      {{"manifold", "--model", model3, "--dims", "0,3", "--out", out}, {out}, "out of range"},
      {{"manifold", "--model", model2, "--dims", "x", "--out", out}, {out}, "--dims"},
      {{"decode", "--model", model2, "--latents", three_cols, "--out", out, "--npy", npy}, {out, npy}, "3"},
      {{"decode", "--model", model2, "--latents", path("missing.csv"), "--out", out}, {out}, "missing.csv"},
      {concat({"encode", "--model", model2, "--out", path("never.txt")}, mnist), {path("never.txt")}, ".npy or .csv"},
  };
  // decode's case needs a valid latent file.
  ASSERT_EQ(run(concat({"encode", "--model", model2, "--out", path("enc.npy")}, mnist)).exit_code, 0);
  for (const Case& c : cases) {
    std::string line;
    for (const auto& a : c.args) line += a + " ";
    SCOPED_TRACE("aevb " + line);
    expect_clean_failure(run(c.args), c.outputs, c.fragment);
  }
}

}  // namespace
}  // namespace aevb
