// Choosing a reader: by content for files, PNG folder for directories, and
// short names (mnist, fashion-mnist, frey) through the data search path.
#include <aevb/data.hpp>
#include <aevb/error.hpp>

#include "data/byte_input.hpp"
#include "data/formats.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace aevb {
namespace {

namespace fs = std::filesystem;

struct NamedSet {
  const char* name;
  const char* train_images;
  const char* train_labels;  // nullptr: no labels
  const char* test_images;   // nullptr: no test split
  const char* test_labels;
};

constexpr NamedSet kNamed[] = {
    {"mnist", "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"},
    {"fashion-mnist", "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
     "t10k-labels-idx1-ubyte"},
    {"frey", "frey-faces-idx3-ubyte", nullptr, nullptr, nullptr},
};

const NamedSet* find_named(std::string_view name) {
  for (const auto& set : kNamed) {
    if (name == set.name) return &set;
  }
  return nullptr;
}

// The file `stem.gz` or `stem` in `dir`, or an empty path.
fs::path find_file(const fs::path& dir, const char* stem) {
  std::error_code ec;
  for (const char* ext : {".gz", ""}) {
    fs::path p = dir / (std::string(stem) + ext);
    if (fs::is_regular_file(p, ec)) return p;
  }
  return {};
}

// The labels file that sits beside an IDX images file, if any.
fs::path sibling_labels(const fs::path& images) {
  std::string name = images.filename().string();
  for (auto [from, to] : {std::pair{"images-idx3", "labels-idx1"}, std::pair{"images.idx3", "labels.idx1"}}) {
    const std::size_t at = name.find(from);
    if (at == std::string::npos) continue;
    name.replace(at, std::strlen(from), to);
    std::error_code ec;
    const fs::path p = images.parent_path() / name;
    if (fs::is_regular_file(p, ec)) return p;
  }
  return {};
}

void attach_labels(Dataset& d, const fs::path& labels_path) {
  d.labels = read_idx_labels(labels_path);
  if (d.labels.size() != d.count) {
    data::fail(labels_path, "has " + std::to_string(d.labels.size()) + " labels, but the images file " + d.source + " has " +
                                std::to_string(d.count) + " images");
  }
}

enum class Format { idx_images, idx_labels, npy, png, text, unknown };

Format sniff(const fs::path& path, std::string& first_bytes) {
  data::ByteInput in(path);
  unsigned char b[8] = {};
  const std::size_t n = in.read(b, sizeof b);
  char hex[40] = {};
  for (std::size_t k = 0; k < std::min<std::size_t>(n, 4); ++k) std::snprintf(hex + 3 * k, 4, "%02x ", b[k]);
  first_bytes = std::string(hex, n == 0 ? 0 : 3 * std::min<std::size_t>(n, 4) - 1);
  if (n == 0) data::fail(path, "is empty: expected IDX, NPY or CSV data");
  if (n >= 4 && b[0] == 0 && b[1] == 0 && b[2] == 0x08 && b[3] == 3) return Format::idx_images;
  if (n >= 4 && b[0] == 0 && b[1] == 0 && b[2] == 0x08 && b[3] == 1) return Format::idx_labels;
  if (n >= 6 && std::memcmp(b, "\x93NUMPY", 6) == 0) return Format::npy;
  if (n >= 4 && std::memcmp(b, "\x89PNG", 4) == 0) return Format::png;
  for (std::size_t k = 0; k < n; ++k) {
    const bool text = b[k] == '\t' || b[k] == '\n' || b[k] == '\r' || (b[k] >= 0x20 && b[k] < 0x7f);
    if (!text) return Format::unknown;
  }
  return Format::text;
}

std::string search_path_text(std::span<const fs::path> dirs) {
  std::string s;
  for (const auto& d : dirs) {
    std::error_code ec;
    const fs::path abs = fs::absolute(d, ec);
    s += (s.empty() ? "" : ", ") + (ec ? d : abs.lexically_normal()).string();
  }
  return s.empty() ? "(no directories)" : s;
}

}  // namespace

bool is_dataset_name(std::string_view name) { return find_named(name) != nullptr; }

