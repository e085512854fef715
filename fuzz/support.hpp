#pragma once
// Shared by the libFuzzer targets (docs/reliability.md). Each target feeds its
// input to the code the CLI calls; path-based readers get it as a file in a
// per-process scratch folder (on /dev/shm when there is one).
//
// A reader may reject its input only with the errors the CLI reports cleanly
// (aevb::InputError, aevb::NumericError: apps/aevb/main.cpp, exit code 2).
// Anything else escapes the target, and libFuzzer reports it as a crash: the
// CLI would have printed "internal error" (or died).
#include <aevb/error.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace aevb::fuzz {

/// The scratch folder of this process, created on first use, removed at exit.
const std::filesystem::path& scratch();

/// Writes `bytes` to `path` (truncating).
void write_file(const std::filesystem::path& path, std::string_view bytes);

/// Splits the input at each `separator` into at most `max_parts` parts (the
/// last part keeps any further separators). Multi-file targets use it.
std::vector<std::string_view> split(std::string_view input, std::string_view separator, std::size_t max_parts);

/// gzip-compresses `bytes` (zlib, level 1).
std::string gzip(std::string_view bytes);

inline std::string_view as_view(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// Runs f; an InputError or NumericError is a clean rejection, anything else propagates.
template <class F>
void clean(F&& f) {
  try {
    f();
  } catch (const aevb::InputError&) {
  } catch (const aevb::NumericError&) {
  }
}

}  // namespace aevb::fuzz

#include <aevb/data.hpp>

namespace aevb::fuzz {

/// The load options for an input of `size` bytes: every scaling and colour
/// mode gets its share of inputs, and a seed file is a valid input as it is.
inline aevb::LoadOptions options_for(std::size_t size) {
  aevb::LoadOptions o;
  o.scaling = size % 3 == 0 ? aevb::Scaling::unit : size % 3 == 1 ? aevb::Scaling::minmax : aevb::Scaling::none;
  o.color = (size / 3) % 2 == 0 ? aevb::ColorMode::keep : aevb::ColorMode::grey;
  return o;
}

}  // namespace aevb::fuzz
