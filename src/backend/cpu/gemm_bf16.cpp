// C = alpha * op(A) op(B) + beta * C with the operands rounded to bfloat16 and
// the products summed in float32, by AMX (Intel Advanced Matrix Extensions)
// or, on CPUs without AMX, by AVX512-BF16's VDPBF16PS on the same packed
// operands (see avx512_tiles).
//
// AMX multiplies tiles: C[16 x 16] (float) += A[16 x 32] B[32 x 16] (bf16),
// with A's rows holding 32 consecutive k and B stored as 16 rows of k-pairs
// (row p: B[2p][n], B[2p+1][n] for n = 0..15, "VNNI" order). Both operand
// tiles are therefore 16 x 16 matrices of 32-bit pairs of consecutive k:
//   A tile (m, p) = (opA[m][2p], opA[m][2p+1]),  B tile (p, n) = (opB[2p][n], opB[2p+1][n]).
// Packing builds these from float rows: where k runs along a source row, one
// conversion of 32 floats gives 16 pairs; where k runs down the rows, two rows
// are converted and interleaved. Pairs that come out along the wrong axis go
// through a 16 x 16 transpose. Edges are zero-padded to whole tiles.
#include "backend/cpu/gemm_bf16.hpp"

#include "core/thread_pool.hpp"

#include <aevb/error.hpp>

#include <string>

#include <algorithm>
#include <atomic>
#include <stdexcept>

#if !defined(__x86_64__)

namespace aevb::backend {
std::span<const Bf16Kernel> bf16_kernels_available() { return {}; }
void gemm_bf16(Trans, Trans, std::size_t, std::size_t, std::size_t, float, const float*, std::size_t, const float*,
               std::size_t, float, float*, std::size_t) {
  throw std::logic_error("gemm_bf16: bfloat16 products are x86-64 only");
}
}  // namespace aevb::backend
#else

#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cpuid.h>
#include <cstdint>
#include <vector>

// CPU detection first, outside the AVX-512 region below: it runs on every
// machine, and code compiled for AVX-512 may use its instructions anywhere.
namespace aevb::backend {
namespace {

// Linux hands out AMX's tile data state only to processes that ask.
constexpr long kArchReqXcompPerm = 0x1023;
constexpr long kXfeatureXtiledata = 18;

bool cpu_has_amx_bf16() {
  unsigned a, b, c, d;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  constexpr unsigned kAmxBf16 = 1u << 22, kAmxTile = 1u << 24, kAvx512Bf16Leaf1 = 1u << 5;
  if ((d & kAmxBf16) == 0 || (d & kAmxTile) == 0) return false;
  unsigned a1, b1, c1, d1;
  if (!__get_cpuid_count(7, 1, &a1, &b1, &c1, &d1)) return false;
  return (a1 & kAvx512Bf16Leaf1) != 0;  // the packing converts with AVX512-BF16
}

// VDPBF16PS and the packing's AVX-512 shuffles, with the OS saving zmm state
// (__builtin_cpu_supports checks XCR0 too).
bool cpu_has_avx512_bf16() {
  return __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl");
}

}  // namespace

std::span<const Bf16Kernel> bf16_kernels_available() {
  static const std::vector<Bf16Kernel> kernels = [] {
    std::vector<Bf16Kernel> k;
    if (cpu_has_amx_bf16() && syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0)
      k.push_back(Bf16Kernel::amx);
    if (cpu_has_avx512_bf16()) k.push_back(Bf16Kernel::avx512);
    return k;
  }();
  return kernels;
}

}  // namespace aevb::backend

// The kernels: every function from here to the matching pop (below) is
// compiled for AVX-512 and AMX, and runs only where bf16_kernels_available()
// found them. Clang has no `#pragma GCC target`; its attribute pragma does
// the same.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,amx-tile,amx-bf16"))), \
                             apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512bf16,amx-tile,amx-bf16")
