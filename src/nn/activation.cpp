#include "nn/activation.hpp"

#include "core/scalar_math.hpp"

#include <cstdint>

namespace aevb {
namespace {

template <class T, class F>
void for_each_row(std::size_t rows, std::size_t cols, F&& body) {
  const auto n = static_cast<std::int64_t>(rows);
#pragma omp parallel for schedule(static) if (rows * cols >= kParallelElements)
  for (std::int64_t r = 0; r < n; ++r) body(static_cast<std::size_t>(r));
}

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

template <class T>
void bias_activation_forward(MatrixView<T> y, const T* bias, Act act, T slope) {
  const std::size_t cols = y.cols;
  for_each_row<T>(y.rows, cols, [&](std::size_t r) {
    T* row = y.row(r);
    switch (act) {
      case Act::identity:
        for (std::size_t c = 0; c < cols; ++c) row[c] += bias[c];
        break;
      case Act::tanh:
        for (std::size_t c = 0; c < cols; ++c) row[c] = std::tanh(row[c] + bias[c]);
        break;
      case Act::relu:
        for (std::size_t c = 0; c < cols; ++c) row[c] = std::max(row[c] + bias[c], T(0));
        break;
      case Act::leaky_relu:
        for (std::size_t c = 0; c < cols; ++c) {
          const T v = row[c] + bias[c];
          row[c] = v > 0 ? v : slope * v;
        }
        break;
      case Act::softplus:
        for (std::size_t c = 0; c < cols; ++c) row[c] = softplus(row[c] + bias[c]);
        break;
      case Act::sigmoid:
        for (std::size_t c = 0; c < cols; ++c) row[c] = sigmoid(row[c] + bias[c]);
        break;
    }
  });
}

template <class T>
void activation_backward(MatrixView<T> dy, MatrixView<const T> y, Act act, T slope) {
  const std::size_t cols = dy.cols;
  for_each_row<T>(dy.rows, cols, [&](std::size_t r) {
    T* d = dy.row(r);
    const T* out = y.row(r);
    switch (act) {
      case Act::identity:
        break;
      case Act::tanh:
        for (std::size_t c = 0; c < cols; ++c) d[c] *= T(1) - out[c] * out[c];
        break;
      case Act::relu:
        for (std::size_t c = 0; c < cols; ++c) d[c] = out[c] > 0 ? d[c] : T(0);
        break;
      case Act::leaky_relu:
        for (std::size_t c = 0; c < cols; ++c) d[c] = out[c] > 0 ? d[c] : slope * d[c];
        break;
      case Act::softplus:
        for (std::size_t c = 0; c < cols; ++c) d[c] *= -std::expm1(-out[c]);
        break;
      case Act::sigmoid:
        for (std::size_t c = 0; c < cols; ++c) d[c] *= out[c] * (T(1) - out[c]);
        break;
    }
  });
}

template void bias_activation_forward<float>(MatrixView<float>, const float*, Act, float);
template void bias_activation_forward<double>(MatrixView<double>, const double*, Act, double);
template void activation_backward<float>(MatrixView<float>, MatrixView<const float>, Act, float);
template void activation_backward<double>(MatrixView<double>, MatrixView<const double>, Act, double);

}  // namespace aevb
