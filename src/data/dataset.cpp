// Binarization, minibatch gathering, epoch order, subsets and the validation
// split. Everything random is a pure function of (seed, stream, counter) on
// the counter-based RNG, so results do not depend on batching or threads.
#include <aevb/data.hpp>
#include <aevb/error.hpp>

#include "core/rng.hpp"
#include "core/thread_pool.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace aevb {

namespace {

// The three loops below are the hot path of a training step's input; each is
// a straight elementwise loop that the compiler vectorizes.
void bytes_to_floats(const std::uint8_t* __restrict in, float* __restrict out, std::size_t n) {
  for (std::size_t k = 0; k < n; ++k) out[k] = static_cast<float>(in[k]) / 255.0f;
}

// u holds uniforms on entry and the Bernoulli sample 1[u < value] on exit.
void sample_bytes(const std::uint8_t* __restrict in, float* __restrict u, std::size_t n) {
  for (std::size_t k = 0; k < n; ++k) u[k] = u[k] < static_cast<float>(in[k]) / 255.0f ? 1.0f : 0.0f;
}

void sample_floats(const float* __restrict in, float* __restrict u, std::size_t n) {
  for (std::size_t k = 0; k < n; ++k) u[k] = u[k] < in[k] ? 1.0f : 0.0f;
}

template <class Enum, std::size_t N>
Enum parse_enum(std::string_view name, const char* what, const std::pair<const char*, Enum> (&table)[N]) {
  std::string known;
  for (const auto& [text, value] : table) {
    if (name == text) return value;
    known += (known.empty() ? "" : ", ") + std::string(text);
  }
  throw InputError(std::string(what) + " '" + std::string(name) + "' is not known: expected one of " + known);
}

constexpr std::pair<const char*, Binarize> kBinarize[] = {
    {"none", Binarize::none}, {"dynamic", Binarize::dynamic}, {"fixed", Binarize::fixed}};
constexpr std::pair<const char*, Scaling> kScaling[] = {
    {"unit", Scaling::unit}, {"minmax", Scaling::minmax}, {"none", Scaling::none}};
constexpr std::pair<const char*, ColorMode> kColor[] = {{"keep", ColorMode::keep}, {"grey", ColorMode::grey}};
constexpr std::pair<const char*, Split> kSplit[] = {{"train", Split::train}, {"test", Split::test}};

}  // namespace

std::string_view to_string(Binarize b) {
  for (const auto& [text, value] : kBinarize) {
    if (value == b) return text;
  }
  return "?";
}
Binarize parse_binarize(std::string_view name) { return parse_enum(name, "binarization", kBinarize); }

std::string_view to_string(Scaling s) {
  for (const auto& [text, value] : kScaling) {
    if (value == s) return text;
  }
  return "?";
}
Scaling parse_scaling(std::string_view name) { return parse_enum(name, "scaling", kScaling); }

std::string_view to_string(ColorMode c) { return c == ColorMode::keep ? "keep" : "grey"; }
ColorMode parse_color_mode(std::string_view name) { return parse_enum(name, "colour mode", kColor); }

std::string_view to_string(Split s) { return s == Split::train ? "train" : "test"; }
Split parse_split(std::string_view name) { return parse_enum(name, "split", kSplit); }

void binarize_fixed(Dataset& data, std::uint64_t seed) {
  if (data.binary) return;  // a Bernoulli sample of 0/1 values is the values themselves
  const std::uint64_t stream = rng_stream(RngPurpose::binarize, kFixedBinarizeIndex);
  const std::size_t total = data.count * data.dim;
  std::vector<std::uint8_t> out(total);
  std::vector<float> u(std::min<std::size_t>(total, std::size_t{1} << 20));
  for (std::size_t start = 0; start < total; start += u.size()) {
    // Value k of the flat array is pixel k % dim of datapoint k / dim: its
    // uniform is number k = i * dim + p of the stream, as in gather_batch.
    const std::size_t n = std::min(u.size(), total - start);
    fill_uniform(u.data(), n, seed, stream, start);
    if (data.is_bytes()) {
      sample_bytes(data.bytes.data() + start, u.data(), n);
    } else {
      sample_floats(data.floats.data() + start, u.data(), n);
    }
    for (std::size_t k = 0; k < n; ++k) out[start + k] = static_cast<std::uint8_t>(u[k] * 255.0f);
  }
  data.bytes = std::move(out);
  std::vector<float>().swap(data.floats);
  data.binary = true;
  data.source += " (fixed binarization, seed " + std::to_string(seed) + ")";
}

