// aevb inpaint: the paper's marginal inference (sec. 2.1). Fills the pixels
// a mask hides, or removes known Gaussian noise (--denoise), by sampling
// p(z | the pixels seen) with HMC and averaging E[x|z] over the samples
// (src/eval/inpaint.hpp); draws originals, inputs and completions as a
// grid, and scores the completion of the hidden values against the model's
// unconditional mean image.
#include "commands.hpp"
#include "common.hpp"
#include "model_use.hpp"

#include "eval/image_mask.hpp"
#include "eval/inpaint.hpp"
#include "io/model_file.hpp"
#include "viz/inpainting_grid.hpp"
#include "viz/png.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

namespace aevb::cli {
namespace {

struct InpaintFlags {
  std::string model_path, out, npy, mask = "none";
  DataOptions data;
  std::size_t count = 16, offset = 0, mean_draws = 5000;
  double denoise = 0;  // the noise's standard deviation
  std::uint64_t seed = 1;
  bool json = false;
  viz::GridStyle style;
  int threads = 0;
  InpaintOptions options;  // samples, burn-in, leapfrog steps, start draws, kept (--show)
  CLI::App* cmd = nullptr;
};

struct Summary {
  double mean = 0, stderr_ = 0;
};
// The mean over datapoints and its standard error (sample sd / sqrt(n)).
Summary summarize(const std::vector<double>& v) {
  Summary s;
  for (double x : v) s.mean += x / double(v.size());
  double ss = 0;
  for (double x : v) ss += (x - s.mean) * (x - s.mean);
  s.stderr_ = v.size() > 1 ? std::sqrt(ss / double(v.size() - 1) / double(v.size())) : 0.0;
  return s;
}

// A score of the completion and of the mean image, and their paired
// difference per datapoint (completion minus mean image).
nlohmann::json compare(const std::vector<double>& completion, const std::vector<double>& mean_image) {
  std::vector<double> difference(completion.size());
  for (std::size_t i = 0; i < completion.size(); ++i) difference[i] = completion[i] - mean_image[i];
  const Summary c = summarize(completion), m = summarize(mean_image), d = summarize(difference);
  return {{"completion", c.mean}, {"completion_stderr", c.stderr_}, {"mean_image", m.mean},
          {"mean_image_stderr", m.stderr_}, {"difference", d.mean}, {"difference_stderr", d.stderr_}};
}

void run_inpaint(const InpaintFlags& f) {
  if (f.count == 0) throw InputError("--count must be at least 1");
  if (f.mean_draws == 0) throw InputError("--mean-draws must be at least 1");
  if (!(f.denoise >= 0) || !std::isfinite(f.denoise))
    throw InputError("--denoise " + std::to_string(f.denoise) + ": expected the noise's standard deviation, >= 0");
  InpaintOptions options = f.options;
  options.seed = f.seed;
  options.noise_variance = f.denoise * f.denoise;
  validate(options);
  set_threads(f.threads);
  const Vae model = load_model(f.model_path);
  require_unconditional(model, f.model_path, "inpaint");
  if (!model.has_prior())
    throw InputError("inpaint samples p(z | the pixels seen), which needs a model with a prior; " + f.model_path +
                     " is " + model.config().family);
  if (f.denoise > 0 && model.config().likelihood == Likelihood::bernoulli)
    throw InputError("--denoise needs a model with a Gaussian likelihood; " + f.model_path + " is Bernoulli");
  const auto [h, w, channels] = image_size(model, "inpaint");
  const ImageMask mask = parse_image_mask(f.mask, std::size_t(h), std::size_t(w));
  const bool masked = mask.kind != ImageMask::Kind::none;
  if (!masked && f.denoise == 0)
    throw InputError("--mask none hides no pixel: expected a mask that hides some (e.g. --mask bottom), or --denoise");
  const Dataset data = f.data.load();
  require_fit(model, data, f.model_path);
  const std::vector<std::uint32_t> rows = consecutive_rows(data, f.offset, f.count, f.cmd->count("--count") > 0);
  const std::size_t count = rows.size();
  const Binarize binarize = evaluation_binarization(f.data.binarize, f.model_path);
  const std::size_t dim = data.dim;
  const std::vector<float> truth = gather_rows(data, rows, binarize, f.seed);
  const ConstMatrix truth_m{truth.data(), count, dim};

  // Masks, noise and chains are keyed by the datapoint's index in the data:
  // its result does not depend on which others are chosen.
  std::vector<std::uint8_t> seen;
  if (masked) {
    seen.resize(count * dim);
    for (std::size_t r = 0; r < count; ++r) mask.fill_seen(std::size_t(channels), f.seed, rows[r], &seen[r * dim]);
  }
  const std::uint8_t* seen_or_all = masked ? seen.data() : nullptr;  // also which values are scored
  std::vector<float> input = truth;
  if (f.denoise > 0) add_gaussian_noise({input.data(), count, dim}, f.denoise, f.seed, f.offset);
  const ConstMatrix input_m{input.data(), count, dim};
  const Inpainting result = inpaint(model, input_m, seen_or_all, options, f.offset);

  // Inpainting keeps the pixels seen; denoising replaces every value by
  // E[x_clean | x]. Per datapoint the grid shows the completion, then the
  // single-sample ones, completed the same way.
  const auto complete = [&](std::size_t r, const float* images) {
    return f.denoise > 0 ? std::vector<float>(images, images + dim)
                         : fill_hidden({input.data() + r * dim, 1, dim}, {images, 1, dim},
                                       masked ? &seen[r * dim] : nullptr);
  };
  std::vector<float> completion, tiles;
  for (std::size_t r = 0; r < count; ++r) {
    const std::vector<float> mean = complete(r, result.mean.data() + r * dim);
    completion.insert(completion.end(), mean.begin(), mean.end());
    tiles.insert(tiles.end(), mean.begin(), mean.end());
    for (std::size_t k = 0; k < options.kept; ++k) {
      const std::vector<float> one = complete(r, result.kept.data() + (r * options.kept + k) * dim);
      tiles.insert(tiles.end(), one.begin(), one.end());
    }
  }
  const std::size_t shown = 1 + options.kept;
  const viz::Image8 grid = viz::inpainting_grid(truth_m, input_m, seen_or_all, {tiles.data(), count * shown, dim},
                                                int(shown), h, w, channels, f.style);
  std::vector<std::pair<std::filesystem::path, std::string>> outputs = {{f.out, viz::encode_png(grid)}};
  if (!f.npy.empty()) {
    const std::size_t shape[] = {count, dim};
    outputs.emplace_back(f.npy, npy_bytes(completion, shape));
  }

  // Scores of the unknown values (the hidden ones, or all when denoising alone).
  const std::vector<float> mean_image = prior_mean_image(model, f.mean_draws, f.seed);
  const ConstMatrix completion_m{completion.data(), count, dim}, mean_m{mean_image.data(), 1, dim};
  const bool bernoulli = model.config().likelihood == Likelihood::bernoulli;
  nlohmann::json out = {{"model", f.model_path},
                        {"data", data.source},
                        {"offset", f.offset},
                        {"count", count},
                        {"binarize", std::string(to_string(binarize))},
                        {"mask", f.mask},
                        {"denoise", f.denoise},
                        {"scored", masked ? "hidden" : "all"},
                        {"samples", options.samples},
                        {"burn_in", options.burn_in},
                        {"leapfrog_steps", options.hmc.leapfrog_steps},
                        {"acceptance", result.acceptance},
                        {"mean_draws", f.mean_draws},
                        {"seed", f.seed}};
  out["squared_error"] = compare(hidden_squared_error(truth_m, completion_m, seen_or_all),
                                 hidden_squared_error(truth_m, mean_m, seen_or_all));
  if (bernoulli)
    out["log_likelihood"] = compare(hidden_log_likelihood(truth_m, completion_m, seen_or_all),
                                    hidden_log_likelihood(truth_m, mean_m, seen_or_all));
  if (f.denoise > 0 && !masked)
    out["squared_error"]["noisy_input"] = summarize(hidden_squared_error(truth_m, input_m, nullptr)).mean;
  write_outputs(outputs);
  if (f.json) {
    std::printf("%s\n", out.dump(2).c_str());
    return;
  }
  char noise[64] = "";
  if (f.denoise > 0) std::snprintf(noise, sizeof noise, ", noise sd %g", f.denoise);
  std::printf("wrote %s: datapoints %zu to %zu of %s (binarization %s), mask %s%s; per row the original, the "
              "input, the completion and %zu single-sample completion%s (%s)\n",
              f.out.c_str(), f.offset, f.offset + count - 1, data.source.c_str(), to_string(binarize).data(),
              f.mask.c_str(), noise, options.kept, options.kept == 1 ? "" : "s", pixel_size(grid).c_str());
  if (!f.npy.empty()) std::printf("wrote %s: the completions, float32 [%zu, %zu]\n", f.npy.c_str(), count, dim);
  const char* scored = masked ? "hidden values" : "values";
  const auto line = [&](const char* what, const nlohmann::json& s, const char* better) {
    std::printf("  %s of the %s: completion %.4f, mean image %.4f; difference %.4f +- %.4f (%s is better)\n", what,
                scored, s["completion"].get<double>(), s["mean_image"].get<double>(), s["difference"].get<double>(),
                s["difference_stderr"].get<double>(), better);
  };
  if (bernoulli) line("per-value log-likelihood", out["log_likelihood"], "higher");
  line("squared error", out["squared_error"], "lower");
  if (out["squared_error"].contains("noisy_input"))
    std::printf("  squared error of the noisy input: %.4f\n", out["squared_error"]["noisy_input"].get<double>());
  std::printf("  HMC: %zu samples after %zu burn-in transitions of %zu leapfrog steps, acceptance %.2f\n",
              options.samples, options.burn_in, options.hmc.leapfrog_steps, result.acceptance);
}

}  // namespace

void add_inpaint_command(CLI::App& app) {
  auto flags = std::make_shared<InpaintFlags>();
  flags->options.kept = 2;
  CLI::App* cmd = app.add_subcommand("inpaint", "fill hidden pixels (or remove noise) given the pixels seen");
  cmd->footer(
      "Marginal inference (Kingma & Welling 2013, sec. 2.1). --mask hides pixels of each input: top, bottom, left, "
      "right (that half), center, rect:R0:C0:R1:C1 (rows R0..R1-1, columns C0..C1-1), random:FRACTION (per "
      "datapoint, from --seed). HMC samples z from p(z | the pixels seen), the likelihood over those pixels only; "
      "the completion is the mean of E[x|z] over the samples. --denoise SD adds N(0, SD^2) noise to the inputs "
      "and infers with the likelihood's variance increased by SD^2 (Gaussian models). Each grid row: original, "
      "input (hidden pixels in blue), completion, then --show single-sample completions.");
  flags->cmd = cmd;
  cmd->add_option("--model", flags->model_path, "model file (model.safetensors)")->required();
  flags->data.add_to(*cmd, "test");
  cmd->add_option("--mask", flags->mask, "pixels to hide: top, bottom, left, right, center, rect:R0:C0:R1:C1, "
                                         "random:FRACTION, none")
      ->capture_default_str();
  cmd->add_option("--denoise", flags->denoise, "standard deviation of Gaussian noise to add and remove (0: none)")
      ->capture_default_str();
  cmd->add_option("--count", flags->count, "number of datapoints (default: 16, or as many as there are)")
      ->capture_default_str();
  cmd->add_option("--offset", flags->offset, "index of the first datapoint")->capture_default_str();
  cmd->add_option("--samples", flags->options.samples, "posterior samples per datapoint that the completion averages")
      ->capture_default_str();
  cmd->add_option("--burn-in", flags->options.burn_in, "HMC transitions before the samples (step sizes adapt only here)")
      ->capture_default_str();
  cmd->add_option("--leapfrog", flags->options.hmc.leapfrog_steps, "leapfrog steps per HMC transition")
      ->capture_default_str();
  cmd->add_option("--start-draws", flags->options.start_draws,
                  "prior draws per datapoint, the best of which starts its chain")
      ->capture_default_str();
  cmd->add_option("--show", flags->options.kept, "single-sample completions per grid row, beside the mean")
      ->capture_default_str();
  cmd->add_option("--mean-draws", flags->mean_draws, "prior draws for the unconditional mean image (the baseline)")
      ->capture_default_str();
  cmd->add_option("--seed", flags->seed, "seed of the binarization sample, the masks, the noise and the chains")
      ->capture_default_str();
  add_grid_options(*cmd, flags->style, false);
  cmd->add_option("--out", flags->out, "PNG file to write")->required();
  cmd->add_option("--npy", flags->npy, "also write the completions as NPY float32 [count, input_dim]");
  cmd->add_flag("--json", flags->json, "print the scores as JSON");
  add_threads_option(*cmd, flags->threads);
  cmd->callback([flags] { run_inpaint(*flags); });
}

}  // namespace aevb::cli
