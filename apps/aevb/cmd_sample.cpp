// aevb sample and aevb manifold: images decoded from chosen latent points,
// no data needed. sample draws z ~ p(z) (per cluster for a model with
// clusters, given a class for a conditional one); manifold decodes the
// paper's Fig. 4 grid (a unit square through the inverse Gaussian CDF).
#include "code_prior_use.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "model_use.hpp"

#include "eval/latent_grid.hpp"
#include "io/model_file.hpp"
#include "viz/image_grid.hpp"
#include "viz/png.hpp"

#include <cstdio>
#include <memory>
#include <optional>
#include <string>

namespace aevb::cli {
namespace {

constexpr std::size_t kMaxImages = 100000;

struct SampleFlags {
  std::string model_path, out, prior_path;
  std::size_t count = 64;
  std::uint64_t seed = 1;
  viz::GridStyle style;
  int threads = 0;
  bool assume_normal_prior = false;
  std::size_t per_cluster = 10, per_class = 10;
  std::size_t label = 0;  // --class
  CLI::App* cmd = nullptr;
};

// A grid of one row per group y (a cluster, or a conditional model's class):
// n samples of each, drawn by draw(y, out).
template <class Draw>
void sample_per_group(const SampleFlags& f, const Vae& model, std::size_t groups, std::size_t n, const char* flag,
                      Draw draw, const char* what) {
  const std::size_t dim = model.config().input_dim;
  if (n == 0 || n * groups > kMaxImages)
    throw InputError(std::string(flag) + " " + std::to_string(n) + ": expected 1 to " +
                     std::to_string(kMaxImages / groups));
  const auto [h, w, channels] = image_size(model, "sample");
  std::vector<float> x(groups * n * dim);
  for (std::size_t y = 0; y < groups; ++y) draw(y, Matrix{x.data() + y * n * dim, n, dim});
  viz::GridStyle style = f.style;
  style.columns = int(n);
  const viz::Image8 grid = viz::sample_grid({x.data(), groups * n, dim}, h, w, channels, style);
  write_outputs({{f.out, viz::encode_png(grid)}});
  std::printf("wrote %s: %zu samples of each of %zu %s, seed %llu (%s)\n", f.out.c_str(), n, groups, what,
              static_cast<unsigned long long>(f.seed), pixel_size(grid).c_str());
}

// A model with clusters: one row per cluster, z ~ p(z|y) decoded.
void sample_per_cluster(const SampleFlags& f, const Vae& model) {
  if (f.cmd->count("--count") > 0)
    throw InputError("sample: " + f.model_path + " has clusters; it draws --per-cluster N of each cluster, one row "
                     "per cluster (--count is for models without)");
  const auto draw = [&](std::size_t y, Matrix out) { model.sample_cluster(y, f.seed, out); };
  sample_per_group(f, model, model.clusters(), f.per_cluster, "--per-cluster", draw,
                   "clusters, E[x|z] at z ~ p(z|y) (row y: cluster y)");
}

// A conditional model: --count samples of --class Y, or a row of
// --per-class N for each class; z ~ N(0, I) decoded by p(x|z, y).
void sample_conditional(const SampleFlags& f, const Vae& model) {
  const auto draw = [&](std::size_t y, Matrix out) { model.sample_class(y, f.seed, out); };
  if (f.cmd->count("--class") == 0) {
    if (f.cmd->count("--count") > 0)
      throw InputError("sample: " + f.model_path + " is conditioned on a class: give --class Y with --count, or "
                       "--per-class N for a row of each class");
    sample_per_group(f, model, model.classes(), f.per_class, "--per-class", draw,
                     "classes, E[x|z, y] at z ~ N(0, I) (row y: class y)");
    return;
  }
  if (f.cmd->count("--per-class") > 0)
    throw InputError("sample: give --class Y (with --count) or --per-class N (a row of each class), not both");
  if (f.label >= model.classes())
    throw InputError("--class " + std::to_string(f.label) + ": " + f.model_path + " is conditioned on " +
                     std::to_string(model.classes()) + " classes (0 to " + std::to_string(model.classes() - 1) + ")");
  const auto [h, w, channels] = image_size(model, "sample");
  const std::size_t dim = model.config().input_dim;
  std::vector<float> x(f.count * dim);
  draw(f.label, {x.data(), f.count, dim});
  const viz::Image8 grid = viz::sample_grid({x.data(), f.count, dim}, h, w, channels, f.style);
  write_outputs({{f.out, viz::encode_png(grid)}});
  std::printf("wrote %s: %zu samples E[x|z, y = %zu], z ~ N(0, I), seed %llu (%s)\n", f.out.c_str(), f.count,
              f.label, static_cast<unsigned long long>(f.seed), pixel_size(grid).c_str());
}

void run_sample(const SampleFlags& f) {
  if (f.count == 0 || f.count > kMaxImages)
    throw InputError("--count " + std::to_string(f.count) + ": expected 1 to " + std::to_string(kMaxImages));
  set_threads(f.threads);
  const Vae model = load_model(f.model_path);
  if (model.clusters() > 0 && !f.assume_normal_prior) return sample_per_cluster(f, model);
  if (model.classes() > 0) {
    if (f.assume_normal_prior)
      throw InputError("--assume-normal-prior is for a family without a prior; " + f.model_path +
                       " has p(z) = N(0, I) and draws with --class Y");
    return sample_conditional(f, model);
  }
  if (f.cmd->count("--class") > 0 || f.cmd->count("--per-class") > 0)
    throw InputError("--class and --per-class draw from a conditional model (--family cvae); " + f.model_path +
                     " is a " + model.config().family + " model");
  if (!model.has_prior() && !f.assume_normal_prior)
    throw InputError("sample: the " + model.config().family + " family has no prior p(z) to sample from "
                     "(--assume-normal-prior decodes z ~ N(0, I) anyway, which shows why it does not generate)");
  const auto [h, w, channels] = image_size(model, "sample");
  std::vector<float> x(f.count * model.config().input_dim);
  std::optional<CodePrior> prior;
  if (model.code_grid().codes > 0)
    prior = find_code_prior(model, f.model_path, f.prior_path);
  else if (!f.prior_path.empty())
    throw InputError("sample: --prior is a code prior; " + f.model_path + " is a " + model.config().family +
                     " model, which has no codebook");
  if (f.assume_normal_prior) {
    model.decode_standard_normal(f.seed, {x.data(), f.count, model.config().input_dim});
  } else if (prior) {
    std::vector<std::uint32_t> codes(f.count * model.code_grid().positions);
    prior->sample(f.count, f.seed, codes);
    model.decode_codes(codes, {x.data(), f.count, model.config().input_dim});
  } else {
    model.sample(f.seed, {x.data(), f.count, model.config().input_dim});
  }
  const viz::Image8 grid = viz::sample_grid({x.data(), f.count, model.config().input_dim}, h, w, channels, f.style);
  write_outputs({{f.out, viz::encode_png(grid)}});
  std::printf("wrote %s: %zu %s, seed %llu (%s)\n", f.out.c_str(), f.count,
              f.assume_normal_prior ? (model.has_prior() ? "decoded draws E[x|z], z ~ N(0, I)"
                                                         : "decoded draws E[x|z], z ~ N(0, I) (not the model's samples: "
                                                           "it has no prior)")
                                    : prior ? "samples E[x|z_q], z_q's codes from the code prior"
                                    : model.code_grid().codes > 0
                                        ? "samples E[x|z_q], z_q's codes uniform and independent (no code prior: "
                                          "aevb train-prior trains one)"
                                        : "prior samples E[x|z], z ~ p(z)",
              static_cast<unsigned long long>(f.seed), pixel_size(grid).c_str());
}

struct ManifoldFlags {
  std::string model_path, out, dims = "0,1";
  std::size_t steps = 20;
  viz::GridStyle style;
  int threads = 0;
};

// "i,j" -> (i, j); InputError otherwise.
std::pair<std::size_t, std::size_t> parse_dims(const std::string& text) {
  const std::size_t comma = text.find(',');
  auto number = [&](const std::string& part) {
    if (part.empty() || part.find_first_not_of("0123456789") != std::string::npos || part.size() > 9)
      throw InputError("--dims: expected two latent dimensions as 'i,j' (e.g. 0,1), found '" + text + "'");
    return static_cast<std::size_t>(std::stoul(part));
  };
  if (comma == std::string::npos) number("");
  return {number(text.substr(0, comma)), number(text.substr(comma + 1))};
}

void run_manifold(const ManifoldFlags& f) {
  if (f.steps == 0 || f.steps > 200) throw InputError("--steps " + std::to_string(f.steps) + ": expected 1 to 200");
  const auto [dim_x, dim_y] = parse_dims(f.dims);
  set_threads(f.threads);
  const Vae model = load_model(f.model_path);
  const auto [h, w, channels] = image_size(model, "manifold");
  require_unconditional(model, f.model_path, "manifold");
  const std::vector<float> z = manifold_latents(model.config().latent, f.steps, dim_x, dim_y);
  const std::vector<float> x = decode_rows(model, z);
  const int steps = static_cast<int>(f.steps);
  const viz::Image8 grid = viz::manifold_grid({x.data(), f.steps * f.steps, model.config().input_dim}, steps, steps,
                                              h, w, channels, f.style);
  write_outputs({{f.out, viz::encode_png(grid)}});
  std::printf("wrote %s: %zux%zu latent manifold over z_%zu (left to right) and z_%zu (bottom to top), "
              "other dimensions 0 (%s)\n",
              f.out.c_str(), f.steps, f.steps, dim_x, dim_y, pixel_size(grid).c_str());
}

}  // namespace

void add_sample_command(CLI::App& app) {
  auto flags = std::make_shared<SampleFlags>();
  CLI::App* cmd = app.add_subcommand(
      "sample", "prior samples as an image grid");
  flags->cmd = cmd;
  cmd->footer(
      "Draws z ~ p(z) (N(0, I) for the paper's VAE) and shows E[x|z], the decoder's mean (Bernoulli probabilities "
      "or the Gaussian mean), not a sample of p(x|z). The same --seed gives the same samples; a larger --count "
      "extends them. A model with clusters draws z ~ p(z|y) for each cluster y, one row per cluster; a conditional "
      "model (--family cvae) decodes z ~ N(0, I) given the class, --class Y or a row per class.");
  cmd->add_option("--model", flags->model_path, "model file (model.safetensors)")->required();
  cmd->add_option("--count", flags->count, "number of samples")->capture_default_str();
  cmd->add_option("--per-cluster", flags->per_cluster, "a model with clusters: samples of each cluster (a row each)")
      ->capture_default_str();
  cmd->add_option("--class", flags->label, "a conditional model (--family cvae): --count samples of class Y")
      ->capture_default_str();
  cmd->add_option("--per-class", flags->per_class,
                  "a conditional model without --class: samples of each class (a row each)")
      ->capture_default_str();
  cmd->add_option("--seed", flags->seed, "seed of the prior draws (same seed, same samples)")->capture_default_str();
  cmd->add_option("--prior", flags->prior_path,
                  "a vq model's code prior (default: prior.safetensors beside the model, if there; without one, "
                  "codes are drawn uniformly, the prior the model was trained with)");
  cmd->add_flag("--assume-normal-prior", flags->assume_normal_prior,
                "decode z ~ N(0, I) even for a family without a prior (the autoencoder): what sampling it as if it "
                "were a VAE gives");
  add_grid_options(*cmd, flags->style, true);
  cmd->add_option("--out", flags->out, "PNG file to write")->required();
  add_threads_option(*cmd, flags->threads);
  cmd->callback([flags] { run_sample(*flags); });
}

void add_manifold_command(CLI::App& app) {
  auto flags = std::make_shared<ManifoldFlags>();
  CLI::App* cmd = app.add_subcommand(
      "manifold", "the learned data manifold (the paper's Fig. 4) as an image grid");
  cmd->footer(
      "A steps x steps grid of the open unit square, cell centres ((k + 0.5) / steps), is mapped through the "
      "inverse Gaussian CDF to values of two latent dimensions (--dims; the others are 0, the prior mean) and "
      "decoded to E[x|z]. z_i grows left to right, z_j bottom to top.");
  cmd->add_option("--model", flags->model_path, "model file (model.safetensors)")->required();
  cmd->add_option("--steps", flags->steps, "grid points per side (1 to 200)")->capture_default_str();
  cmd->add_option("--dims", flags->dims,
                  "the two latent dimensions that vary, 'i,j': z_i left to right, z_j bottom to top")
      ->capture_default_str();
  add_grid_options(*cmd, flags->style, false);
  cmd->add_option("--out", flags->out, "PNG file to write")->required();
  add_threads_option(*cmd, flags->threads);
  cmd->callback([flags] { run_manifold(*flags); });
}

}  // namespace aevb::cli
