#include "optim/optimizer.hpp"

#include <cmath>
#include <cstdint>

namespace aevb {
namespace {

std::size_t moment_buffers(const OptimizerConfig& c) {
  switch (c.kind) {
    case OptimizerKind::sgd: return c.momentum > 0 ? 1 : 0;
    case OptimizerKind::adagrad: return 1;
    case OptimizerKind::adam: return 2;
  }
  return 0;
}

constexpr double kAdagradEps = 1e-10;  // PyTorch's default

}  // namespace

template <class T>
Optimizer<T>::Optimizer(const OptimizerConfig& config, std::size_t param_count)
    : config_(config), n_(param_count), state_(moment_buffers(config) * param_count, T(0)) {
  validate(config_);
}

template <class T>
double l2_norm(const T* x, std::size_t n) {
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += double(x[i]) * x[i];
  return std::sqrt(sum);
}

template <class T>
void Optimizer<T>::apply(T* params, const T* grads, std::uint64_t step) {
  T clip = T(1);
  if (config_.clip_norm > 0) {
    const double norm = l2_norm(grads, n_);
    // torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6) when below 1.
    clip = static_cast<T>(std::min(1.0, config_.clip_norm / (norm + 1e-6)));
  }
  const T lr = config_.lr, decay = config_.weight_decay;
  const auto n = static_cast<std::int64_t>(n_);
  T* m = state_.data();
  T* v = state_.data() + (state_.size() > n_ ? n_ : 0);
  switch (config_.kind) {
    case OptimizerKind::sgd: {
      const T mu = config_.momentum;
#pragma omp parallel for simd schedule(static)
      for (std::int64_t i = 0; i < n; ++i) {
        T g = grads[i] * clip + decay * params[i];
        if (mu > 0) g = m[i] = (step == 1 ? g : mu * m[i] + g);
        params[i] -= lr * g;
      }
      break;
    }
    case OptimizerKind::adagrad: {
#pragma omp parallel for simd schedule(static)
      for (std::int64_t i = 0; i < n; ++i) {
        const T g = grads[i] * clip + decay * params[i];
        m[i] += g * g;
        params[i] -= lr * g / (std::sqrt(m[i]) + T(kAdagradEps));
      }
      break;
    }
    case OptimizerKind::adam: {
      const T b1 = config_.beta1, b2 = config_.beta2, eps = config_.eps;
      const double t = double(step);
      const T step_size = static_cast<T>(config_.lr / (1.0 - std::pow(double(b1), t)));
      const T inv_sqrt_bc2 = static_cast<T>(1.0 / std::sqrt(1.0 - std::pow(double(b2), t)));
#pragma omp parallel for simd schedule(static)
      for (std::int64_t i = 0; i < n; ++i) {
        const T g = grads[i] * clip + decay * params[i];
        m[i] = b1 * m[i] + (T(1) - b1) * g;
        v[i] = b2 * v[i] + (T(1) - b2) * g * g;
        params[i] -= step_size * m[i] / (std::sqrt(v[i]) * inv_sqrt_bc2 + eps);
      }
      break;
    }
  }
}

template class Optimizer<float>;
template class Optimizer<double>;
template double l2_norm<float>(const float*, std::size_t);
template double l2_norm<double>(const double*, std::size_t);

}  // namespace aevb
