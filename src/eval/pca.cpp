#include "eval/pca.hpp"

#include <aevb/error.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace aevb {

SymmetricEigen symmetric_eigen(std::vector<double> a, std::size_t n) {
  // v accumulates the rotations: a = v diag v^T at the end, columns of v the vectors.
  std::vector<double> v(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i) v[i * n + i] = 1.0;
  auto off_diagonal = [&] {
    double s = 0;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = i + 1; j < n; ++j) s += a[i * n + j] * a[i * n + j];
    return s;
  };
  double scale = 0;
  for (double x : a) scale += x * x;
  // Each sweep at least squares the off-diagonal mass once it is small
  // (quadratic convergence); 100 sweeps is far more than ever needed.
  for (int sweep = 0; sweep < 100 && off_diagonal() > 1e-30 * scale; ++sweep) {
    for (std::size_t p = 0; p < n; ++p) {
      for (std::size_t q = p + 1; q < n; ++q) {
        const double apq = a[p * n + q];
        if (apq == 0.0) continue;
        // The rotation in the (p, q) plane that zeroes a[p][q] (Golub & Van Loan, Alg. 8.5.1).
        const double theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
        const double t = (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1.0));
        const double c = 1.0 / std::sqrt(t * t + 1.0), s = t * c;
        for (std::size_t k = 0; k < n; ++k) {  // a = a J
          const double akp = a[k * n + p], akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (std::size_t k = 0; k < n; ++k) {  // a = J^T a
          const double apk = a[p * n + k], aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (std::size_t k = 0; k < n; ++k) {  // v = v J
          const double vkp = v[k * n + p], vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) { return a[i * n + i] > a[j * n + j]; });
  SymmetricEigen e{std::vector<double>(n), std::vector<double>(n * n)};
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t col = order[k];
    e.values[k] = a[col * n + col];
    std::size_t largest = 0;
    for (std::size_t i = 0; i < n; ++i)
      if (std::abs(v[i * n + col]) > std::abs(v[largest * n + col])) largest = i;
    const double sign = v[largest * n + col] < 0 ? -1.0 : 1.0;
    for (std::size_t i = 0; i < n; ++i) e.vectors[k * n + i] = sign * v[i * n + col];
  }
  return e;
}

PrincipalAxes principal_axes(ConstMatrix x, std::size_t count) {
  if (x.rows == 0) throw InputError("principal axes of an empty set of points");
  const std::size_t d = x.cols;
  PrincipalAxes p{std::vector<double>(d, 0.0), {}, {}};
  for (std::size_t r = 0; r < x.rows; ++r)
    for (std::size_t j = 0; j < d; ++j) p.center[j] += x.row(r)[j];
  for (double& c : p.center) c /= double(x.rows);
  std::vector<double> cov(d * d, 0.0);
  for (std::size_t r = 0; r < x.rows; ++r)
    for (std::size_t i = 0; i < d; ++i) {
      const double di = x.row(r)[i] - p.center[i];
      for (std::size_t j = 0; j <= i; ++j) cov[i * d + j] += di * (x.row(r)[j] - p.center[j]);
    }
  for (std::size_t i = 0; i < d; ++i)
    for (std::size_t j = 0; j <= i; ++j) cov[j * d + i] = cov[i * d + j] /= double(x.rows);
  const SymmetricEigen e = symmetric_eigen(std::move(cov), d);
  const double total = std::accumulate(e.values.begin(), e.values.end(), 0.0);
  for (std::size_t k = 0; k < count; ++k) {
    std::vector<double> axis(d, 0.0);
    double share = 0;
    if (k < d) {
      std::copy_n(e.vectors.begin() + static_cast<std::ptrdiff_t>(k * d), d, axis.begin());
      share = total > 0 ? std::max(e.values[k], 0.0) / total : 0.0;
    }
    p.axes.push_back(std::move(axis));
    p.explained.push_back(share);
  }
  return p;
}

}  // namespace aevb
