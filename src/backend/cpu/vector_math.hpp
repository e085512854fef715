#pragma once
// Float transcendentals that vectorize: straight-line arithmetic, bit casts and
// selects, no libm calls (GCC vectorizes libm calls only under -ffast-math,
// which we do not use: the trainer relies on isfinite). Written as scalar
// inline functions so that a plain loop over them, under `#pragma omp simd`,
// becomes SIMD code; the same functions are the scalar tails.
//
// Accuracy against double-precision libm, sampled over the whole float range
// by tests/unit/fast_kernels_test.cpp (which prints the measured maxima):
//   exp        1 ulp; 0 below -103.97 (subnormals on the way), +inf above 88.72
//   expm1      3.4 ulp
//   log1p_unit 2 ulp on [0, 1] (the only range softplus needs)
//   tanh       1.3 ulp
//   sigmoid, softplus: 2.7 ulp, through exp and log1p_unit
// NaN in gives NaN out; +-inf give the limits.
//
// Coefficients: exp is Cephes' expf (Moshier); log1p_unit and tanh are least-
// squares fits (numpy, relative error, dev/README.md) of atanh(s)/s and
// tanh(x)/x in the squared argument.
#include <bit>
#include <cmath>
#include <cstdint>

namespace aevb::vmath {

// Selects written as ternaries on values: std::max/min take references,
// which stops GCC 12 from vectorizing the loop around them.
inline float max0(float x) { return x > 0.0f ? x : 0.0f; }
inline float abs(float x) { return std::bit_cast<float>(std::bit_cast<std::uint32_t>(x) & 0x7fffffffu); }

/// e^x.
inline float exp(float x) {
  // Clamp so that n below fits two normal scale factors; the result still
  // overflows to inf above log(FLT_MAX) and underflows to 0 below log(FLT_TRUE_MIN).
  float xc = x > 88.8f ? 88.8f : x;
  xc = xc < -104.0f ? -104.0f : xc;
  // n = round(x / ln 2) by the 1.5 * 2^23 trick (no float -> int conversion).
  constexpr float kShifter = 12582912.0f;
  const float t = std::fma(xc, 1.44269504088896341f, kShifter);
  const float n = t - kShifter;
  // (Unsigned arithmetic: a NaN input makes these bits garbage, never undefined behaviour.)
  const auto ni = static_cast<std::int32_t>(std::bit_cast<std::uint32_t>(t) - std::bit_cast<std::uint32_t>(kShifter));
  // r = x - n ln 2 in two steps (Cody-Waite), |r| <= ln(2)/2.
  float r = std::fma(n, -0.693359375f, xc);
  r = std::fma(n, 2.12194440e-4f, r);
  float p = 1.9875691500e-4f;
  p = std::fma(p, r, 1.3981999507e-3f);
  p = std::fma(p, r, 8.3334519073e-3f);
  p = std::fma(p, r, 4.1665795894e-2f);
  p = std::fma(p, r, 1.6666665459e-1f);
  p = std::fma(p, r, 5.0000001201e-1f);
  p = std::fma(p, r * r, r) + 1.0f;
  // 2^n as two factors: n is in [-150, 129], each half in the normal range.
  const std::int32_t n1 = ni >> 1, n2 = ni - n1;
  const float s1 = std::bit_cast<float>(static_cast<std::uint32_t>(n1 + 127) << 23);
  const float s2 = std::bit_cast<float>(static_cast<std::uint32_t>(n2 + 127) << 23);
  const float y = p * s1 * s2;
  return x != x ? x : y;
}

/// e^x - 1, accurate near 0.
inline float expm1(float x) {
  // |x| < 0.35: Taylor to x^8 (truncation < 2e-10 relative); else exp(x) - 1.
  float p = 1.0f / 40320.0f;
  p = std::fma(p, x, 1.0f / 5040.0f);
  p = std::fma(p, x, 1.0f / 720.0f);
  p = std::fma(p, x, 1.0f / 120.0f);
  p = std::fma(p, x, 1.0f / 24.0f);
  p = std::fma(p, x, 1.0f / 6.0f);
  p = std::fma(p, x, 0.5f);
  const float small = std::fma(p, x * x, x);
  const float large = exp(x) - 1.0f;
  return abs(x) < 0.35f ? small : large;
}

/// log(1 + t) for t in [0, 1]: 2 atanh(s), s = t / (2 + t) in [0, 1/3].
inline float log1p_unit(float t) {
  const float s = t / (2.0f + t);
  const float w = s * s;
  float q = 0.12096488489038904f;
  q = std::fma(q, w, 0.10725014774360626f);
  q = std::fma(q, w, 0.14307766189418333f);
  q = std::fma(q, w, 0.19999447153740285f);
  q = std::fma(q, w, 0.333333379795399f);
  return 2.0f * std::fma(s * w, q, s);
}

/// log(1 + e^x), stable for any x: max(x, 0) + log1p(e^-|x|).
inline float softplus(float x) { return max0(x) + log1p_unit(exp(-abs(x))); }

/// 1 / (1 + e^-x), from e^-|x| so that neither branch overflows.
inline float sigmoid(float x) {
  const float e = exp(-abs(x));
  const float r = 1.0f / (1.0f + e);
  return x >= 0.0f ? r : e * r;
}

/// tanh(x), odd: a + a^3 P(a^2) below a = |x| = 0.625, 1 - 2 / (e^2a + 1)
/// above, with the sign of x put back (so tanh(-0) = -0).
inline float tanh(float x) {
  const float a = abs(x);
  const float z = a * a;
  float p = 0.0021780235154710958f;
  p = std::fma(p, z, -0.008214972284231969f);
  p = std::fma(p, z, 0.021715552691703423f);
  p = std::fma(p, z, -0.05394939666592197f);
  p = std::fma(p, z, 0.1333322606357357f);
  p = std::fma(p, z, -0.33333331285643686f);
  const float small = std::fma(a * z, p, a);
  const float large = 1.0f - 2.0f / (exp(2.0f * a) + 1.0f);
  const float magnitude = a < 0.625f ? small : large;
  return std::bit_cast<float>(std::bit_cast<std::uint32_t>(magnitude) | (std::bit_cast<std::uint32_t>(x) & 0x80000000u));
}

}  // namespace aevb::vmath
