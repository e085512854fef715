#pragma once
// Reading a file's content whether or not it is gzip-compressed (detected by
// its first bytes, not its name), with the checks that keep a lying header
// from making us allocate more than the file can hold.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace aevb::data {

/// Throws InputError("PATH: message").
[[noreturn]] void fail(const std::filesystem::path& path, const std::string& message);

/// "47040000 bytes (44.9 MiB)".
std::string describe_bytes(std::uint64_t bytes);

/// a * b, or throws InputError naming `path` when the product overflows 64 bits.
std::uint64_t checked_mul(std::uint64_t a, std::uint64_t b, const std::filesystem::path& path);

class ByteInput {
 public:
  /// Opens `path`; throws InputError when it is missing, a directory or unreadable.
  explicit ByteInput(const std::filesystem::path& path);
  ~ByteInput();
  ByteInput(const ByteInput&) = delete;
  ByteInput& operator=(const ByteInput&) = delete;

  const std::filesystem::path& path() const { return path_; }
  bool compressed() const { return compressed_; }
  std::uint64_t file_size() const { return file_size_; }
  /// The most content bytes the file can hold: its size, or for gzip the
  /// size times deflate's maximum ratio (1032:1) plus a little.
  std::uint64_t capacity() const;

  /// Reads up to n bytes; fewer only at the end of the content. Throws
  /// InputError on corrupt gzip data.
  std::size_t read(void* out, std::size_t n);
  /// Reads exactly n bytes or throws "truncated: <what>".
  void read_exact(void* out, std::size_t n, const std::string& what);
  /// True when no content byte is left (consumes one byte otherwise).
  bool at_end();
  /// A short description of why the last read ended early ("" or "; the gzip stream ends early").
  std::string end_note() const;

 private:
  std::filesystem::path path_;
  void* gz_ = nullptr;  // gzFile
  bool compressed_ = false;
  bool stream_cut_ = false;
  std::uint64_t file_size_ = 0;
};

/// Appends up to `count` elements of T read from `in` to `out` and returns how
/// many arrived. Memory grows only as data arrives (never beyond `count`), so
/// a header that lies about the size cannot make us allocate it.
template <class T>
std::size_t read_growing(ByteInput& in, std::vector<T>& out, std::size_t count) {
  const std::size_t start = out.size();
  std::size_t got = 0;
  std::size_t limit = in.compressed() ? std::min<std::size_t>(count, (std::size_t{1} << 20) / sizeof(T) + 1) : count;
  for (;;) {
    out.reserve(start + limit);
    out.resize(start + limit);
    const std::size_t wanted = (limit - got) * sizeof(T);
    const std::size_t bytes = in.read(reinterpret_cast<char*>(out.data() + start + got), wanted);
    got += bytes / sizeof(T);
    if (bytes < wanted || limit == count) break;
    limit = std::min(count, limit * 2);
  }
  out.resize(start + got);
  return got;
}

}  // namespace aevb::data
