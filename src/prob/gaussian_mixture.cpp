#include "prob/gaussian_mixture.hpp"

#include "core/rng.hpp"
#include "core/scalar_math.hpp"
#include "core/thread_pool.hpp"

#include <aevb/error.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace aevb {
namespace {

double squared_distance(const double* a, const double* b, std::size_t d) {
  double s = 0;
  for (std::size_t j = 0; j < d; ++j) s += (a[j] - b[j]) * (a[j] - b[j]);
  return s;
}

double uniform(CounterRng& rng) { return double(rng.next_u32()) / 4294967296.0; }

// k-means++: the first center a uniform point, each next one a point drawn
// with probability proportional to its squared distance to the nearest center.
std::vector<double> seed_centers(const std::vector<double>& x, std::size_t n, std::size_t d, std::size_t k,
                                 CounterRng& rng) {
  std::vector<double> centers(k * d), nearest(n, std::numeric_limits<double>::infinity());
  std::size_t pick = rng.below(n);
  for (std::size_t c = 0;; ++c) {
    std::copy_n(x.data() + pick * d, d, centers.data() + c * d);
    if (c + 1 == k) return centers;
    double total = 0;
    for (std::size_t i = 0; i < n; ++i)
      total += nearest[i] = std::min(nearest[i], squared_distance(x.data() + i * d, centers.data() + c * d, d));
    if (!(total > 0))
      throw InputError("Gaussian mixture: " + std::to_string(k) + " components need as many distinct points; the " +
                       std::to_string(n) + " points have " + std::to_string(c + 1));
    const double target = uniform(rng) * total;
    double run = 0;
    pick = n - 1;
    for (std::size_t i = 0; i < n; ++i)
      if ((run += nearest[i]) > target && nearest[i] > 0) {
        pick = i;
        break;
      }
  }
}

// Lloyd's iterations until no point changes its center; the assignments.
std::vector<std::size_t> lloyd(const std::vector<double>& x, std::size_t n, std::size_t d, std::size_t k,
                               std::vector<double>& centers) {
  std::vector<std::size_t> label(n, k);
  std::vector<double> sums(k * d);
  std::vector<std::size_t> counts(k);
  for (std::size_t iteration = 0; iteration < 300; ++iteration) {
    bool changed = false;
    pool::for_ranges(n, [&](std::size_t first, std::size_t last) {
      for (std::size_t i = first; i < last; ++i) {
        std::size_t best = 0;
        double best_d = std::numeric_limits<double>::infinity();
        for (std::size_t c = 0; c < k; ++c) {
          const double dist = squared_distance(x.data() + i * d, centers.data() + c * d, d);
          if (dist < best_d) best_d = dist, best = c;
        }
        label[i] = best;
      }
    });
    std::fill(sums.begin(), sums.end(), 0.0);
    std::fill(counts.begin(), counts.end(), 0);
    for (std::size_t i = 0; i < n; ++i) {
      ++counts[label[i]];
      for (std::size_t j = 0; j < d; ++j) sums[label[i] * d + j] += x[i * d + j];
    }
    for (std::size_t c = 0; c < k; ++c) {
      if (counts[c] == 0) continue;  // an empty cluster keeps its center
      for (std::size_t j = 0; j < d; ++j) {
        const double m = sums[c * d + j] / double(counts[c]);
        changed |= m != centers[c * d + j];
        centers[c * d + j] = m;
      }
    }
    if (!changed) break;
  }
  return label;
}

// The M step from responsibilities r [n, K] (hard ones for the k-means start).
void maximize(const std::vector<double>& x, std::size_t n, std::size_t d, const std::vector<double>& r,
              double floor, DiagonalMixture& m) {
  const std::size_t k = m.weights.size();
  std::vector<double> mass(k, 0.0);
  std::fill(m.means.begin(), m.means.end(), 0.0);
  std::fill(m.variances.begin(), m.variances.end(), 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t c = 0; c < k; ++c) {
      const double w = r[i * k + c];
      mass[c] += w;
      for (std::size_t j = 0; j < d; ++j) m.means[c * d + j] += w * x[i * d + j];
    }
  for (std::size_t c = 0; c < k; ++c) {
    const double safe = std::max(mass[c], 10 * std::numeric_limits<double>::epsilon());
    m.weights[c] = safe / double(n);
    for (std::size_t j = 0; j < d; ++j) m.means[c * d + j] /= safe;
  }
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t c = 0; c < k; ++c) {
      const double w = r[i * k + c];
      for (std::size_t j = 0; j < d; ++j) {
        const double diff = x[i * d + j] - m.means[c * d + j];
        m.variances[c * d + j] += w * diff * diff;
      }
    }
  double total = 0;
  for (double w : m.weights) total += w;
  for (std::size_t c = 0; c < k; ++c) {
    const double safe = std::max(mass[c], 10 * std::numeric_limits<double>::epsilon());
    m.weights[c] /= total;
    for (std::size_t j = 0; j < d; ++j) m.variances[c * d + j] = m.variances[c * d + j] / safe + floor;
  }
}

