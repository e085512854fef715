#include "core/rng.hpp"

#include "core/thread_pool.hpp"

#include <cmath>
#include <numbers>

namespace aevb {
namespace {

constexpr std::uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
constexpr std::uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;

inline void mulhilo(std::uint32_t a, std::uint32_t b, std::uint32_t& hi, std::uint32_t& lo) {
  std::uint64_t p = static_cast<std::uint64_t>(a) * b;
  hi = static_cast<std::uint32_t>(p >> 32);
  lo = static_cast<std::uint32_t>(p);
}

// Uniform in (0, 1] from 32 bits: never 0, so log() below is finite.
inline double open_unit(std::uint32_t bits) { return (static_cast<double>(bits) + 1.0) * 0x1p-32; }

}  // namespace

std::array<std::uint32_t, 4> philox4x32(std::uint64_t seed, std::uint64_t stream, std::uint64_t counter) {
  std::uint32_t c0 = static_cast<std::uint32_t>(counter), c1 = static_cast<std::uint32_t>(counter >> 32);
  std::uint32_t c2 = static_cast<std::uint32_t>(stream), c3 = static_cast<std::uint32_t>(stream >> 32);
  std::uint32_t k0 = static_cast<std::uint32_t>(seed), k1 = static_cast<std::uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    std::uint32_t hi0, lo0, hi1, lo1;
    mulhilo(kMul0, c0, hi0, lo0);
    mulhilo(kMul1, c2, hi1, lo1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
  return {c0, c1, c2, c3};
}

namespace {

// Value i of a stream lives in lane i % 4 of Philox block i / 4. Calls
// values(bits) -> 4 values for every block covering [first, first + n) and
// stores the lanes that fall inside; blocks are independent, so in parallel
// (from 256 blocks, ~25 us of Box-Muller: a training step's 128 x 20 normals
// are 640 blocks).
template <class T, class ToValues>
void fill_blocks(T* out, std::size_t n, std::uint64_t seed, std::uint64_t stream, std::uint64_t first,
                 ToValues values) {
  const std::uint64_t first_block = first / 4, last_block = (first + n + 3) / 4;
  const auto blocks = static_cast<std::size_t>(last_block - first_block);
  const auto fill = [&](std::size_t from, std::size_t to) {
    for (std::uint64_t block = first_block + from; block < first_block + to; ++block) {
      const std::array<double, 4> v = values(philox4x32(seed, stream, block));
      for (std::uint64_t lane = 0; lane < 4; ++lane) {
        const std::uint64_t i = block * 4 + lane;
        if (i >= first && i < first + n) out[i - first] = static_cast<T>(v[lane]);
      }
    }
  };
  pool::for_ranges(blocks, fill, blocks > 256);
}

}  // namespace

template <class T>
void fill_normal(T* out, std::size_t n, std::uint64_t seed, std::uint64_t stream, std::uint64_t first) {
  // Two Box-Muller pairs a block.
  fill_blocks(out, n, seed, stream, first, [](const std::array<std::uint32_t, 4>& bits) {
    std::array<double, 4> normals;
    for (int pair = 0; pair < 2; ++pair) {
      const double radius = std::sqrt(-2.0 * std::log(open_unit(bits[2 * pair])));
      const double angle = 2.0 * std::numbers::pi * (bits[2 * pair + 1] * 0x1p-32);
      normals[2 * pair] = radius * std::cos(angle);
      normals[2 * pair + 1] = radius * std::sin(angle);
    }
    return normals;
  });
}

void fill_uniform(float* out, std::size_t n, std::uint64_t seed, std::uint64_t stream, std::uint64_t first) {
  // The top 24 bits: exact in float, in [0, 1).
  fill_blocks(out, n, seed, stream, first, [](const std::array<std::uint32_t, 4>& bits) {
    std::array<double, 4> u;
    for (int lane = 0; lane < 4; ++lane) u[lane] = double(bits[lane] >> 8) * 0x1p-24;
    return u;
  });
}

std::uint32_t CounterRng::next_u32() {
  if (used_ == 4) {
    block_ = philox4x32(seed_, stream_, counter_++);
    used_ = 0;
  }
  return block_[used_++];
}

std::uint64_t CounterRng::below(std::uint64_t n) {
  // Lemire's multiply-shift with rejection: exactly uniform.
  std::uint64_t x = (static_cast<std::uint64_t>(next_u32()) << 32) | next_u32();
  __uint128_t m = static_cast<__uint128_t>(x) * n;
  auto low = static_cast<std::uint64_t>(m);
  if (low < n) {
    const std::uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      x = (static_cast<std::uint64_t>(next_u32()) << 32) | next_u32();
      m = static_cast<__uint128_t>(x) * n;
      low = static_cast<std::uint64_t>(m);
    }
  }
  return static_cast<std::uint64_t>(m >> 64);
}

template void fill_normal<float>(float*, std::size_t, std::uint64_t, std::uint64_t, std::uint64_t);
template void fill_normal<double>(double*, std::size_t, std::uint64_t, std::uint64_t, std::uint64_t);

}  // namespace aevb
