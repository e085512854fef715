#include "model_use.hpp"

#include "common.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <system_error>

namespace aevb::cli {
namespace {

constexpr std::size_t kChunk = 1024;  // datapoints per encode/decode call

}  // namespace

void add_grid_options(CLI::App& app, viz::GridStyle& style, bool with_columns) {
  if (with_columns)
    app.add_option("--columns", style.columns, "tiles per row of the grid (0: a roughly square grid)")
        ->capture_default_str();
  app.add_option("--scale", style.scale, "enlarge the finished grid K times, 1 to 16 (nearest neighbour)")
      ->capture_default_str();
}

Posterior encode_rows(const Vae& model, const Dataset& data, std::span<const std::uint32_t> rows, Binarize binarize,
                      std::uint64_t seed, std::vector<float>* inputs) {
  const std::size_t nz = model.config().latent, dim = data.dim;
  // A conditional model's q(z|x, y) reads each datapoint's label after its values.
  const DataRows source = with_label_columns(data, model.classes());
  const std::size_t width = source.row_width();
  // Evaluation sees one fixed sample of binarized data, whatever the training did.
  const Binarize mode = binarize == Binarize::dynamic ? Binarize::fixed : binarize;
  Posterior p{rows.size(), nz, std::vector<float>(rows.size() * nz), std::vector<float>(rows.size() * nz)};
  if (inputs) inputs->assign(rows.size() * dim, 0.0f);
  std::vector<float> x(std::min(kChunk, rows.size()) * width);
  for (std::size_t first = 0; first < rows.size(); first += kChunk) {
    const std::size_t n = std::min(kChunk, rows.size() - first);
    gather_batch(source, rows.subspan(first, n), mode, seed, 0, x.data());
    float* mu = p.mean.data() + first * nz;
    float* var = p.variance.data() + first * nz;  // holds log sigma^2 until exponentiated below
    model.encode({x.data(), n, width}, {mu, n, nz}, {var, n, nz});
    for (std::size_t k = 0; k < n * nz; ++k) var[k] = std::exp(var[k]);
    if (inputs)
      for (std::size_t r = 0; r < n; ++r)
        std::copy_n(x.data() + r * width, dim, inputs->data() + (first + r) * dim);
  }
  return p;
}

std::vector<std::uint32_t> consecutive_rows(const Dataset& data, std::size_t offset, std::size_t count,
                                            bool count_given) {
  checked_index(offset, data.count, "--offset", data.source);
  // offset < data.count here; offset + count could wrap around for a huge count.
  if (count > data.count - offset) {
    if (count_given)
      throw InputError("--offset " + std::to_string(offset) + " --count " + std::to_string(count) +
                       ": out of range, " + data.source + " has " + std::to_string(data.count) + " datapoints");
    count = data.count - offset;
  }
  std::vector<std::uint32_t> rows(count);
  std::iota(rows.begin(), rows.end(), static_cast<std::uint32_t>(offset));
  return rows;
}

std::vector<float> gather_rows(const Dataset& data, std::span<const std::uint32_t> rows, Binarize binarize,
                               std::uint64_t seed) {
  std::vector<float> x(rows.size() * data.dim);
  gather_batch(data, rows, binarize == Binarize::dynamic ? Binarize::fixed : binarize, seed, 0, x.data());
  return x;
}

std::vector<float> decode_rows(const Vae& model, std::span<const float> z) {
  const std::size_t nz = model.config().latent, dim = model.config().input_dim;
  const std::size_t rows = z.size() / nz;
  std::vector<float> out(rows * dim);
  for (std::size_t first = 0; first < rows; first += kChunk) {
    const std::size_t n = std::min(kChunk, rows - first);
    model.decode({z.data() + first * nz, n, nz}, {out.data() + first * dim, n, dim});
  }
  return out;
}

std::uint32_t checked_index(std::size_t index, std::size_t count, const std::string& flag, const std::string& source) {
  if (index >= count) {
    throw InputError(flag + " " + std::to_string(index) + ": out of range, " + source + " has " +
                     std::to_string(count) + " datapoint" + (count == 1 ? "" : "s") +
                     (count > 0 ? " (0 to " + std::to_string(count - 1) + ")" : ""));
  }
  return static_cast<std::uint32_t>(index);
}

void require_encoder(const Vae& model, const std::string& model_path, const std::string& command) {
  if (model.config().decoder_only)
    throw InputError(command + " encodes datapoints with q(z|x); " + model_path +
                     " is decoder-only (trained by mcem) and has no encoder");
}

void require_unconditional(const Vae& model, const std::string& model_path, const std::string& command) {
  if (model.classes() > 0)
    throw InputError(command + " decodes z without a label, and " + model_path + " (the " + model.config().family +
                     " family) is conditioned on one of " + std::to_string(model.classes()) +
                     " classes: aevb sample --class Y draws from it, aevb eval and encode read the data's labels");
}

ImageShape image_size(const Vae& model, const std::string& command) {
  return image_shape(model.config(), command);
}

void write_outputs(const std::vector<std::pair<std::filesystem::path, std::string>>& outputs) {
  std::size_t done = 0;
  try {
    for (; done < outputs.size(); ++done) write_output(outputs[done].first, outputs[done].second);
  } catch (...) {
    for (std::size_t k = 0; k < done; ++k) {
      std::error_code ec;
      std::filesystem::remove(outputs[k].first, ec);
    }
    throw;
  }
}

std::string pixel_size(const viz::Image8& image) {
  return std::to_string(image.width) + "x" + std::to_string(image.height) + " pixels";
}

}  // namespace aevb::cli
