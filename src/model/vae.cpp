#include <aevb/vae.hpp>

#include "core/rng.hpp"
#include "core/scalar_math.hpp"
#include "model/engine.hpp"

#include <algorithm>
#include <numeric>
#include <string>

namespace aevb {
namespace {

// Network rows per pass (decoder draws when evaluating, rows of encode and
// decode): bounds the workspace (8192 x 784 floats is 25 MB) while keeping
// the GEMMs large.
constexpr std::size_t kEvalDraws = 8192;

void check_shape(ConstMatrix m, std::size_t cols, const char* what) {
  if (m.cols != cols)
    throw InputError(std::string(what) + ": expected " + std::to_string(cols) + " columns, found " +
                     std::to_string(m.cols));
}

void check_output(ConstMatrix z, Matrix mean, std::size_t dim, const char* what) {
  if (mean.rows != z.rows || mean.cols != dim)
    throw InputError(std::string(what) + ": output must be [" + std::to_string(z.rows) + ", " + std::to_string(dim) +
                     "]");
}

// eps for rows [first, first + x.rows) of an evaluation: each datapoint's
// noise depends on its index and the sample number only, never on chunking.
void fill_eval_noise(float* eps, std::size_t first_row, std::size_t rows, std::size_t first_sample,
                     std::size_t samples, std::size_t latent, std::uint64_t seed) {
  for (std::size_t m = 0; m < rows; ++m)
    fill_normal(eps + m * samples * latent, samples * latent, seed, rng_stream(RngPurpose::eval_eps, first_row + m),
                first_sample * latent);
}

// Draws the `count` decoders theta_d ~ q(theta) an evaluation uses (draw d
// from its own stream: the same draws for any chunking) and selects the
// first; select_decoder(-1) returns to the means.
void draw_eval_decoders(Engine<float>& engine, std::size_t count, std::uint64_t seed, std::vector<float>& zeta) {
  const std::size_t n = engine.weight_count();
  zeta.resize(count * n);
  for (std::size_t d = 0; d < count; ++d) fill_normal(zeta.data() + d * n, n, seed, rng_stream(RngPurpose::eval_weights, d));
  engine.draw_decoders(zeta.data(), count);
}

// Every other use of the model reads the means: an evaluation leaves them selected, whatever happens.
struct MeansOnExit {
  Engine<float>& engine;
  ~MeansOnExit() { engine.select_decoder(-1); }
};

void require_weight_samples(std::size_t weight_samples) {
  if (weight_samples == 0) throw InputError("evaluate: a weight posterior needs at least 1 weight sample");
}

}  // namespace

Vae::Vae(const ModelConfig& config, std::uint64_t seed) : engine_(std::make_unique<Engine<float>>(config)) {
  engine_->initialize(seed);
}
Vae::~Vae() = default;
Vae::Vae(Vae&&) noexcept = default;
Vae& Vae::operator=(Vae&&) noexcept = default;

const ModelConfig& Vae::config() const { return engine_->config(); }
std::span<float> Vae::parameters() { return {engine_->params(), engine_->param_count()}; }
std::span<const float> Vae::parameters() const { return {engine_->params(), engine_->param_count()}; }
bool Vae::has_prior() const { return engine_->family().has_prior; }
bool Vae::has_weight_posterior() const { return engine_->has_weight_posterior(); }

void Vae::require_prior(const char* what) const {
  if (!has_prior())
    throw InputError(std::string(what) + ": the " + config().family + " family has no prior p(z) (no samples, no log p(x))");
}

const std::vector<ParameterInfo>& Vae::parameter_table() const { return engine_->layout().table(); }
Engine<float>& Vae::engine() { return *engine_; }
const Engine<float>& Vae::engine() const { return *engine_; }

void Vae::encode(ConstMatrix x, Matrix mu, Matrix logvar) const {
  check_shape(x, model_row_width(config()), "encode input");
  if (mu.rows != x.rows || logvar.rows != x.rows || mu.cols != config().latent || logvar.cols != config().latent)
    throw InputError("encode: mu and logvar must be [" + std::to_string(x.rows) + ", " +
                     std::to_string(config().latent) + "]");
  // In chunks, so that the network's workspace stays bounded whatever the caller passes.
  for (std::size_t first = 0; first < x.rows; first += kEvalDraws) {
    const std::size_t n = std::min(kEvalDraws, x.rows - first);
    engine_->encode({x.row(first), n, x.cols}, {mu.row(first), n, mu.cols}, {logvar.row(first), n, logvar.cols});
  }
}

void Vae::require_unconditional(const char* what, const char* instead) const {
  if (classes() > 0)
    throw InputError(std::string(what) + ": the " + config().family + " model is conditioned on a label y of " +
                     std::to_string(classes()) + " classes; give it with " + instead);
}

void Vae::decode(ConstMatrix z, Matrix mean) const {
  require_unconditional("decode", "decode_class");
  check_shape(z, config().latent, "decode input");
  check_output(z, mean, config().input_dim, "decode");
  for (std::size_t first = 0; first < z.rows; first += kEvalDraws) {
    const std::size_t n = std::min(kEvalDraws, z.rows - first);
    engine_->decode_mean({z.row(first), n, z.cols}, {mean.row(first), n, mean.cols});
  }
}

std::size_t Vae::classes() const { return config().classes; }

void Vae::require_class(std::size_t label, const char* what) const {
  if (classes() == 0)
    throw InputError(std::string(what) + ": the " + config().family +
                     " family is not conditioned on a label (--family cvae is)");
  if (label >= classes())
    throw InputError(std::string(what) + ": class " + std::to_string(label) + " of a model with " +
                     std::to_string(classes()) + " (0 to " + std::to_string(classes() - 1) + ")");
}

void Vae::decode_class(ConstMatrix z, std::size_t label, Matrix mean) const {
  require_class(label, "decode a class");
  check_shape(z, config().latent, "decode_class input");
  check_output(z, mean, config().input_dim, "decode_class");
  // What p(x|z, y)'s network reads: z, then the one-hot label.
  const std::size_t nz = config().latent, width = nz + classes();
  std::vector<float> in(std::min(kEvalDraws, z.rows) * width, 0.0f);
  for (std::size_t first = 0; first < z.rows; first += kEvalDraws) {
    const std::size_t n = std::min(kEvalDraws, z.rows - first);
    for (std::size_t r = 0; r < n; ++r) {
      float* row = in.data() + r * width;
      std::copy_n(z.row(first + r), nz, row);
      std::fill_n(row + nz, classes(), 0.0f);
      row[nz + label] = 1.0f;
    }
    engine_->decode_mean({in.data(), n, width}, {mean.row(first), n, mean.cols});
  }
}

void Vae::sample_class(std::size_t label, std::uint64_t seed, Matrix out) const {
  require_class(label, "sample a class");
  const std::size_t nz = config().latent;
  std::vector<float> z(out.rows * nz);
  // z ~ p(z) = N(0, I), independent of y; each class its own stream, as sample_cluster's.
  fill_normal(z.data(), z.size(), seed, rng_stream(RngPurpose::prior, 1 + label));
  decode_class({z.data(), out.rows, nz}, label, out);
}

void Vae::sample(std::uint64_t seed, Matrix out) const {
  require_prior("sample");
  require_unconditional("sample", "sample_class");
  const std::size_t width = engine_->prior_noise_dim(), nz = config().latent;
  std::vector<float> noise(out.rows * width), z(out.rows * nz);
  fill_normal(noise.data(), noise.size(), seed, rng_stream(RngPurpose::prior, 0));
  for (std::size_t first = 0; first < out.rows; first += kEvalDraws) {
    const std::size_t n = std::min(kEvalDraws, out.rows - first);
    engine_->sample_prior({noise.data() + first * width, n, width}, {z.data() + first * nz, n, nz});
  }
  decode({z.data(), out.rows, nz}, out);
}

CodeGrid Vae::code_grid() const { return engine_->code_grid(); }

void Vae::quantize(ConstMatrix x, std::span<std::uint32_t> codes, std::span<float> squared_error) const {
  const CodeGrid grid = code_grid();
  if (grid.codes == 0) throw InputError("quantize: the " + config().family + " family has no codebook");
  check_shape(x, model_row_width(config()), "quantize input");
  if (codes.size() != x.rows * grid.positions || (!squared_error.empty() && squared_error.size() != x.rows))
    throw InputError("quantize: codes must hold " + std::to_string(x.rows * grid.positions) +
                     " values and squared_error none or " + std::to_string(x.rows));
  for (std::size_t first = 0; first < x.rows; first += kEvalDraws) {
    const std::size_t n = std::min(kEvalDraws, x.rows - first);
    engine_->quantize({x.row(first), n, x.cols}, codes.data() + first * grid.positions,
                      squared_error.empty() ? nullptr : squared_error.data() + first);
  }
}

void Vae::decode_codes(std::span<const std::uint32_t> codes, Matrix out) const {
  const CodeGrid grid = code_grid();
  if (grid.codes == 0) throw InputError("decode_codes: the " + config().family + " family has no codebook");
  if (codes.size() != out.rows * grid.positions)
    throw InputError("decode_codes: " + std::to_string(codes.size()) + " codes for " + std::to_string(out.rows) +
                     " grids of " + std::to_string(grid.positions) + " positions");
  for (std::uint32_t c : codes)
    if (c >= grid.codes)
      throw InputError("decode_codes: code " + std::to_string(c) + " is not in the codebook of " +
                       std::to_string(grid.codes));
  const std::size_t nz = config().latent;
  std::vector<float> z(out.rows * nz);
  engine_->embed_codes(codes.data(), {z.data(), out.rows, nz});
  decode({z.data(), out.rows, nz}, out);
}

std::vector<std::size_t> Vae::latent_layers() const { return engine_->layer_dims(); }

void Vae::layer_means(ConstMatrix x, Matrix means) const {
  check_shape(x, model_row_width(config()), "layer_means input");
  const std::vector<std::size_t> dims = latent_layers();
  const std::size_t width = std::accumulate(dims.begin(), dims.end(), std::size_t(0));
  if (means.rows != x.rows || means.cols != width)
    throw InputError("layer_means: output must be [" + std::to_string(x.rows) + ", " + std::to_string(width) + "]");
  for (std::size_t first = 0; first < x.rows; first += kEvalDraws) {
    const std::size_t n = std::min(kEvalDraws, x.rows - first);
    engine_->layer_means({x.row(first), n, x.cols}, {means.row(first), n, width});
  }
}

std::size_t Vae::clusters() const { return engine_->categories(); }

void Vae::cluster_probabilities(ConstMatrix x, Matrix probabilities) const {
  if (clusters() == 0)
    throw InputError("cluster assignment: the " + config().family + " family has no clusters (--family cluster has)");
  check_shape(x, model_row_width(config()), "cluster_probabilities input");
  if (probabilities.rows != x.rows || probabilities.cols != clusters())
    throw InputError("cluster_probabilities: output must be [" + std::to_string(x.rows) + ", " +
                     std::to_string(clusters()) + "]");
  for (std::size_t first = 0; first < x.rows; first += kEvalDraws) {
    const std::size_t n = std::min(kEvalDraws, x.rows - first);
    engine_->category_probabilities({x.row(first), n, x.cols}, {probabilities.row(first), n, clusters()});
  }
}

void Vae::sample_cluster(std::size_t cluster, std::uint64_t seed, Matrix out) const {
  if (clusters() == 0)
    throw InputError("sample a cluster: the " + config().family + " family has no clusters (--family cluster has)");
  if (cluster >= clusters())
    throw InputError("sample a cluster: cluster " + std::to_string(cluster) + " of a model with " +
                     std::to_string(clusters()) + " (0 to " + std::to_string(clusters() - 1) + ")");
  const std::size_t nz = config().latent;
  std::vector<float> noise(out.rows * nz), z(out.rows * nz);
  fill_normal(noise.data(), noise.size(), seed, rng_stream(RngPurpose::prior, 1 + cluster));
  for (std::size_t first = 0; first < out.rows; first += kEvalDraws) {
    const std::size_t n = std::min(kEvalDraws, out.rows - first);
    engine_->sample_category(cluster, {noise.data() + first * nz, n, nz}, {z.data() + first * nz, n, nz});
  }
  decode({z.data(), out.rows, nz}, out);
}

void Vae::decode_standard_normal(std::uint64_t seed, Matrix out) const {
  std::vector<float> z(out.rows * config().latent);
  fill_normal(z.data(), z.size(), seed, rng_stream(RngPurpose::prior, 0));
  decode({z.data(), out.rows, config().latent}, out);
}

Bound Vae::evaluate(ConstMatrix x, const ObjectiveConfig& objective, std::uint64_t seed,
                    std::size_t weight_samples, Communicator* ranks) const {
  validate(objective);
  if (objective.estimator == Estimator::iw) require_prior("evaluate with the importance-weighted bound");
  check_shape(x, model_row_width(config()), "evaluate input");
  const std::size_t s = objective.samples, nz = engine_->noise_dim();
  const std::size_t chunk = std::max<std::size_t>(1, kEvalDraws / s);
  std::vector<float> eps(std::min(chunk, x.rows) * s * nz), zeta;
  const std::size_t decoders = has_weight_posterior() ? weight_samples : 1;
  if (has_weight_posterior()) {
    require_weight_samples(weight_samples);
    draw_eval_decoders(*engine_, decoders, seed, zeta);
  }
  const MeansOnExit restore{*engine_};
  // This rank's chunks first, in parallel with the other ranks; then their
  // row-weighted sums (bound, reconstruction, KL) are added, per decoder and
  // chunk by chunk in row order, to the sums passed along the ranks: on one
  // rank or many, the same additions in the same order.
  Communicator& c = ranks_or_alone(ranks);
  const std::pair<std::size_t, std::size_t> own = shards_of_rank(c.rank(), c.size(), (x.rows + chunk - 1) / chunk);
  std::vector<Bound> chunks;  // decoder-major
  for (std::size_t d = 0; d < decoders; ++d) {
    if (has_weight_posterior()) engine_->select_decoder(std::ptrdiff_t(d));
    for (std::size_t first = own.first * chunk; first < std::min(own.second * chunk, x.rows); first += chunk) {
      const std::size_t rows = std::min(chunk, x.rows - first);
      fill_eval_noise(eps.data(), first, rows, 0, s, nz, seed);
      const Bound b = engine_->forward({x.row(first), rows, x.cols}, eps.data(), objective);
      chunks.push_back({b.bound * double(rows), b.reconstruction * double(rows), b.kl * double(rows)});
    }
  }
  std::vector<double> sums(3 * decoders, 0.0);
  ordered_sum(c, {}, sums, [&] {
    const std::size_t per_decoder = chunks.size() / decoders;
    for (std::size_t i = 0; i < chunks.size(); ++i) {
      double* sum = &sums[3 * (i / per_decoder)];
      sum[0] += chunks[i].bound;
      sum[1] += chunks[i].reconstruction;
      sum[2] += chunks[i].kl;
    }
  });
  Bound total;
  for (std::size_t d = 0; d < decoders; ++d) {
    total.bound += sums[3 * d];
    total.reconstruction += sums[3 * d + 1];
    total.kl += sums[3 * d + 2];
  }
  const double n = double(std::max<std::size_t>(x.rows, 1)) * double(decoders);
  return {total.bound / n, total.reconstruction / n, total.kl / n};
}

std::vector<double> Vae::log_likelihood(ConstMatrix x, std::size_t k, std::uint64_t seed,
                                        std::size_t weight_samples) const {
  require_prior("log_likelihood");
  check_shape(x, model_row_width(config()), "log_likelihood input");
  if (k == 0) throw InputError("log_likelihood: the number of importance samples must be at least 1");
  // Samples [group_first(d), group_first(d + 1)) use decoder d: one group without a weight posterior.
  const std::size_t groups = has_weight_posterior() ? weight_samples : 1;
  std::vector<float> zeta;
  if (has_weight_posterior()) {
    require_weight_samples(weight_samples);
    if (k < groups)
      throw InputError("log_likelihood: " + std::to_string(k) + " importance samples cannot be spread over " +
                       std::to_string(groups) + " weight samples");
    draw_eval_decoders(*engine_, groups, seed, zeta);
  }
  const MeansOnExit restore{*engine_};
  auto group_first = [&](std::size_t d) { return d * k / groups; };
  const std::size_t nz = engine_->noise_dim();
  // Datapoints per chunk, and samples per chunk when one datapoint's k exceed it.
  const std::size_t rows_per_chunk = std::max<std::size_t>(1, kEvalDraws / k);
  const std::size_t samples_per_chunk = std::min(k, kEvalDraws);
  std::vector<float> eps(std::min(rows_per_chunk, x.rows) * samples_per_chunk * nz);
  std::vector<float> chunk_weights(std::min(rows_per_chunk, x.rows) * samples_per_chunk);
  std::vector<double> log_w(std::min(rows_per_chunk, x.rows) * k);
  std::vector<double> result(x.rows);
  for (std::size_t first = 0; first < x.rows; first += rows_per_chunk) {
    const std::size_t rows = std::min(rows_per_chunk, x.rows - first);
    for (std::size_t d = 0; d < groups; ++d) {
      if (has_weight_posterior()) engine_->select_decoder(std::ptrdiff_t(d));
      for (std::size_t s0 = group_first(d), end = group_first(d + 1); s0 < end; s0 += samples_per_chunk) {
        const std::size_t s = std::min(samples_per_chunk, end - s0);
        fill_eval_noise(eps.data(), first, rows, s0, s, nz, seed);
        engine_->log_weights({x.row(first), rows, x.cols}, eps.data(), s, chunk_weights.data());
        for (std::size_t m = 0; m < rows; ++m)
          std::copy_n(chunk_weights.data() + m * s, s, log_w.data() + m * k + s0);
      }
    }
    for (std::size_t m = 0; m < rows; ++m)
      result[first + m] = log_sum_exp(log_w.data() + m * k, k) - std::log(double(k));
  }
  return result;
}

}  // namespace aevb