void gather_batch(const DataRows& data, std::span<const std::uint32_t> indices, Binarize mode, std::uint64_t seed,
                  std::uint64_t epoch, float* out) {
  const std::size_t dim = data.dim, width = data.row_width();
  // Binary data is its own Bernoulli sample (u < 0 never, u < 1 always): no draws needed.
  const bool sample = mode != Binarize::none && !data.binary;
  const std::uint64_t stream = rng_stream(RngPurpose::binarize, mode == Binarize::fixed ? kFixedBinarizeIndex : epoch);
  for (const std::uint32_t i : indices) {
    if (i >= data.count) {
      throw std::out_of_range("gather_batch: index " + std::to_string(i) + " >= " + std::to_string(data.count) + " datapoints");
    }
  }
  // Rows spread over the pool: between two training steps this is the one
  // long stretch of work (rows read at random from the whole dataset, and for
  // dynamic binarization a draw per pixel), and a pool thread left idle that
  // long falls asleep and wakes late for the step's first kernel.
  pool::for_ranges(indices.size(), [&](std::size_t first, std::size_t last) {
    for (std::size_t r = first; r < last; ++r) {
      const std::size_t i = indices[r];
      float* row = out + r * width;
      if (sample) {
        fill_uniform(row, dim, seed, stream, static_cast<std::uint64_t>(i) * dim);
        if (data.is_bytes()) {
          sample_bytes(data.bytes + i * dim, row, dim);
        } else {
          sample_floats(data.floats + i * dim, row, dim);
        }
      } else if (data.is_bytes()) {
        bytes_to_floats(data.bytes + i * dim, row, dim);
      } else {
        std::copy_n(data.floats + i * dim, dim, row);
      }
      if (data.classes > 0) {
        std::fill_n(row + dim, data.classes, 0.0f);
        row[dim + static_cast<std::size_t>(data.labels[i])] = 1.0f;
      }
    }
  });
}

namespace {

void require_labels(const Dataset& data) {
  if (!data.has_labels())
    throw InputError(data.source + ": a conditional model needs each datapoint's label, and this data has none "
                     "(IDX label files beside the images, a label column for CSV; docs/data.md)");
}

}  // namespace

std::size_t label_classes(const Dataset& data) {
  require_labels(data);
  const std::int32_t top = *std::max_element(data.labels.begin(), data.labels.end());
  const std::int32_t low = *std::min_element(data.labels.begin(), data.labels.end());
  if (low < 0)
    throw InputError(data.source + ": labels of a conditional model are classes 0, 1, ...; found label " +
                     std::to_string(low));
  return std::size_t(top) + 1;
}

DataRows with_label_columns(const Dataset& data, std::size_t classes) {
  DataRows rows(data);
  if (classes == 0) return rows;
  require_labels(data);
  for (std::size_t i = 0; i < data.count; ++i)
    if (data.labels[i] < 0 || std::size_t(data.labels[i]) >= classes)
      throw InputError(data.source + ": the model is conditioned on " + std::to_string(classes) +
                       " classes, labels 0 to " + std::to_string(classes - 1) + ", and datapoint " + std::to_string(i) +
                       " has label " + std::to_string(data.labels[i]));
  rows.labels = data.labels.data();
  rows.classes = classes;
  return rows;
}

void shuffle_indices(std::span<std::uint32_t> out, std::uint64_t seed, std::uint64_t epoch) {
  for (std::size_t k = 0; k < out.size(); ++k) out[k] = static_cast<std::uint32_t>(k);
  CounterRng rng(seed, rng_stream(RngPurpose::shuffle, epoch));
  // Fisher-Yates, forward: position k takes a uniform pick of the rest.
  for (std::size_t k = 0; k + 1 < out.size(); ++k) {
    const std::size_t j = k + rng.below(out.size() - k);
    std::swap(out[k], out[j]);
  }
}

std::vector<std::uint32_t> shuffled_indices(std::size_t n, std::uint64_t seed, std::uint64_t epoch) {
  std::vector<std::uint32_t> order(n);
  shuffle_indices(order, seed, epoch);
  return order;
}

