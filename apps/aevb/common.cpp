#include "common.hpp"

#include "io/atomic_file.hpp"
#include "io/model_file.hpp"
#include "world.hpp"

namespace aevb::cli {

void DataOptions::add_to(CLI::App& app, const std::string& default_split, bool with_binarize) {
  split = default_split;
  app.add_option("--data", data, "dataset: mnist, fashion-mnist, frey, or a file/folder (IDX, NPY, CSV, PNGs)")
      ->required();
  app.add_option("--split", split, "train or test (named datasets)")->capture_default_str();
  app.add_option("--limit", limit, "use only the first N datapoints (0: all)");
  app.add_option("--scaling", scaling, "float data: unit (values in [0,1]), minmax, none")->capture_default_str();
  app.add_flag("--grey", grey, "read colour images as grey (Rec. 709 luminance)");
  if (with_binarize) app.add_option("--binarize", binarize, "none, dynamic or fixed");
}

Dataset DataOptions::load() const {
  LoadOptions options;
  options.scaling = parse_scaling(scaling);
  options.color = grey ? ColorMode::grey : ColorMode::keep;
  Dataset d = resolve_dataset(data, parse_split(split), {}, options);
  return limit > 0 ? first_rows(d, limit) : d;
}

Binarize trained_binarization(const std::filesystem::path& model_path) {
  const ModelFileInfo info = inspect_model(model_path);
  const auto it = info.metadata.find("binarize");
  if (it == info.metadata.end()) return Binarize::none;
  try {
    return parse_binarize(it->second);
  } catch (const InputError& e) {
    // The bad name is in the file, not on the command line: say which file.
    throw InputError(model_path.string() + ": metadata \"binarize\": " + e.what());
  }
}

Binarize evaluation_binarization(const std::string& flag, const std::filesystem::path& model_path) {
  if (!flag.empty()) return parse_binarize(flag);
  return trained_binarization(model_path) == Binarize::none ? Binarize::none : Binarize::fixed;
}

void require_fit(const Vae& model, const Dataset& data, const std::string& model_path) {
  const ModelConfig& c = model.config();
  // Equal sizes can still be different images: 3 channels of 8x8 and 1 of 8x24 are both 192 values.
  const bool images = c.image_height > 0 && data.is_image();
  const bool same_image = !images || (c.image_channels == data.channels && c.image_height == data.height &&
                                      c.image_width == data.width);
  if (c.input_dim == data.dim && same_image) return;
  const bool colour = c.image_channels != 1 || data.channels != 1;  // then both sides say their channels
  auto shape = [colour](std::size_t dim, std::size_t channels, std::size_t h, std::size_t w) {
    if (h == 0) return std::to_string(dim);
    const std::string planes =
        colour ? std::to_string(channels) + (channels == 1 ? " channel of " : " channels of ") : "";
    return std::to_string(dim) + " (" + planes + std::to_string(h) + "x" + std::to_string(w) + ")";
  };
  std::string hint;
  if (images && c.image_height == data.height && c.image_width == data.width && c.image_channels != data.channels)
    hint = c.image_channels == 1 ? "; the model takes grey images: read these as grey with --grey"
           : data.source.find("colour read as grey") != std::string::npos
               ? "; the model takes colour images: read these without --grey"
               : "; the model takes colour images, and this data is grey";
  throw InputError("model " + model_path + " expects " +
                   shape(c.input_dim, c.image_channels, c.image_height, c.image_width) +
                   " values per datapoint, but " + data.source + " has " +
                   shape(data.dim, data.channels, data.height, data.width) + hint);
}

ImageShape image_shape(const ModelConfig& config, const std::string& what) {
  if (config.image_height == 0)
    throw InputError(what + ": the model was trained on data without an image shape, so it cannot draw images");
  if (config.image_channels != 1 && config.image_channels != 3)
    throw InputError(what + ": the model's images have " + std::to_string(config.image_channels) +
                     " channels; figures draw 1 (grey) or 3 (RGB)");
  return {static_cast<int>(config.image_height), static_cast<int>(config.image_width),
          static_cast<int>(config.image_channels)};
}

TableFormat format_of(const std::filesystem::path& path, const std::string& flag) {
  const std::string ext = path.extension().string();
  if (ext == ".npy") return TableFormat::npy;
  if (ext == ".csv") return TableFormat::csv;
  throw InputError(flag + " " + path.string() + ": expected a file name ending in .npy or .csv");
}

void write_output(const std::filesystem::path& path, std::string_view bytes) {
  // Under mpirun rank 0 alone writes: every rank computed the same bytes.
  if (!World::get().writes()) return;
  if (path.has_parent_path()) ensure_directory(path.parent_path());
  write_file_atomic(path, bytes);
}

void add_threads_option(CLI::App& app, int& threads) {
  app.add_option("--threads", threads, "threads for BLAS and kernels (0: all cores)")->capture_default_str();
}

}  // namespace aevb::cli
