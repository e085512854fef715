#pragma once
// How well clusters found without labels agree with the true classes, by the
// measures clustering papers report (../shared/reference/model-families.md,
// sec. 1), all from the confusion matrix n_kc (datapoints of cluster k with
// class c):
//   - accuracy under the best one-to-one map of clusters to classes, found by
//     Hungarian matching (VaDE, DEC and most papers: "unsupervised accuracy");
//   - accuracy when each cluster takes its most frequent class (many-to-one,
//     "majority" or purity: Su's clustering VAE, Rui Shu's GMVAE), which more
//     clusters than classes can only raise;
//   - normalized mutual information I(k; c) / ((H(k) + H(c)) / 2), the
//     arithmetic-mean normalization (scikit-learn's default);
//   - the adjusted Rand index (Hubert & Arabie 1985): pair agreement, 0 in
//     expectation for a random clustering, 1 for a perfect one.
#include <cstdint>
#include <span>
#include <vector>

namespace aevb {

struct Confusion {
  std::size_t clusters = 0, classes = 0;
  std::vector<std::uint64_t> counts;  // [clusters x classes], row-major
  std::uint64_t at(std::size_t k, std::size_t c) const { return counts[k * classes + c]; }
  std::uint64_t total() const;
};

/// n_kc of `clusters[i]` in [0, K) against `labels[i]` in [0, C); InputError
/// for different lengths or a value out of range.
Confusion confusion_matrix(std::span<const std::int32_t> clusters, std::span<const std::int32_t> labels,
                           std::size_t cluster_count, std::size_t class_count);

/// The one-to-one map of clusters to classes with the most datapoints on the
/// diagonal: entry k is cluster k's class, or -1 where there are more clusters
/// than classes and k got none. O(n^3) for n = max(K, C).
std::vector<std::int32_t> hungarian_assignment(const Confusion& confusion);

struct ClusterScores {
  double accuracy = 0;           // Hungarian (one-to-one)
  double accuracy_majority = 0;  // each cluster its most frequent class (many-to-one)
  double nmi = 0;
  double ari = 0;
};

/// All four for a confusion matrix of at least one datapoint (InputError otherwise).
ClusterScores cluster_scores(const Confusion& confusion);

}  // namespace aevb