DiagonalMixture fit_once(const std::vector<double>& x, std::size_t n, std::size_t d, const MixtureFitOptions& o,
                         std::uint64_t restart) {
  const std::size_t k = o.components;
  CounterRng rng(o.seed, rng_stream(RngPurpose::mixture_fit, restart));
  std::vector<double> centers = seed_centers(x, n, d, k, rng);
  const std::vector<std::size_t> label = lloyd(x, n, d, k, centers);
  DiagonalMixture m{std::vector<double>(k), std::vector<double>(k * d), std::vector<double>(k * d), 0, 0};
  std::vector<double> r(n * k, 0.0);
  for (std::size_t i = 0; i < n; ++i) r[i * k + label[i]] = 1;
  maximize(x, n, d, r, o.variance_floor, m);
  double previous = -std::numeric_limits<double>::infinity();
  for (std::size_t it = 1; it <= o.max_iterations; ++it) {
    const std::vector<double> log_p = mixture_log_density(m, x, d, &r);
    double mean = 0;
    for (double v : log_p) mean += v;
    mean /= double(n);
    m.log_likelihood = mean;
    m.iterations = it - 1;
    if (mean - previous < o.tolerance) break;  // the E step of m: its likelihood, EM's fixed point reached
    previous = mean;
    maximize(x, n, d, r, o.variance_floor, m);
    m.iterations = it;
  }
  return m;
}

}  // namespace

std::vector<double> mixture_log_density(const DiagonalMixture& m, const std::vector<double>& x, std::size_t d,
                                        std::vector<double>* responsibilities) {
  const std::size_t k = m.weights.size(), n = x.size() / d;
  std::vector<double> constant(k), inverse(k * d);
  for (std::size_t c = 0; c < k; ++c) {
    constant[c] = std::log(m.weights[c]);
    for (std::size_t j = 0; j < d; ++j) {
      constant[c] -= 0.5 * (kLog2Pi + std::log(m.variances[c * d + j]));
      inverse[c * d + j] = 1 / m.variances[c * d + j];
    }
  }
  std::vector<double> log_p(n);
  if (responsibilities) responsibilities->resize(n * k);
  pool::for_ranges(n, [&](std::size_t first, std::size_t last) {
    std::vector<double> l(k);
    for (std::size_t i = first; i < last; ++i) {
      for (std::size_t c = 0; c < k; ++c) {
        double q = 0;
        for (std::size_t j = 0; j < d; ++j) {
          const double diff = x[i * d + j] - m.means[c * d + j];
          q += diff * diff * inverse[c * d + j];
        }
        l[c] = constant[c] - 0.5 * q;
      }
      log_p[i] = log_sum_exp(l.data(), k);
      if (responsibilities)
        for (std::size_t c = 0; c < k; ++c) (*responsibilities)[i * k + c] = std::exp(l[c] - log_p[i]);
    }
  });
  return log_p;
}

DiagonalMixture fit_diagonal_mixture(const std::vector<double>& points, std::size_t d, const MixtureFitOptions& o) {
  if (d == 0 || points.size() % d != 0) throw std::logic_error("fit_diagonal_mixture: points are not rows of d values");
  const std::size_t n = points.size() / d;
  if (o.components == 0 || n < o.components)
    throw InputError("Gaussian mixture: " + std::to_string(o.components) + " components need at least as many "
                     "points, found " + std::to_string(n));
  DiagonalMixture best;
  best.log_likelihood = -std::numeric_limits<double>::infinity();
  for (std::size_t restart = 0; restart < std::max<std::size_t>(1, o.restarts); ++restart) {
    DiagonalMixture m = fit_once(points, n, d, o, restart);
    if (m.log_likelihood > best.log_likelihood) best = std::move(m);
  }
  return best;
}

}  // namespace aevb
