#include "prior/code_prior.hpp"

#include "core/rng.hpp"
#include "prior/code_checks.hpp"
#include "prior/gated_pixelcnn.hpp"

#include <aevb/error.hpp>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace aevb {
namespace {

// Evaluation chunks hold about this many positions: products wide enough for
// the GEMM tiles, and a workspace of ~80 MB at C = 64, K = 512 (~19 KB per position).
constexpr std::size_t kChunkPositions = 4096;
constexpr std::size_t kMaxPositions = std::size_t{1} << 20;
constexpr std::uint64_t kMaxCodes = std::uint64_t{1} << 32;

// The smallest k whose cumulative probability exceeds u times the total: the
// inverse CDF at u in [0, 1), in double, so that no code of probability 0 is
// ever drawn. NumericError when the probabilities are not finite.
std::uint32_t invert_cdf(const float* p, std::size_t k, float u, std::size_t grid, std::size_t position) {
  double total = 0;
  for (std::size_t j = 0; j < k; ++j) total += p[j];
  const double target = double(u) * total;
  double cumulative = 0;
  for (std::size_t j = 0; j < k; ++j) {
    cumulative += p[j];
    if (target < cumulative) return static_cast<std::uint32_t>(j);
  }
  throw NumericError("code prior: the distribution of grid " + std::to_string(grid) + " at position " +
                     std::to_string(position) + " is not finite (are the parameters?)");
}

}  // namespace

void validate(const CodePriorConfig& c) {
  const auto positive = [](std::size_t v, const char* what) {
    if (v == 0) throw InputError(std::string("code prior: ") + what + " must be at least 1, found 0");
  };
  positive(c.codes, "codes (K)");
  positive(c.height, "the grid's height");
  positive(c.width, "the grid's width");
  positive(c.channels, "channels");
  positive(c.layers, "layers");
  if (c.codes > kMaxCodes)
    throw InputError("code prior: codes (K) is " + std::to_string(c.codes) +
                     ", more than the 2^32 that uint32 codes can name");
  if (c.height > kMaxPositions || c.width > kMaxPositions || c.height * c.width > kMaxPositions)
    throw InputError("code prior: the grid " + std::to_string(c.height) + " x " + std::to_string(c.width) +
                     " has more than 2^20 positions");
}

CodePrior::CodePrior(const CodePriorConfig& config)
    : config_(config),
      network_(std::make_unique<pixelcnn::GatedPixelCnn<float>>(config)),
      params_(network_->parameter_count()),
      chunk_(std::max<std::size_t>(1, kChunkPositions / (config.height * config.width))),
      chunk_codes_(chunk_ * config.height * config.width) {
  initialize(1);
}

CodePrior::~CodePrior() = default;
CodePrior::CodePrior(CodePrior&&) noexcept = default;
CodePrior& CodePrior::operator=(CodePrior&&) noexcept = default;

void CodePrior::initialize(std::uint64_t seed) { network_->initialize(params_.data(), seed); }

const std::vector<ParameterInfo>& CodePrior::parameter_table() const { return network_->layout().table(); }

void CodePrior::forward_chunk(std::span<const std::uint32_t> codes, std::size_t first, std::size_t count) {
  const std::size_t P = config_.height * config_.width;
  std::copy_n(codes.begin() + static_cast<std::ptrdiff_t>(first * P), count * P, chunk_codes_.begin());
  std::fill(chunk_codes_.begin() + static_cast<std::ptrdiff_t>(count * P), chunk_codes_.end(), 0u);
  network_->forward(params_.data(), chunk_codes_, chunk_);
}

void CodePrior::log_probabilities(std::span<const std::uint32_t> codes, std::size_t n, double* out) {
  check_codes(config_, codes, n, "code prior");
  const std::size_t P = config_.height * config_.width;
  for (std::size_t first = 0; first < n; first += chunk_) {
    const std::size_t count = std::min(chunk_, n - first);
    forward_chunk(codes, first, count);
    const std::span<const double> nll = network_->nll();
    for (std::size_t g = 0; g < count; ++g) {
      double sum = 0;
      for (std::size_t p = 0; p < P; ++p) sum += nll[g * P + p];
      out[first + g] = -sum;
    }
  }
}

double CodePrior::cross_entropy(std::span<const std::uint32_t> codes, std::size_t n) {
  if (n == 0) throw InputError("code prior: the cross-entropy of no grids is undefined");
  std::vector<double> log_p(n);
  log_probabilities(codes, n, log_p.data());
  double sum = 0;
  for (const double v : log_p) sum -= v;
  return sum / (double(n) * double(config_.height * config_.width));
}

void CodePrior::conditional_probabilities(std::span<const std::uint32_t> codes, std::size_t n,
                                          std::span<float> out) {
  check_codes(config_, codes, n, "code prior");
  const std::size_t P = config_.height * config_.width, K = config_.codes;
  if (out.size() != n * P * K)
    throw std::invalid_argument("CodePrior::conditional_probabilities: out holds " + std::to_string(out.size()) +
                                " values, expected n * H * W * K = " + std::to_string(n * P * K));
  for (std::size_t first = 0; first < n; first += chunk_) {
    const std::size_t count = std::min(chunk_, n - first);
    forward_chunk(codes, first, count);
    const MatrixView<const float> probs = network_->probabilities();
    std::copy_n(probs.data, count * P * K, out.begin() + static_cast<std::ptrdiff_t>(first * P * K));
  }
}

void CodePrior::sample(std::size_t n, std::uint64_t seed, std::span<std::uint32_t> out) {
  const std::size_t P = config_.height * config_.width, K = config_.codes;
  if (out.size() != n * P)
    throw std::invalid_argument("CodePrior::sample: out holds " + std::to_string(out.size()) +
                                " codes, expected n * H * W = " + std::to_string(n * P));
  std::vector<float> uniforms(chunk_ * P);
  for (std::size_t first = 0; first < n; first += chunk_) {
    const std::size_t count = std::min(chunk_, n - first);
    for (std::size_t g = 0; g < count; ++g)
      fill_uniform(uniforms.data() + g * P, P, seed, rng_stream(RngPurpose::code_prior_sample, first + g));
    // Every slot starts at code 0; position p is drawn once positions < p
    // are, and the network's causality keeps the rest out of its logits.
    std::fill(chunk_codes_.begin(), chunk_codes_.end(), 0u);
    for (std::size_t p = 0; p < P; ++p) {
      network_->forward(params_.data(), chunk_codes_, chunk_);
      const MatrixView<const float> probs = network_->probabilities();
      for (std::size_t g = 0; g < count; ++g)
        chunk_codes_[g * P + p] = invert_cdf(probs.row(g * P + p), K, uniforms[g * P + p], first + g, p);
    }
    std::copy_n(chunk_codes_.begin(), count * P, out.begin() + static_cast<std::ptrdiff_t>(first * P));
  }
}

}  // namespace aevb
