// Every error path of the CLI commands that have no test elsewhere (sample,
// manifold, reconstruct, interpolate, inpaint, encode, decode, train, paper, and what they
// share in common.cpp and run_files.cpp), one table row each. A user who
// gets one of these must see exit code 2 and a single "aevb: error:" line
// that says what was expected or found, and no output, whole or partial.
// cli_use_test.cpp and cli_train_test.cpp hold the rows that were there first.
#include "support/cli_runner.hpp"
#include "support/png_files.hpp"

#include "io/checkpoint.hpp"
#include "io/model_file.hpp"

#include <aevb/vae.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace aevb {
namespace {

namespace fs = std::filesystem;
using test::concat;

class CliErrors : public ::testing::Test {
 protected:
  static inline fs::path dir;

  static std::string path(const std::string& name) { return (dir / name).string(); }
  static void write(const std::string& name, const std::string& text) {
    std::ofstream(dir / name, std::ios::binary) << text;
  }
  static test::CliResult run(const std::vector<std::string>& args) {
    return test::run_cli(test::cli_path(), args, dir, {{"AEVB_DATA_DIR", AEVB_SOURCE_DIR "/../shared/data"}});
  }

  // 20 datapoints of `cols` values in [0, 1], no image shape.
  static std::string flat_csv(std::size_t cols) {
    std::string text;
    for (std::size_t r = 0; r < 20; ++r)
      for (std::size_t c = 0; c < cols; ++c) text += "0." + std::to_string((r + c) % 10) + (c + 1 < cols ? "," : "\n");
    return text;
  }

