#pragma once
// Parsers shared by the Dataset readers and read_table (internal).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace aevb::data {

/// An NPY array: uint8 kept as bytes, every other dtype converted to float.
struct NpyArray {
  std::vector<std::uint64_t> shape;
  std::string dtype;  // as written in the header, e.g. "<f4"
  bool is_u8 = false;
  std::vector<std::uint8_t> u8;
  std::vector<float> f32;
};
NpyArray read_npy_array(const std::filesystem::path& path);

/// A CSV of numbers. With `label_column`, a header column named label /
/// labels / class / target is returned in `labels` instead of `values`.
struct CsvData {
  std::size_t rows = 0, cols = 0;
  std::vector<float> values;
  std::vector<std::int32_t> labels;
};
CsvData parse_csv(const std::filesystem::path& path, bool label_column);

}  // namespace aevb::data
