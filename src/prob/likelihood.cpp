#include "prob/likelihood.hpp"

#include "core/scalar_math.hpp"

#include <cstdint>

namespace aevb {
namespace {

// One row's log-likelihood, and its gradient scaled by w when dout is non-null.
template <class T>
double row_log_likelihood(const LikelihoodSpec& spec, const T* out, const T* x, T w, T* dout) {
  const std::size_t d = spec.dim;
  double sum = 0;
  switch (spec.kind) {
    case Likelihood::bernoulli:
      for (std::size_t i = 0; i < d; ++i) {
        const T l = out[i];
        const T e = std::exp(-std::abs(l));  // softplus(l) = max(l, 0) + log1p(e), stable for any l
        sum += double(x[i]) * l - (std::max(l, T(0)) + std::log1p(e));
        if (dout) dout[i] = w * (x[i] - (l >= 0 ? T(1) / (T(1) + e) : e / (T(1) + e)));
      }
      break;
    case Likelihood::gaussian: {
      const T* logvar = out + d;
      for (std::size_t i = 0; i < d; ++i) {
        const T m = spec.sigmoid_mean ? sigmoid(out[i]) : out[i];
        const T inv_var = std::exp(-logvar[i]);
        const T diff = x[i] - m;
        sum += -0.5 * (kLog2Pi + logvar[i] + double(diff) * diff * inv_var);
        if (dout) {
          const T dm = diff * inv_var;
          dout[i] = w * (spec.sigmoid_mean ? dm * m * (T(1) - m) : dm);
          dout[d + i] = w * T(0.5) * (diff * diff * inv_var - T(1));
        }
      }
      break;
    }
    case Likelihood::gaussian_fixed: {
      const T inv_c = static_cast<T>(1.0 / spec.fixed_variance);
      const double log_norm = kLog2Pi + std::log(spec.fixed_variance);
      for (std::size_t i = 0; i < d; ++i) {
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

template <class T>
void for_rows(const LikelihoodSpec& spec, MatrixView<const T> out, MatrixView<const T> x, std::size_t samples,
              const T* weight, T* log_lik, T* dout) {
  const auto rows = static_cast<std::int64_t>(out.rows);
#pragma omp parallel for schedule(static) if (out.rows * spec.dim >= kParallelElements)
  for (std::int64_t ri = 0; ri < rows; ++ri) {
    const auto r = static_cast<std::size_t>(ri);
    const T w = weight ? weight[r] : T(0);
    T* drow = dout ? dout + r * out.cols : nullptr;
    log_lik[r] = static_cast<T>(row_log_likelihood(spec, out.row(r), x.row(r / samples), w, drow));
  }
}

}  // namespace

LikelihoodSpec LikelihoodSpec::from(const ModelConfig& config) {
  return {config.likelihood, config.sigmoid_mean, config.fixed_variance, config.input_dim};
}

template <class T>
void log_likelihood(const LikelihoodSpec& spec, MatrixView<const T> out, MatrixView<const T> x, std::size_t samples,
                    T* log_lik) {
  for_rows<T>(spec, out, x, samples, nullptr, log_lik, nullptr);
}

template <class T>
void log_likelihood_grad(const LikelihoodSpec& spec, MatrixView<const T> out, MatrixView<const T> x,
                         std::size_t samples, const T* weight, T* log_lik, MatrixView<T> dout) {
  for_rows<T>(spec, out, x, samples, weight, log_lik, dout.data);
}

template <class T>
void likelihood_mean(const LikelihoodSpec& spec, MatrixView<const T> out, MatrixView<T> mean) {
  const bool squash = spec.kind == Likelihood::bernoulli || spec.sigmoid_mean;
  const auto rows = static_cast<std::int64_t>(out.rows);
#pragma omp parallel for schedule(static) if (out.rows * spec.dim >= kParallelElements)
  for (std::int64_t ri = 0; ri < rows; ++ri) {
    const T* o = out.row(static_cast<std::size_t>(ri));
    T* m = mean.row(static_cast<std::size_t>(ri));
    for (std::size_t i = 0; i < spec.dim; ++i) m[i] = squash ? sigmoid(o[i]) : o[i];
  }
}

#define AEVB_INSTANTIATE(T)                                                                                       \
  template void log_likelihood<T>(const LikelihoodSpec&, MatrixView<const T>, MatrixView<const T>, std::size_t, \
                                  T*);                                                                          \
  template void log_likelihood_grad<T>(const LikelihoodSpec&, MatrixView<const T>, MatrixView<const T>,         \
                                       std::size_t, const T*, T*, MatrixView<T>);                               \
  template void likelihood_mean<T>(const LikelihoodSpec&, MatrixView<const T>, MatrixView<T>);
AEVB_INSTANTIATE(float)
AEVB_INSTANTIATE(double)
#undef AEVB_INSTANTIATE

}  // namespace aevb