  // What the rows need, each made once: a tiny MNIST run (28x28 images), a
  // run on a CSV without image shape whose file then changes width, a
  // checkpoint that aevb train did not write, and small broken inputs.
  static void SetUpTestSuite() {
    if (test::cli_path().empty()) return;
    dir = fs::temp_directory_path() / ("aevb_cli_errors_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir / "empty");
    const std::vector<std::string> quick = {"--epochs", "1", "--validation", "0", "--no-report", "--threads", "2"};
    auto train = [&](std::vector<std::string> args) {
      args.insert(args.begin(), "train");
      args.insert(args.end(), quick.begin(), quick.end());
      const test::CliResult r = run(args);
      ASSERT_EQ(r.exit_code, 0) << r.err;
    };
    train({"--data", "mnist", "--limit", "200", "--hidden", "16", "--latent", "2", "--batch", "50", "--test-eval", "0",
           "--out", path("mnist_run")});
    train({"--data", "mnist", "--limit", "200", "--family", "autoencoder", "--hidden", "16", "--latent", "2",
           "--batch", "50", "--test-eval", "0", "--out", path("ae_run")});
    train({"--data", "mnist", "--limit", "200", "--algorithm", "mcem", "--hidden", "16", "--latent", "2",
           "--test-eval", "0", "--out", path("mcem_run")});
    train({"--data", "mnist", "--limit", "200", "--family", "cvae", "--hidden", "16", "--latent", "2", "--batch",
           "50", "--test-eval", "0", "--out", path("cvae_run")});
    write("flat.csv", flat_csv(8));
    write("shifting.csv", flat_csv(8));
    train({"--data", path("shifting.csv"), "--hidden", "8", "--latent", "2", "--batch", "10", "--out",
           path("flat_run")});
    write("shifting.csv", flat_csv(5));  // the flat run's data, now 5 values wide

    Vae model = load_model(path("flat_run/model.safetensors"));
    save_model(path("odd_metadata.safetensors"), model, {{"binarize", "sometimes"}});
    Trainer trainer(model, TrainConfig{});
    fs::create_directories(dir / "bare_run");
    save_checkpoint(path("bare_run/checkpoint.safetensors"), model, trainer, LoopState{});
    // The MNIST run's checkpoint, its metrics holding a string where a count belongs.
    {
      Checkpoint ck = load_checkpoint(path("mnist_run/checkpoint.safetensors"));
      Vae resumed(ck.model);
      Trainer resumed_trainer(resumed, ck.train);
      restore_checkpoint(ck, resumed, resumed_trainer);
      const LoopState honest = ck.loop;
      ck.loop.extra["metrics"][0]["samples"] = "many";
      fs::create_directories(dir / "lying_metrics_run");
      save_checkpoint(path("lying_metrics_run/checkpoint.safetensors"), resumed, resumed_trainer, ck.loop);
      // Stopped inside an epoch (200 datapoints: 4 minibatches of 50), without
      // the epoch's position, and past the epoch's end.
      LoopState inside = honest;
      inside.batch_in_epoch = 2;
      fs::create_directories(dir / "no_position_run");
      save_checkpoint(path("no_position_run/checkpoint.safetensors"), resumed, resumed_trainer, inside);
      inside.batch_in_epoch = 4;
      inside.extra["epoch_position"] = {{"samples", 200}, {"bound_sum", -1e4}, {"reconstruction_sum", -9e3},
                                        {"kl_sum", 1e3}, {"seconds", 0.5}};
      fs::create_directories(dir / "past_epoch_run");
      save_checkpoint(path("past_epoch_run/checkpoint.safetensors"), resumed, resumed_trainer, inside);
    }

    // Models of 8x8 images in colour and in grey, colour images, and grey
    // images of another shape with as many values as the colour ones (8 wide, 24 high).
    for (std::size_t channels : {1, 3}) {
      ModelConfig c;
      c.input_dim = channels * 64;
      c.hidden = {8};
      c.latent = 2;
      c.image_height = c.image_width = 8;
      c.image_channels = channels;
      save_model(path(channels == 3 ? "rgb_model.safetensors" : "grey_model.safetensors"), Vae(c, 1),
                 {{"binarize", "none"}});
    }
    test::write_rgb_folder(dir / "rgb_pngs", 4, 8, 8);
    fs::create_directories(dir / "tall_pngs");
    const std::vector<std::uint8_t> tall(8 * 24, 128);
    for (const char* name : {"a.png", "b.png"})
      test::write_png(dir / "tall_pngs" / name, 8, 24, PNG_FORMAT_GRAY, tall.data());

    write("latents.csv", "0,0\n0.5,-0.5\n");
    write("a_file", "x");
    write("mnist_run/eval.json", "{\"elbo\": ");
    write("settings.yaml", "model: {}\n");
    write("broken.toml", "[model\nlatent = 2\n");
    write("broken.json", "{\"model\": }");
    write("unknown_key.toml", "[model]\nwidth = 3\n");
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    if (!dir.empty()) fs::remove_all(dir, ec);
  }
  void SetUp() override {
    if (test::cli_path().empty()) GTEST_SKIP() << "this build has no aevb CLI";
  }
};

struct Row {
  std::string label;
  std::vector<std::string> args;
  std::string says;    // in the error line: what was expected or found
  std::string absent;  // the output that must not exist afterwards
};

void expect_clean_failure(const Row& row, const test::CliResult& r) {
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("aevb: error: ", 0), 0u) << r.err;
  EXPECT_TRUE(!r.err.empty() && r.err.find('\n') == r.err.size() - 1) << "not one line: " << r.err;
  EXPECT_NE(r.err.find(row.says), std::string::npos) << "expected '" << row.says << "' in: " << r.err;
  EXPECT_EQ(r.out, "") << "output of a failed command";
  EXPECT_FALSE(fs::exists(row.absent)) << row.absent << " exists";
}

TEST_F(CliErrors, EachPathExitsTwoWithOneLineAndNoOutput) {
  const std::string images = path("mnist_run/model.safetensors"), flat = path("flat_run/model.safetensors");
  const std::string png = path("never.png"), npy = path("never.npy"), run_dir = path("never_run");
  const std::vector<std::string> mnist = {"--data", "mnist", "--limit", "20"};
  // train on the 8-value CSV into a fresh directory, plus `extra`.
  auto train = [&](const std::vector<std::string>& extra) {
    return concat({"train", "--data", path("flat.csv"), "--out", run_dir}, extra);
  };
  const std::vector<Row> rows = {
      // cmd_sample.cpp
      {"sample --count 0", {"sample", "--model", images, "--count", "0", "--out", png},
       "--count 0: expected 1 to 100000", png},
      {"sample from a model without image shape", {"sample", "--model", flat, "--out", png},
       "sample: the model was trained on data without an image shape", png},
      {"sample --scale 17", {"sample", "--model", images, "--scale", "17", "--out", png},
       "scale must be in 1..16, got 17", png},
      {"sample --columns -1", {"sample", "--model", images, "--columns", "-1", "--out", png},
       "columns must be positive (or 0 for automatic), got -1", png},
      {"manifold --steps 201", {"manifold", "--model", images, "--steps", "201", "--out", png},
       "--steps 201: expected 1 to 200", png},
      {"manifold from a model without image shape", {"manifold", "--model", flat, "--out", png},
       "manifold: the model was trained on data without an image shape", png},
      // cmd_reconstruct.cpp
      {"reconstruct --count 0", concat({"reconstruct", "--model", images, "--count", "0", "--out", png}, mnist),
       "--count must be at least 1", png},
      {"reconstruct --count past the end of size_t",
       concat({"reconstruct", "--model", images, "--offset", "1", "--count", "18446744073709551615", "--out", png},
            mnist),
       "--offset 1 --count 18446744073709551615: out of range", png},
      {"reconstruct from a model without image shape",
       {"reconstruct", "--model", flat, "--data", path("flat.csv"), "--out", png},
       "reconstruct: the model was trained on data without an image shape", png},
      {"reconstruct --binarize unknown",
       concat({"reconstruct", "--model", images, "--binarize", "half", "--out", png}, mnist),
       "binarization 'half' is not known: expected one of none, dynamic, fixed", png},
      {"interpolate --steps 1", concat({"interpolate", "--model", images, "--from", "0", "--to", "1", "--steps", "1",
                                      "--out", png}, mnist),
       "--steps 1: expected 2 to 200", png},
      {"interpolate from a model without image shape",
       {"interpolate", "--model", flat, "--data", path("flat.csv"), "--from", "0", "--to", "1", "--out", png},
       "interpolate: the model was trained on data without an image shape", png},
      // cmd_inpaint.cpp
      {"inpaint --mask of an unknown kind",
       concat({"inpaint", "--model", images, "--mask", "diagonal", "--out", png}, mnist),
       "mask spec 'diagonal': expected top, bottom, left, right, center, rect:R0:C0:R1:C1, random:FRACTION or none",
       png},
      {"inpaint --mask rect outside the image",
       concat({"inpaint", "--model", images, "--mask", "rect:0:0:40:10", "--out", png}, mnist),
       "mask spec 'rect:0:0:40:10': expected a non-empty block within the model's 28x28 images", png},
      {"inpaint --mask random:2", concat({"inpaint", "--model", images, "--mask", "random:2", "--out", png}, mnist),
       "expected random:FRACTION with a fraction of hidden pixels in (0, 1]", png},
      {"inpaint without a mask or noise", concat({"inpaint", "--model", images, "--out", png}, mnist),
       "--mask none hides no pixel: expected a mask that hides some (e.g. --mask bottom), or --denoise", png},
      {"inpaint --denoise on a Bernoulli model",
       concat({"inpaint", "--model", images, "--denoise", "0.1", "--out", png}, mnist),
       "--denoise needs a model with a Gaussian likelihood; " + images + " is Bernoulli", png},
      {"inpaint --denoise -1", concat({"inpaint", "--model", images, "--denoise", "-1", "--out", png}, mnist),
       "expected the noise's standard deviation, >= 0", png},
      {"inpaint with an autoencoder",
       concat({"inpaint", "--model", path("ae_run/model.safetensors"), "--mask", "top", "--out", png}, mnist),
       "needs a model with a prior; " + path("ae_run/model.safetensors") + " is autoencoder", png},
      {"inpaint from a model without image shape",
       {"inpaint", "--model", flat, "--data", path("flat.csv"), "--mask", "top", "--out", png},
       "inpaint: the model was trained on data without an image shape", png},
      {"inpaint data that does not fit the model",
       {"inpaint", "--model", images, "--data", path("shifting.csv"), "--mask", "top", "--out", png},
       "expects 784 (28x28) values per datapoint, but " + path("shifting.csv") + " has 5", png},
      {"inpaint --show more than --samples",
       concat({"inpaint", "--model", images, "--mask", "top", "--samples", "5", "--show", "6", "--out", png}, mnist),
       "keeps at most as many single-sample images as it records samples (5), found 6", png},
      {"inpaint --leapfrog 0",
       concat({"inpaint", "--model", images, "--mask", "top", "--leapfrog", "0", "--out", png}, mnist),
       "HMC: expected at least 1 leapfrog step, found 0", png},
      {"inpaint --offset past the end",
       concat({"inpaint", "--model", images, "--mask", "top", "--offset", "20", "--out", png, "--npy", npy}, mnist),
       "--offset 20: out of range", npy},
      // cmd_latent.cpp
      {"decode without --out or --npy", {"decode", "--model", images, "--latents", path("latents.csv")},
       "decode: give --out FILE.png, --npy FILE.npy, or both", png},
      {"decode --out and --npy the same file",
       {"decode", "--model", images, "--latents", path("latents.csv"), "--out", npy, "--npy", npy},
       "--out and --npy name the same file", npy},
      {"decode to PNG from a model without image shape (the NPY is not written either)",
       {"decode", "--model", flat, "--latents", path("latents.csv"), "--out", png, "--npy", npy},
       "decode: the model was trained on data without an image shape", npy},
      {"decode --latents of a model file", {"decode", "--model", images, "--latents", images, "--npy", npy},
       "expected an NPY or CSV file of numbers", npy},
      // common.cpp
      {"model does not fit the data (image model)",
       {"interpolate", "--model", images, "--data", path("shifting.csv"), "--from", "0", "--to", "1", "--out", png},
       "expects 784 (28x28) values per datapoint, but " + path("shifting.csv") + " has 5", png},
      {"model does not fit the data (no image shape)",
       {"encode", "--model", flat, "--data", path("shifting.csv"), "--out", npy},
       "expects 8 values per datapoint, but " + path("shifting.csv") + " has 5", npy},
      {"colour model, its images read as grey",
       {"reconstruct", "--model", path("rgb_model.safetensors"), "--data", path("rgb_pngs"), "--grey", "--out", png},
       "expects 192 (3 channels of 8x8) values per datapoint, but " + path("rgb_pngs") +
           " (4 PNG images, colour read as grey) has 64 (1 channel of 8x8); the model takes colour images: read these "
           "without --grey", png},
      {"grey model, colour images",
       {"encode", "--model", path("grey_model.safetensors"), "--data", path("rgb_pngs"), "--out", npy},
       "expects 64 (1 channel of 8x8) values per datapoint, but " + path("rgb_pngs") +
           " (4 PNG images, RGB) has 192 (3 channels of 8x8); the model takes grey images: read these as grey with "
           "--grey", npy},
      {"as many values, another image shape",
       {"interpolate", "--model", path("rgb_model.safetensors"), "--data", path("tall_pngs"), "--from", "0", "--to",
        "1", "--out", png},
       "expects 192 (3 channels of 8x8) values per datapoint, but " + path("tall_pngs") +
           " (2 PNG images) has 192 (1 channel of 24x8)", png},
      {"unknown dataset", {"encode", "--model", images, "--data", "mnistt", "--out", npy},
       "mnistt: no such file or folder, and not a dataset name", npy},
      {"--split unknown", {"encode", "--model", images, "--data", "mnist", "--split", "validation", "--out", npy},
       "split 'validation' is not known: expected one of train, test", npy},
      {"--scaling unknown",
       {"encode", "--model", flat, "--data", path("flat.csv"), "--scaling", "zscore", "--out", npy},
       "scaling 'zscore' is not known", npy},
      {"a split the dataset has not", {"encode", "--model", images, "--data", "frey", "--out", npy},
       "frey has no test split", npy},
      {"a binarization in the model file that is not known",
       {"encode", "--model", path("odd_metadata.safetensors"), "--data", path("flat.csv"), "--out", npy},
       "odd_metadata.safetensors: metadata \"binarize\": binarization 'sometimes' is not known", npy},
      // cmd_train.cpp: flags
      {"--weight-decay not a number", train({"--weight-decay", "tiny"}),
       "--weight-decay: expected a number or 'prior', found 'tiny'", run_dir},
      {"--weight-decay with trailing text", train({"--weight-decay", "1e-4x"}), "found '1e-4x'", run_dir},
      {"--activation unknown", train({"--activation", "swish"}),
       "activation: expected one of tanh, relu, leaky-relu, softplus, sigmoid, found 'swish'", run_dir},
      {"--likelihood unknown", train({"--likelihood", "poisson"}), "likelihood: expected one of", run_dir},
      {"--init unknown", train({"--init", "xavier"}), "init: expected one of paper, glorot, he, found 'xavier'",
       run_dir},
      {"--output-bias unknown", train({"--output-bias", "mean"}),
       "output bias: expected zero or data-mean, found 'mean'", run_dir},
      {"--estimator unknown", train({"--estimator", "C"}), "estimator: expected one of A, B, iw, found 'C'", run_dir},
      {"--optimizer unknown", train({"--optimizer", "rmsprop"}),
       "optimizer: expected one of sgd, adagrad, adam, found 'rmsprop'", run_dir},
      {"--binarize unknown", train({"--binarize", "always"}), "binarization 'always' is not known", run_dir},
      {"--scaling unknown", train({"--scaling", "zscore"}), "scaling 'zscore' is not known", run_dir},
      {"--matmul-precision unknown", train({"--matmul-precision", "fp8"}),
       "matmul_precision: expected one of float32, bfloat16, found 'fp8'", run_dir},
      {"--preset unknown", train({"--preset", "paper-cifar"}),
       "--preset: expected one of paper-mnist, paper-frey, conv-mnist, iwae-mnist-1layer, iwae-mnist-2layer, cluster-mnist, cluster-fashion-mnist, vade-mnist, vade-fashion-mnist, cvae-mnist, vq-mnist, vq-fashion-mnist, found 'paper-cifar'",
       run_dir},
      // cmd_train.cpp: settings that cannot train
      {"--epochs 0", train({"--epochs", "0"}), "--epochs must be at least 1", run_dir},
      {"--batch 0", train({"--batch", "0"}), "batch size must be at least 1", run_dir},
      {"--latent 0", train({"--latent", "0"}), "latent must be positive", run_dir},
      {"--lr 0", train({"--lr", "0"}), "lr must be positive", run_dir},
      {"--lr neither a number nor auto", train({"--lr", "fast"}), "--lr: expected a number or 'auto', found 'fast'",
       run_dir},
      {"--lr-schedule unknown", train({"--lr-schedule", "linear"}),
       "learning-rate schedule: expected constant, step:EVERY:GAMMA, exponential:GAMMA, cosine:EPOCHS[:MIN_FACTOR] or "
       "burda, found 'linear'",
       run_dir},
      {"--lr-schedule step that grows", train({"--lr-schedule", "step:5:2"}),
       "learning-rate schedule: expected a decay factor GAMMA in (0, 1], found 'step:5:2'", run_dir},
      {"--adam-betas one number", train({"--adam-betas", "0.9"}),
       "--adam-betas: expected two numbers in [0, 1) as B1,B2 (e.g. 0.9,0.999)", run_dir},
      {"--adam-betas out of range", train({"--adam-betas", "0.9,1"}),
       "--adam-betas: expected two numbers in [0, 1) as B1,B2 (e.g. 0.9,0.999)", run_dir},
      {"--adam-eps 0", train({"--adam-eps", "0"}), "optimizer: eps must be positive", run_dir},
      {"--samples 0", train({"--samples", "0"}), "samples must be at least 1", run_dir},
      {"--estimator iw with --beta 0.5", train({"--estimator", "iw", "--beta", "0.5"}),
       "the importance-weighted bound needs beta = 1", run_dir},
      {"--kl-warmup with --estimator iw", train({"--estimator", "iw", "--kl-warmup", "1"}),
       "KL warm-up weights the KL of estimators A and B", run_dir},
      {"--kl-warmup negative", train({"--kl-warmup", "-1"}), "KL warm-up: expected a number of epochs >= 0, found -1",
       run_dir},
      {"--validation neither a fraction nor a count", train({"--validation", "2.5"}),
       "validation size 2.5: expected a fraction between 0 and 1 or a whole number", run_dir},
      {"--validation of all the data", train({"--validation", "20"}), "validation size 20 leaves nothing to train on",
       run_dir},
      // cmd_train.cpp and src/model/architecture.cpp: networks that cannot be built
      {"--encoder of bad syntax", train({"--encoder", "conv:8:4"}),
       "--encoder: layer 'conv:8:4': expected conv:OUT:KERNEL:STRIDE:PADDING", run_dir},
      {"--hidden with --encoder", train({"--hidden", "8", "--encoder", "dense:8"}),
       "--hidden and --encoder both declare the encoder", run_dir},
      {"a conv layer on data without an image shape", train({"--encoder", "conv:4:3:1:1"}),
       "model: encoder.0 (conv:4:3:1:1): ", run_dir},
      {"a kernel larger than its input", concat({"train", "--out", run_dir, "--encoder", "conv:8:4:2:1,conv:8:15:1:0"}, mnist),
       "model: encoder.1 (conv:8:15:1:0): ", run_dir},
      {"a decoder that does not come back to the data's shape",
       concat({"train", "--out", run_dir, "--encoder", "conv:8:4:2:1", "--decoder", "dense:1568,unflatten:8:14:14,deconv:1:4:2:0"},
              mnist),
       "model: decoder.2 (deconv:1:4:2:0), the output layer, gives [1, 30, 30], the data is [1, 28, 28]", run_dir},
      {"--family unknown", train({"--family", "gmvae"}), "model family: expected one of vae, vae-2layer, cluster, vade, cvae, vq, autoencoder, found 'gmvae'",
       run_dir},
      {"--algorithm unknown", train({"--algorithm", "mcem-hmc"}),
       "training algorithm: expected one of aevb, wake-sleep, rws, full-vb, mcem, found 'mcem-hmc'", run_dir},
      {"--algorithm wake-sleep with --estimator iw", train({"--algorithm", "wake-sleep", "--estimator", "iw"}),
       "wake-sleep reports the ordinary bound (--estimator A or B)", run_dir},
      {"--algorithm wake-sleep for the autoencoder", train({"--algorithm", "wake-sleep", "--family", "autoencoder"}),
       "wake-sleep samples p(z) and needs the density q(z|x); the autoencoder family has neither", run_dir},
      {"--full-vb with another algorithm", train({"--full-vb", "--algorithm", "rws"}),
       "--full-vb trains with its own algorithm; --algorithm rws cannot train it", run_dir},
      {"--full-vb with weight decay", train({"--full-vb", "--weight-decay", "prior"}),
       "--weight-decay does not apply", run_dir},
      {"--algorithm full-vb without --full-vb", train({"--algorithm", "full-vb"}),
       "full-vb trains a weight posterior q(theta), which the model lacks (--full-vb declares both)", run_dir},
      {"--rws-q unknown", train({"--algorithm", "rws", "--rws-q", "dream"}),
       "rws encoder update: expected one of wake, sleep, both, found 'dream'", run_dir},
      {"--rws-q without rws", train({"--algorithm", "wake-sleep", "--rws-q", "sleep"}),
       "--rws-q chooses what trains rws's encoder; the algorithm is wake-sleep", run_dir},
      {"--estimator iw for the autoencoder", train({"--family", "autoencoder", "--estimator", "iw"}),
       "the importance-weighted bound needs a prior; the autoencoder family has none", run_dir},
      {"sample from an autoencoder", {"sample", "--model", path("ae_run/model.safetensors"), "--out", png},
       "sample: the autoencoder family has no prior p(z)", png},
      {"eval --per-datapoint of an autoencoder",
       concat({"eval", "--model", path("ae_run/model.safetensors"), "--per-datapoint", path("never.csv")}, mnist),
       "--per-datapoint writes each datapoint's importance-sampled log p(x), which needs --iw > 0 and a model with a prior", path("never.csv")},
      {"eval --hmc of an autoencoder",
       concat({"eval", "--model", path("ae_run/model.safetensors"), "--hmc", "--out", path("never.json")}, mnist),
       "--hmc estimates log p(x), which needs a model with a prior; " + path("ae_run/model.safetensors") +
           " is autoencoder",
       path("never.json")},
      {"--resume with metrics that are not numbers",
       {"train", "--resume", path("lying_metrics_run"), "--epochs", "2"},
       "lying_metrics_run/checkpoint.safetensors: aevb_state.loop.metrics[0]: \"samples\" should be a number",
       path("lying_metrics_run/model.safetensors")},
      {"--resume inside an epoch without its position", {"train", "--resume", path("no_position_run"), "--epochs", "2"},
       "no_position_run/checkpoint.safetensors: aevb_state.loop.epoch_position: missing (the checkpoint stopped "
       "after 2 minibatches of an epoch)",
       path("no_position_run/model.safetensors")},
      {"--resume past the end of an epoch", {"train", "--resume", path("past_epoch_run"), "--epochs", "2"},
       "past_epoch_run/checkpoint.safetensors: epoch position: 4 minibatches and 200 datapoints done is not a point "
       "inside an epoch of 4 minibatches of 50 (200 datapoints)",
       path("past_epoch_run/model.safetensors")},
      // the cluster family and aevb cluster
      {"--family cluster without --clusters", train({"--family", "cluster"}),
       "model: the cluster family needs at least 2 clusters (--clusters K), found 0", run_dir},
      {"--clusters 1", train({"--family", "cluster", "--clusters", "1"}),
       "model: the cluster family needs at least 2 clusters (--clusters K), found 1", run_dir},
      {"--clusters for the vae family", train({"--clusters", "3"}),
       "model: clusters and classifier_hidden describe a categorical latent; the vae family has none", run_dir},
      {"--estimator iw for the cluster family", train({"--family", "cluster", "--clusters", "3", "--estimator", "iw"}),
       "train: the cluster family's classifier q(y|z) is in estimator B's bound alone", run_dir},
      {"--clusters 1 for vade", train({"--family", "vade", "--clusters", "1"}),
       "model: the vade family needs at least 2 clusters (--clusters K), found 1", run_dir},
      {"--classifier-hidden for vade", train({"--family", "vade", "--clusters", "3", "--classifier-hidden", "8"}),
       "model: classifier_hidden describes a classifier q(y|z); the vade family's p(y|z) comes from its prior", run_dir},
      {"--pretrain-epochs for the vae family", train({"--pretrain-epochs", "2"}),
       "--pretrain-epochs: the vae family has no mixture prior to start from an autoencoder's codes", run_dir},
      // the conditional family
      {"--family cvae on data without labels", train({"--family", "cvae"}),
       "flat.csv: a conditional model needs each datapoint's label, and this data has none", run_dir},
      {"--classes 1", train({"--family", "cvae", "--classes", "1"}),
       "model: the cvae family needs at least 2 label classes (--classes K), found 1", run_dir},
      {"--classes for the vae family", train({"--classes", "3"}),
       "model: classes is the number of labels a conditional model is given; the vae family takes none", run_dir},
      {"--family cvae with a conv encoder",
       {"train", "--data", "mnist", "--limit", "20", "--family", "cvae", "--encoder", "conv:4:3:2:1", "--out", run_dir},
       "model: the cvae family reads the label beside x and z as columns, which needs dense layers", run_dir},
      {"sample --class from an unconditional model", {"sample", "--model", images, "--class", "3", "--out", png},
       "--class and --per-class draw from a conditional model (--family cvae)", png},
      {"sample --class past the classes",
       {"sample", "--model", path("cvae_run/model.safetensors"), "--class", "10", "--out", png},
       "--class 10: " + path("cvae_run/model.safetensors") + " is conditioned on 10 classes (0 to 9)", png},
      {"sample --class with --per-class",
       {"sample", "--model", path("cvae_run/model.safetensors"), "--class", "1", "--per-class", "2", "--out", png},
       "sample: give --class Y (with --count) or --per-class N (a row of each class), not both", png},
      {"sample --count from a conditional model without --class",
       {"sample", "--model", path("cvae_run/model.safetensors"), "--count", "4", "--out", png},
       "is conditioned on a class: give --class Y with --count", png},
      {"reconstruct with a conditional model",
       concat({"reconstruct", "--model", path("cvae_run/model.safetensors"), "--out", png}, mnist),
       "reconstruct decodes z without a label, and " + path("cvae_run/model.safetensors") +
           " (the cvae family) is conditioned on one of 10 classes",
       png},
      {"cluster with a model without clusters",
       {"cluster", "--model", path("mnist_run/model.safetensors"), "--data", "mnist", "--limit", "10", "--out",
        path("never.csv")},
       "cluster: " + path("mnist_run/model.safetensors") + " is a vae model, which has no clusters",
       path("never.csv")},
      {"cluster to a .txt file",
       {"cluster", "--model", path("mnist_run/model.safetensors"), "--data", "mnist", "--out", path("never.txt")},
       "--out " + path("never.txt") + ": expected a file name ending in .npy or .csv", path("never.txt")},
      {"--checkpoint-every negative", train({"--checkpoint-every", "-1"}),
       "--checkpoint-every: expected seconds >= 0, found -1", run_dir},
      {"mcem on all of MNIST", concat({"train", "--data", "mnist", "--algorithm", "mcem", "--out", run_dir}, {}),
       "60000 training datapoints; Monte Carlo EM is a batch method", run_dir},
      {"mcem with --batch", train({"--algorithm", "mcem", "--batch", "10"}),
       "--batch: mcem is a batch method; its minibatch is the whole training set", run_dir},
      {"mcem with --validation", train({"--algorithm", "mcem", "--validation", "5"}),
       "--validation: mcem trains no encoder, so no bound is evaluated on held-out data", run_dir},
      {"mcem with --estimator iw", train({"--algorithm", "mcem", "--estimator", "iw"}),
       "mcem follows one chain per datapoint and has no estimator of its own", run_dir},
      {"eval of a decoder-only model without --hmc",
       concat({"eval", "--model", path("mcem_run/model.safetensors"), "--out", path("never.json")}, mnist),
       path("mcem_run/model.safetensors") + " is decoder-only (trained by mcem): its bound and importance-sampled",
       path("never.json")},
      {"encode with a decoder-only model",
       concat({"encode", "--model", path("mcem_run/model.safetensors"), "--out", npy}, mnist),
       "encode encodes datapoints with q(z|x); " + path("mcem_run/model.safetensors") + " is decoder-only", npy},
      {"reconstruct with a decoder-only model",
       concat({"reconstruct", "--model", path("mcem_run/model.safetensors"), "--out", png}, mnist),
       "reconstruct encodes datapoints with q(z|x)", png},
      {"eval --regularity of a decoder-only model",
       concat({"eval", "--model", path("mcem_run/model.safetensors"), "--hmc", "--regularity", "--out",
               path("never.json")}, mnist),
       "--regularity codes the data with the encoder; " + path("mcem_run/model.safetensors") + " is decoder-only",
       path("never.json")},
      {"eval --regularity-samples 0",
       concat({"eval", "--model", images, "--iw", "0", "--regularity", "--regularity-samples", "0", "--out",
               path("never.json")}, mnist),
       "latent regularity: needs at least 1 prior sample", path("never.json")},
      {"eval --weight-samples without a weight posterior",
       concat({"eval", "--model", images, "--weight-samples", "3", "--out", path("never.json")}, mnist),
       "--weight-samples averages over decoders theta ~ q(theta); " + images + " has no weight posterior",
       path("never.json")},
      {"eval --hmc with too few samples",
       concat({"eval", "--model", images, "--hmc", "--hmc-samples", "3", "--out", path("never.json")}, mnist),
       "the App. D estimator needs at least 4 samples per datapoint, found 3", path("never.json")},
      // cmd_train.cpp: config files
      {"--config missing", train({"--config", path("missing.toml")}), "cannot read " + path("missing.toml"), run_dir},
      {"--config of another format", train({"--config", path("settings.yaml")}),
       "expected a .json or .toml config file, found extension '.yaml'", run_dir},
      {"--config of broken TOML", train({"--config", path("broken.toml")}), "invalid TOML", run_dir},
      {"--config of broken JSON", train({"--config", path("broken.json")}), "invalid JSON", run_dir},
      {"--config with an unknown key", train({"--config", path("unknown_key.toml")}), "unknown key 'model.width'",
       run_dir},
      // cmd_train.cpp and run_files.cpp: run directories
      {"--out is a file", {"train", "--data", path("flat.csv"), "--out", path("a_file")},
       "--out " + path("a_file") + ": expected a directory, found a file", path("a_file") + "/model.safetensors"},
      {"--out inside a file", {"train", "--data", path("flat.csv"), "--out", path("a_file/run")},
       "cannot create directory " + path("a_file/run"), path("a_file/run")},
      {"--out of an existing run without --overwrite",
       {"train", "--data", path("flat.csv"), "--out", path("mnist_run")},
       "already holds a run (checkpoint.safetensors): continue it with --resume", path("mnist_run/report.html")},
      {"--resume of a folder without a checkpoint", {"train", "--resume", path("empty")},
       "cannot read " + path("empty/checkpoint.safetensors") + ": no such file", path("empty/model.safetensors")},
      {"--resume of a checkpoint without run settings", {"train", "--resume", path("bare_run")},
       "expected the run settings in the checkpoint, found none", path("bare_run/model.safetensors")},
      {"--resume when the data changed width", {"train", "--resume", path("flat_run"), "--epochs", "2"},
       "the data no longer matches the checkpoint's model", path("flat_run/report.html")},
      // cmd_paper.cpp
      {"paper --budget 0", {"paper", "--budget", "0", "--out", path("never_paper")},
       "--budget: expected training samples per run, a number from 1000 to 1e10 (e.g. 1e6), found '0'",
       path("never_paper")},
      {"paper --figures 7", {"paper", "--figures", "7", "--out", path("never_paper")},
       "--figures: expected the paper's figures 2, 3, 4, 5 or the demonstrations autoencoder, variance; found '7'", path("never_paper")},
      {"paper --out inside a file", {"paper", "--out", path("a_file/paper")},
       "--out " + path("a_file/paper") + ": cannot write there", path("a_file/paper")},
      {"report of a run whose eval.json is broken", {"report", "--run", path("mnist_run")},
       "eval.json: invalid JSON", path("mnist_run/report.html")},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.label);
    expect_clean_failure(row, run(row.args));
  }
}

}  // namespace
}  // namespace aevb
