#pragma once
// The Cholesky factor of a small symmetric positive definite matrix, in
// double, for the densities fitted to latent codes (fitted_density.hpp) and
// the Gaussian moments of an encoder's codes (eval/latent_regularity.hpp).
#include <cstddef>
#include <optional>

namespace aevb {

/// In place: the lower triangle of the symmetric a [d, d] (row-major; the
/// upper triangle is read as zero and left alone) becomes L with a = L L^T.
/// Returns log det L (half of log det a), or nullopt when a is not positive
/// definite in double precision (a is then unusable).
std::optional<double> cholesky_lower_in_place(double* a, std::size_t d);

/// y = L^-1 b for the lower triangular L [d, d] (forward substitution).
void solve_lower(const double* l, const double* b, double* y, std::size_t d);

}  // namespace aevb
