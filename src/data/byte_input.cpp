#include "data/byte_input.hpp"

#include <aevb/error.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <system_error>
#include <zlib.h>

namespace aevb::data {

void fail(const std::filesystem::path& path, const std::string& message) {
  throw InputError(path.string() + ": " + message);
}

std::string describe_bytes(std::uint64_t bytes) {
  std::string text = std::to_string(bytes) + " bytes";
  if (bytes >= (std::uint64_t{1} << 20)) {
    char buf[48];
    const double mib = static_cast<double>(bytes) / (1024.0 * 1024.0);
    if (mib >= 1024.0 * 1024.0) {
      std::snprintf(buf, sizeof buf, " (%.1f TiB)", mib / (1024.0 * 1024.0));
    } else if (mib >= 1024.0) {
      std::snprintf(buf, sizeof buf, " (%.1f GiB)", mib / 1024.0);
    } else {
      std::snprintf(buf, sizeof buf, " (%.1f MiB)", mib);
    }
    text += buf;
  }
  return text;
}

std::uint64_t checked_mul(std::uint64_t a, std::uint64_t b, const std::filesystem::path& path) {
  std::uint64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) {
    fail(path, "the header declares a size that overflows 64 bits (" + std::to_string(a) + " x " +
                   std::to_string(b) + "); the file is corrupt");
  }
  return r;
}

ByteInput::ByteInput(const std::filesystem::path& path) : path_(path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) fail(path, "no such file");
  if (std::filesystem::is_directory(status)) fail(path, "is a directory, expected a file");
  file_size_ = std::filesystem::file_size(path, ec);
  if (ec) fail(path, "cannot read: " + ec.message());
  errno = 0;
  gzFile gz = gzopen(path.c_str(), "rb");
  if (gz == nullptr) {
    fail(path, std::string("cannot open: ") + (errno != 0 ? std::strerror(errno) : "out of memory"));
  }
  gz_ = gz;
  // zlib's buffers (this size in, twice it out): 256 KiB reads large
  // datasets in few calls; a small file needs no more than its size, and
  // several 100 KiB per open made the fuzz targets spend most of their time
  // mapping and clearing memory (docs/reliability.md).
  gzbuffer(gz, static_cast<unsigned>(std::clamp<std::uint64_t>(file_size_, 1u << 13, 1u << 18)));
  compressed_ = gzdirect(gz) == 0;
}

ByteInput::~ByteInput() {
  if (gz_ != nullptr) gzclose_r(static_cast<gzFile>(gz_));
}

std::uint64_t ByteInput::capacity() const {
  if (!compressed_) return file_size_;
  // Deflate cannot expand data by more than 1032:1.
  const std::uint64_t cap = std::numeric_limits<std::uint64_t>::max() / 2048;
  return std::min(file_size_, cap) * 1032 + 4096;
}

std::size_t ByteInput::read(void* out, std::size_t n) {
  auto* gz = static_cast<gzFile>(gz_);
  auto* dst = static_cast<char*>(out);
  std::size_t done = 0;
  while (done < n) {
    const auto chunk = static_cast<unsigned>(std::min<std::size_t>(n - done, std::size_t{1} << 30));
    const int got = gzread(gz, dst + done, chunk);
    if (got < 0 || static_cast<unsigned>(got) < chunk) {
      int errnum = Z_OK;
      const char* message = gzerror(gz, &errnum);
      if (errnum == Z_BUF_ERROR) {
        stream_cut_ = true;  // the gzip stream ends before its trailer: truncated
      } else if (errnum == Z_ERRNO) {
        fail(path_, std::string("read error: ") + std::strerror(errno));
      } else if (errnum != Z_OK) {
        fail(path_, std::string("corrupt gzip data (zlib: ") + (message ? message : "unknown error") + ")");
      }
      if (got > 0) done += static_cast<std::size_t>(got);
      break;
    }
    done += static_cast<std::size_t>(got);
  }
  return done;
}

void ByteInput::read_exact(void* out, std::size_t n, const std::string& what) {
  const std::size_t got = read(out, n);
  if (got < n) {
    fail(path_, "truncated: expected " + what + " (" + std::to_string(n) + " bytes), found " +
                    std::to_string(got) + end_note());
  }
}

bool ByteInput::at_end() {
  char byte = 0;
  return read(&byte, 1) == 0;
}

std::string ByteInput::end_note() const {
  return stream_cut_ ? "; the gzip stream ends early" : "";
}

}  // namespace aevb::data
