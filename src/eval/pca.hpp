#pragma once
// Principal component analysis of a set of points (the explorer's default view
// of a latent space of more than two dimensions): the eigenvectors of the
// sample covariance, by the cyclic Jacobi method, which is exact to rounding
// for the small symmetric matrices (latent sizes up to a few hundred) this serves.
#include <aevb/matrix.hpp>

#include <cstddef>
#include <vector>

namespace aevb {

/// Eigenvalues of the symmetric n x n matrix `a` (row-major; only its values
/// are read, the upper triangle mirrored is assumed equal) in decreasing
/// order, and the matching unit eigenvectors: vectors[k * n + i] is component
/// i of eigenvector k. Each vector's largest-magnitude component is positive,
/// so the result does not depend on rounding of the sweeps' signs.
struct SymmetricEigen {
  std::vector<double> values;
  std::vector<double> vectors;
};
SymmetricEigen symmetric_eigen(std::vector<double> a, std::size_t n);

/// The rows of x's mean, the `count` leading principal axes (unit vectors of
/// x.cols components, by decreasing variance; axes past x.cols are zero) and
/// the fraction of the total variance along each (0 when x does not vary).
struct PrincipalAxes {
  std::vector<double> center;
  std::vector<std::vector<double>> axes;
  std::vector<double> explained;
};
/// InputError when x has no rows.
PrincipalAxes principal_axes(ConstMatrix x, std::size_t count);

}  // namespace aevb
