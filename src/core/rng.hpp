#pragma once
// Counter-based random numbers (Philox4x32-10, Salmon et al. 2011): value i of
// stream s under seed k is a pure function of (k, s, i). Runs are reproducible
// whatever the thread count or chunking, and a GPU backend can produce the same
// stream. Streams are named by a purpose and a 48-bit index (step, epoch, row).
#include <array>
#include <cstddef>
#include <cstdint>

namespace aevb {

enum class RngPurpose : std::uint64_t {
  init = 1,        // parameter initialization; index 0
  eps = 2,         // reparameterization noise; index = training step
  eval_eps = 3,    // evaluation noise; index = datapoint
  shuffle = 4,     // minibatch order; index = epoch
  binarize = 5,    // dynamic binarization; index = epoch
  prior = 6,       // z ~ p(z) for sampling; index 0, or 1 + y for z ~ p(z|y) of cluster y
  split = 7,       // train/validation split; index 0
  dream_z = 8,     // the sleep phase's z' ~ p(z); index = training step
  dream_x = 9,     // the sleep phase's x' ~ p(x|z'); index = training step
  weights = 10,    // full VB's zeta for theta ~ q(theta); index = training step
  eval_weights = 11,  // the evaluation's theta ~ q(theta); index = draw
  hmc = 12,        // HMC chains (src/prob/hmc.hpp): index = 4 * chain id + which draw (hmc_stream)
  mcem = 13,       // Monte Carlo EM's chains, laid out as hmc's: training's own, never an evaluation's
  inpaint = 14,    // inpainting's random masks and denoising's noise (inpaint_stream, src/eval/image_mask.hpp)
  codebook = 15,   // the vq family's restarts of dead codes from the batch; index = training step
  code_prior_init = 16,     // the code prior's (src/prior/) parameter initialization; index 0
  code_prior_shuffle = 17,  // the code prior's minibatch order; index = epoch
  code_prior_sample = 18,   // codes drawn from the code prior; index = grid
  mixture_fit = 19,         // k-means++ seeds of a Gaussian mixture fit (src/prob/gaussian_mixture.hpp); index = restart
};

constexpr std::uint64_t rng_stream(RngPurpose purpose, std::uint64_t index) {
  return (static_cast<std::uint64_t>(purpose) << 48) ^ (index & ((std::uint64_t{1} << 48) - 1));
}

/// The 4 x 32 random bits of block `counter` of `stream` under `seed`.
std::array<std::uint32_t, 4> philox4x32(std::uint64_t seed, std::uint64_t stream, std::uint64_t counter);

/// out[i] = standard normal number (first + i) of the stream (Box-Muller on
/// Philox blocks, 4 normals per block). Parallel, deterministic.
template <class T>
void fill_normal(T* out, std::size_t n, std::uint64_t seed, std::uint64_t stream, std::uint64_t first = 0);

/// out[i] = uniform number (first + i) in [0, 1) of the stream (24-bit resolution, exact in float).
void fill_uniform(float* out, std::size_t n, std::uint64_t seed, std::uint64_t stream, std::uint64_t first = 0);

/// Uniform 32-bit integers as a sequential generator over one stream (shuffles).
class CounterRng {
 public:
  CounterRng(std::uint64_t seed, std::uint64_t stream) : seed_(seed), stream_(stream) {}
  std::uint32_t next_u32();
  /// Uniform in [0, n) without modulo bias.
  std::uint64_t below(std::uint64_t n);

 private:
  std::uint64_t seed_, stream_, counter_ = 0;
  std::array<std::uint32_t, 4> block_{};
  unsigned used_ = 4;
};

}  // namespace aevb
