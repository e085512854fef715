#pragma once
// The safetensors container (https://github.com/huggingface/safetensors),
// float32 only: an 8-byte little-endian header length N, N bytes of JSON
// (padded with spaces so the data starts 8-byte aligned), then the raw data.
// The JSON maps each tensor name to {"dtype": "F32", "shape": [...],
// "data_offsets": [begin, end]} (byte offsets into the data), plus an optional
// "__metadata__" object of string -> string.
//
// The reader trusts nothing in the file: every number in the header is checked
// against the file's real size before it is used, so a corrupt or hostile file
// gives an InputError naming the file, never a huge allocation or a crash.
#include <cstddef>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace aevb::safetensors {

using Metadata = std::map<std::string, std::string>;

/// A tensor to write: borrowed data, numel(shape) floats.
struct TensorRef {
  std::string name;
  std::vector<std::size_t> shape;
  std::span<const float> data;
};

/// A tensor read from a file (owns its data).
struct Tensor {
  std::string name;
  std::vector<std::size_t> shape;
  std::vector<float> data;
};

struct File {
  std::vector<Tensor> tensors;  // in the order of their data in the file
  Metadata metadata;            // "__metadata__", empty when absent

  /// The tensor named `name`, or nullptr.
  const Tensor* find(std::string_view name) const;
};

/// The file's bytes: tensors in the given order, data contiguous. Throws
/// std::invalid_argument on a programming error (duplicate or empty name,
/// "__metadata__" as a name, data size not matching the shape).
std::string serialize(std::span<const TensorRef> tensors, const Metadata& metadata = {});

/// serialize() written atomically (temp file, fsync, rename).
void write_file(const std::filesystem::path& path, std::span<const TensorRef> tensors,
                const Metadata& metadata = {});

/// Parses a whole file held in memory; `source` names it in error messages.
/// Throws InputError on anything malformed: short file, header length past
/// the end, invalid JSON, dtype other than F32, bad shapes, data offsets out
/// of range, overlapping, leaving holes or not matching the shape.
File parse(std::string_view bytes, const std::string& source);

/// Reads and parses `path`; throws InputError if it cannot be read or is malformed.
File read_file(const std::filesystem::path& path);

}  // namespace aevb::safetensors
