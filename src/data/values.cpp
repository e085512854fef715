#include "data/values.hpp"

#include "data/byte_input.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>

namespace aevb::data {

namespace {

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

void check_row_limit(std::uint64_t count, const std::filesystem::path& path) {
  if (count > std::numeric_limits<std::uint32_t>::max()) {
    fail(path, "has " + std::to_string(count) + " datapoints; at most 4294967295 are supported");
  }
}

void store_values(Dataset& d, std::vector<float>&& values, Scaling scaling, const std::filesystem::path& path) {
  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
  bool integers = true, zero_one = true;
  for (std::size_t k = 0; k < values.size(); ++k) {
    const float v = values[k];
    if (!std::isfinite(v)) {
      fail(path, "value " + std::to_string(k % d.dim + 1) + " of datapoint " + std::to_string(k / d.dim + 1) +
                     " is not a finite number (" + number(v) + ")");
    }
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    integers = integers && v == std::floor(v);
    zero_one = zero_one && (v == 0.0f || v == 1.0f);
  }
  d.floats.clear();
  d.bytes.clear();
  d.binary = false;
  auto to_bytes = [&](float scale) {
    d.bytes.resize(values.size());
    for (std::size_t k = 0; k < values.size(); ++k) d.bytes[k] = static_cast<std::uint8_t>(values[k] * scale);
    std::vector<float>().swap(values);
  };
  if (zero_one && scaling != Scaling::none) {
    to_bytes(255.0f);
    d.binary = true;
    return;
  }
  switch (scaling) {
    case Scaling::unit:
      if (lo >= 0.0f && hi <= 1.0f) {
        d.floats = std::move(values);
      } else if (integers && lo >= 0.0f && hi <= 255.0f) {
        to_bytes(1.0f);
        d.source += " (integers 0..255 read as value/255)";
      } else {
        fail(path, "values range from " + number(lo) + " to " + number(hi) +
                       "; expected numbers in [0, 1] or integers 0..255 (scale the data, or choose scaling "
                       "'minmax' to map [min, max] to [0, 1] or 'none' to keep the values)");
      }
      break;
    case Scaling::minmax: {
      const float range = hi - lo;
      for (float& v : values) v = range > 0.0f ? std::min(1.0f, std::max(0.0f, (v - lo) / range)) : 0.0f;
      d.floats = std::move(values);
      d.source += " (scaled from [" + number(lo) + ", " + number(hi) + "] to [0, 1])";
      break;
    }
    case Scaling::none:
      d.binary = zero_one;
      d.floats = std::move(values);
      break;
  }
}

void detect_binary_bytes(Dataset& d) {
  bool binary = true;
  for (std::uint8_t b : d.bytes) binary = binary && (b == 0 || b == 255);
  d.binary = binary && !d.bytes.empty();
}

}  // namespace aevb::data
