#pragma once
// What the subcommands share: data and model options, and the checks that a
// model fits the data. The CLI stays thin: every computation is in the library.
#include <aevb/data.hpp>
#include <aevb/vae.hpp>

#include <CLI/CLI.hpp>

#include <filesystem>
#include <string>

namespace aevb::cli {

/// --data, --split, --limit, --binarize, --scaling, --grey.
struct DataOptions {
  std::string data;
  std::string split = "train";
  std::size_t limit = 0;  // 0: all
  std::string binarize;   // empty: the command's default
  std::string scaling = "unit";
  bool grey = false;      // colour images read as grey

  void add_to(CLI::App& app, const std::string& default_split, bool with_binarize = true);
  /// The dataset (limited), or InputError.
  Dataset load() const;
};

/// Binarization a model was trained with, from its file's metadata ("none" if absent).
Binarize trained_binarization(const std::filesystem::path& model_path);

/// How evaluation data is binarized: explicit, else a fixed seeded sample when
/// the model was trained on binarized data (the literature's test sets), else none.
Binarize evaluation_binarization(const std::string& flag, const std::filesystem::path& model_path);

/// InputError unless `model` takes datapoints of `data`'s size and, when both
/// have an image shape, of its channels, height and width.
void require_fit(const Vae& model, const Dataset& data, const std::string& model_path);


/// Image shape of the model's datapoints, for drawing them.
struct ImageShape {
  int height = 0, width = 0;
  int channels = 1;  // 1 (grey) or 3 (RGB)
};
/// InputError when the model has no image shape or one that figures cannot draw.
ImageShape image_shape(const ModelConfig& config, const std::string& what);

/// A table written to a file: the extension picks the format.
enum class TableFormat { npy, csv };
/// InputError naming `flag` unless the path ends in .npy or .csv.
TableFormat format_of(const std::filesystem::path& path, const std::string& flag);

/// Writes bytes atomically, creating the parent folder.
void write_output(const std::filesystem::path& path, std::string_view bytes);

/// --threads: 0 = all cores.
void add_threads_option(CLI::App& app, int& threads);

}  // namespace aevb::cli
