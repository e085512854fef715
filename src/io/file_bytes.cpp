#include "io/file_bytes.hpp"

#include <aevb/error.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <system_error>

namespace aevb {

std::string read_file_bytes(const std::filesystem::path& path) {
  auto fail = [&](const std::string& why) { return InputError("cannot read " + path.string() + ": " + why); };
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) throw fail("no such file");
  if (std::filesystem::is_directory(status)) throw fail("it is a directory, expected a file");
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) throw fail(std::strerror(errno));
  std::string out;
  char buffer[1 << 16];
  for (;;) {
    const std::size_t n = std::fread(buffer, 1, sizeof buffer, f.get());
    out.append(buffer, n);
    if (n < sizeof buffer) {
      if (std::ferror(f.get())) throw fail(std::strerror(errno));
      break;
    }
  }
  return out;
}

}  // namespace aevb
