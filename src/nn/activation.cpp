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
#pragma GCC push_options
#pragma GCC target("prefer-vector-width=512")

template <Act A>
void forward_row(float* row, const float* bias, std::size_t cols, float slope) {
#pragma omp simd
  for (std::size_t c = 0; c < cols; ++c) {
    const float v = row[c] + bias[c];
    if constexpr (A == Act::identity) row[c] = v;
    if constexpr (A == Act::tanh) row[c] = vmath::tanh(v);
    if constexpr (A == Act::relu) row[c] = v > 0.0f ? v : 0.0f;
    if constexpr (A == Act::leaky_relu) row[c] = v > 0.0f ? v : slope * v;
    if constexpr (A == Act::softplus) row[c] = vmath::softplus(v);
    if constexpr (A == Act::sigmoid) row[c] = vmath::sigmoid(v);
  }
}

template <Act A>
void backward_block(float* d, const float* y, std::size_t cols, float slope, float* db) {
#pragma omp simd
  for (std::size_t c = 0; c < cols; ++c) {
    float g = d[c];
    if constexpr (A == Act::tanh) g *= 1.0f - y[c] * y[c];
    if constexpr (A == Act::relu) g = y[c] > 0.0f ? g : 0.0f;
    if constexpr (A == Act::leaky_relu) g = y[c] > 0.0f ? g : slope * g;
    if constexpr (A == Act::softplus) g *= -vmath::expm1(-y[c]);
    if constexpr (A == Act::sigmoid) g *= y[c] * (1.0f - y[c]);
    d[c] = g;
    if (db) db[c] += g;
  }
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

#pragma GCC pop_options

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

namespace reference {

template <class T>
void bias_activation_forward(MatrixView<T> y, const T* bias, Act act, T slope) {
  for (std::size_t r = 0; r < y.rows; ++r) {
    T* row = y.row(r);
    for (std::size_t c = 0; c < y.cols; ++c) {
      const T v = row[c] + bias[c];
      switch (act) {
        case Act::identity: row[c] = v; break;
        case Act::tanh: row[c] = std::tanh(v); break;
        case Act::relu: row[c] = std::max(v, T(0)); break;
        case Act::leaky_relu: row[c] = v > 0 ? v : slope * v; break;
        case Act::softplus: row[c] = softplus(v); break;
        case Act::sigmoid: row[c] = sigmoid(v); break;
      }
    }
  }
}

template <class T>
void activation_backward(MatrixView<T> dy, MatrixView<const T> y, Act act, T slope, T* db) {
  for (std::size_t r = 0; r < dy.rows; ++r) {
    T* d = dy.row(r);
    const T* out = y.row(r);
    for (std::size_t c = 0; c < dy.cols; ++c) {
      switch (act) {
        case Act::identity: break;
        case Act::tanh: d[c] *= T(1) - out[c] * out[c]; break;
        case Act::relu: d[c] = out[c] > 0 ? d[c] : T(0); break;
        case Act::leaky_relu: d[c] = out[c] > 0 ? d[c] : slope * d[c]; break;
        case Act::softplus: d[c] *= -std::expm1(-out[c]); break;
        case Act::sigmoid: d[c] *= out[c] * (T(1) - out[c]); break;
      }
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

}  // namespace aevb
