#include "prob/gaussian_posterior.hpp"

#include "backend/cpu/vector_math.hpp"
#include "core/scalar_math.hpp"
#include "core/thread_pool.hpp"

#include <algorithm>
#include <cstdint>
#include <type_traits>

namespace aevb {
namespace {

// Float takes the vectorizable approximations (<= 3 ulp), double libm (the
// finite-difference checks).
template <class T>
T exp_of(T x) {
  if constexpr (std::is_same_v<T, float>) {
    return vmath::exp(x);
  } else {
    return std::exp(x);
  }
}

// From this many latent values on, the (re)parameterization runs on the pool:
// each value costs an exp or two (a libm one in double for the KL), so a
// batch of 128 x 20 takes tens of microseconds on one thread, long enough for
// an idle pool thread to fall asleep (kParallelElements, 1 << 15, is sized for
// cheaper work).
constexpr std::size_t kParallelLatents = 1 << 10;

template <class T>
T expm1_of(T x) {
  if constexpr (std::is_same_v<T, float>) {
    return vmath::expm1(x);
  } else {
    return std::expm1(x);
  }
}

}  // namespace

template <class T>
void reparameterize(MatrixView<const T> head, std::size_t samples, const T* eps, const PosteriorSample<T>& out) {
  const std::size_t nz = head.cols / 2;
  const auto rows = [&](std::size_t first, std::size_t last) {
    for (std::size_t m = first; m < last; ++m) {
      const T* mu = head.row(m);
      const T* logvar = mu + nz;
      double kl = 0;  // in double through libm: once per datapoint
      for (std::size_t j = 0; j < nz; ++j)
        kl += -0.5 * (1.0 + logvar[j] - double(mu[j]) * mu[j] - std::exp(double(logvar[j])));
      out.kl[m] = static_cast<T>(kl);
      for (std::size_t s = 0; s < samples; ++s) {
        const std::size_t r = m * samples + s;
        const T* e = eps + r * nz;
        T* z = out.z + r * nz;
        double log_q = 0, log_prior = 0;
#pragma omp simd reduction(+ : log_q, log_prior)
        for (std::size_t j = 0; j < nz; ++j) {
          z[j] = mu[j] + exp_of(T(0.5) * logvar[j]) * e[j];
          log_q += -0.5 * (kLog2Pi + logvar[j] + double(e[j]) * e[j]);
          log_prior += -0.5 * (kLog2Pi + double(z[j]) * z[j]);
        }
        out.log_q[r] = static_cast<T>(log_q);
        out.log_prior[r] = static_cast<T>(log_prior);
      }
    }
  };
  pool::for_ranges(head.rows, rows, head.rows * samples * nz >= kParallelLatents);
}

template <class T>
void reparameterize_backward(MatrixView<const T> head, std::size_t samples, const T* eps, const T* z,
                             const PosteriorGrad<T>& grad, MatrixView<T> dhead) {
  const std::size_t nz = head.cols / 2;
  const auto rows = [&](std::size_t first, std::size_t last) {
    for (std::size_t m = first; m < last; ++m) {
      const T* mu = head.row(m);
      const T* logvar = mu + nz;
      T* dmu = dhead.row(m);
      T* dlogvar = dmu + nz;
      const T kw = grad.kl_weight ? grad.kl_weight[m] : T(0);
#pragma omp simd
      for (std::size_t j = 0; j < nz; ++j) {
        // dKL/dmu = mu, dKL/dlogvar = (exp(logvar) - 1) / 2  (App. B)
        dmu[j] = kw * mu[j];
        dlogvar[j] = kw * T(0.5) * expm1_of(logvar[j]);
      }
      for (std::size_t s = 0; s < samples; ++s) {
        const std::size_t r = m * samples + s;
        const T* dz = grad.dz + r * nz;
        const T* e = eps + r * nz;
        const T* zr = z + r * nz;
        const T pw = grad.prior_weight ? grad.prior_weight[r] : T(0);
#pragma omp simd
        for (std::size_t j = 0; j < nz; ++j) {
          // d log p(z)/dz = -z; with eps fixed, log q depends on logvar alone: d/dlogvar = -1/2.
          const T gz = dz[j] - pw * zr[j];
          dmu[j] += gz;
          dlogvar[j] += gz * T(0.5) * exp_of(T(0.5) * logvar[j]) * e[j] + pw * T(0.5);
        }
      }
    }
  };
  pool::for_ranges(head.rows, rows, head.rows * samples * nz >= kParallelLatents);
}

template <class T>
void gaussian_log_density(MatrixView<const T> head, std::size_t samples, const T* z, T* log_q, const T* weight,
                          MatrixView<T> dhead) {
  const std::size_t nz = head.cols / 2;
  const auto rows = [&](std::size_t first, std::size_t last) {
    for (std::size_t m = first; m < last; ++m) {
      const T* mu = head.row(m);
      const T* logvar = mu + nz;
      T* dmu = dhead.data ? dhead.row(m) : nullptr;
      if (dmu) std::fill_n(dmu, 2 * nz, T(0));
      for (std::size_t s = 0; s < samples; ++s) {
        const std::size_t r = m * samples + s;
        const T* zr = z + r * nz;
        const T w = dmu ? weight[r] : T(0);
        double value = 0;
        for (std::size_t j = 0; j < nz; ++j) {
          const T inv_var = exp_of(-logvar[j]), diff = zr[j] - mu[j], scaled = diff * diff * inv_var;
          value += -0.5 * (kLog2Pi + logvar[j] + double(scaled));
          if (dmu) {
            dmu[j] += w * diff * inv_var;
            dmu[nz + j] += w * T(0.5) * (scaled - T(1));
          }
        }
        if (log_q) log_q[r] = static_cast<T>(value);
      }
    }
  };
  pool::for_ranges(head.rows, rows, head.rows * samples * nz >= kParallelLatents);
}

template <class T>
void add_standard_normal_log_density(MatrixView<const T> z, T* log_prior, MatrixView<T> dz) {
  const auto rows = [&](std::size_t first, std::size_t last) {
    for (std::size_t r = first; r < last; ++r) {
      const T* zr = z.row(r);
      double log_p = 0;
#pragma omp simd reduction(+ : log_p)
      for (std::size_t j = 0; j < z.cols; ++j) log_p += -0.5 * (kLog2Pi + double(zr[j]) * zr[j]);
      if (dz.data != nullptr) {
        T* g = dz.row(r);
        for (std::size_t j = 0; j < z.cols; ++j) g[j] -= zr[j];
      }
      log_prior[r] = static_cast<T>(log_prior[r] + log_p);
    }
  };
  pool::for_ranges(z.rows, rows, z.size() >= kParallelLatents);
}

template <class T>
void split_gaussian_head(MatrixView<const T> head, MatrixView<T> mean, MatrixView<T> log_variance) {
  const std::size_t nz = head.cols / 2;
  for (std::size_t r = 0; r < head.rows; ++r) {
    if (mean.data) std::copy_n(head.row(r), nz, mean.row(r));
    if (log_variance.data) std::copy_n(head.row(r) + nz, nz, log_variance.row(r));
  }
}

template void reparameterize<float>(MatrixView<const float>, std::size_t, const float*, const PosteriorSample<float>&);
template void reparameterize<double>(MatrixView<const double>, std::size_t, const double*,
                                     const PosteriorSample<double>&);
template void reparameterize_backward<float>(MatrixView<const float>, std::size_t, const float*, const float*,
                                             const PosteriorGrad<float>&, MatrixView<float>);
template void reparameterize_backward<double>(MatrixView<const double>, std::size_t, const double*, const double*,
                                              const PosteriorGrad<double>&, MatrixView<double>);
template void add_standard_normal_log_density<float>(MatrixView<const float>, float*, MatrixView<float>);
template void add_standard_normal_log_density<double>(MatrixView<const double>, double*, MatrixView<double>);

template void gaussian_log_density<float>(MatrixView<const float>, std::size_t, const float*, float*, const float*,
                                          MatrixView<float>);
template void gaussian_log_density<double>(MatrixView<const double>, std::size_t, const double*, double*,
                                           const double*, MatrixView<double>);

template void split_gaussian_head<float>(MatrixView<const float>, MatrixView<float>, MatrixView<float>);
template void split_gaussian_head<double>(MatrixView<const double>, MatrixView<double>, MatrixView<double>);

}  // namespace aevb
