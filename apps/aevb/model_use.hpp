#pragma once
// What the commands that use a trained model share (sample, reconstruct,
// manifold, interpolate, encode, decode): the image options, encoding chosen
// datapoints to their posterior, decoding latent codes, picking datapoints by
// index, and writing several outputs so that a failure leaves none behind.
#include <aevb/data.hpp>
#include <aevb/vae.hpp>

#include "common.hpp"
#include "viz/image_grid.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace aevb::cli {

/// --scale (and --columns when `with_columns`) into `style`.
void add_grid_options(CLI::App& app, viz::GridStyle& style, bool with_columns);

/// q(z|x) of chosen datapoints: means and variances, [rows, latent] each.
struct Posterior {
  std::size_t rows = 0, latent = 0;
  std::vector<float> mean, variance;
};

/// Encodes datapoints `rows` of `data` (binarized as `binarize` with `seed`;
/// dynamic means the fixed sample, as for evaluation), in chunks. `inputs`,
/// when given, receives the encoder's inputs [rows, dim]. The values of a
/// datapoint depend only on its index in `data`, never on which others are chosen.
Posterior encode_rows(const Vae& model, const Dataset& data, std::span<const std::uint32_t> rows, Binarize binarize,
                      std::uint64_t seed, std::vector<float>* inputs = nullptr);

/// The indices offset .. offset + count - 1 of `data` (reconstruct's and
/// inpaint's --offset and --count): InputError for an offset out of range;
/// a count beyond the data shrinks to what it holds when it was the default
/// (`count_given` false), and is InputError when given.
std::vector<std::uint32_t> consecutive_rows(const Dataset& data, std::size_t offset, std::size_t count,
                                            bool count_given);

/// Datapoints `rows` of `data` as floats [rows, dim], binarized as
/// encode_rows does: dynamic means the fixed sample.
std::vector<float> gather_rows(const Dataset& data, std::span<const std::uint32_t> rows, Binarize binarize,
                               std::uint64_t seed);

/// E[x|z] of each row of z ([n, latent]), in chunks: [n, input_dim].
std::vector<float> decode_rows(const Vae& model, std::span<const float> z);

/// Datapoint `index` of a set of `count` (named `source`), or InputError naming
/// the flag: "--from 25: out of range, DATA has 20 datapoints (0 to 19)".
std::uint32_t checked_index(std::size_t index, std::size_t count, const std::string& flag, const std::string& source);

/// Throws InputError naming the file and `command` when the model has no
/// encoder (a decoder-only model, trained by mcem).
void require_encoder(const Vae& model, const std::string& model_path, const std::string& command);
/// Throws InputError naming the file and `command` when the model is
/// conditioned on a label (the cvae family), which `command` does not give its decoder.
void require_unconditional(const Vae& model, const std::string& model_path, const std::string& command);

/// The model's image shape, for a command that draws one.
ImageShape image_size(const Vae& model, const std::string& command);

/// Writes every (path, bytes) atomically. When one fails, the files written
/// before it in this call are removed again, and the InputError propagates.
void write_outputs(const std::vector<std::pair<std::filesystem::path, std::string>>& outputs);

/// "WxH pixels" of a grid, for the line that says what was written.
std::string pixel_size(const viz::Image8& image);

}  // namespace aevb::cli
