#include "eval/inpaint.hpp"

#include "core/rng.hpp"
#include "model/engine.hpp"
#include "prob/likelihood.hpp"

#include <aevb/error.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace aevb {
namespace {

// Datapoints whose chains advance together, as in hmc_likelihood.cpp: fixed,
// so that no result depends on how the work is cut.
constexpr std::size_t kChunk = 500;

// Per datapoint, the mean of score(t, p) over its hidden values.
template <class Score>
std::vector<double> mean_over_hidden(ConstMatrix truth, ConstMatrix prediction, const std::uint8_t* seen,
                                     Score score) {
  if (prediction.cols != truth.cols || (prediction.rows != truth.rows && prediction.rows != 1))
    throw std::logic_error("inpainting scores: the prediction must be [truth.rows or 1, truth.cols]");
  std::vector<double> result(truth.rows);
  for (std::size_t r = 0; r < truth.rows; ++r) {
    const float* p = prediction.row(prediction.rows == 1 ? 0 : r);
    const float* t = truth.row(r);
    double sum = 0;
    std::size_t hidden = 0;
    for (std::size_t i = 0; i < truth.cols; ++i) {
      if (seen && seen[r * truth.cols + i]) continue;
      sum += score(double(t[i]), double(p[i]));
      ++hidden;
    }
    result[r] = hidden > 0 ? sum / double(hidden) : 0.0;
  }
  return result;
}

}  // namespace

void validate(const InpaintOptions& options) {
  validate(options, "inpainting");
  if (options.samples < 1) throw InputError("inpainting needs at least 1 recorded sample per datapoint, found 0");
  if (options.kept > options.samples)
    throw InputError("inpainting keeps at most as many single-sample images as it records samples (" +
                     std::to_string(options.samples) + "), found " + std::to_string(options.kept));
  if (!(options.noise_variance >= 0) || !std::isfinite(options.noise_variance))
    throw InputError("denoising needs a noise variance >= 0, found " + std::to_string(options.noise_variance));
}

Inpainting inpaint(const Vae& model, ConstMatrix x, const std::uint8_t* seen, const InpaintOptions& options,
                   std::uint64_t first_index) {
  validate(options);
  const ModelConfig& config = model.config();
  if (!model.has_prior())
    throw InputError("inpainting samples p(z | x_seen), which needs a prior p(z); the " + config.family +
                     " family has none");
  if (x.cols != config.input_dim)
    throw InputError("inpainting: the model takes datapoints of " + std::to_string(config.input_dim) +
                     " values, found " + std::to_string(x.cols));
  if (options.noise_variance > 0 && config.likelihood == Likelihood::bernoulli)
    throw InputError("denoising adds Gaussian noise's variance to a Gaussian likelihood's; the model's likelihood "
                     "is Bernoulli");
  // An engine of its own, as the App. D estimator's: the model stays const.
  Engine<float> engine(config);
  std::copy(model.parameters().begin(), model.parameters().end(), engine.params());
  const std::size_t d = config.input_dim, n = options.samples, k = options.kept, chunk = std::min(kChunk, x.rows);
  PosteriorChains chains(engine, options, chunk);
  std::vector<float> decoded(chunk * d);
  std::vector<double> sum(chunk * d);
  Inpainting result;
  result.mean.resize(x.rows * d);
  result.kept.resize(x.rows * k * d);
  double acceptance = 0;
  for (std::size_t first = 0; first < x.rows; first += chunk) {
    const std::size_t rows = std::min(chunk, x.rows - first);
    const Observation observation{seen ? seen + first * d : nullptr, options.noise_variance};
    chains.start({x.row(first), rows, d}, first_index + first, observation);
    std::fill_n(sum.begin(), rows * d, 0.0);
    std::size_t next_kept = 0;
    for (std::size_t s = 0; s < n; ++s) {
      chains.advance(s);
      engine.decode_mean(chains.z(), {decoded.data(), rows, d});
      if (options.noise_variance > 0)  // the noisy values seen pull E[x_clean | z, x] toward them
        denoised_mean<float>(LikelihoodSpec::from(config), engine.decoder_output(), {x.row(first), rows, d}, 1,
                             observation, {decoded.data(), rows, d});
      for (std::size_t v = 0; v < rows * d; ++v) sum[v] += decoded[v];
      // Kept state j is recorded state (j + 1) n / k - 1: evenly spaced, the last one among them.
      if (next_kept < k && s + 1 == (next_kept + 1) * n / k) {
        for (std::size_t c = 0; c < rows; ++c)
          std::copy_n(decoded.data() + c * d, d, result.kept.data() + ((first + c) * k + next_kept) * d);
        ++next_kept;
      }
      for (std::size_t c = 0; c < rows; ++c) acceptance += chains.acceptance()[c];
    }
    for (std::size_t v = 0; v < rows * d; ++v) result.mean[first * d + v] = static_cast<float>(sum[v] / double(n));
  }
  result.acceptance = x.rows > 0 ? acceptance / (double(x.rows) * double(n)) : 0.0;
  return result;
}

std::vector<float> fill_hidden(ConstMatrix x, ConstMatrix mean, const std::uint8_t* seen) {
  std::vector<float> out(x.data, x.data + x.size());
  for (std::size_t v = 0; v < out.size(); ++v)
    if (!seen || !seen[v]) out[v] = mean.data[v];
  return out;
}

std::vector<float> prior_mean_image(const Vae& model, std::size_t draws, std::uint64_t seed) {
  const std::size_t d = model.config().input_dim;
  std::vector<float> images(draws * d);
  model.sample(seed, {images.data(), draws, d});
  std::vector<double> sum(d, 0.0);
  for (std::size_t r = 0; r < draws; ++r)
    for (std::size_t i = 0; i < d; ++i) sum[i] += images[r * d + i];
  std::vector<float> mean(d);
  for (std::size_t i = 0; i < d; ++i) mean[i] = static_cast<float>(sum[i] / double(draws));
  return mean;
}

std::vector<double> hidden_log_likelihood(ConstMatrix truth, ConstMatrix prediction, const std::uint8_t* seen) {
  return mean_over_hidden(truth, prediction, seen, [](double t, double p) {
    const double q = std::clamp(p, 1e-6, 1 - 1e-6);
    return t * std::log(q) + (1 - t) * std::log1p(-q);
  });
}

std::vector<double> hidden_squared_error(ConstMatrix truth, ConstMatrix prediction, const std::uint8_t* seen) {
  return mean_over_hidden(truth, prediction, seen, [](double t, double p) { return (t - p) * (t - p); });
}

void add_gaussian_noise(Matrix x, double sd, std::uint64_t seed, std::uint64_t first) {
  std::vector<float> noise(x.cols);
  for (std::size_t r = 0; r < x.rows; ++r) {
    fill_normal(noise.data(), x.cols, seed, inpaint_stream(first + r, InpaintDraw::noise));
    for (std::size_t i = 0; i < x.cols; ++i) x.row(r)[i] += static_cast<float>(sd * noise[i]);
  }
}

}  // namespace aevb