Dataset select_rows(const Dataset& data, std::span<const std::uint32_t> rows) {
  Dataset d;
  d.count = rows.size();
  d.dim = data.dim;
  d.height = data.height;
  d.width = data.width;
  d.channels = data.channels;
  d.binary = data.binary;
  d.source = data.source;
  const std::size_t dim = data.dim;
  if (data.is_bytes()) d.bytes.resize(rows.size() * dim);
  if (!data.is_bytes()) d.floats.resize(rows.size() * dim);
  if (data.has_labels()) d.labels.resize(rows.size());
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const std::size_t i = rows[r];
    if (i >= data.count) {
      throw std::out_of_range("select_rows: index " + std::to_string(i) + " >= " + std::to_string(data.count) + " datapoints");
    }
    if (data.is_bytes()) {
      std::copy_n(data.bytes.data() + i * dim, dim, d.bytes.data() + r * dim);
    } else {
      std::copy_n(data.floats.data() + i * dim, dim, d.floats.data() + r * dim);
    }
    if (data.has_labels()) d.labels[r] = data.labels[i];
  }
  return d;
}

Dataset first_rows(const Dataset& data, std::size_t n) {
  if (n >= data.count) return data;
  Dataset d;
  d.count = n;
  d.dim = data.dim;
  d.height = data.height;
  d.width = data.width;
  d.channels = data.channels;
  d.binary = data.binary;
  const std::size_t values = n * data.dim;
  if (data.is_bytes()) d.bytes.assign(data.bytes.begin(), data.bytes.begin() + static_cast<std::ptrdiff_t>(values));
  if (!data.is_bytes()) d.floats.assign(data.floats.begin(), data.floats.begin() + static_cast<std::ptrdiff_t>(values));
  if (data.has_labels()) d.labels.assign(data.labels.begin(), data.labels.begin() + static_cast<std::ptrdiff_t>(n));
  d.source = data.source + " (first " + std::to_string(n) + ")";
  return d;
}

ValidationSplit split_validation(const Dataset& data, double count_or_fraction, std::uint64_t seed) {
  const double x = count_or_fraction;
  const std::size_t n = data.count;
  std::size_t held = 0;
  if (!std::isfinite(x) || x < 0 || (x >= 1 && x != std::floor(x))) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", x);
    throw InputError(std::string("validation size ") + text +
                     ": expected a fraction between 0 and 1 or a whole number of datapoints");
  }
  if (x > 0 && x < 1) {
    held = std::max<std::size_t>(1, static_cast<std::size_t>(std::llround(x * static_cast<double>(n))));
  } else if (x >= 1) {
    held = x < 1e18 ? static_cast<std::size_t>(x) : n;
  }
  if (held > 0 && held >= n) {
    throw InputError("validation size " + std::to_string(held) + " leaves nothing to train on: " + data.source + " has " +
                     std::to_string(n) + " datapoints");
  }
  std::vector<std::uint32_t> order(n);
  for (std::size_t k = 0; k < n; ++k) order[k] = static_cast<std::uint32_t>(k);
  CounterRng rng(seed, rng_stream(RngPurpose::split, 0));
  for (std::size_t k = 0; k < held; ++k) {  // the first `held` steps of a Fisher-Yates shuffle
    const std::size_t j = k + rng.below(n - k);
    std::swap(order[k], order[j]);
  }
  const auto cut = order.begin() + static_cast<std::ptrdiff_t>(held);
  std::sort(order.begin(), cut);
  std::sort(cut, order.end());
  ValidationSplit s{select_rows(data, std::span(order).subspan(held)), select_rows(data, std::span(order).first(held))};
  const std::string note = " seed " + std::to_string(seed) + ")";
  s.train.source += " (train part, " + std::to_string(n - held) + " of " + std::to_string(n) + "," + note;
  s.validation.source += " (validation part, " + std::to_string(held) + " of " + std::to_string(n) + "," + note;
  return s;
}

double mean_value(const Dataset& data) {
  const std::size_t total = data.count * data.dim;
  if (total == 0) return 0.0;
  if (data.is_bytes()) {
    std::uint64_t sum = 0;
    for (std::uint8_t b : data.bytes) sum += b;
    return static_cast<double>(sum) / 255.0 / static_cast<double>(total);
  }
  double sum = 0;
  for (float v : data.floats) sum += v;
  return sum / static_cast<double>(total);
}

}  // namespace aevb
