// The clustering scores against brute force (every one-to-one map of small
// confusion matrices) and against values computed by hand.
#include "core/rng.hpp"
#include "eval/cluster_metrics.hpp"
#include "support/scratch.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace aevb {
namespace {

// The most datapoints any one-to-one map of clusters to classes puts on the
// diagonal, by trying every injection from the smaller side to the larger.
std::uint64_t brute_force_matched(const Confusion& m) {
  const std::size_t n = std::max(m.clusters, m.classes);
  std::vector<std::size_t> perm(n);
  std::iota(perm.begin(), perm.end(), 0);
  std::uint64_t best = 0;
  do {
    std::uint64_t sum = 0;
    for (std::size_t k = 0; k < n; ++k)
      if (k < m.clusters && perm[k] < m.classes) sum += m.at(k, perm[k]);
    best = std::max(best, sum);
  } while (std::next_permutation(perm.begin(), perm.end()));
  return best;
}

Confusion random_confusion(std::size_t clusters, std::size_t classes, std::uint64_t seed) {
  std::vector<float> u(clusters * classes);
  fill_uniform(u.data(), u.size(), seed, 0);
  Confusion m{clusters, classes, {}};
  // Counts 0..20, many ties: where a greedy choice goes wrong.
  for (const float x : u) m.counts.push_back(std::uint64_t(x * 21.0f));
  return m;
}

TEST(ClusterMetrics, HungarianMatchingFindsTheBestOneToOneMapOfSmallMatrices) {
  std::uint64_t seed = 1;
  for (const auto& [clusters, classes] : std::vector<std::pair<std::size_t, std::size_t>>{
           {1, 1}, {2, 2}, {3, 3}, {4, 4}, {5, 5}, {6, 6}, {7, 7}, {5, 3}, {3, 5}, {6, 2}, {2, 6}, {7, 4}}) {
    for (int trial = 0; trial < 20; ++trial) {
      const Confusion m = random_confusion(clusters, classes, seed++);
      const std::vector<std::int32_t> class_of = hungarian_assignment(m);
      ASSERT_EQ(class_of.size(), clusters);
      // One-to-one: each class at most once; every cluster matched while classes last.
      std::vector<int> uses(classes, 0);
      std::uint64_t matched = 0;
      std::size_t unmatched = 0;
      for (std::size_t k = 0; k < clusters; ++k) {
        if (class_of[k] < 0) {
          ++unmatched;
          continue;
        }
        ASSERT_LT(std::size_t(class_of[k]), classes);
        ++uses[std::size_t(class_of[k])];
        matched += m.at(k, std::size_t(class_of[k]));
      }
      for (const int u : uses) EXPECT_LE(u, 1);
      EXPECT_EQ(unmatched, clusters > classes ? clusters - classes : 0);
      EXPECT_EQ(matched, brute_force_matched(m)) << clusters << "x" << classes << " trial " << trial;
    }
  }
}

// A case where taking each cluster's largest cell in turn is wrong: greedy
// would give cluster 0 class 0 (9) and cluster 1 class 1 (1): 10 of 26; the
// best map crosses them: 8 + 8 = 16.
TEST(ClusterMetrics, AccuracyIsTheBestMapsShareAndMajorityLetsClustersShareAClass) {
  const Confusion m{2, 2, {9, 8, 8, 1}};
  EXPECT_EQ(hungarian_assignment(m), (std::vector<std::int32_t>{1, 0}));
  const ClusterScores s = cluster_scores(m);
  EXPECT_DOUBLE_EQ(s.accuracy, 16.0 / 26.0);
  EXPECT_DOUBLE_EQ(s.accuracy_majority, 17.0 / 26.0) << "both clusters take class 0 (9) and class 0 (8)";
  // Three clusters of two classes: majority counts each cluster's best, one-to-one only two of them.
  const Confusion three{3, 2, {5, 0, 0, 5, 4, 1}};
  const ClusterScores t = cluster_scores(three);
  EXPECT_DOUBLE_EQ(t.accuracy, 10.0 / 15.0);
  EXPECT_DOUBLE_EQ(t.accuracy_majority, 14.0 / 15.0);
}

TEST(ClusterMetrics, NmiAndAriMatchHandComputedValues) {
  // Classes [0 0 1 1], clusters [0 0 1 2]: the clusters determine the class,
  // so I = H(c) = log 2; H(k) = 1.5 log 2; NMI = 1 / 1.25 = 0.8. Pairs: one
  // agreeing pair within clusters (index 1), cluster pairs 1, class pairs 2,
  // expected 1 * 2 / 6, max 1.5: ARI = (1 - 1/3) / (1.5 - 1/3) = 4/7.
  const std::vector<std::int32_t> labels{0, 0, 1, 1}, clusters{0, 0, 1, 2};
  const ClusterScores s = cluster_scores(confusion_matrix(clusters, labels, 3, 2));
  EXPECT_NEAR(s.nmi, 0.8, 1e-15);
  EXPECT_NEAR(s.ari, 4.0 / 7.0, 1e-15);
  EXPECT_DOUBLE_EQ(s.accuracy, 0.75);
  EXPECT_DOUBLE_EQ(s.accuracy_majority, 1.0);

  // Independent partitions: classes [0 0 1 1], clusters [0 1 0 1]. I = 0 so
  // NMI = 0; index 0, expected 2 * 2 / 6, max 2: ARI = -(2/3) / (4/3) = -1/2.
  const ClusterScores crossed = cluster_scores(confusion_matrix(std::vector<std::int32_t>{0, 1, 0, 1}, labels, 2, 2));
  EXPECT_NEAR(crossed.nmi, 0.0, 1e-15);
  EXPECT_NEAR(crossed.ari, -0.5, 1e-15);
  EXPECT_DOUBLE_EQ(crossed.accuracy, 0.5);

  // A relabelled perfect clustering scores 1 on everything.
  const ClusterScores perfect = cluster_scores(confusion_matrix(std::vector<std::int32_t>{2, 2, 0, 0, 1},
                                                                std::vector<std::int32_t>{0, 0, 1, 1, 2}, 3, 3));
  EXPECT_DOUBLE_EQ(perfect.accuracy, 1.0);
  EXPECT_NEAR(perfect.nmi, 1.0, 1e-15);
  EXPECT_NEAR(perfect.ari, 1.0, 1e-15);

  // One group on both sides: identical partitions (NMI and ARI 1, as scikit-learn scores them).
  const ClusterScores single = cluster_scores(confusion_matrix(std::vector<std::int32_t>{0, 0, 0},
                                                               std::vector<std::int32_t>{0, 0, 0}, 1, 1));
  EXPECT_EQ(single.nmi, 1.0);
  EXPECT_EQ(single.ari, 1.0);
}

TEST(ClusterMetrics, BadInputIsRefused) {
  const std::vector<std::int32_t> labels{0, 1, 1};
  EXPECT_ERROR_CONTAINS(confusion_matrix(std::vector<std::int32_t>{0, 1}, labels, 2, 2),
                        "2 cluster assignments for 3 labels");
  EXPECT_ERROR_CONTAINS(confusion_matrix(std::vector<std::int32_t>{0, 2, 1}, labels, 2, 2),
                        "datapoint 1 is in cluster 2, expected 0 to 1");
  EXPECT_ERROR_CONTAINS(confusion_matrix(std::vector<std::int32_t>{0, 1, 1}, std::vector<std::int32_t>{0, -1, 1}, 2, 2),
                        "datapoint 1 has label -1, expected 0 to 1");
  EXPECT_ERROR_CONTAINS(cluster_scores(Confusion{2, 2, {0, 0, 0, 0}}), "no datapoints");
}

}  // namespace
}  // namespace aevb
