#pragma once
// Datasets: reading them (IDX, NPY, CSV, a folder of PNG images, short names
// such as `mnist`), binarizing them, cutting them into minibatches, and
// writing matrices back out (NPY, CSV). User-facing rules: docs/data.md.
//
// Every reader throws aevb::InputError with one line naming the file, what was
// expected and what was found. A header never makes us allocate more than the
// file can hold.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace aevb {

/// `count` datapoints of `dim` values in [0, 1] (unless loaded with
/// Scaling::none), stored compactly: bytes (value = byte / 255) when the
/// source is 8-bit, floats otherwise. Exactly one of the two is filled.
/// Colour images are planar (channels first, as PyTorch's NCHW): a row holds
/// all of channel 0 (red), then channel 1 (green), then channel 2 (blue), each
/// height x width values row-major; value p = (c * height + y) * width + x.
struct Dataset {
  std::size_t count = 0;
  std::size_t dim = 0;
  std::size_t height = 0, width = 0;  // image shape (channels * height * width == dim); 0 when unknown
  std::size_t channels = 1;           // 1 (grey) or 3 (RGB) for images; 1 when there is no image shape
  std::vector<std::uint8_t> bytes;    // count * dim, row-major, when is_bytes()
  std::vector<float> floats;          // count * dim, row-major, otherwise
  std::vector<std::int32_t> labels;   // count labels, or empty
  bool binary = false;                // every value is exactly 0 or 1
  std::string source;                 // what was read, for messages and reports

  bool is_bytes() const { return floats.empty(); }
  bool has_labels() const { return !labels.empty(); }
  bool is_image() const { return height > 0 && width > 0; }
  /// Value p of datapoint i as a float (bytes are divided by 255).
  float value(std::size_t i, std::size_t p) const {
    return is_bytes() ? static_cast<float>(bytes[i * dim + p]) / 255.0f : floats[i * dim + p];
  }
};

/// The rows of a dataset without owning them: what minibatches are gathered
/// from. A Dataset converts to it; so does memory owned elsewhere (a numpy
/// array in the Python module), which then must outlive the view. Exactly one
/// of `bytes` (value = byte / 255) and `floats` is set.
struct DataRows {
  const std::uint8_t* bytes = nullptr;
  const float* floats = nullptr;
  std::size_t count = 0, dim = 0;
  std::size_t height = 0, width = 0, channels = 1;  // as Dataset's
  bool binary = false;                              // every value is exactly 0 or 1
  /// For a conditional model (ModelConfig::classes): its K, and `count`
  /// labels in [0, K), each gathered as a one-hot row after the dim values.
  /// classes = 0: none. with_label_columns() sets both, checked.
  const std::int32_t* labels = nullptr;
  std::size_t classes = 0;

  DataRows() = default;
  DataRows(const Dataset& data)  // NOLINT(google-explicit-constructor): a Dataset is its rows
      : bytes(data.is_bytes() ? data.bytes.data() : nullptr),
        floats(data.is_bytes() ? nullptr : data.floats.data()),
        count(data.count),
        dim(data.dim),
        height(data.height),
        width(data.width),
        channels(data.channels),
        binary(data.binary) {}
  bool is_bytes() const { return floats == nullptr; }
  /// Values per gathered row: dim, then the one-hot label when classes > 0.
  std::size_t row_width() const { return dim + classes; }
};

/// data's rows with each row's one-hot label of `classes` classes gathered
/// after its values: what a conditional model (ModelConfig::classes) reads.
/// classes = 0 gives the plain rows. Throws InputError naming data.source
/// when it has no labels or one is outside [0, classes).
DataRows with_label_columns(const Dataset& data, std::size_t classes);
/// The classes data's labels name: 1 + the largest label. Throws InputError
/// naming data.source when it has no labels or a negative one.
std::size_t label_classes(const Dataset& data);

/// How float data maps to the [0, 1] that Bernoulli and sigmoid-mean decoders need.
enum class Scaling {
  unit,    // default: values must lie in [0, 1]; float data holding only integers 0..255 is read as bytes / 255
  minmax,  // float data is mapped linearly from its [min, max] to [0, 1]
  none,    // float values are kept as they are (any finite value; for Gaussian decoders without sigmoid mean)
};
std::string_view to_string(Scaling);
Scaling parse_scaling(std::string_view name);  // "unit" | "minmax" | "none"; throws InputError

