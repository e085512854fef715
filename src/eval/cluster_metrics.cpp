#include "eval/cluster_metrics.hpp"

#include <aevb/error.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

namespace aevb {

std::uint64_t Confusion::total() const { return std::accumulate(counts.begin(), counts.end(), std::uint64_t{0}); }

Confusion confusion_matrix(std::span<const std::int32_t> clusters, std::span<const std::int32_t> labels,
                           std::size_t cluster_count, std::size_t class_count) {
  if (clusters.size() != labels.size())
    throw InputError("cluster scores: " + std::to_string(clusters.size()) + " cluster assignments for " +
                     std::to_string(labels.size()) + " labels");
  Confusion m{cluster_count, class_count, std::vector<std::uint64_t>(cluster_count * class_count, 0)};
  for (std::size_t i = 0; i < clusters.size(); ++i) {
    const auto k = clusters[i], c = labels[i];
    if (k < 0 || std::size_t(k) >= cluster_count)
      throw InputError("cluster scores: datapoint " + std::to_string(i) + " is in cluster " + std::to_string(k) +
                       ", expected 0 to " + std::to_string(cluster_count - 1));
    if (c < 0 || std::size_t(c) >= class_count)
      throw InputError("cluster scores: datapoint " + std::to_string(i) + " has label " + std::to_string(c) +
                       ", expected 0 to " + std::to_string(class_count - 1));
    ++m.counts[std::size_t(k) * class_count + std::size_t(c)];
  }
  return m;
}

std::vector<std::int32_t> hungarian_assignment(const Confusion& confusion) {
  // Minimum-cost perfect matching on the square matrix padded with zero
  // counts, cost = -count: shortest augmenting paths with row and column
  // potentials u, v (Kuhn-Munkres in the Jonker-Volgenant form), rows added
  // one at a time. Indices 1..n; column 0 is the virtual start.
  const std::size_t n = std::max(confusion.clusters, confusion.classes);
  const auto cost = [&](std::size_t row, std::size_t col) {
    return row < confusion.clusters && col < confusion.classes ? -double(confusion.at(row, col)) : 0.0;
  };
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> u(n + 1, 0), v(n + 1, 0);
  std::vector<std::size_t> row_of(n + 1, 0), way(n + 1, 0);  // row_of[col]: the row matched to col
  for (std::size_t row = 1; row <= n; ++row) {
    row_of[0] = row;
    std::size_t col0 = 0;
    std::vector<double> min_to(n + 1, inf);
    std::vector<bool> used(n + 1, false);
    do {
      used[col0] = true;
      const std::size_t r = row_of[col0];
      double delta = inf;
      std::size_t next = 0;
      for (std::size_t col = 1; col <= n; ++col) {
        if (used[col]) continue;
        const double reduced = cost(r - 1, col - 1) - u[r] - v[col];
        if (reduced < min_to[col]) min_to[col] = reduced, way[col] = col0;
        if (min_to[col] < delta) delta = min_to[col], next = col;
      }
      for (std::size_t col = 0; col <= n; ++col) {
        if (used[col]) {
          u[row_of[col]] += delta;
          v[col] -= delta;
        } else {
          min_to[col] -= delta;
        }
      }
      col0 = next;
    } while (row_of[col0] != 0);
    do {  // flip the augmenting path back to the start
      const std::size_t prev = way[col0];
      row_of[col0] = row_of[prev];
      col0 = prev;
    } while (col0 != 0);
  }
  std::vector<std::int32_t> class_of(confusion.clusters, -1);
  for (std::size_t col = 1; col <= n; ++col) {
    const std::size_t row = row_of[col] - 1;
    if (row < confusion.clusters && col - 1 < confusion.classes) class_of[row] = std::int32_t(col - 1);
  }
  return class_of;
}

namespace {

double pairs(double count) { return count * (count - 1) / 2; }

// H = -sum p log p of the given counts over `total`, in nats.
double entropy(const std::vector<double>& counts, double total) {
  double h = 0;
  for (const double c : counts)
    if (c > 0) h -= c / total * std::log(c / total);
  return h;
}

}  // namespace

ClusterScores cluster_scores(const Confusion& m) {
  const double n = double(m.total());
  if (n == 0) throw InputError("cluster scores: no datapoints");
  std::vector<double> per_cluster(m.clusters, 0), per_class(m.classes, 0);
  for (std::size_t k = 0; k < m.clusters; ++k)
    for (std::size_t c = 0; c < m.classes; ++c) {
      per_cluster[k] += double(m.at(k, c));
      per_class[c] += double(m.at(k, c));
    }
  ClusterScores s;

  const std::vector<std::int32_t> class_of = hungarian_assignment(m);
  double matched = 0, majority = 0;
  for (std::size_t k = 0; k < m.clusters; ++k) {
    if (class_of[k] >= 0) matched += double(m.at(k, std::size_t(class_of[k])));
    std::uint64_t best = 0;
    for (std::size_t c = 0; c < m.classes; ++c) best = std::max(best, m.at(k, c));
    majority += double(best);
  }
  s.accuracy = matched / n;
  s.accuracy_majority = majority / n;

  // I(k; c) = sum n_kc/n log(n n_kc / (n_k n_c)).
  double mutual = 0, index = 0;
  for (std::size_t k = 0; k < m.clusters; ++k)
    for (std::size_t c = 0; c < m.classes; ++c) {
      const double nkc = double(m.at(k, c));
      if (nkc > 0) mutual += nkc / n * std::log(n * nkc / (per_cluster[k] * per_class[c]));
      index += pairs(nkc);
    }
  const double h_clusters = entropy(per_cluster, n), h_classes = entropy(per_class, n);
  // Both partitions a single group: identical, as scikit-learn scores it.
  s.nmi = h_clusters + h_classes == 0 ? 1.0 : std::clamp(mutual / ((h_clusters + h_classes) / 2), 0.0, 1.0);

  // ARI = (index - expected) / (max - expected), over pairs of datapoints.
  double cluster_pairs = 0, class_pairs = 0;
  for (const double a : per_cluster) cluster_pairs += pairs(a);
  for (const double b : per_class) class_pairs += pairs(b);
  const double expected = n > 1 ? cluster_pairs * class_pairs / pairs(n) : 0;
  const double max_index = (cluster_pairs + class_pairs) / 2;
  // No pair can disagree by chance (one group each, or one datapoint per group): agreement is exact.
  s.ari = max_index == expected ? 1.0 : (index - expected) / (max_index - expected);
  return s;
}

}  // namespace aevb
