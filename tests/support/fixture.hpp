#pragma once
// Reader for the reference fixtures written by tools/make_reference.py
// (regenerate: /usr/bin/python3 tools/make_reference.py). Header-only: the
// test executable compiles tests/unit/*.cpp only.
//
// Format, version 1, every integer and float little-endian:
//   magic    8 bytes  "AEVBFIX\0"
//   version  uint32   1
//   count    uint32   number of entries
//   count x entry:
//     name_len uint32, name (name_len bytes of UTF-8, no terminator),
//     ndim uint32 (0 = scalar, one value), ndim x uint64 dims (row-major),
//     prod(dims) x float32 data
// No padding and nothing after the last entry; names are unique. What the
// entries mean is documented at the top of tools/make_reference.py.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace aevb::test {

struct FixtureTensor {
  std::string name;
  std::vector<std::uint64_t> shape;  // empty for a scalar
  std::vector<float> data;

  std::size_t size() const { return data.size(); }
  std::string shape_string() const {
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
  }
};

class Fixture {
 public:
  static constexpr char kMagic[8] = {'A', 'E', 'V', 'B', 'F', 'I', 'X', '\0'};
  static constexpr std::uint32_t kVersion = 1;

  /// Reads and validates a whole fixture file; throws std::runtime_error
  /// naming the file and what was wrong.
  static Fixture load(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path + ": cannot open reference fixture");
    std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)),
                                     std::istreambuf_iterator<char>());
    if (in.bad()) throw std::runtime_error(path + ": read error");
    return parse(bytes, path);
  }

  /// Parses a fixture held in memory; `source` names it in error messages.
  static Fixture parse(std::span<const unsigned char> bytes, const std::string& source) {
    Reader r{bytes, 0, source};
    Fixture f;
    f.source_ = source;
    if (bytes.size() < 8 || std::memcmp(bytes.data(), kMagic, 8) != 0)
      throw std::runtime_error(source + ": not an aevb fixture (expected magic \"AEVBFIX\\0\")");
    r.pos = 8;
    const std::uint32_t version = r.u32("version");
    if (version != kVersion)
      throw std::runtime_error(source + ": fixture version " + std::to_string(version) +
                               ", this reader understands version " +
                               std::to_string(kVersion));
    const std::uint32_t count = r.u32("entry count");
    for (std::uint32_t e = 0; e < count; ++e) {
      const std::string where = "entry " + std::to_string(e);
      FixtureTensor t;
      const std::uint32_t name_len = r.u32((where + " name length").c_str());
      if (name_len == 0 || name_len > 4096)
        throw std::runtime_error(source + ": " + where + ": name length " +
                                 std::to_string(name_len) + " (expected 1..4096)");
      r.need(name_len, (where + " name").c_str());
      t.name.assign(reinterpret_cast<const char*>(bytes.data() + r.pos), name_len);
      r.pos += name_len;
      const std::string what = where + " (" + t.name + ")";
      const std::uint32_t ndim = r.u32((what + " ndim").c_str());
      if (ndim > 8)
        throw std::runtime_error(source + ": " + what + ": ndim " + std::to_string(ndim) +
                                 " (expected at most 8)");
      std::uint64_t count_values = 1;
      for (std::uint32_t d = 0; d < ndim; ++d) {
        const std::uint64_t dim = r.u64((what + " dims").c_str());
        if (dim != 0 && count_values > (std::uint64_t{1} << 40) / dim)
          throw std::runtime_error(source + ": " + what + ": implausible shape");
        count_values *= dim;
        t.shape.push_back(dim);
      }
      if (count_values > (r.bytes.size() - r.pos) / 4)
        throw std::runtime_error(source + ": " + what + ": truncated: " +
                                 std::to_string(count_values) + " float32 values announced, " +
                                 std::to_string(r.bytes.size() - r.pos) + " bytes left");
      t.data.resize(static_cast<std::size_t>(count_values));
      for (auto& v : t.data) v = std::bit_cast<float>(r.u32("data"));
      if (f.index_.count(t.name))
        throw std::runtime_error(source + ": duplicate entry \"" + t.name + "\"");
      f.index_.emplace(t.name, f.tensors_.size());
      f.tensors_.push_back(std::move(t));
    }
    if (r.pos != bytes.size())
      throw std::runtime_error(source + ": " + std::to_string(bytes.size() - r.pos) +
                               " unexpected bytes after the last entry");
    return f;
  }

  bool has(const std::string& name) const { return index_.count(name) != 0; }
  /// The entry `name`; throws std::runtime_error if the fixture lacks it.
  const FixtureTensor& get(const std::string& name) const {
    const auto it = index_.find(name);
    if (it == index_.end())
      throw std::runtime_error(source_ + ": no entry \"" + name +
                               "\" (stale fixture? regenerate with /usr/bin/python3 "
                               "tools/make_reference.py)");
    return tensors_[it->second];
  }
  /// The entry `name`, which must hold exactly `shape`.
  const FixtureTensor& get(const std::string& name, const std::vector<std::uint64_t>& shape) const {
    const FixtureTensor& t = get(name);
    if (t.shape != shape) {
      FixtureTensor want;
      want.shape = shape;
      throw std::runtime_error(source_ + ": entry \"" + name + "\" has shape " +
                               t.shape_string() + ", expected " + want.shape_string());
    }
    return t;
  }
  /// A scalar entry (shape [] or [1]).
  double scalar(const std::string& name) const {
    const FixtureTensor& t = get(name);
    if (t.size() != 1)
      throw std::runtime_error(source_ + ": entry \"" + name + "\" is not a scalar, shape " +
                               t.shape_string());
    return t.data[0];
  }
  const std::vector<FixtureTensor>& tensors() const { return tensors_; }
  const std::string& source() const { return source_; }

 private:
  struct Reader {
    std::span<const unsigned char> bytes;
    std::size_t pos;
    const std::string& source;

    void need(std::size_t n, const char* what) const {
      if (bytes.size() - pos < n)
        throw std::runtime_error(source + ": truncated at byte " + std::to_string(pos) +
                                 " reading " + what);
    }
    std::uint32_t u32(const char* what) {
      need(4, what);
      std::uint32_t v = 0;
      for (int i = 3; i >= 0; --i) v = (v << 8) | bytes[pos + static_cast<std::size_t>(i)];
      pos += 4;
      return v;
    }
    std::uint64_t u64(const char* what) {
      need(8, what);
      std::uint64_t v = 0;
      for (int i = 7; i >= 0; --i) v = (v << 8) | bytes[pos + static_cast<std::size_t>(i)];
      pos += 8;
      return v;
    }
  };

  std::string source_;
  std::vector<FixtureTensor> tensors_;
  std::map<std::string, std::size_t> index_;
};

}  // namespace aevb::test
