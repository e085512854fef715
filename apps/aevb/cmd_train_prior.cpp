// aevb train-prior: the second stage of a VQ-VAE (van den Oord et al. 2017,
// sec. 3.2): the model's encoder turns the training images into grids of
// codes, and a gated PixelCNN (src/prior/code_prior.hpp) learns their
// distribution; aevb sample then draws grids from it and decodes them, and
// aevb eval reports its cross-entropy and the bits per dimension under it.
#include "code_prior_use.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "model_use.hpp"

#include "eval/codebook_metrics.hpp"
#include "io/model_file.hpp"

#include <aevb/error.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <numeric>
#include <string>

namespace aevb::cli {
namespace {

struct TrainPriorFlags {
  std::string model_path, out;
  DataOptions data;
  CodePriorTraining training;
  std::size_t channels = 64, layers = 0, validation = 0;
  int threads = 0;
  CLI::App* cmd = nullptr;
};

void run_train_prior(const TrainPriorFlags& f) {
  set_threads(f.threads);
  const Vae model = load_model(f.model_path);
  const CodeGrid grid = model.code_grid();
  if (grid.codes == 0)
    throw InputError("train-prior: " + f.model_path + " is a " + model.config().family +
                     " model, which has no codebook (train one with --family vq)");
  const Dataset data = f.data.load();
  require_fit(model, data, f.model_path);
  std::vector<std::uint32_t> rows(data.count);
  std::iota(rows.begin(), rows.end(), 0u);
  const Binarize binarize = evaluation_binarization(f.data.binarize, f.model_path);
  const std::vector<float> x = gather_rows(data, rows, binarize, f.training.seed);
  const std::vector<std::uint32_t> codes = code_grids(model, {x.data(), data.count, data.dim});

  // The last rows are held out, to watch the prior generalize.
  const std::size_t held_out =
      f.cmd->count("--validation") > 0 ? f.validation : std::min<std::size_t>(5000, data.count / 10);
  if (held_out >= data.count)
    throw InputError("--validation " + std::to_string(held_out) + ": expected fewer than the " +
                     std::to_string(data.count) + " datapoints of " + data.source);
  const std::size_t n_train = data.count - held_out, p = grid.positions;
  CodePriorConfig config;
  config.codes = grid.codes;
  config.height = grid.height > 0 ? grid.height : 1;
  config.width = grid.height > 0 ? grid.width : grid.positions;
  config.channels = f.channels;
  // Enough gated layers that every position sees all of the grid before it (code_prior.hpp).
  config.layers = f.layers > 0 ? f.layers : std::max<std::size_t>(1, std::max(config.height, config.width) - 1);
  CodePrior prior(config);
  prior.initialize(f.training.seed);
  const std::filesystem::path out = f.out.empty() ? default_prior_path(f.model_path) : std::filesystem::path(f.out);
  std::printf("aevb train-prior: %zu grids of %zux%zu codes (K = %zu) from %s, %zu held out; a gated PixelCNN of "
              "%zu layers, %zu channels (%zu parameters), %zu epochs -> %s\n",
              n_train, config.height, config.width, config.codes, data.source.c_str(), held_out, config.layers,
              config.channels, prior.parameter_count(), f.training.epochs, out.string().c_str());
  const std::span<const std::uint32_t> all(codes);
  train_code_prior(prior, all.first(n_train * p), n_train, all.subspan(n_train * p), held_out, f.training,
                   [&](const CodePriorEpoch& e) {
                     std::printf("epoch %zu: train %.4f nats per position%s, %.1f s\n", e.epoch, e.train_nats,
                                 std::isnan(e.test_nats)
                                     ? ""
                                     : (", held out " + std::to_string(e.test_nats)).c_str(),
                                 e.seconds);
                     std::fflush(stdout);
                   });
  save_code_prior(out, prior,
                  {{"model", f.model_path}, {"model_checksum", model_checksum(model)}, {"data", data.source}});
  std::printf("prior: %s (uniform prior: %.4f nats per position)\n", out.string().c_str(),
              std::log(double(grid.codes)));
}

}  // namespace

void add_train_prior_command(CLI::App& app) {
  auto flags = std::make_shared<TrainPriorFlags>();
  CLI::App* cmd = app.add_subcommand("train-prior", "train a VQ-VAE's autoregressive prior over its codes");
  flags->cmd = cmd;
  cmd->footer(
      "For a model with a codebook (--family vq): encodes the data into grids of codes with the model's encoder "
      "and trains a gated PixelCNN (van den Oord et al. 2016) on them with Adam, the last --validation grids held "
      "out. Writes the prior beside the model (RUN/prior.safetensors) unless --out says where; aevb sample and "
      "aevb eval use it from there (or from --prior).");
  cmd->add_option("--model", flags->model_path, "model file (model.safetensors)")->required();
  flags->data.add_to(*cmd, "train");
  cmd->add_option("--epochs", flags->training.epochs, "passes over the training grids")->capture_default_str();
  cmd->add_option("--batch", flags->training.batch, "grids per minibatch")->capture_default_str();
  cmd->add_option("--lr", flags->training.lr, "Adam's step size")->capture_default_str();
  cmd->add_option("--seed", flags->training.seed, "seed of the initialization and the minibatch order")
      ->capture_default_str();
  cmd->add_option("--channels", flags->channels, "the PixelCNN's width C")->capture_default_str();
  cmd->add_option("--layers", flags->layers,
                  "gated layers (default: max(height, width) - 1, the fewest that see the whole past)");
  cmd->add_option("--validation", flags->validation,
                  "grids held out from the end of the data (default: 10%, at most 5000)");
  cmd->add_option("--out", flags->out, "prior file to write (default: prior.safetensors beside the model)");
  add_threads_option(*cmd, flags->threads);
  cmd->callback([flags] { run_train_prior(*flags); });
}

}  // namespace aevb::cli