// GCC 12's AVX-512 shuffle intrinsics trip a false -Wmaybe-uninitialized
// (their _mm512_undefined operand), as in optim/optimizer.cpp.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace aevb::backend {
namespace {

constexpr std::size_t kTileRows = 16;  // rows of every tile
constexpr std::size_t kTileK = 32;     // k per A row, per B tile
constexpr std::size_t kPairs = 16;     // 32-bit pairs per tile row
constexpr std::size_t kTileWords = kTileRows * kPairs;
// Below this many FLOPs a product runs on the calling thread alone.
constexpr double kParallelFlops = 2e6;

// ldtilecfg's 64-byte operand: palette 1, every tile 16 rows of 64 bytes.
struct alignas(64) TileConfig {
  std::uint8_t palette = 1, start_row = 0;
  std::array<std::uint8_t, 14> reserved{};
  std::array<std::uint16_t, 16> bytes_per_row{};
  std::array<std::uint8_t, 16> rows{};
};

void configure_tiles() {
  thread_local const bool configured = [] {
    TileConfig config;
    for (int t = 0; t < 8; ++t) {
      config.bytes_per_row[std::size_t(t)] = 64;
      config.rows[std::size_t(t)] = kTileRows;
    }
    _tile_loadconfig(&config);
    return true;
  }();
  (void)configured;
}

// 16 pairs from 32 consecutive floats x[0..count) (zero past count).
__m512i pairs_along(const float* x, std::size_t count) {
  const auto lo_mask = static_cast<__mmask16>(count >= 16 ? 0xffff : (1u << count) - 1);
  const auto hi_mask = static_cast<__mmask16>(count >= 32 ? 0xffff : count <= 16 ? 0 : (1u << (count - 16)) - 1);
  const __m512 lo = _mm512_maskz_loadu_ps(lo_mask, x);
  const __m512 hi = _mm512_maskz_loadu_ps(hi_mask, x + 16);
  return (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
}

// 16 pairs (r0[i], r1[i]) from two float rows of `count` <= 16 values (r1 may be null: zeros).
__m512i pairs_across(const float* r0, const float* r1, std::size_t count) {
  const auto mask = static_cast<__mmask16>(count >= 16 ? 0xffff : (1u << count) - 1);
  const __m512 a = _mm512_maskz_loadu_ps(mask, r0);
  const __m512 b = r1 ? _mm512_maskz_loadu_ps(mask, r1) : _mm512_setzero_ps();
  // cvtne2ps_pbh(b, a) = [a0..a15 | b0..b15] as bf16 words; interleave to a0 b0 a1 b1 ...
  const __m512i words = (__m512i)_mm512_cvtne2ps_pbh(b, a);
  const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7,
                                              22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  return _mm512_permutexvar_epi16(interleave, words);
}

// dst (16 x 16 words, row-major) = the transpose of the rows r[0..16): three
// rounds of shuffles, 4 x 4 words within 128-bit lanes, then the lanes.
void store_transposed(const __m512i* r, std::uint32_t* dst) {
  __m512i u[16], v[16];
  for (int q = 0; q < 4; ++q) {
    const __m512i t0 = _mm512_unpacklo_epi32(r[4 * q], r[4 * q + 1]), t1 = _mm512_unpackhi_epi32(r[4 * q], r[4 * q + 1]);
    const __m512i t2 = _mm512_unpacklo_epi32(r[4 * q + 2], r[4 * q + 3]);
    const __m512i t3 = _mm512_unpackhi_epi32(r[4 * q + 2], r[4 * q + 3]);
    // u[4q + e], lane L: column 4L + e of rows 4q .. 4q + 3.
    u[4 * q] = _mm512_unpacklo_epi64(t0, t2);
    u[4 * q + 1] = _mm512_unpackhi_epi64(t0, t2);
    u[4 * q + 2] = _mm512_unpacklo_epi64(t1, t3);
    u[4 * q + 3] = _mm512_unpackhi_epi64(t1, t3);
  }
  for (int e = 0; e < 4; ++e) {
    v[e] = _mm512_shuffle_i32x4(u[e], u[4 + e], 0x88);  // lanes 0, 2 of each
    v[4 + e] = _mm512_shuffle_i32x4(u[e], u[4 + e], 0xdd);  // lanes 1, 3 of each
    v[8 + e] = _mm512_shuffle_i32x4(u[8 + e], u[12 + e], 0x88);
    v[12 + e] = _mm512_shuffle_i32x4(u[8 + e], u[12 + e], 0xdd);
  }
  for (int e = 0; e < 8; ++e) {
    _mm512_storeu_si512(dst + e * kPairs, _mm512_shuffle_i32x4(v[e], v[8 + e], 0x88));
    _mm512_storeu_si512(dst + (8 + e) * kPairs, _mm512_shuffle_i32x4(v[e], v[8 + e], 0xdd));
  }
}

// An operand as AMX wants it: `blocks` tiles along m (A) or n (B), each with
// `ktiles` tiles along k, 16 x 16 words each: tile (block, kt) at
// (block * ktiles + kt) * kTileWords.
struct Packed {
  std::vector<std::uint32_t> words;
  std::size_t blocks = 0, ktiles = 0;
  const std::uint32_t* tile(std::size_t block, std::size_t kt) const {
    return words.data() + (block * ktiles + kt) * kTileWords;
  }
};

// An operand to pack: element (r, k) at x[r * ld + k] (k_along_rows) or at
// x[k * ld + r] (k down the rows), r in [0, rows), k in [0, depth); packed
// into tiles whose rows are r (as_rows: an A operand) or whose columns are r
// (a B operand).
struct Source {
  const float* x;
  std::size_t ld;
  bool k_along_rows;
  std::size_t rows, depth;
  bool as_rows;
};

// Sizes `out` for `src`. Its buffer grows, never shrinks: a vector that
// shrinks zero-fills again when it grows back, and a step's products
// alternate between sizes.
void prepare(const Source& src, Packed& out) {
  out.blocks = (src.rows + kTileRows - 1) / kTileRows;
  out.ktiles = (src.depth + kTileK - 1) / kTileK;
  const std::size_t words = out.blocks * out.ktiles * kTileWords;
  if (out.words.size() < words) out.words.resize(words);
}

// Packs tile (block, kt) of `src` into `out` (prepared).
void pack_tile(const Source& src, Packed& out, std::size_t block, std::size_t kt) {
  const auto [x, ld, k_along_rows, rows, depth, as_rows] = src;
  const std::size_t r0 = block * kTileRows, nr = std::min(kTileRows, rows - r0);
  const std::size_t k0 = kt * kTileK, nk = std::min(kTileK, depth - k0);
  std::uint32_t* dst = out.words.data() + (block * out.ktiles + kt) * kTileWords;
  __m512i v[kTileRows];
  if (k_along_rows) {
    // v[i]: the pairs of row r0 + i, indexed by p.
    for (std::size_t i = 0; i < kTileRows; ++i)
      v[i] = i < nr ? pairs_along(x + (r0 + i) * ld + k0, nk) : _mm512_setzero_si512();
  } else {
    // v[p]: the pairs (k0 + 2p, k0 + 2p + 1) of rows r0.., indexed by row.
    for (std::size_t p = 0; p < kPairs; ++p) {
      const std::size_t k = k0 + 2 * p;
      v[p] = k < depth ? pairs_across(x + k * ld + r0, k + 1 < depth ? x + (k + 1) * ld + r0 : nullptr, nr)
                       : _mm512_setzero_si512();
    }
  }
  // A tiles are [row][p], B tiles [p][row]: store v as it is where its
  // index already is the tile's row index, transposed otherwise.
  if (k_along_rows == as_rows) {
    for (std::size_t i = 0; i < kTileRows; ++i) _mm512_storeu_si512(dst + i * kPairs, v[i]);
  } else {
    store_transposed(v, dst);
  }
}

// Packs blocks [first, last) of 16 rows r of `src` into `out` (prepared),
// reading the source in memory order: along each block's rows where k runs
// along them, and k-tile by k-tile across the blocks where k runs down the
// rows (there the rows of a k-tile are contiguous, and a block's tiles are not).
void pack(const Source& src, Packed& out, std::size_t first, std::size_t last) {
  if (src.k_along_rows) {
    for (std::size_t block = first; block < last; ++block)
      for (std::size_t kt = 0; kt < out.ktiles; ++kt) pack_tile(src, out, block, kt);
  } else {
    for (std::size_t kt = 0; kt < out.ktiles; ++kt)
      for (std::size_t block = first; block < last; ++block) pack_tile(src, out, block, kt);
  }
}

struct Scratch {
  Packed a, b;
};

// Pairs of 16-row blocks: C's 32 x 32 blocks along one side.
std::size_t pairs(std::size_t blocks) { return (blocks + 1) / 2; }

// Tiles (i, j) .. (i, j + nj - 1) of op(A) op(B) (nj = 1 or 2: C's 16 rows
// of A block i against B blocks j, j + 1), by AVX512-BF16. VDPBF16PS adds to
// each of 16 float lanes the products of one bf16 pair, so row r of a tile
// accumulates, pair by pair p, A's pair (r, p) broadcast against B's row p
// (the pairs of 16 columns): the packed tiles as AMX reads them. Rows go in
// groups of 8, each broadcast serving both B tiles: 16 accumulators, two B
// rows and a broadcast in registers. Sums run over k in a fixed order.
// Tile t is written to out[t] (16 rows, ld[t] apart).
void avx512_tiles(const Packed& a, const Packed& b, std::size_t i, std::size_t j, std::size_t nj, float* const out[2],
                  const std::size_t ld[2]) {
  constexpr std::size_t kGroup = 8;
  for (std::size_t r0 = 0; r0 < kTileRows; r0 += kGroup) {
    __m512 acc[kGroup][2];
    for (auto& row : acc) row[0] = row[1] = _mm512_setzero_ps();
    for (std::size_t kt = 0; kt < a.ktiles; ++kt) {
      const std::uint32_t* at = a.tile(i, kt) + r0 * kPairs;
      const std::uint32_t* b0 = b.tile(j, kt);
      const std::uint32_t* b1 = nj > 1 ? b.tile(j + 1, kt) : b0;
      for (std::size_t p = 0; p < kPairs; ++p) {
        const __m512bh x0 = (__m512bh)_mm512_loadu_si512(b0 + p * kPairs);
        const __m512bh x1 = (__m512bh)_mm512_loadu_si512(b1 + p * kPairs);
#pragma GCC unroll 8
        for (std::size_t r = 0; r < kGroup; ++r) {
          const __m512bh y = (__m512bh)_mm512_set1_epi32(int(at[r * kPairs + p]));
          acc[r][0] = _mm512_dpbf16_ps(acc[r][0], y, x0);
          acc[r][1] = _mm512_dpbf16_ps(acc[r][1], y, x1);  // a duplicate of the first when nj = 1
        }
      }
    }
    for (std::size_t t = 0; t < nj; ++t)
      for (std::size_t r = 0; r < kGroup; ++r) _mm512_storeu_ps(out[t] + (r0 + r) * ld[t], acc[r][t]);
  }
}

// C's 32 x 32 block at tile row ib, column jb (ib, jb even) = alpha * the
// packed product + beta * C. AMX holds four C tiles, two A and two B tiles
// in its eight tile registers (a lone last tile row or column leaves two of
// them idle); AVX-512 computes the C tiles one by one.
void multiply_block(Bf16Kernel kernel, const Packed& a, const Packed& b, std::size_t m, std::size_t n, float alpha,
                    float beta, float* c, std::size_t ldc, std::size_t ib, std::size_t jb) {
  alignas(64) float block[2][2][kTileRows][kTileRows];
  const bool two_i = ib + 1 < a.blocks, two_j = jb + 1 < b.blocks;
  const std::size_t ni_tiles = two_i ? 2 : 1, nj_tiles = two_j ? 2 : 1;
  // A whole tile of C = op(A) op(B) (alpha 1, beta 0: every product of
  // the engine) goes straight to C; others through `block`.
  const bool plain = alpha == 1.0f && beta == 0.0f;
  auto whole = [&](std::size_t ti, std::size_t tj) {
    return plain && (ib + ti + 1) * kTileRows <= m && (jb + tj + 1) * kTileRows <= n;
  };
  auto at = [&](std::size_t ti, std::size_t tj) { return c + (ib + ti) * kTileRows * ldc + (jb + tj) * kTileRows; };
  const bool direct[2][2] = {{whole(0, 0), whole(0, 1)}, {whole(1, 0), whole(1, 1)}};
  if (kernel == Bf16Kernel::amx) {
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    for (std::size_t kt = 0; kt < a.ktiles; ++kt) {
      _tile_loadd(4, a.tile(ib, kt), 64);
      _tile_loadd(6, b.tile(jb, kt), 64);
      _tile_dpbf16ps(0, 4, 6);
      if (two_j) {
        _tile_loadd(7, b.tile(jb + 1, kt), 64);
        _tile_dpbf16ps(1, 4, 7);
      }
      if (two_i) {
        _tile_loadd(5, a.tile(ib + 1, kt), 64);
        _tile_dpbf16ps(2, 5, 6);
        if (two_j) _tile_dpbf16ps(3, 5, 7);
      }
    }
    const std::size_t stride = ldc * sizeof(float);
    if (direct[0][0]) _tile_stored(0, at(0, 0), stride); else _tile_stored(0, block[0][0], 64);
    if (direct[0][1]) _tile_stored(1, at(0, 1), stride); else _tile_stored(1, block[0][1], 64);
    if (direct[1][0]) _tile_stored(2, at(1, 0), stride); else _tile_stored(2, block[1][0], 64);
    if (direct[1][1]) _tile_stored(3, at(1, 1), stride); else _tile_stored(3, block[1][1], 64);
  } else {
    for (std::size_t ti = 0; ti < ni_tiles; ++ti) {
      float* const out[2] = {direct[ti][0] ? at(ti, 0) : block[ti][0][0], direct[ti][1] ? at(ti, 1) : block[ti][1][0]};
      const std::size_t ld[2] = {direct[ti][0] ? ldc : kTileRows, direct[ti][1] ? ldc : kTileRows};
      avx512_tiles(a, b, ib + ti, jb, nj_tiles, out, ld);
    }
  }
  for (std::size_t ti = 0; ti < ni_tiles; ++ti) {
    for (std::size_t tj = 0; tj < nj_tiles; ++tj) {
      if (direct[ti][tj]) continue;
      const std::size_t i0 = (ib + ti) * kTileRows, j0 = (jb + tj) * kTileRows;
      const std::size_t ni = std::min(kTileRows, m - i0), nj = std::min(kTileRows, n - j0);
      const auto mask = static_cast<__mmask16>(nj >= 16 ? 0xffff : (1u << nj) - 1);
      for (std::size_t i = 0; i < ni; ++i) {
        float* crow = c + (i0 + i) * ldc + j0;
        __m512 v = _mm512_mul_ps(_mm512_set1_ps(alpha), _mm512_load_ps(block[ti][tj][i]));
        if (beta != 0.0f) v = _mm512_fmadd_ps(_mm512_set1_ps(beta), _mm512_maskz_loadu_ps(mask, crow), v);
        _mm512_mask_storeu_ps(crow, mask, v);
      }
    }
  }
}

void gemm_bf16_on(Bf16Kernel kernel, Trans ta, Trans tb, std::size_t m, std::size_t n, std::size_t k, float alpha,
                  const float* a, std::size_t lda, const float* b, std::size_t ldb, float beta, float* c,
                  std::size_t ldc) {
  // The caller's scratch, which the pool's threads fill and read: named
  // through a reference, since a lambda naming a thread_local reaches the
  // running thread's own instance.
  thread_local Scratch callers_scratch;
  Scratch& scratch = callers_scratch;
  // op(A)[i][kk]: A[i][kk] (k along A's rows) or A[kk][i]; op(B)[kk][j]:
  // B[kk][j] (k down B's rows) or B[j][kk].
  const Source sa{a, lda, ta == Trans::no, m, k, true}, sb{b, ldb, tb == Trans::yes, n, k, false};
  prepare(sa, scratch.a);
  prepare(sb, scratch.b);
  // The larger operand's pairs of 16-row blocks are split among the threads:
  // each thread packs its own share of them (and a share of the smaller
  // operand), then computes the C blocks of its pairs against all of the
  // smaller operand, so the larger operand's packed tiles stay in the cache
  // of the core that wrote them. Every element of C is computed the same way
  // whichever thread computes it.
  const bool parallel = 2.0 * double(m) * double(n) * double(k) >= kParallelFlops;
  const bool split_b = scratch.b.blocks * scratch.b.ktiles >= scratch.a.blocks * scratch.a.ktiles;
  const Packed& larger = split_b ? scratch.b : scratch.a;
  const std::size_t parts = std::size_t(pool::threads()), larger_pairs = pairs(larger.blocks);
  const std::size_t smaller_blocks = split_b ? scratch.a.blocks : scratch.b.blocks;
  auto share = [parts](std::size_t count, std::size_t part) { return count * part / parts; };
  pool::for_ranges(
      parts,
      [&](std::size_t first, std::size_t last) {
        const std::size_t lf = std::min(2 * share(larger_pairs, first), larger.blocks);
        const std::size_t ll = std::min(2 * share(larger_pairs, last), larger.blocks);
        const std::size_t sf = share(smaller_blocks, first), sl = share(smaller_blocks, last);
        pack(split_b ? sb : sa, split_b ? scratch.b : scratch.a, lf, ll);
        pack(split_b ? sa : sb, split_b ? scratch.a : scratch.b, sf, sl);
      },
      parallel);
  pool::for_ranges(
      parts,
      [&](std::size_t first, std::size_t last) {
        if (kernel == Bf16Kernel::amx) configure_tiles();
        // This thread's pairs of the larger operand against every pair of the
        // other, C's blocks visited row by row (rows of C, written in order,
        // are what the cache and its prefetchers follow best).
        const std::size_t p0 = share(larger_pairs, first), p1 = share(larger_pairs, last);
        const std::size_t i0 = split_b ? 0 : p0, i1 = split_b ? pairs(scratch.a.blocks) : p1;
        const std::size_t j0 = split_b ? p0 : 0, j1 = split_b ? p1 : pairs(scratch.b.blocks);
        for (std::size_t i = i0; i < i1; ++i)
          for (std::size_t j = j0; j < j1; ++j)
            multiply_block(kernel, scratch.a, scratch.b, m, n, alpha, beta, c, ldc, 2 * i, 2 * j);
      },
      parallel);
}

}  // namespace
}  // namespace aevb::backend

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

