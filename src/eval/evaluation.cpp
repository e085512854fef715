#include "eval/evaluation.hpp"

#include "backend/cpu/gemm_bf16.hpp"
#include "backend/gemm.hpp"

#include <aevb/error.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace aevb {

std::vector<double> latent_activity(const Vae& model, ConstMatrix x, Communicator* ranks) {
  const std::vector<std::size_t> layers = model.latent_layers();
  const std::size_t nz = std::accumulate(layers.begin(), layers.end(), std::size_t(0));
  // Sums of mu_j and mu_j^2 in one vector, [mean | sq], added in row order.
  std::vector<double> sums(2 * nz, 0.0);
  double* mean = sums.data();
  double* sq = sums.data() + nz;
  constexpr std::size_t kChunk = 1000;
  Communicator& c = ranks_or_alone(ranks);
  const std::pair<std::size_t, std::size_t> own = rows_of_rank(c.rank(), c.size(), x.rows, kChunk);
  // This rank's means first, in parallel with the other ranks; then added to
  // the sums passed along the ranks, row after row as one process adds them.
  std::vector<float> mu((own.second - own.first) * nz);
  for (std::size_t first = own.first; first < own.second; first += kChunk) {
    const std::size_t rows = std::min(kChunk, x.rows - first);
    model.layer_means({x.row(first), rows, x.cols}, {mu.data() + (first - own.first) * nz, rows, nz});
  }
  ordered_sum(c, {}, sums, [&] {
    for (std::size_t r = 0; r < own.second - own.first; ++r)
      for (std::size_t j = 0; j < nz; ++j) {
        mean[j] += mu[r * nz + j];
        sq[j] += double(mu[r * nz + j]) * mu[r * nz + j];
      }
  });
  std::vector<double> activity(nz, 0.0);
  const double n = double(std::max<std::size_t>(x.rows, 1));
  for (std::size_t j = 0; j < nz; ++j) activity[j] = std::max(0.0, sq[j] / n - (mean[j] / n) * (mean[j] / n));
  return activity;
}

std::vector<std::int32_t> assign_clusters(const Vae& model, ConstMatrix x, std::vector<float>* probabilities) {
  const std::size_t k = model.clusters();
  std::vector<float> own;
  std::vector<float>& p = probabilities ? *probabilities : own;
  p.assign(x.rows * k, 0.0f);
  model.cluster_probabilities(x, {p.data(), x.rows, k});
  std::vector<std::int32_t> cluster(x.rows);
  for (std::size_t r = 0; r < x.rows; ++r) {
    const float* row = p.data() + r * k;
    cluster[r] = std::int32_t(std::max_element(row, row + k) - row);
  }
  return cluster;
}

ClusterEvaluation evaluate_clusters(const Vae& model, ConstMatrix x, std::span<const std::int32_t> labels) {
  if (labels.size() != x.rows)
    throw InputError("cluster scores: " + std::to_string(labels.size()) + " labels for " + std::to_string(x.rows) +
                     " datapoints");
  const std::int32_t top = labels.empty() ? 0 : *std::max_element(labels.begin(), labels.end());
  const std::vector<std::int32_t> clusters = assign_clusters(model, x);
  ClusterEvaluation e;
  e.confusion = confusion_matrix(clusters, labels, model.clusters(), std::size_t(top) + 1);
  e.scores = cluster_scores(e.confusion);
  return e;
}

std::vector<double> sliced_log_likelihoods(const Vae& model, ConstMatrix x, std::size_t k, std::uint64_t seed,
                                           std::size_t weight_samples, const EvalProgress& progress,
                                           Communicator* ranks) {
  // In slices, so that a caller can show progress. Each slice draws its
  // noise under a seed derived from the run's seed and the slice's first
  // row: results depend on (seed, data) only, never on threads or ranks.
  constexpr std::size_t kSlice = 50;
  std::vector<double> ll(x.rows, 0.0);
  Communicator& c = ranks_or_alone(ranks);
  const std::pair<std::size_t, std::size_t> own = rows_of_rank(c.rank(), c.size(), x.rows, kSlice);
  for (std::size_t first = own.first; first < own.second; first += kSlice) {
    const std::size_t rows = std::min(kSlice, x.rows - first);
    const auto part =
        model.log_likelihood({x.row(first), rows, x.cols}, k, seed ^ (std::uint64_t(first) << 20), weight_samples);
    std::copy(part.begin(), part.end(), ll.begin() + std::ptrdiff_t(first));
    if (progress) progress(first + rows - own.first, own.second - own.first);
  }
  // Each rank writes its rows into the vector passed along the ranks, which
  // carries the earlier ranks' rows; the last rank's, complete, goes to all.
  std::vector<double> mine(ll.begin() + std::ptrdiff_t(own.first), ll.begin() + std::ptrdiff_t(own.second));
  ordered_sum(c, {}, ll, [&] { std::copy(mine.begin(), mine.end(), ll.begin() + std::ptrdiff_t(own.first)); });
  return ll;
}

EvalResult evaluate_model(const Vae& model, ConstMatrix x, const EvalOptions& options, const EvalProgress& progress) {
  if (options.matmul_precision == MatmulPrecision::bfloat16) backend::require_bf16_products("eval");
  const backend::ScopedMatmulPrecision precision(options.matmul_precision);
  EvalResult result;
  result.count = x.rows;
  ObjectiveConfig objective = options.objective;
  objective.beta = 1.0f;  // the reported bound is the true bound
  // log p(x) first: its settings are the ones that can be refused (k below
  // the weight samples), and a refusal should not come after the bound's work.
  if (options.iw_samples > 0) {
    const std::vector<double>& ll = result.log_likelihoods =
        sliced_log_likelihoods(model, x, options.iw_samples, options.seed, options.weight_samples, progress,
                               options.ranks);
    double sum = 0, sq = 0;
    for (double v : ll) sum += v;
    const double n = double(ll.size());
    result.log_likelihood = sum / n;
    for (double v : ll) sq += (v - result.log_likelihood) * (v - result.log_likelihood);
    result.log_likelihood_stderr = ll.size() > 1 ? std::sqrt(sq / (n - 1) / n) : 0.0;
  }
  result.elbo = model.evaluate(x, objective, options.seed, options.weight_samples, options.ranks);
  result.activity = latent_activity(model, x, options.ranks);
  std::size_t first = 0;
  for (std::size_t width : model.latent_layers()) {
    const auto begin = result.activity.begin() + std::ptrdiff_t(first);
    result.active_units_per_layer.push_back(std::size_t(std::count_if(
        begin, begin + std::ptrdiff_t(width), [&](double a) { return a > options.active_threshold; })));
    result.active_units += result.active_units_per_layer.back();
    first += width;
  }
  if (model.clusters() > 0 && !options.labels.empty()) result.clusters = evaluate_clusters(model, x, options.labels);
  return result;
}

}  // namespace aevb
