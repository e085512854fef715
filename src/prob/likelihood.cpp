#include "prob/likelihood.hpp"

#include "backend/cpu/vector_math.hpp"
#include "core/scalar_math.hpp"
#include "core/thread_pool.hpp"

#include <cstdint>
#include <stdexcept>
#include <type_traits>

namespace aevb {
namespace {

// ---- Reference: one row's log-likelihood in plain loops over libm, summed in
// double, and its gradient scaled by w when dout is non-null. `seen` (this
// datapoint's row of Observation::seen, or null) and the noise variance s2
// as Observation says; with neither, the loops are the plain ones.
template <class T>
double reference_row(const LikelihoodSpec& spec, const T* out, const T* x, const std::uint8_t* seen,
                     double noise_variance, T w, T* dout) {
  const std::size_t d = spec.dim;
  const auto hidden = [&](std::size_t i) { return seen != nullptr && seen[i] == 0; };
  double sum = 0;
  switch (spec.kind) {
    case Likelihood::bernoulli:
      for (std::size_t i = 0; i < d; ++i) {
        if (hidden(i)) {
          if (dout) dout[i] = T(0);
          continue;
        }
        const T l = out[i];
        const T e = std::exp(-std::abs(l));  // softplus(l) = max(l, 0) + log1p(e), stable for any l
        sum += double(x[i]) * l - (std::max(l, T(0)) + std::log1p(e));
        if (dout) dout[i] = w * (x[i] - (l >= 0 ? T(1) / (T(1) + e) : e / (T(1) + e)));
      }
      break;
    case Likelihood::gaussian: {
      const T* logvar = out + d;
      const T log_s2 = noise_variance > 0 ? static_cast<T>(std::log(noise_variance)) : T(0);
      for (std::size_t i = 0; i < d; ++i) {
        if (hidden(i)) {
          if (dout) dout[i] = dout[d + i] = T(0);
          continue;
        }
        const T m = spec.sigmoid_mean ? sigmoid(out[i]) : out[i];
        // log(v + s^2) as a log-sum-exp of log v and log s^2 (no overflow for any log v).
        T log_var = logvar[i];
        if (noise_variance > 0) {
          const T top = std::max(logvar[i], log_s2);
          log_var = top + std::log(std::exp(logvar[i] - top) + std::exp(log_s2 - top));
        }
        const T inv_var = std::exp(-log_var);
        const T diff = x[i] - m;
        sum += -0.5 * (kLog2Pi + log_var + double(diff) * diff * inv_var);
        if (dout) {
          const T dm = diff * inv_var;
          dout[i] = w * (spec.sigmoid_mean ? dm * m * (T(1) - m) : dm);
          // d/d log v = d/d log(v + s^2) * v / (v + s^2).
          T dlogvar = w * T(0.5) * (diff * diff * inv_var - T(1));
          if (noise_variance > 0) dlogvar *= std::exp(logvar[i] - log_var);
          dout[d + i] = dlogvar;
        }
      }
      break;
    }
    case Likelihood::gaussian_fixed: {
      const double variance = spec.fixed_variance + noise_variance;
      const T inv_c = static_cast<T>(1.0 / variance);
      const double log_norm = kLog2Pi + std::log(variance);
      for (std::size_t i = 0; i < d; ++i) {
        if (hidden(i)) {
          if (dout) dout[i] = T(0);
          continue;
        }
        const T m = spec.sigmoid_mean ? sigmoid(out[i]) : out[i];
        const T diff = x[i] - m;
        sum += -0.5 * (log_norm + double(diff) * diff * inv_c);
        if (dout) {
          const T dm = diff * inv_c;
          dout[i] = w * (spec.sigmoid_mean ? dm * m * (T(1) - m) : dm);
        }
      }
      break;
    }
  }
  return sum;
}

// ---- Fast float rows: the same sums under `omp simd` over the approximations
// of vector_math.hpp, each term in float, accumulated in double lanes. GCC
// tunes for 256-bit vectors on AVX-512 machines; these loops are compute-bound
// and run 30% faster at 512 bits (dev/README.md). A preference only: other
// machines keep their widest vectors.
#if !defined(__clang__)  // GCC only; clang has no such pragma (and prefers 512-bit vectors where it sees fit)
#pragma GCC push_options
#pragma GCC target("prefer-vector-width=512")
#endif

template <bool Grad>
double bernoulli_row(const float* out, const float* x, float w, float* dout, std::size_t d) {
  double sum = 0;
#pragma omp simd reduction(+ : sum)
  for (std::size_t i = 0; i < d; ++i) {
    const float l = out[i];
    const float e = vmath::exp(-vmath::abs(l));
    sum += double(x[i] * l - (vmath::max0(l) + vmath::log1p_unit(e)));
    if constexpr (Grad) {
      const float r = 1.0f / (1.0f + e);
      dout[i] = w * (x[i] - (l >= 0.0f ? r : e * r));
    }
  }
  return sum;
}

template <bool Grad, bool SigmoidMean>
double gaussian_row(const float* out, const float* x, float w, float* dout, std::size_t d) {
  const float* logvar = out + d;
  double sum = 0;
#pragma omp simd reduction(+ : sum)
  for (std::size_t i = 0; i < d; ++i) {
    const float m = SigmoidMean ? vmath::sigmoid(out[i]) : out[i];
    const float inv_var = vmath::exp(-logvar[i]);
    const float diff = x[i] - m;
    const float sq = diff * diff * inv_var;
    sum += double(logvar[i] + sq);
    if constexpr (Grad) {
      const float dm = diff * inv_var;
      dout[i] = w * (SigmoidMean ? dm * m * (1.0f - m) : dm);
      dout[d + i] = w * 0.5f * (sq - 1.0f);
    }
  }
  return -0.5 * (double(d) * kLog2Pi + sum);
}

template <bool Grad, bool SigmoidMean>
double gaussian_fixed_row(const float* out, const float* x, float inv_c, double log_norm, float w, float* dout,
                          std::size_t d) {
  double sum = 0;
#pragma omp simd reduction(+ : sum)
  for (std::size_t i = 0; i < d; ++i) {
    const float m = SigmoidMean ? vmath::sigmoid(out[i]) : out[i];
    const float diff = x[i] - m;
    sum += double(diff * diff * inv_c);
    if constexpr (Grad) {
      const float dm = diff * inv_c;
      dout[i] = w * (SigmoidMean ? dm * m * (1.0f - m) : dm);
    }
  }
  return -0.5 * (double(d) * log_norm + sum);
}

template <bool Grad>
double fast_row(const LikelihoodSpec& spec, const float* out, const float* x, float w, float* dout) {
  const std::size_t d = spec.dim;
  switch (spec.kind) {
    case Likelihood::bernoulli: return bernoulli_row<Grad>(out, x, w, dout, d);
    case Likelihood::gaussian:
      return spec.sigmoid_mean ? gaussian_row<Grad, true>(out, x, w, dout, d)
                               : gaussian_row<Grad, false>(out, x, w, dout, d);
    case Likelihood::gaussian_fixed: {
      const auto inv_c = static_cast<float>(1.0 / spec.fixed_variance);
      const double log_norm = kLog2Pi + std::log(spec.fixed_variance);
      return spec.sigmoid_mean ? gaussian_fixed_row<Grad, true>(out, x, inv_c, log_norm, w, dout, d)
                               : gaussian_fixed_row<Grad, false>(out, x, inv_c, log_norm, w, dout, d);
    }
  }
  return 0;
}

#if !defined(__clang__)
#pragma GCC pop_options
#endif

// Rows in parallel; each row's sum is one thread's, in a fixed order.
template <class T, bool Fast>
void for_rows(const LikelihoodSpec& spec, MatrixView<const T> out, MatrixView<const T> x, std::size_t samples,
              const T* weight, T* log_lik, T* dout, const Observation& observation) {
  if (!(observation.noise_variance >= 0) ||
      (observation.noise_variance > 0 && spec.kind == Likelihood::bernoulli))
    throw std::logic_error("likelihood: noise variance must be >= 0, and 0 for a Bernoulli likelihood");
  const auto rows = [&](std::size_t first, std::size_t last) {
    for (std::size_t r = first; r < last; ++r) {
      const T w = weight ? weight[r] : T(0);
      T* drow = dout ? dout + r * out.cols : nullptr;
      const auto reference = [&] {
        const std::uint8_t* seen = observation.seen ? observation.seen + (r / samples) * spec.dim : nullptr;
        return reference_row(spec, out.row(r), x.row(r / samples), seen, observation.noise_variance, w, drow);
      };
      double v;
      if constexpr (Fast) {
        v = !observation.plain() ? reference()
            : drow               ? fast_row<true>(spec, out.row(r), x.row(r / samples), w, drow)
                                 : fast_row<false>(spec, out.row(r), x.row(r / samples), w, nullptr);
      } else {
        v = reference();
      }
      log_lik[r] = static_cast<T>(v);
    }
  };
  pool::for_ranges(out.rows, rows, out.rows * spec.dim >= kParallelElements);
}

template <class T>
constexpr bool kFast = std::is_same_v<T, float>;

}  // namespace

LikelihoodSpec LikelihoodSpec::from(const ModelConfig& config) {
  return {config.likelihood, config.sigmoid_mean, config.fixed_variance, config.input_dim};
}

template <class T>
void log_likelihood(const LikelihoodSpec& spec, MatrixView<const T> out, MatrixView<const T> x, std::size_t samples,
                    T* log_lik, const Observation& observation) {
  for_rows<T, kFast<T>>(spec, out, x, samples, nullptr, log_lik, nullptr, observation);
}

template <class T>
void log_likelihood_grad(const LikelihoodSpec& spec, MatrixView<const T> out, MatrixView<const T> x,
                         std::size_t samples, const T* weight, T* log_lik, MatrixView<T> dout,
                         const Observation& observation) {
  for_rows<T, kFast<T>>(spec, out, x, samples, weight, log_lik, dout.data, observation);
}

template <class T>
void likelihood_mean(const LikelihoodSpec& spec, MatrixView<const T> out, MatrixView<T> mean) {
  const bool squash = spec.kind == Likelihood::bernoulli || spec.sigmoid_mean;
  const std::size_t d = spec.dim;
  const auto rows = [&](std::size_t first, std::size_t last) {
    for (std::size_t r = first; r < last; ++r) {
      const T* o = out.row(r);
      T* m = mean.row(r);
      if constexpr (kFast<T>) {
        if (squash) {
#pragma omp simd
          for (std::size_t i = 0; i < d; ++i) m[i] = vmath::sigmoid(o[i]);
        } else {
          for (std::size_t i = 0; i < d; ++i) m[i] = o[i];
        }
      } else {
        for (std::size_t i = 0; i < d; ++i) m[i] = squash ? sigmoid(o[i]) : o[i];
      }
    }
  };
  pool::for_ranges(out.rows, rows, out.rows * spec.dim >= kParallelElements);
}

template <class T>
void denoised_mean(const LikelihoodSpec& spec, MatrixView<const T> out, MatrixView<const T> x, std::size_t samples,
                   const Observation& observation, MatrixView<T> mean) {
  if (!(observation.noise_variance > 0) || spec.kind == Likelihood::bernoulli)
    throw std::logic_error("denoised_mean: needs a noise variance > 0 and a Gaussian likelihood");
  const std::size_t d = spec.dim;
  const T s2 = static_cast<T>(observation.noise_variance);
  const auto rows = [&](std::size_t first, std::size_t last) {
    for (std::size_t r = first; r < last; ++r) {
      const T* o = out.row(r);
      const T* xr = x.row(r / samples);
      const std::uint8_t* seen = observation.seen ? observation.seen + (r / samples) * d : nullptr;
      T* m = mean.row(r);
      for (std::size_t i = 0; i < d; ++i) {
        const T mu = spec.sigmoid_mean ? sigmoid(o[i]) : o[i];
        const T v = spec.kind == Likelihood::gaussian ? std::exp(o[d + i]) : static_cast<T>(spec.fixed_variance);
        m[i] = seen && !seen[i] ? mu : (s2 * mu + v * xr[i]) / (v + s2);
      }
    }
  };
  pool::for_ranges(out.rows, rows, out.rows * d >= kParallelElements);
}

// Float takes the vectorizable approximation, double libm.
template <class T>
T sigmoid_of(T x) {
  if constexpr (kFast<T>) {
    return vmath::sigmoid(x);
  } else {
    return sigmoid(x);
  }
}

template <class T>
void likelihood_sample(const LikelihoodSpec& spec, MatrixView<const T> out, const T* noise, MatrixView<T> x) {
  const std::size_t d = spec.dim;
  const bool squash = spec.kind == Likelihood::bernoulli || spec.sigmoid_mean;
  const T fixed_sd = static_cast<T>(std::sqrt(spec.fixed_variance));
  const auto rows = [&](std::size_t first, std::size_t last) {
    for (std::size_t r = first; r < last; ++r) {
      const T* o = out.row(r);
      const T* n = noise + r * d;
      T* xr = x.row(r);
      switch (spec.kind) {
        case Likelihood::bernoulli:
#pragma omp simd
          for (std::size_t i = 0; i < d; ++i) xr[i] = n[i] < sigmoid_of(o[i]) ? T(1) : T(0);
          break;
        case Likelihood::gaussian:
          for (std::size_t i = 0; i < d; ++i)
            xr[i] = (squash ? sigmoid_of(o[i]) : o[i]) + std::exp(T(0.5) * o[d + i]) * n[i];
          break;
        case Likelihood::gaussian_fixed:
          for (std::size_t i = 0; i < d; ++i) xr[i] = (squash ? sigmoid_of(o[i]) : o[i]) + fixed_sd * n[i];
          break;
      }
    }
  };
  pool::for_ranges(out.rows, rows, out.rows * d >= kParallelElements);
}

namespace reference {
template <class T>
void log_likelihood_grad(const LikelihoodSpec& spec, MatrixView<const T> out, MatrixView<const T> x,
                         std::size_t samples, const T* weight, T* log_lik, MatrixView<T> dout) {
  for_rows<T, false>(spec, out, x, samples, weight, log_lik, dout.data, Observation{});
}
}  // namespace reference

#define AEVB_INSTANTIATE(T)                                                                                       \
  template void log_likelihood<T>(const LikelihoodSpec&, MatrixView<const T>, MatrixView<const T>, std::size_t, \
                                  T*, const Observation&);                                                      \
  template void log_likelihood_grad<T>(const LikelihoodSpec&, MatrixView<const T>, MatrixView<const T>,         \
                                       std::size_t, const T*, T*, MatrixView<T>, const Observation&);           \
  template void likelihood_mean<T>(const LikelihoodSpec&, MatrixView<const T>, MatrixView<T>);                  \
  template void denoised_mean<T>(const LikelihoodSpec&, MatrixView<const T>, MatrixView<const T>, std::size_t,  \
                                 const Observation&, MatrixView<T>);                                           \
  template void likelihood_sample<T>(const LikelihoodSpec&, MatrixView<const T>, const T*, MatrixView<T>);      \
  template void reference::log_likelihood_grad<T>(const LikelihoodSpec&, MatrixView<const T>,                   \
                                                  MatrixView<const T>, std::size_t, const T*, T*, MatrixView<T>);
AEVB_INSTANTIATE(float)
AEVB_INSTANTIATE(double)
#undef AEVB_INSTANTIATE

}  // namespace aevb