namespace aevb::backend {
void gemm_bf16(Trans ta, Trans tb, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
               std::size_t lda, const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc) {
  if (m == 0 || n == 0) return;
  gemm_bf16_on(bf16_kernel(), ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
}  // namespace aevb::backend
#endif  // __x86_64__

namespace aevb::backend {
namespace {
// The kernel forced by a ScopedBf16Kernel, or -1: the first available.
std::atomic<int> forced_kernel{-1};
}  // namespace

std::string_view to_string(Bf16Kernel kernel) { return kernel == Bf16Kernel::amx ? "amx" : "avx512"; }

bool bf16_products_available() { return !bf16_kernels_available().empty(); }

Bf16Kernel bf16_kernel() {
  const int forced = forced_kernel.load(std::memory_order_relaxed);
  if (forced >= 0) return static_cast<Bf16Kernel>(forced);
  require_bf16_products("gemm_bf16");
  return bf16_kernels_available().front();
}

ScopedBf16Kernel::ScopedBf16Kernel(Bf16Kernel kernel) : previous_(forced_kernel.load(std::memory_order_relaxed)) {
  const auto available = bf16_kernels_available();
  if (std::find(available.begin(), available.end(), kernel) == available.end())
    throw std::logic_error("ScopedBf16Kernel: the " + std::string(to_string(kernel)) + " kernel is not available");
  forced_kernel.store(static_cast<int>(kernel), std::memory_order_relaxed);
}

ScopedBf16Kernel::~ScopedBf16Kernel() { forced_kernel.store(previous_, std::memory_order_relaxed); }

void require_bf16_products(std::string_view who) {
  if (!bf16_products_available())
    throw InputError(std::string(who) +
                     ": matmul_precision bfloat16 needs AMX-BF16 (Intel Xeon of the 4th generation or later, with "
                     "Linux 5.16 or later) or AVX512-BF16 (AMD Zen 4 or later, Intel Cooper Lake); this machine "
                     "has neither");
}
}  // namespace aevb::backend
