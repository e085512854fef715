#include "nn/activation.hpp"

#include "backend/cpu/vector_math.hpp"
#include "core/scalar_math.hpp"
#include "core/thread_pool.hpp"

#include <algorithm>
#include <cstdint>
#include <type_traits>

namespace aevb {
namespace {

// Below this many elements a parallel region costs more than it saves: the
// cheap activations (a compare or a multiply per element) need more work to
// pay for a pool job (a microsecond or two) than the transcendental ones. Not
// much more: a serial stretch of tens of microseconds leaves the other pool
// threads long enough idle to fall asleep, and waking them delays the next
// kernel (at 1 << 17 the 128 x 400 ReLU layers of the peer model ran serially,
// and a bfloat16 training step paid for futex wake-ups).
constexpr std::size_t kParallelCheap = 1 << 14;
constexpr std::size_t kParallelTranscendental = 1 << 13;

bool is_cheap(Act act) { return act == Act::identity || act == Act::relu || act == Act::leaky_relu; }

// Columns per block in the backward pass: the bias gradient is summed down
// each column in row order, so the work is split by columns, never by rows.
constexpr std::size_t kColumnBlock = 64;

// ---- The fast float kernels: one row (or one column block of a row) at a time,
// at 512-bit vectors where the machine has them (see prob/likelihood.cpp).
#if !defined(__clang__)  // GCC only; clang has no such pragma (and prefers 512-bit vectors where it sees fit)
#pragma GCC push_options
#pragma GCC target("prefer-vector-width=512")
#endif

// act(v), and dL/d(pre-activation) from g = dL/dy and the output y.
template <Act A>
inline float act_fast(float v, float slope) {
  if constexpr (A == Act::tanh) return vmath::tanh(v);
  if constexpr (A == Act::relu) return v > 0.0f ? v : 0.0f;
  if constexpr (A == Act::leaky_relu) return v > 0.0f ? v : slope * v;
  if constexpr (A == Act::softplus) return vmath::softplus(v);
  if constexpr (A == Act::sigmoid) return vmath::sigmoid(v);
  return v;
}

template <Act A>
inline float grad_fast(float g, float y, float slope) {
  if constexpr (A == Act::tanh) return g * (1.0f - y * y);
  if constexpr (A == Act::relu) return y > 0.0f ? g : 0.0f;
  if constexpr (A == Act::leaky_relu) return y > 0.0f ? g : slope * g;
  if constexpr (A == Act::softplus) return g * -vmath::expm1(-y);
  if constexpr (A == Act::sigmoid) return g * (y * (1.0f - y));
  return g;
}

template <Act A>
void forward_row(float* row, const float* bias, std::size_t cols, float slope) {
#pragma omp simd
  for (std::size_t c = 0; c < cols; ++c) row[c] = act_fast<A>(row[c] + bias[c], slope);
}

template <Act A>
void backward_block(float* d, const float* y, std::size_t cols, float slope, float* db) {
#pragma omp simd
  for (std::size_t c = 0; c < cols; ++c) {
    const float g = grad_fast<A>(d[c], y[c], slope);
    d[c] = g;
    if (db) db[c] += g;
  }
}

template <Act A>
void forward_span(const float* src, float bias, const float* skip, float* dst, std::size_t n, float slope) {
  if (skip != nullptr) {
#pragma omp simd
    for (std::size_t i = 0; i < n; ++i) dst[i] = act_fast<A>(src[i] + bias + skip[i], slope);
  } else {
#pragma omp simd
    for (std::size_t i = 0; i < n; ++i) dst[i] = act_fast<A>(src[i] + bias, slope);
  }
}

template <Act A>
float backward_span(const float* d, const float* y, float* dst, std::size_t n, float slope) {
#pragma omp simd
  for (std::size_t i = 0; i < n; ++i) dst[i] = grad_fast<A>(d[i], y[i], slope);
  return fixed_order_sum(dst, n);
}

template <Act A>
void forward_fast(MatrixView<float> y, const float* bias, float slope) {
  const std::size_t threshold = is_cheap(A) ? kParallelCheap : kParallelTranscendental;
  const auto rows = [&](std::size_t first, std::size_t last) {
    for (std::size_t r = first; r < last; ++r) forward_row<A>(y.row(r), bias, y.cols, slope);
  };
  pool::for_ranges(y.rows, rows, y.size() >= threshold);
}

template <Act A>
void backward_fast(MatrixView<float> dy, MatrixView<const float> y, float slope, float* db) {
  const std::size_t cols = dy.cols;
  const std::size_t blocks = (cols + kColumnBlock - 1) / kColumnBlock;
  const std::size_t threshold = is_cheap(A) ? kParallelCheap : kParallelTranscendental;
  pool::for_each_task(
      blocks,
      [&](std::size_t b) {
        const std::size_t c0 = b * kColumnBlock, width = std::min(kColumnBlock, cols - c0);
        for (std::size_t r = 0; r < dy.rows; ++r)
          backward_block<A>(dy.row(r) + c0, y.row(r) + c0, width, slope, db ? db + c0 : nullptr);
      },
      dy.size() >= threshold);
}

#if !defined(__clang__)
#pragma GCC pop_options
#endif

}  // namespace

Act to_act(Activation a) {
  switch (a) {
    case Activation::tanh: return Act::tanh;
    case Activation::relu: return Act::relu;
    case Activation::leaky_relu: return Act::leaky_relu;
    case Activation::softplus: return Act::softplus;
    case Activation::sigmoid: return Act::sigmoid;
  }
  return Act::identity;
}

// ---- Reference: the plain loops, libm, any T.

namespace {

template <class T>
T act_reference(T v, Act act, T slope) {
  switch (act) {
    case Act::identity: return v;
    case Act::tanh: return std::tanh(v);
    case Act::relu: return std::max(v, T(0));
    case Act::leaky_relu: return v > 0 ? v : slope * v;
    case Act::softplus: return softplus(v);
    case Act::sigmoid: return sigmoid(v);
  }
  return v;
}

// dL/d(pre-activation) from g = dL/dy and the output y.
template <class T>
T grad_reference(T g, T y, Act act, T slope) {
  switch (act) {
    case Act::identity: return g;
    case Act::tanh: return g * (T(1) - y * y);
    case Act::relu: return y > 0 ? g : T(0);
    case Act::leaky_relu: return y > 0 ? g : slope * g;
    case Act::softplus: return g * -std::expm1(-y);
    case Act::sigmoid: return g * (y * (T(1) - y));
  }
  return g;
}

}  // namespace

namespace reference {

template <class T>
void bias_activation_forward(MatrixView<T> y, const T* bias, Act act, T slope) {
  for (std::size_t r = 0; r < y.rows; ++r) {
    T* row = y.row(r);
    for (std::size_t c = 0; c < y.cols; ++c) row[c] = act_reference(row[c] + bias[c], act, slope);
  }
}

template <class T>
void activation_backward(MatrixView<T> dy, MatrixView<const T> y, Act act, T slope, T* db) {
  for (std::size_t r = 0; r < dy.rows; ++r) {
    T* d = dy.row(r);
    const T* out = y.row(r);
    for (std::size_t c = 0; c < dy.cols; ++c) {
      d[c] = grad_reference(d[c], out[c], act, slope);
      if (db) db[c] += d[c];
    }
  }
}

template void bias_activation_forward<float>(MatrixView<float>, const float*, Act, float);
template void bias_activation_forward<double>(MatrixView<double>, const double*, Act, double);
template void activation_backward<float>(MatrixView<float>, MatrixView<const float>, Act, float, float*);
template void activation_backward<double>(MatrixView<double>, MatrixView<const double>, Act, double, double*);

}  // namespace reference

// ---- The engine's entry points: fast for float, the reference for double.

template <class T>
void bias_activation_forward(MatrixView<T> y, const T* bias, Act act, T slope) {
  if constexpr (std::is_same_v<T, float>) {
    switch (act) {
      case Act::identity: return forward_fast<Act::identity>(y, bias, slope);
      case Act::tanh: return forward_fast<Act::tanh>(y, bias, slope);
      case Act::relu: return forward_fast<Act::relu>(y, bias, slope);
      case Act::leaky_relu: return forward_fast<Act::leaky_relu>(y, bias, slope);
      case Act::softplus: return forward_fast<Act::softplus>(y, bias, slope);
      case Act::sigmoid: return forward_fast<Act::sigmoid>(y, bias, slope);
    }
  } else {
    reference::bias_activation_forward<T>(y, bias, act, slope);
  }
}

template <class T>
void activation_backward(MatrixView<T> dy, MatrixView<const T> y, Act act, T slope, T* db) {
  if constexpr (std::is_same_v<T, float>) {
    switch (act) {
      case Act::identity: return backward_fast<Act::identity>(dy, y, slope, db);
      case Act::tanh: return backward_fast<Act::tanh>(dy, y, slope, db);
      case Act::relu: return backward_fast<Act::relu>(dy, y, slope, db);
      case Act::leaky_relu: return backward_fast<Act::leaky_relu>(dy, y, slope, db);
      case Act::softplus: return backward_fast<Act::softplus>(dy, y, slope, db);
      case Act::sigmoid: return backward_fast<Act::sigmoid>(dy, y, slope, db);
    }
  } else {
    reference::activation_backward<T>(dy, y, act, slope, db);
  }
}

template void bias_activation_forward<float>(MatrixView<float>, const float*, Act, float);
template void bias_activation_forward<double>(MatrixView<double>, const double*, Act, double);
template void activation_backward<float>(MatrixView<float>, MatrixView<const float>, Act, float, float*);
template void activation_backward<double>(MatrixView<double>, MatrixView<const double>, Act, double, double*);

// ---- The channel planes of image layers (src/nn/conv.cpp): fast for float,
// the reference's scalar functions for double.

template <class T>
void bias_activation_span(const T* src, T bias, const T* skip, T* dst, std::size_t n, Act act, T slope) {
  if constexpr (std::is_same_v<T, float>) {
    switch (act) {
      case Act::identity: return forward_span<Act::identity>(src, bias, skip, dst, n, slope);
      case Act::tanh: return forward_span<Act::tanh>(src, bias, skip, dst, n, slope);
      case Act::relu: return forward_span<Act::relu>(src, bias, skip, dst, n, slope);
      case Act::leaky_relu: return forward_span<Act::leaky_relu>(src, bias, skip, dst, n, slope);
      case Act::softplus: return forward_span<Act::softplus>(src, bias, skip, dst, n, slope);
      case Act::sigmoid: return forward_span<Act::sigmoid>(src, bias, skip, dst, n, slope);
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) dst[i] = act_reference(src[i] + bias + (skip ? skip[i] : T(0)), act, slope);
  }
}

template <class T>
T activation_backward_span(const T* d, const T* y, T* dst, std::size_t n, Act act, T slope) {
  if constexpr (std::is_same_v<T, float>) {
    switch (act) {
      case Act::identity: return backward_span<Act::identity>(d, y, dst, n, slope);
      case Act::tanh: return backward_span<Act::tanh>(d, y, dst, n, slope);
      case Act::relu: return backward_span<Act::relu>(d, y, dst, n, slope);
      case Act::leaky_relu: return backward_span<Act::leaky_relu>(d, y, dst, n, slope);
      case Act::softplus: return backward_span<Act::softplus>(d, y, dst, n, slope);
      case Act::sigmoid: return backward_span<Act::sigmoid>(d, y, dst, n, slope);
    }
    return 0.0f;
  } else {
    T sum = 0;
    for (std::size_t i = 0; i < n; ++i) {
      dst[i] = grad_reference(d[i], y[i], act, slope);
      sum += dst[i];
    }
    return sum;
  }
}

template void bias_activation_span<float>(const float*, float, const float*, float*, std::size_t, Act, float);
template void bias_activation_span<double>(const double*, double, const double*, double*, std::size_t, Act, double);
template float activation_backward_span<float>(const float*, const float*, float*, std::size_t, Act, float);
template double activation_backward_span<double>(const double*, const double*, double*, std::size_t, Act, double);

}  // namespace aevb