/// What happens to colour images (PNG folders, NPY arrays with 3 or 4 channels).
enum class ColorMode {
  keep,  // default: colour stays 3 planar channels (RGB; alpha is dropped)
  grey,  // colour becomes 1 channel by Rec. 709 luminance (see rgb_to_grey)
};
std::string_view to_string(ColorMode);
ColorMode parse_color_mode(std::string_view name);  // "keep" | "grey"; throws InputError

struct LoadOptions {
  Scaling scaling = Scaling::unit;
  ColorMode color = ColorMode::keep;
};

// ---- Readers. Gzip-compressed files (detected by content, not by name) are
// ---- read transparently by all of them.

/// IDX images (magic 2051, uint8, [n, rows, cols]). Labels are not read.
Dataset read_idx_images(const std::filesystem::path& path);
/// IDX labels (magic 2049, uint8, [n]).
std::vector<std::int32_t> read_idx_labels(const std::filesystem::path& path);
/// NPY v1-v3, C order, dtype uint8 (kept as bytes), float32, float64, bool or
/// an integer type; shape [n, d], [n, h, w], [n, c, h, w] with c = 1 or 3
/// (planar, kept as stored), or else [n, h, w, c] with c = 1, 3 or 4
/// (interleaved, made planar; a 4th channel is alpha and is dropped). A second
/// axis of 1 or 3 always means channels first, whatever the last axis.
Dataset read_npy(const std::filesystem::path& path, const LoadOptions& options = {});
/// CSV: one datapoint per line, separated by ',' (or ';', tab, spaces). A
/// first line that is not all numbers is a header; a header column named
/// `label` (or `labels`, `class`, `target`) becomes the labels.
Dataset read_csv(const std::filesystem::path& path, const LoadOptions& options = {});
/// Every *.png directly inside `dir`, sorted by file name, as 8-bit values
/// (palette expanded, 16-bit scaled, alpha dropped: not composited). When any
/// image has colour (PNG colour type RGB or RGBA, or a palette with an entry
/// whose red, green and blue differ), every image is read as 3 planar
/// channels, grey images repeated in all three; otherwise as 1 channel.
/// ColorMode::grey reads every image as 1 channel, colour by rgb_to_grey.
/// All images must have the same size.
Dataset read_png_folder(const std::filesystem::path& dir, const LoadOptions& options = {});

/// A directory is a PNG folder; a file is recognised by its content (IDX, NPY,
/// else CSV). For IDX images, labels beside them (`...-images-idx3-...` ->
/// `...-labels-idx1-...`) are loaded when present.
Dataset load_dataset(const std::filesystem::path& path, const LoadOptions& options = {});

/// A matrix of numbers kept exactly as stored (no scaling or checks beyond
/// finiteness): latent codes for `aevb decode`. NPY (any supported dtype,
/// flattened to rows x cols) or CSV (header line skipped).
struct Table {
  std::size_t rows = 0, cols = 0;
  std::vector<float> values;  // rows * cols, row-major
};
Table read_table(const std::filesystem::path& path);

// ---- Short names: mnist, fashion-mnist, frey.

enum class Split { train, test };
std::string_view to_string(Split);
Split parse_split(std::string_view name);  // "train" | "test"

bool is_dataset_name(std::string_view name);  // mnist, fashion-mnist, frey

/// Where short names are looked up, in order: each entry of $AEVB_DATA_DIR
/// (':'-separated), ./data, ../shared/data, then `extra_dirs`.
std::vector<std::filesystem::path> data_search_path(std::span<const std::filesystem::path> extra_dirs = {});

struct DataFiles {
  std::filesystem::path images, labels;  // labels empty when the set has none (frey)
};
/// The files of a named set in the first directory of `search_path` that has
/// them (`<dir>/mnist/train-images-idx3-ubyte.gz`, or without .gz). Throws
/// InputError listing every directory looked in. `frey` has no test split.
DataFiles locate_dataset(std::string_view name, Split split, std::span<const std::filesystem::path> search_path);

