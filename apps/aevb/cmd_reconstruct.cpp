// aevb reconstruct and aevb interpolate: datapoints through the model. Both
// encode chosen inputs to their posterior mean mu(x) and decode latent points
// to E[x|z], without sampling, so the figures are deterministic.
#include "commands.hpp"
#include "common.hpp"
#include "model_use.hpp"

#include "eval/latent_grid.hpp"
#include "io/model_file.hpp"
#include "viz/image_grid.hpp"
#include "viz/png.hpp"

#include <cstdio>
#include <memory>
#include <string>

namespace aevb::cli {
namespace {

struct ReconstructFlags {
  std::string model_path, out, npy;
  DataOptions data;
  std::size_t count = 32, offset = 0;
  std::uint64_t seed = 1;
  viz::GridStyle style;
  int threads = 0;
  CLI::App* cmd = nullptr;
};

void run_reconstruct(const ReconstructFlags& f) {
  if (f.count == 0) throw InputError("--count must be at least 1");
  set_threads(f.threads);
  const Vae model = load_model(f.model_path);
  require_encoder(model, f.model_path, "reconstruct");
  require_unconditional(model, f.model_path, "reconstruct");
  const Dataset data = f.data.load();
  require_fit(model, data, f.model_path);
  const auto [h, w, channels] = image_size(model, "reconstruct");
  const std::vector<std::uint32_t> rows = consecutive_rows(data, f.offset, f.count, f.cmd->count("--count") > 0);
  const std::size_t count = rows.size();
  const Binarize binarize = evaluation_binarization(f.data.binarize, f.model_path);
  std::vector<float> inputs;
  const Posterior q = encode_rows(model, data, rows, binarize, f.seed, &inputs);
  const std::vector<float> recon = decode_rows(model, q.mean);
  const std::size_t dim = data.dim;
  const viz::Image8 grid =
      viz::reconstruction_grid({inputs.data(), count, dim}, {recon.data(), count, dim}, h, w, channels, f.style);
  std::vector<std::pair<std::filesystem::path, std::string>> outputs = {{f.out, viz::encode_png(grid)}};
  if (!f.npy.empty()) {
    const std::size_t shape[] = {count, dim};
    outputs.emplace_back(f.npy, npy_bytes(recon, shape));
  }
  write_outputs(outputs);
  std::printf("wrote %s: datapoints %zu to %zu of %s, binarization %s, beside E[x|z] at z = mu(x) (%s)\n",
              f.out.c_str(), f.offset, f.offset + count - 1, data.source.c_str(), to_string(binarize).data(),
              pixel_size(grid).c_str());
  if (!f.npy.empty()) std::printf("wrote %s: the reconstructions, float32 [%zu, %zu]\n", f.npy.c_str(), count, dim);
}

struct InterpolateFlags {
  std::string model_path, out;
  DataOptions data;
  std::vector<std::size_t> from, to;
  std::size_t steps = 10;
  std::string path = "linear";
  std::uint64_t seed = 1;
  viz::GridStyle style;
  int threads = 0;
};

void run_interpolate(const InterpolateFlags& f) {
  if (f.from.size() != f.to.size())
    throw InputError("--from and --to: expected as many of one as of the other, found " +
                     std::to_string(f.from.size()) + " and " + std::to_string(f.to.size()));
  if (f.steps < 2 || f.steps > 200) throw InputError("--steps " + std::to_string(f.steps) + ": expected 2 to 200");
  set_threads(f.threads);
  const Vae model = load_model(f.model_path);
  require_encoder(model, f.model_path, "interpolate");
  require_unconditional(model, f.model_path, "interpolate");
  const Dataset data = f.data.load();
  require_fit(model, data, f.model_path);
  const auto [h, w, channels] = image_size(model, "interpolate");
  const std::size_t pairs = f.from.size();
  // Rows 2p and 2p + 1 are pair p's end points.
  std::vector<std::uint32_t> rows;
  for (std::size_t p = 0; p < pairs; ++p) {
    rows.push_back(checked_index(f.from[p], data.count, "--from", data.source));
    rows.push_back(checked_index(f.to[p], data.count, "--to", data.source));
  }
  const Binarize binarize = evaluation_binarization(f.data.binarize, f.model_path);
  const Posterior q = encode_rows(model, data, rows, binarize, f.seed);
  const std::size_t nz = q.latent;
  std::vector<float> z;
  for (std::size_t p = 0; p < pairs; ++p) {
    const std::span<const float> a(q.mean.data() + 2 * p * nz, nz), b(q.mean.data() + (2 * p + 1) * nz, nz);
    const std::vector<float> line =
        interpolation_latents(a, b, f.steps, f.path == "slerp" ? Interpolation::spherical : Interpolation::linear);
    z.insert(z.end(), line.begin(), line.end());
  }
  const std::vector<float> x = decode_rows(model, z);
  const viz::Image8 grid = viz::interpolation_grid({x.data(), pairs * f.steps, data.dim}, static_cast<int>(pairs),
                                                   static_cast<int>(f.steps), h, w, channels, f.style);
  write_outputs({{f.out, viz::encode_png(grid)}});
  std::printf("wrote %s: %zu interpolation%s of %zu steps between posterior means of %s (%s)\n", f.out.c_str(),
              pairs, pairs == 1 ? "" : "s", f.steps, data.source.c_str(), pixel_size(grid).c_str());
}

}  // namespace

void add_reconstruct_command(CLI::App& app) {
  auto flags = std::make_shared<ReconstructFlags>();
  CLI::App* cmd = app.add_subcommand(
      "reconstruct", "datapoints beside their reconstructions, as an image grid");
  cmd->footer(
      "Each input x, as the encoder sees it (binarized with a fixed seeded sample when the model was trained on "
      "binarized data, unless --binarize says otherwise), is followed by its reconstruction: E[x|z] decoded at "
      "the posterior mean z = mu(x), without sampling.");
  flags->cmd = cmd;
  cmd->add_option("--model", flags->model_path, "model file (model.safetensors)")->required();
  flags->data.add_to(*cmd, "test");
  cmd->add_option("--count", flags->count, "number of datapoints (default: 32, or as many as there are)")
      ->capture_default_str();
  cmd->add_option("--offset", flags->offset, "index of the first datapoint")->capture_default_str();
  cmd->add_option("--seed", flags->seed, "seed of the fixed binarization sample")->capture_default_str();
  add_grid_options(*cmd, flags->style, true);
  cmd->add_option("--out", flags->out, "PNG file to write")->required();
  cmd->add_option("--npy", flags->npy, "also write the reconstructions E[x|z] as NPY float32 [count, input_dim]");
  add_threads_option(*cmd, flags->threads);
  cmd->callback([flags] { run_reconstruct(*flags); });
}

void add_interpolate_command(CLI::App& app) {
  auto flags = std::make_shared<InterpolateFlags>();
  CLI::App* cmd = app.add_subcommand(
      "interpolate", "decode a line (straight or spherical) between two datapoints' latent codes");
  cmd->footer(
      "Encodes datapoints --from and --to to their posterior means and decodes E[x|z] at --steps evenly spaced "
      "points of the path between them, end points included: a straight line, or with --path slerp the spherical "
      "interpolation (White 2016), which keeps the norm near the ends' as N(0, I)'s mass is. One grid row per --from/--to pair: repeat both "
      "(--from 0 --to 1 --from 2 --to 3) or give lists (--from 0,2 --to 1,3).");
  cmd->add_option("--model", flags->model_path, "model file (model.safetensors)")->required();
  flags->data.add_to(*cmd, "test");
  cmd->add_option("--from", flags->from, "index of the start datapoint (repeat for several rows)")
      ->required()
      ->delimiter(',');
  cmd->add_option("--to", flags->to, "index of the end datapoint (one per --from)")->required()->delimiter(',');
  cmd->add_option("--steps", flags->steps, "images per row, end points included (2 to 200)")->capture_default_str();
  cmd->add_option("--path", flags->path, "linear or slerp")
      ->check(CLI::IsMember({"linear", "slerp"}))
      ->capture_default_str();
  cmd->add_option("--seed", flags->seed, "seed of the fixed binarization sample")->capture_default_str();
  add_grid_options(*cmd, flags->style, false);
  cmd->add_option("--out", flags->out, "PNG file to write")->required();
  add_threads_option(*cmd, flags->threads);
  cmd->callback([flags] { run_interpolate(*flags); });
}

}  // namespace aevb::cli
