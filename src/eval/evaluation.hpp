#pragma once
// What `aevb eval` reports: the bound (estimator A or B with L samples), the
// marginal likelihood by importance sampling (L_k, k = 5000 by default, the
// standard test estimator; Burda et al. 2015), the number of active
// latent units (Burda et al.: A_u = Cov_x(E_q[u]) > 0.01), and for a model
// with clusters and data with labels, how its clusters match the classes.
#include "eval/cluster_metrics.hpp"

#include <aevb/vae.hpp>

#include <functional>
#include <optional>
#include <span>
#include <vector>

namespace aevb {

struct EvalOptions {
  ObjectiveConfig objective;     // the bound's estimator and samples (beta is ignored)
  std::size_t iw_samples = 5000; // k; 0 skips the marginal likelihood
  std::uint64_t seed = 1;
  double active_threshold = 0.01;
  /// bfloat16: the products rounded to bfloat16 (AMX: about 2x faster log p(x); on the paper's MNIST
  /// model it moved the mean by 0.003 nats, its standard error being 2).
  MatmulPrecision matmul_precision = MatmulPrecision::float32;
  /// Decoders theta ~ q(theta) averaged over for a weight posterior (full VB).
  std::size_t weight_samples = Vae::kWeightSamples;
  /// The datapoints' classes (one per row, >= 0), or empty: with a model that
  /// has clusters, EvalResult::clusters scores its assignments against them.
  std::span<const std::int32_t> labels;
  /// The ranks to split the datapoints over (`mpirun aevb eval`), or null:
  /// this process alone. Every rank gets the numbers one process gets.
  Communicator* ranks = nullptr;
};

struct ClusterEvaluation {
  ClusterScores scores;
  Confusion confusion;  // clusters x classes
};

struct EvalResult {
  std::size_t count = 0;
  Bound elbo;
  double log_likelihood = 0;        // mean over datapoints of L_k
  double log_likelihood_stderr = 0; // standard error of that mean over datapoints
  std::vector<double> log_likelihoods; // L_k of each datapoint, in order (for paired comparisons)
  std::vector<double> activity;     // Cov_x E_q[z_j], one per latent dimension, layer after layer
  std::size_t active_units = 0;     // over all stochastic layers
  std::vector<std::size_t> active_units_per_layer;  // bottom (z1) first
  std::optional<ClusterEvaluation> clusters;        // a model with clusters, data with labels
};

/// Called with (datapoints done, total) while the marginal likelihood runs;
/// spread over ranks, with this rank's share of the datapoints.
using EvalProgress = std::function<void(std::size_t, std::size_t)>;

EvalResult evaluate_model(const Vae& model, ConstMatrix x, const EvalOptions& options,
                          const EvalProgress& progress = {});

/// Each row's L_k as `aevb eval` computes it (evaluate_model's log_likelihoods):
/// in slices of 50 rows, slice s drawing its noise under seed ^ (s's first row << 20).
/// Given `ranks`, each computes a share of the slices and every rank
/// returns all the rows' values.
std::vector<double> sliced_log_likelihoods(const Vae& model, ConstMatrix x, std::size_t k, std::uint64_t seed,
                                           std::size_t weight_samples, const EvalProgress& progress = {},
                                           Communicator* ranks = nullptr);

/// Each row's cluster, argmax_y q(y|x) (the first of equals), with the
/// probabilities into `probabilities` [rows, clusters] unless it is null.
std::vector<std::int32_t> assign_clusters(const Vae& model, ConstMatrix x, std::vector<float>* probabilities = nullptr);

/// The cluster scores of `model`'s assignments of x against `labels`, with
/// as many classes as the largest label + 1; InputError for a label count
/// that is not x's rows or a negative label.
ClusterEvaluation evaluate_clusters(const Vae& model, ConstMatrix x, std::span<const std::int32_t> labels);

/// Cov_x E_q[z_j]: the variance over datapoints of the posterior mean, per
/// dimension of every stochastic layer (Vae::layer_means), bottom layer first.
/// Given `ranks`, each codes a share of the rows, with the sums of one process.
std::vector<double> latent_activity(const Vae& model, ConstMatrix x, Communicator* ranks = nullptr);

}  // namespace aevb