std::vector<fs::path> data_search_path(std::span<const fs::path> extra_dirs) {
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("AEVB_DATA_DIR"); env != nullptr) {
    std::string_view rest = env;
    while (!rest.empty()) {
      const std::size_t colon = rest.find(':');
      const std::string_view entry = rest.substr(0, colon);
      if (!entry.empty()) dirs.emplace_back(std::string(entry));
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  dirs.emplace_back("data");
  dirs.emplace_back("../shared/data");
  dirs.insert(dirs.end(), extra_dirs.begin(), extra_dirs.end());
  return dirs;
}

DataFiles locate_dataset(std::string_view name, Split split, std::span<const fs::path> search_path) {
  const NamedSet* set = find_named(name);
  if (set == nullptr) {
    throw InputError("unknown dataset name '" + std::string(name) + "': expected mnist, fashion-mnist or frey, or a path");
  }
  const bool test = split == Split::test;
  const char* images = test ? set->test_images : set->train_images;
  const char* labels = test ? set->test_labels : set->train_labels;
  if (images == nullptr) {
    throw InputError(std::string(set->name) +
                     " has no test split (one set of 1965 frames): evaluate on a validation part carved from train instead");
  }
  for (const auto& dir : search_path) {
    const fs::path folder = dir / set->name;
    DataFiles files;
    files.images = find_file(folder, images);
    if (files.images.empty()) continue;
    if (labels != nullptr) {
      files.labels = find_file(folder, labels);
      if (files.labels.empty()) {
        data::fail(files.images, std::string("found, but its labels are missing: expected ") + (folder / labels).string() +
                                     ".gz beside it (run scripts/fetch-data.sh " + set->name + ")");
      }
    }
    return files;
  }
  const std::string fetch = std::string(set->name) == "frey"
                                ? "run scripts/fetch-data.sh frey (it needs a copy of frey_rawface.mat; see docs/data.md)"
                                : "run scripts/fetch-data.sh " + std::string(set->name);
  throw InputError("dataset '" + std::string(name) + "' (" + std::string(to_string(split)) + ") not found: looked for " +
                   set->name + "/" + images + ".gz in " + search_path_text(search_path) + "; " + fetch +
                   ", or set AEVB_DATA_DIR to a folder that holds " + set->name + "/");
}

Dataset load_dataset(const fs::path& path, const LoadOptions& options) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (!fs::exists(status)) data::fail(path, "no such file or folder");
  if (fs::is_directory(status)) return read_png_folder(path, options);
  std::string first_bytes;
  switch (sniff(path, first_bytes)) {
    case Format::idx_images: {
      Dataset d = read_idx_images(path);
      if (const fs::path labels = sibling_labels(path); !labels.empty()) attach_labels(d, labels);
      return d;
    }
    case Format::idx_labels:
      data::fail(path, "is an IDX labels file: pass the images file (labels beside it are read with it)");
    case Format::npy:
      return read_npy(path, options);
    case Format::png:
      data::fail(path, "is a single PNG image: pass the folder that holds the images");
    case Format::text:
      return read_csv(path, options);
    case Format::unknown:
      break;
  }
  data::fail(path, "unrecognised format (first bytes " + first_bytes +
                       "): expected IDX images, NPY, CSV, or a folder of PNG images");
}

Dataset resolve_dataset(std::string_view name_or_path, Split split, std::span<const fs::path> extra_dirs,
                        const LoadOptions& options) {
  if (!is_dataset_name(name_or_path)) {
    std::error_code ec;
    if (!fs::exists(fs::path(name_or_path), ec)) {
      throw InputError(std::string(name_or_path) +
                       ": no such file or folder, and not a dataset name (mnist, fashion-mnist, frey)");
    }
    return load_dataset(fs::path(name_or_path), options);
  }
  const std::vector<fs::path> dirs = data_search_path(extra_dirs);
  const DataFiles files = locate_dataset(name_or_path, split, dirs);
  Dataset d = read_idx_images(files.images);
  if (!files.labels.empty()) attach_labels(d, files.labels);
  d.source = std::string(name_or_path) + " " + std::string(to_string(split)) + " (" + files.images.string() + ")";
  return d;
}

Table read_table(const fs::path& path) {
  std::string first_bytes;
  const Format format = sniff(path, first_bytes);
  Table t;
  if (format == Format::npy) {
    data::NpyArray a = data::read_npy_array(path);
    std::uint64_t cols = 1;
    for (std::size_t k = 1; k < a.shape.size(); ++k) cols *= a.shape[k];
    t.rows = a.shape.empty() ? 1 : static_cast<std::size_t>(a.shape[0]);
    t.cols = static_cast<std::size_t>(cols);
    if (a.is_u8) {
      t.values.assign(a.u8.begin(), a.u8.end());
    } else {
      t.values = std::move(a.f32);
    }
    for (float v : t.values) {
      if (!std::isfinite(v)) data::fail(path, "holds a value that is not a finite number");
    }
    if (t.rows * t.cols == 0) data::fail(path, "the array holds no values");
    return t;
  }
  if (format != Format::text) {
    data::fail(path, "expected an NPY or CSV file of numbers, found " +
                         std::string(format == Format::unknown ? "unrecognised data (first bytes " + first_bytes + ")"
                                                               : "another format"));
  }
  data::CsvData csv = data::parse_csv(path, false);
  t.rows = csv.rows;
  t.cols = csv.cols;
  t.values = std::move(csv.values);
  return t;
}

}  // namespace aevb