/// A short name (looked up in data_search_path(extra_dirs)), or a path given to
/// load_dataset (then `split` is not used: the file is the data).
Dataset resolve_dataset(std::string_view name_or_path, Split split,
                        std::span<const std::filesystem::path> extra_dirs = {}, const LoadOptions& options = {});

// ---- Binarization.

enum class Binarize {
  none,     // grey values as they are
  dynamic,  // a fresh Bernoulli sample every epoch ("dynamically binarized MNIST")
  fixed,    // one seeded sample, the same every epoch
};
std::string_view to_string(Binarize);
Binarize parse_binarize(std::string_view name);  // "none" | "dynamic" | "fixed"

/// The binarize-stream index of the fixed sample (dynamic uses index = epoch).
inline constexpr std::uint64_t kFixedBinarizeIndex = (std::uint64_t{1} << 48) - 1;

/// Replaces the values by the fixed sample (bytes 0/255, binary = true), so
/// batches need no random numbers. gather_batch(fixed) gives the same values
/// with or without this call.
void binarize_fixed(Dataset& data, std::uint64_t seed);

/// out[r * width + p] = value p of datapoint indices[r], as float, width =
/// data.row_width():
///   none:    the value;
///   dynamic: 1 if u < value else 0, u = uniform number (i * dim + p) of stream
///            rng_stream(RngPurpose::binarize, epoch) under `seed`, i = indices[r];
///   fixed:   the same with stream index kFixedBinarizeIndex instead of epoch;
/// and with data.classes > 0, out[r * width + dim + c] = 1 for c = the
/// label, 0 for the other classes (never binarized).
/// A pure function of (data, i, p, seed, epoch): batch composition and thread
/// count do not matter. Does not allocate. Throws std::out_of_range on a bad index.
void gather_batch(const DataRows& data, std::span<const std::uint32_t> indices, Binarize mode,
                  std::uint64_t seed, std::uint64_t epoch, float* out);

// ---- Order, subsets and the validation split.

/// A permutation of 0..n-1 for `epoch`: Fisher-Yates driven by
/// CounterRng(seed, rng_stream(RngPurpose::shuffle, epoch)).
std::vector<std::uint32_t> shuffled_indices(std::size_t n, std::uint64_t seed, std::uint64_t epoch);
/// The same permutation written into `out` (n = out.size()) without allocating.
void shuffle_indices(std::span<std::uint32_t> out, std::uint64_t seed, std::uint64_t epoch);

/// The listed datapoints (values, labels, shape), in the order given.
Dataset select_rows(const Dataset& data, std::span<const std::uint32_t> rows);
/// The first min(n, count) datapoints (`--limit`).
Dataset first_rows(const Dataset& data, std::size_t n);

struct ValidationSplit {
  Dataset train, validation;
};
/// Holds out a seeded random subset of `data` (permutation by CounterRng on
/// rng_stream(RngPurpose::split, 0)); both parts keep the original order.
/// `count_or_fraction`: 0 < x < 1 is a fraction of the datapoints, a whole
/// number >= 1 is a count, 0 means no validation set. Throws InputError when
/// nothing would be left to train on.
ValidationSplit split_validation(const Dataset& data, double count_or_fraction, std::uint64_t seed);

/// The mean of all values (for checks and reports).
double mean_value(const Dataset& data);

/// Rec. 709 luminance of an 8-bit colour, in 15-bit fixed point as libpng
/// computes it: (6968 r + 23434 g + 2366 b + 16384) >> 15. Exact for r = g = b.
std::uint8_t rgb_to_grey(std::uint8_t r, std::uint8_t g, std::uint8_t b);
/// The same weights (6968, 23434, 2366) / 32768 for float values.
float rgb_to_grey(float r, float g, float b);
/// A 3-channel image dataset made 1-channel by rgb_to_grey, in place; others
/// are left as they are.
void convert_to_grey(Dataset& data);

// ---- Writers: bytes for aevb::write_file_atomic.

/// NPY v1.0, dtype '<f4', C order, the given shape (product = values.size()).
std::string npy_bytes(std::span<const float> values, std::span<const std::size_t> shape);
/// One line per row, values separated by ',', shortest round-trip form. An
/// optional header line of column names.
std::string csv_bytes(std::span<const float> values, std::size_t cols,
                      std::span<const std::string> header = {});

}  // namespace aevb
