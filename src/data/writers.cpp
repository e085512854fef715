// Matrices out: NPY float32 and CSV, as bytes for write_file_atomic.
#include <aevb/data.hpp>

#include <bit>
#include <charconv>
#include <cstring>
#include <stdexcept>

namespace aevb {

std::string npy_bytes(std::span<const float> values, std::span<const std::size_t> shape) {
  std::size_t elements = 1;
  std::string dims;
  for (std::size_t k = 0; k < shape.size(); ++k) {
    elements *= shape[k];
    dims += (k ? ", " : "") + std::to_string(shape[k]);
  }
  if (shape.size() == 1) dims += ",";
  if (elements != values.size()) {
    throw std::invalid_argument("npy_bytes: shape holds " + std::to_string(elements) + " values, given " +
                                std::to_string(values.size()));
  }
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  // Version 1.0: magic (6) + version (2) + length (2) + header, padded with
  // spaces and ended by '\n' so that the data starts at a multiple of 64.
  const std::size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>((header.size() >> 8) & 0xff);
  out += header;
  static_assert(std::endian::native == std::endian::little);
  const std::size_t at = out.size();
  out.resize(at + values.size() * sizeof(float));
  if (!values.empty()) std::memcpy(out.data() + at, values.data(), values.size() * sizeof(float));
  return out;
}

std::string csv_bytes(std::span<const float> values, std::size_t cols, std::span<const std::string> header) {
  if (cols == 0 || values.size() % cols != 0) {
    throw std::invalid_argument("csv_bytes: " + std::to_string(values.size()) + " values do not fill rows of " +
                                std::to_string(cols));
  }
  std::string out;
  for (std::size_t c = 0; c < header.size(); ++c) out += (c ? "," : "") + header[c];
  if (!header.empty()) out += '\n';
  out.reserve(out.size() + values.size() * 12);
  char buf[32];
  for (std::size_t k = 0; k < values.size(); ++k) {
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, values[k]);  // shortest round-trip form
    out.append(buf, end);
    out += (k + 1) % cols == 0 ? '\n' : ',';
  }
  return out;
}

}  // namespace aevb
