#include "eval/latent_regularity.hpp"

#include "backend/gemm.hpp"
#include "prob/cholesky.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace aevb {
namespace {

constexpr double kCovarianceJitter = 1e-6;
constexpr std::size_t kReferenceBlock = 2048;  // rows of the reference per product: 1000 x 2048 floats at a time

double squared_norm(const float* v, std::size_t n) {
  double s = 0;
  for (std::size_t i = 0; i < n; ++i) s += double(v[i]) * double(v[i]);
  return s;
}

// KL(N(m, S) || N(0, I)) for the moments of the mixture (1/N) sum_n N(mu_n, diag(var_n)):
// m = mean of mu_n, S = Cov(mu_n) + diag(mean of var_n).
double moment_matched_kl(const std::vector<float>& mu, const std::vector<float>& logvar, std::size_t n,
                         std::size_t d) {
  std::vector<double> m(d, 0.0), s(d * d, 0.0);
  for (std::size_t r = 0; r < n; ++r)
    for (std::size_t j = 0; j < d; ++j) m[j] += mu[r * d + j] / double(n);
  for (std::size_t r = 0; r < n; ++r)
    for (std::size_t a = 0; a < d; ++a) {
      const double da = mu[r * d + a] - m[a];
      for (std::size_t b = 0; b <= a; ++b) s[a * d + b] += da * (mu[r * d + b] - m[b]) / double(n);
      s[a * d + a] += std::exp(double(logvar[r * d + a])) / double(n);
    }
  double trace = 0, mean_norm = 0;
  for (std::size_t j = 0; j < d; ++j) {
    s[j * d + j] += kCovarianceJitter;
    trace += s[j * d + j];
    mean_norm += m[j] * m[j];
  }
  const std::optional<double> log_det_l = cholesky_lower_in_place(s.data(), d);
  if (!log_det_l) return std::numeric_limits<double>::infinity();  // not finite codes; S + jitter is PD otherwise
  return 0.5 * (trace + mean_norm - double(d) - 2.0 * *log_det_l);
}

double mean_of(const std::vector<double>& v) {
  return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
}

}  // namespace

std::vector<double> nearest_neighbour_mse(ConstMatrix queries, ConstMatrix reference) {
  if (queries.cols != reference.cols)
    throw InputError("nearest neighbours: queries have " + std::to_string(queries.cols) + " columns, the reference " +
                     std::to_string(reference.cols));
  const std::size_t q = queries.rows, dim = queries.cols;
  std::vector<double> best(q, std::numeric_limits<double>::infinity()), q_norm(q);
  for (std::size_t i = 0; i < q; ++i) q_norm[i] = squared_norm(queries.row(i), dim);
  std::vector<float> dots(q * std::min(kReferenceBlock, reference.rows));
  std::vector<double> r_norm(std::min(kReferenceBlock, reference.rows));
  for (std::size_t first = 0; first < reference.rows; first += kReferenceBlock) {
    const std::size_t rows = std::min(kReferenceBlock, reference.rows - first);
    // ||a - b||^2 = ||a||^2 + ||b||^2 - 2 a.b, the dot products as one product Q R^T.
    backend::gemm<float>(backend::Trans::no, backend::Trans::yes, q, rows, dim, 1.0f, queries.data, dim,
                         reference.row(first), dim, 0.0f, dots.data(), rows);
    for (std::size_t j = 0; j < rows; ++j) r_norm[j] = squared_norm(reference.row(first + j), dim);
    for (std::size_t i = 0; i < q; ++i)
      for (std::size_t j = 0; j < rows; ++j)
        best[i] = std::min(best[i], q_norm[i] + r_norm[j] - 2.0 * double(dots[i * rows + j]));
  }
  for (double& b : best) b = std::max(0.0, b) / double(std::max<std::size_t>(dim, 1));
  return best;
}

LatentRegularity latent_regularity(const Vae& model, ConstMatrix x, const RegularityOptions& options) {
  if (model.config().decoder_only)
    throw InputError("latent regularity: a decoder-only model (trained by mcem) has no encoder to code the data");
  if (x.rows < 2) throw InputError("latent regularity: needs at least 2 datapoints, found " + std::to_string(x.rows));
  if (options.prior_samples == 0) throw InputError("latent regularity: needs at least 1 prior sample");
  const std::size_t n = x.rows, d = model.config().latent, dim = x.cols;
  std::vector<float> mu(n * d), logvar(n * d);
  model.encode(x, {mu.data(), n, d}, {logvar.data(), n, d});

  LatentRegularity r;
  r.code_kl_to_prior = moment_matched_kl(mu, logvar, n, d);
  r.reference_rows = (n + 1) / 2;
  r.held_out_rows = std::min(options.prior_samples, n - r.reference_rows);
  r.prior_samples = options.prior_samples;
  const ConstMatrix reference{x.data, r.reference_rows, dim};

  std::vector<float> decoded(std::max(r.held_out_rows, r.prior_samples) * dim);
  model.decode({mu.data() + r.reference_rows * d, r.held_out_rows, d}, {decoded.data(), r.held_out_rows, dim});
  double squared_error = 0;
  for (std::size_t i = 0; i < r.held_out_rows * dim; ++i) {
    const double e = double(decoded[i]) - double(x.row(r.reference_rows)[i]);
    squared_error += e * e;
  }
  r.reconstruction_mse = squared_error / double(r.held_out_rows * dim);
  r.reconstruction_nn_mse = mean_of(nearest_neighbour_mse({decoded.data(), r.held_out_rows, dim}, reference));

  model.decode_standard_normal(options.seed, {decoded.data(), r.prior_samples, dim});
  r.prior_sample_nn_mse = mean_of(nearest_neighbour_mse({decoded.data(), r.prior_samples, dim}, reference));
  return r;
}

}  // namespace aevb
