// aevb encode and aevb decode: the latent space as files. encode writes each
// datapoint's posterior q(z|x) = N(mu, diag(sigma^2)) (means and variances);
// decode turns latent codes from a file back into images E[x|z].
#include "commands.hpp"
#include "common.hpp"
#include "model_use.hpp"

#include "io/model_file.hpp"
#include "viz/image_grid.hpp"
#include "viz/png.hpp"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <numeric>
#include <string>

namespace aevb::cli {
namespace {

struct EncodeFlags {
  std::string model_path, out;
  DataOptions data;
  std::uint64_t seed = 1;
  int threads = 0;
};

void run_encode(const EncodeFlags& f) {
  const TableFormat format = format_of(f.out, "--out");
  set_threads(f.threads);
  const Vae model = load_model(f.model_path);
  require_encoder(model, f.model_path, "encode");
  const Dataset data = f.data.load();
  require_fit(model, data, f.model_path);
  const Binarize binarize = evaluation_binarization(f.data.binarize, f.model_path);
  std::vector<std::uint32_t> rows(data.count);
  std::iota(rows.begin(), rows.end(), 0u);
  const Posterior q = encode_rows(model, data, rows, binarize, f.seed);
  const std::size_t n = q.rows, nz = q.latent;
  // Per datapoint: the nz means, then the nz variances.
  std::vector<float> table(n * 2 * nz);
  for (std::size_t r = 0; r < n; ++r) {
    std::copy_n(q.mean.data() + r * nz, nz, table.data() + r * 2 * nz);
    std::copy_n(q.variance.data() + r * nz, nz, table.data() + r * 2 * nz + nz);
  }
  std::string bytes;
  if (format == TableFormat::npy) {
    const std::size_t shape[] = {n, 2, nz};
    bytes = npy_bytes(table, shape);
  } else {
    std::vector<std::string> header;
    for (std::size_t j = 0; j < nz; ++j) header.push_back("mu_" + std::to_string(j));
    for (std::size_t j = 0; j < nz; ++j) header.push_back("var_" + std::to_string(j));
    bytes = csv_bytes(table, 2 * nz, header);
  }
  write_outputs({{f.out, std::move(bytes)}});
  std::printf("wrote %s: posterior means and variances of %zu datapoints of %s (binarization %s), latent %zu\n",
              f.out.c_str(), n, data.source.c_str(), to_string(binarize).data(), nz);
}

struct DecodeFlags {
  std::string model_path, latents, out, npy;
  viz::GridStyle style;
  int threads = 0;
};

void run_decode(const DecodeFlags& f) {
  if (f.out.empty() && f.npy.empty()) throw InputError("decode: give --out FILE.png, --npy FILE.npy, or both");
  if (!f.out.empty() && f.out == f.npy) throw InputError("--out and --npy name the same file " + f.out);
  set_threads(f.threads);
  const Vae model = load_model(f.model_path);
  const std::size_t nz = model.config().latent, dim = model.config().input_dim;
  require_unconditional(model, f.model_path, "decode");
  const Table t = read_table(f.latents);
  // Latent codes, or aevb encode's output (means then variances): keep the means.
  if (t.cols != nz && t.cols != 2 * nz)
    throw InputError("--latents " + f.latents + ": expected " + std::to_string(nz) + " columns (latent codes) or " +
                     std::to_string(2 * nz) + " (aevb encode output: means, then variances), found " +
                     std::to_string(t.cols));
  std::vector<float> z(t.rows * nz);
  for (std::size_t r = 0; r < t.rows; ++r) std::copy_n(t.values.data() + r * t.cols, nz, z.data() + r * nz);
  const std::vector<float> x = decode_rows(model, z);

  std::vector<std::pair<std::filesystem::path, std::string>> outputs;
  std::string grid_size;
  if (!f.out.empty()) {
    const auto [h, w, channels] = image_size(model, "decode");
    const viz::Image8 grid = viz::tile_images({x.data(), t.rows, dim}, h, w, channels, f.style);
    grid_size = pixel_size(grid);
    outputs.emplace_back(f.out, viz::encode_png(grid));
  }
  if (!f.npy.empty()) {
    const std::size_t shape[] = {t.rows, dim};
    outputs.emplace_back(f.npy, npy_bytes(x, shape));
  }
  write_outputs(outputs);
  const char* what = t.cols == nz ? "latent codes" : "posterior means";
  if (!f.out.empty())
    std::printf("wrote %s: E[x|z] of %zu %s from %s (%s)\n", f.out.c_str(), t.rows, what, f.latents.c_str(),
                grid_size.c_str());
  if (!f.npy.empty())
    std::printf("wrote %s: E[x|z] of %zu %s, float32 [%zu, %zu]\n", f.npy.c_str(), t.rows, what, t.rows, dim);
}

}  // namespace

void add_encode_command(CLI::App& app) {
  auto flags = std::make_shared<EncodeFlags>();
  CLI::App* cmd = app.add_subcommand(
      "encode", "write the posterior means and variances of datapoints (NPY or CSV)");
  cmd->footer(
      "Writes each datapoint's posterior q(z|x) = N(mu, diag(var)), in the data's order. FILE.npy: float32 of "
      "shape [n, 2, latent], out[i][0] = the means, out[i][1] = the variances. FILE.csv: a header line "
      "mu_0,...,mu_{k-1},var_0,...,var_{k-1}, then one line per datapoint. aevb decode reads either back.");
  cmd->add_option("--model", flags->model_path, "model file (model.safetensors)")->required();
  flags->data.add_to(*cmd, "test");
  cmd->add_option("--seed", flags->seed, "seed of the fixed binarization sample")->capture_default_str();
  cmd->add_option("--out", flags->out, "output file: .npy or .csv (the extension picks the format)")->required();
  add_threads_option(*cmd, flags->threads);
  cmd->callback([flags] { run_encode(*flags); });
}

void add_decode_command(CLI::App& app) {
  auto flags = std::make_shared<DecodeFlags>();
  CLI::App* cmd = app.add_subcommand(
      "decode", "decode latent codes from a file to images (PNG grid and/or NPY)");
  cmd->footer(
      "The file (NPY, or CSV whose header line is skipped) holds one latent code per row with `latent` columns, "
      "or 2 * latent columns as aevb encode writes them (means, then variances: the means are decoded). Each "
      "code becomes E[x|z], the decoder's mean. Give --out, --npy or both.");
  cmd->add_option("--model", flags->model_path, "model file (model.safetensors)")->required();
  cmd->add_option("--latents", flags->latents, "NPY or CSV file of latent codes")->required();
  cmd->add_option("--out", flags->out, "PNG file to write (the image grid)");
  cmd->add_option("--npy", flags->npy, "also write the decoded means as NPY float32 [n, input_dim]");
  add_grid_options(*cmd, flags->style, true);
  add_threads_option(*cmd, flags->threads);
  cmd->callback([flags] { run_decode(*flags); });
}

}  // namespace aevb::cli
