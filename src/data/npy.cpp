// NPY (numpy's .npy): "\x93NUMPY", version major.minor, a little-endian header
// length (2 bytes for v1, 4 for v2/v3), a Python dict literal
// {'descr': '<f4', 'fortran_order': False, 'shape': (n, d), }, then the data.
#include <aevb/data.hpp>

#include "data/byte_input.hpp"
#include "data/formats.hpp"
#include "data/values.hpp"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstring>
#include <string_view>

namespace aevb {

static_assert(std::endian::native == std::endian::little, "the NPY reader and writer assume a little-endian machine");

namespace data {
namespace {

constexpr char kMagic[] = "\x93NUMPY";

std::string shape_text(const std::vector<std::uint64_t>& shape) {
  std::string s = "(";
  for (std::size_t k = 0; k < shape.size(); ++k) s += (k ? ", " : "") + std::to_string(shape[k]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

// At most `max` characters of `text` for a one-line message.
std::string printable(std::string_view text, std::size_t max) {
  std::string s(text.substr(0, std::min(text.find('\n'), max)));
  while (!s.empty() && s.back() == ' ') s.pop_back();
  for (char& c : s) {
    if (!std::isprint(static_cast<unsigned char>(c))) c = '?';
  }
  return s;
}

// Finds `'key':` in the header dict and returns the text after the colon.
std::string_view value_of(std::string_view header, std::string_view key, const std::filesystem::path& path) {
  for (char quote : {'\'', '"'}) {
    const std::string pattern = quote + std::string(key) + quote;
    const std::size_t at = header.find(pattern);
    if (at == std::string_view::npos) continue;
    std::size_t k = at + pattern.size();
    while (k < header.size() && std::isspace(static_cast<unsigned char>(header[k]))) ++k;
    if (k < header.size() && header[k] == ':') {
      ++k;
      while (k < header.size() && std::isspace(static_cast<unsigned char>(header[k]))) ++k;
      return header.substr(k);
    }
  }
  fail(path, "NPY header has no '" + std::string(key) + "' entry: expected a dict with descr, fortran_order and shape, found " +
                 printable(header, 120));
}

struct DtypeInfo {
  char kind = 0;          // 'u', 'i', 'f', 'b'
  std::size_t size = 0;   // bytes per element
  bool big_endian = false;
};

DtypeInfo parse_dtype(const std::string& descr, const std::filesystem::path& path) {
  static const char* kSupported = "supported: uint8 ('|u1'), bool ('|b1'), int8/16/32/64, uint16/32/64, float32 ('<f4'), float64 ('<f8')";
  DtypeInfo t;
  std::string_view d = descr;
  if (!d.empty() && (d[0] == '<' || d[0] == '>' || d[0] == '|' || d[0] == '=')) {
    t.big_endian = d[0] == '>';
    d.remove_prefix(1);
  }
  if (d.size() == 2 && std::strchr("uifb", d[0]) != nullptr && std::isdigit(static_cast<unsigned char>(d[1]))) {
    t.kind = d[0];
    t.size = static_cast<std::size_t>(d[1] - '0');
  }
  const bool ok = (t.kind == 'u' && (t.size == 1 || t.size == 2 || t.size == 4 || t.size == 8)) ||
                  (t.kind == 'i' && (t.size == 1 || t.size == 2 || t.size == 4 || t.size == 8)) ||
                  (t.kind == 'f' && (t.size == 4 || t.size == 8)) || (t.kind == 'b' && t.size == 1);
  if (!ok) fail(path, "NPY dtype '" + descr + "' is not supported (" + kSupported + ")");
  return t;
}

template <class T>
void convert(const std::uint8_t* raw, std::size_t n, bool swap, float* out) {
  for (std::size_t k = 0; k < n; ++k) {
    unsigned char b[sizeof(T)];
    std::memcpy(b, raw + k * sizeof(T), sizeof(T));
    if (swap) {
      for (std::size_t j = 0; j < sizeof(T) / 2; ++j) std::swap(b[j], b[sizeof(T) - 1 - j]);
    }
    T v;
    std::memcpy(&v, b, sizeof(T));
    out[k] = static_cast<float>(v);
  }
}

}  // namespace

NpyArray read_npy_array(const std::filesystem::path& path) {
  ByteInput in(path);
  char pre[8] = {};
  const std::size_t got = in.read(pre, 8);
  if (got < 8 || std::memcmp(pre, kMagic, 6) != 0) {
    fail(path, "not an NPY file: expected the magic \"\\x93NUMPY\" at the start");
  }
  const auto major = static_cast<unsigned char>(pre[6]);
  if (major < 1 || major > 3) fail(path, "NPY version " + std::to_string(major) + " is not supported (expected 1, 2 or 3)");
  std::uint64_t header_len = 0;
  unsigned char len_bytes[4] = {0, 0, 0, 0};
  const unsigned len_size = major == 1 ? 2 : 4;
  in.read_exact(len_bytes, len_size, "the NPY header length");
  for (unsigned k = 0; k < len_size; ++k) header_len |= std::uint64_t{len_bytes[k]} << (8 * k);
  if (header_len > (1u << 20)) fail(path, "NPY header length " + std::to_string(header_len) + " is implausible (corrupt file)");
  std::string header(static_cast<std::size_t>(header_len), '\0');
  in.read_exact(header.data(), header.size(), "an NPY header");

  NpyArray a;
  // descr
  std::string_view v = value_of(header, "descr", path);
  if (v.empty() || (v[0] != '\'' && v[0] != '"')) {
    fail(path, "NPY header: expected a simple dtype string for 'descr' (structured dtypes are not supported), found " +
                   printable(v, 40));
  }
  const std::size_t close = v.find(v[0], 1);
  if (close == std::string_view::npos) fail(path, "NPY header: unterminated 'descr' string");
  a.dtype = std::string(v.substr(1, close - 1));
  const DtypeInfo t = parse_dtype(a.dtype, path);
  // fortran_order
  v = value_of(header, "fortran_order", path);
  if (v.substr(0, 4) == "True") {
    fail(path, "NPY array is in Fortran (column-major) order; expected C order (save it with numpy.ascontiguousarray)");
  }
  if (v.substr(0, 5) != "False") fail(path, "NPY header: expected True or False for 'fortran_order'");
  // shape
  v = value_of(header, "shape", path);
  if (v.empty() || v[0] != '(') fail(path, "NPY header: expected a tuple for 'shape'");
  std::size_t k = 1;
  for (;;) {
    while (k < v.size() && (std::isspace(static_cast<unsigned char>(v[k])) || v[k] == ',')) ++k;
    if (k >= v.size()) fail(path, "NPY header: unterminated 'shape' tuple");
    if (v[k] == ')') break;
    if (!std::isdigit(static_cast<unsigned char>(v[k]))) fail(path, "NPY header: expected whole numbers in 'shape'");
    std::uint64_t dim = 0;
    while (k < v.size() && std::isdigit(static_cast<unsigned char>(v[k]))) {
      const auto digit = static_cast<std::uint64_t>(v[k] - '0');
      if (dim > (~std::uint64_t{0} - digit) / 10) fail(path, "NPY header: a 'shape' entry overflows 64 bits (corrupt file)");
      dim = dim * 10 + digit;
      ++k;
    }
    if (k < v.size() && v[k] == 'L') ++k;  // Python 2 longs
    a.shape.push_back(dim);
    if (a.shape.size() > 32) fail(path, "NPY header: too many dimensions");
  }

  std::uint64_t elements = 1;
  for (std::uint64_t dim : a.shape) elements = checked_mul(elements, dim, path);
  const std::uint64_t payload = checked_mul(elements, t.size, path);
  const std::uint64_t need = 6 + 2 + len_size + header_len + payload;
  const std::string what = "an array of shape " + shape_text(a.shape) + " of '" + a.dtype + "'";
  if (!in.compressed()) {
    if (in.file_size() < need) {
      fail(path, "truncated: the header declares " + what + " (" + describe_bytes(need) + " with the header), but the file has " +
                     describe_bytes(in.file_size()));
    }
    if (in.file_size() > need) {
      fail(path, "the header declares " + what + " (" + describe_bytes(need) + " with the header), but the file has " +
                     std::to_string(in.file_size() - need) + " more bytes: corrupt file");
    }
  } else if (need > in.capacity()) {
    fail(path, "the header declares " + what + " (" + describe_bytes(need) + "), more than a gzip file of " +
                   describe_bytes(in.file_size()) + " can hold: corrupt header");
  }

  auto check_complete = [&](std::size_t got_elements) {
    if (got_elements < elements) {
      fail(path, "truncated: the header declares " + what + " (" + std::to_string(elements) + " values), but the data ends after " +
                     std::to_string(got_elements) + in.end_note());
    }
    if (!in.at_end()) fail(path, "more data follows the declared " + what + ": corrupt file");
  };
  const auto n = static_cast<std::size_t>(elements);
  if (t.size == 1 && t.kind != 'i') {
    a.is_u8 = true;
    check_complete(read_growing(in, a.u8, n));
  } else if (t.kind == 'f' && t.size == 4 && !t.big_endian) {
    check_complete(read_growing(in, a.f32, n));
  } else {
    std::vector<std::uint8_t> raw;
    check_complete(read_growing(in, raw, static_cast<std::size_t>(payload)) / t.size);
    a.f32.resize(n);
    const bool swap = t.big_endian;
    if (t.kind == 'f' && t.size == 4) convert<float>(raw.data(), n, swap, a.f32.data());
    if (t.kind == 'f' && t.size == 8) convert<double>(raw.data(), n, swap, a.f32.data());
    if (t.kind == 'i' && t.size == 1) convert<std::int8_t>(raw.data(), n, swap, a.f32.data());
    if (t.kind == 'i' && t.size == 2) convert<std::int16_t>(raw.data(), n, swap, a.f32.data());
    if (t.kind == 'i' && t.size == 4) convert<std::int32_t>(raw.data(), n, swap, a.f32.data());
    if (t.kind == 'i' && t.size == 8) convert<std::int64_t>(raw.data(), n, swap, a.f32.data());
    if (t.kind == 'u' && t.size == 2) convert<std::uint16_t>(raw.data(), n, swap, a.f32.data());
    if (t.kind == 'u' && t.size == 4) convert<std::uint32_t>(raw.data(), n, swap, a.f32.data());
    if (t.kind == 'u' && t.size == 8) convert<std::uint64_t>(raw.data(), n, swap, a.f32.data());
  }
  return a;
}

}  // namespace data

namespace {

// Rows of `count` images stored interleaved (pixel-major, `from` channels per
// pixel) made planar with the first `to` channels, in place: row i moves from
// [i * from * pixels, ...) to [i * to * pixels, ...), never past its source, so
// a copy of the row is all the scratch needed.
template <class T>
void interleaved_to_planar(std::vector<T>& values, std::size_t count, std::size_t pixels, std::size_t from,
                           std::size_t to) {
  std::vector<T> row(from * pixels);
  for (std::size_t i = 0; i < count; ++i) {
    std::copy_n(values.data() + i * from * pixels, row.size(), row.data());
    T* dst = values.data() + i * to * pixels;
    for (std::size_t c = 0; c < to; ++c) {
      for (std::size_t p = 0; p < pixels; ++p) dst[c * pixels + p] = row[p * from + c];
    }
  }
  values.resize(count * to * pixels);
  values.shrink_to_fit();
}

}  // namespace

Dataset read_npy(const std::filesystem::path& path, const LoadOptions& options) {
  data::NpyArray a = data::read_npy_array(path);
  Dataset d;
  const auto& s = a.shape;
  std::size_t interleaved = 0;  // channels per pixel of an NHWC array, 0 when planar
  if (s.size() == 2) {
    d.dim = static_cast<std::size_t>(s[1]);
  } else if (s.size() == 3) {
    d.height = static_cast<std::size_t>(s[1]);
    d.width = static_cast<std::size_t>(s[2]);
  } else if (s.size() == 4 && (s[1] == 1 || s[1] == 3)) {  // NCHW, as stored
    d.channels = static_cast<std::size_t>(s[1]);
    d.height = static_cast<std::size_t>(s[2]);
    d.width = static_cast<std::size_t>(s[3]);
  } else if (s.size() == 4 && (s[3] == 1 || s[3] == 3 || s[3] == 4)) {  // NHWC: made planar, alpha dropped
    interleaved = static_cast<std::size_t>(s[3]);
    d.channels = s[3] == 1 ? 1 : 3;
    d.height = static_cast<std::size_t>(s[1]);
    d.width = static_cast<std::size_t>(s[2]);
  } else {
    data::fail(path, "expected an array of shape (n, d), (n, h, w), (n, c, h, w) with c = 1 or 3, or (n, h, w, c) "
                     "with c = 1, 3 or 4, found shape " + data::shape_text(s));
  }
  if (d.height > 0) d.dim = d.channels * d.height * d.width;
  d.count = static_cast<std::size_t>(s[0]);
  if (d.count == 0 || d.dim == 0) data::fail(path, "the array of shape " + data::shape_text(s) + " holds no data");
  data::check_row_limit(s[0], path);
  d.source = path.string();
  if (interleaved > 1) {
    const std::size_t pixels = d.height * d.width;
    if (a.is_u8) {
      interleaved_to_planar(a.u8, d.count, pixels, interleaved, d.channels);
    } else {
      interleaved_to_planar(a.f32, d.count, pixels, interleaved, d.channels);
    }
    d.source += interleaved == 4 ? " (channels last, made planar, alpha dropped)" : " (channels last, made planar)";
  }
  if (a.is_u8) {
    d.bytes = std::move(a.u8);
    std::uint8_t hi = 0;
    for (std::uint8_t b : d.bytes) hi = std::max(hi, b);
    if (hi == 1) {  // 0/1 bytes are a binary image, not near-black greys
      for (std::uint8_t& b : d.bytes) b = static_cast<std::uint8_t>(b * 255);
      d.source += " (uint8 values 0/1 read as binary)";
    }
    data::detect_binary_bytes(d);
  } else {
    data::store_values(d, std::move(a.f32), options.scaling, path);
  }
  if (options.color == ColorMode::grey) convert_to_grey(d);
  return d;
}

}  // namespace aevb
