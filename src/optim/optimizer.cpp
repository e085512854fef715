#include "optim/optimizer.hpp"

#include "core/thread_pool.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <experimental/simd>
#include <tuple>
#include <type_traits>
#include <utility>

// GCC 12's AVX-512 sqrt intrinsic, inlined through std::experimental::simd,
// trips a false -Wmaybe-uninitialized (its _mm512_undefined_ps operand).
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace aevb {
namespace {

namespace stdx = std::experimental;

std::size_t moment_buffers(const OptimizerConfig& c) {
  switch (c.kind) {
    case OptimizerKind::sgd: return c.momentum > 0 ? 1 : 0;
    case OptimizerKind::adagrad: return 1;
    case OptimizerKind::adam: return 2;
  }
  return 0;
}

constexpr double kAdagradEps = 1e-10;  // PyTorch's default

// The flat buffers are cut into blocks of a fixed size, whatever the thread
// count: every element then goes through the same code (vector body or scalar
// tail) with any number of threads, so results stay bitwise reproducible.
constexpr std::size_t kBlock = 1 << 14;
constexpr std::size_t kParallelBlocks = 4;  // below this, one thread

template <class F>
void for_blocks(std::size_t n, F&& body) {
  const std::size_t blocks = (n + kBlock - 1) / kBlock;
  const auto run = [&](std::size_t first_block, std::size_t last_block) {
    for (std::size_t b = first_block; b < last_block; ++b) body(b * kBlock, std::min(n, (b + 1) * kBlock));
  };
  pool::for_ranges(blocks, run, blocks >= kParallelBlocks);
}

// One update rule, written once over a value type U: T (the scalar tail, and
// every element for double) or stdx::native_simd<float> (the vector body;
// std::sqrt does not vectorize without -fno-math-errno, stdx::sqrt does).
template <class U>
U sqrt_of(U x) {
  if constexpr (std::is_floating_point_v<U>) {
    return std::sqrt(x);
  } else {
    return stdx::sqrt(x);
  }
}

struct Adagrad {
  float lr, clip, decay;
  template <class U>
  void operator()(U& p, U g, U& m) const {
    g = g * U(clip) + U(decay) * p;
    m += g * g;
    p -= U(lr) * g / (sqrt_of(m) + U(static_cast<float>(kAdagradEps)));
  }
};

struct Adam {
  float clip, decay, b1, b2, eps, step_size, inv_sqrt_bc2;
  template <class U>
  void operator()(U& p, U g, U& m, U& v) const {
    g = g * U(clip) + U(decay) * p;
    m = U(b1) * m + U(1.0f - b1) * g;
    v = U(b2) * v + U(1.0f - b2) * g * g;
    p -= U(step_size) * m / (sqrt_of(v) * U(inv_sqrt_bc2) + U(eps));
  }
};

// Applies `rule` to elements [first, last) of the float buffers: whole
// vectors, then the scalar tail. `moments`: the rule's state buffers (1 or 2).
template <class Rule, class... Moments>
void apply_float(const Rule& rule, std::size_t first, std::size_t last, float* params, const float* grads,
                 Moments*... moments) {
  using V = stdx::native_simd<float>;
  constexpr std::size_t w = V::size();
  std::size_t i = first;
  for (; i + w <= last; i += w) {
    V p(params + i, stdx::element_aligned);
    std::array<V, sizeof...(Moments)> state = {V(moments + i, stdx::element_aligned)...};
    std::apply([&](auto&... s) { rule(p, V(grads + i, stdx::element_aligned), s...); }, state);
    p.copy_to(params + i, stdx::element_aligned);
    std::size_t k = 0;
    (state[k++].copy_to(moments + i, stdx::element_aligned), ...);
  }
  for (; i < last; ++i) rule(params[i], grads[i], moments[i]...);
}

// Loops over plain pointer arguments: when they run over a lambda's captures
// instead, GCC reloads the pointers in the loop and vectorizes with gathers.
template <class T>
T zero_times_sum(const T* x, std::size_t first, std::size_t last) {
  // x * 0 is 0 for every finite x and NaN for inf or NaN.
  T probe = 0;
#pragma omp simd reduction(+ : probe)
  for (std::size_t i = first; i < last; ++i) probe += x[i] * T(0);
  return probe;
}

template <class T>
void sgd_block(std::size_t first, std::size_t last, T* params, const T* grads, T* m, T clip, T decay, T lr, T mu,
               bool first_step) {
#pragma omp simd
  for (std::size_t i = first; i < last; ++i) {
    T g = grads[i] * clip + decay * params[i];
    if (mu > 0) g = m[i] = (first_step ? g : mu * m[i] + g);
    params[i] -= lr * g;
  }
}

}  // namespace

template <class T>
Optimizer<T>::Optimizer(const OptimizerConfig& config, std::size_t param_count, std::vector<ParamSlice> untrained)
    : config_(config),
      n_(param_count),
      state_(moment_buffers(config) * param_count, T(0)),
      untrained_(std::move(untrained)) {
  validate(config_);
  std::size_t kept = 0;
  for (const ParamSlice& s : untrained_) kept += s.size;
  kept_.resize(kept);
}

template <class T>
double l2_norm(const T* x, std::size_t n) {
  double sum = 0;
#pragma omp simd reduction(+ : sum)
  for (std::size_t i = 0; i < n; ++i) sum += double(x[i]) * double(x[i]);
  return std::sqrt(sum);
}

template <class T>
bool all_finite(const T* x, std::size_t n) {
  // One sum of x * 0 per block tells.
  std::atomic<bool> finite{true};
  for_blocks(n, [&finite, x](std::size_t first, std::size_t last) {
    if (zero_times_sum(x, first, last) != T(0)) finite.store(false, std::memory_order_relaxed);
  });
  return finite.load(std::memory_order_relaxed);
}

template <class T>
void Optimizer<T>::apply(T* params, const T* grads, std::uint64_t step, double lr_scale) {
  // The untrained slices go through the same blocked loops as the rest (a
  // skip inside them would change which elements take the vector body) and
  // are put back after: weight decay would otherwise move them.
  T* kept = kept_.data();
  for (const ParamSlice& s : untrained_) kept = std::copy_n(params + s.offset, s.size, kept);
  update(params, grads, step, lr_scale);
  kept = kept_.data();
  for (const ParamSlice& s : untrained_) {
    std::copy_n(kept, s.size, params + s.offset);
    kept += s.size;
  }
}

template <class T>
void Optimizer<T>::update(T* params, const T* grads, std::uint64_t step, double lr_scale) {
  T clip = T(1);
  if (config_.clip_norm > 0) {
    const double norm = l2_norm(grads, n_);
    // torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6) when below 1.
    clip = static_cast<T>(std::min(1.0, config_.clip_norm / (norm + 1e-6)));
  }
  const double lr_now = double(config_.lr) * lr_scale;
  const T lr = static_cast<T>(lr_now), decay = config_.weight_decay;
  T* m = state_.data();
  T* v = state_.data() + (state_.size() > n_ ? n_ : 0);
  switch (config_.kind) {
    case OptimizerKind::sgd: {
      const T mu = config_.momentum;
      for_blocks(n_, [=](std::size_t first, std::size_t last) {
        sgd_block(first, last, params, grads, m, clip, decay, lr, mu, step == 1);
      });
      break;
    }
    case OptimizerKind::adagrad: {
      const Adagrad rule{static_cast<float>(lr_now), static_cast<float>(clip), config_.weight_decay};
      for_blocks(n_, [=](std::size_t first, std::size_t last) {
        if constexpr (std::is_same_v<T, float>) {
          apply_float(rule, first, last, params, grads, m);
        } else {
          for (std::size_t i = first; i < last; ++i) {
            const T g = grads[i] * clip + decay * params[i];
            m[i] += g * g;
            params[i] -= lr * g / (std::sqrt(m[i]) + T(kAdagradEps));
          }
        }
      });
      break;
    }
    case OptimizerKind::adam: {
      const T b1 = config_.beta1, b2 = config_.beta2, eps = config_.eps;
      const double t = double(step);
      const T step_size = static_cast<T>(lr_now / (1.0 - std::pow(double(b1), t)));
      const T inv_sqrt_bc2 = static_cast<T>(1.0 / std::sqrt(1.0 - std::pow(double(b2), t)));
      for_blocks(n_, [=](std::size_t first, std::size_t last) {
        if constexpr (std::is_same_v<T, float>) {
          const Adam rule{clip, decay, b1, b2, eps, step_size, inv_sqrt_bc2};
          apply_float(rule, first, last, params, grads, m, v);
        } else {
          for (std::size_t i = first; i < last; ++i) {
            const T g = grads[i] * clip + decay * params[i];
            m[i] = b1 * m[i] + (T(1) - b1) * g;
            v[i] = b2 * v[i] + (T(1) - b2) * g * g;
            params[i] -= step_size * m[i] / (std::sqrt(v[i]) * inv_sqrt_bc2 + eps);
          }
        }
      });
      break;
    }
  }
}

template class Optimizer<float>;
template class Optimizer<double>;
template double l2_norm<float>(const float*, std::size_t);
template double l2_norm<double>(const double*, std::size_t);
template bool all_finite<float>(const float*, std::size_t);
template bool all_finite<double>(const double*, std::size_t);

}  // namespace aevb
