#pragma once
// Elementwise activations, fused with the bias add that follows a GEMM, and
// their backward fused with the bias gradient (the column sums of dy).
// Every derivative is written in terms of the output y, so a layer keeps only
// its output for the backward pass:
//   tanh' = 1 - y^2, sigmoid' = y (1 - y), relu' = [y > 0],
//   leaky' = [y > 0] + slope [y <= 0], softplus' = sigmoid(x) = 1 - exp(-y).
//
// Two versions of each kernel: the fast one (float: the vectorizable
// approximations of backend/cpu/vector_math.hpp under `omp simd`; double: the
// reference, so that the finite-difference checks see libm), and
// reference::, plain loops over libm, which tests/unit/fast_kernels_test.cpp
// and dev/kernels_lab.cpp hold the fast one to.
#include <aevb/config.hpp>
#include <aevb/matrix.hpp>

#include <cstddef>

namespace aevb {

enum class Act { identity, tanh, relu, leaky_relu, softplus, sigmoid };

Act to_act(Activation a);

/// y[r, c] = act(y[r, c] + bias[c]) in place (y holds x W^T on entry).
template <class T>
void bias_activation_forward(MatrixView<T> y, const T* bias, Act act, T slope);

/// dy[r, c] *= act'(y[r, c]): turns dL/dy into dL/d(pre-activation) in place;
/// then, unless db is null, db[c] += sum_r dy[r, c], rows in order (the same
/// sums whatever the thread count).
template <class T>
void activation_backward(MatrixView<T> dy, MatrixView<const T> y, Act act, T slope, T* db = nullptr);

/// One channel plane of an image layer (serial: callers split the planes):
/// dst[i] = act(src[i] + bias + skip[i]) for i < n, skip[i] taken as 0 when
/// skip is null (a residual block's input); dst may be src.
template <class T>
void bias_activation_span(const T* src, T bias, const T* skip, T* dst, std::size_t n, Act act, T slope);

/// dst[i] = d[i] * act'(y[i]) for i < n (dst may be d); returns the sum of
/// the dst[i], in an order fixed by n (the plane's share of the bias gradient).
template <class T>
T activation_backward_span(const T* d, const T* y, T* dst, std::size_t n, Act act, T slope);

namespace reference {
template <class T>
void bias_activation_forward(MatrixView<T> y, const T* bias, Act act, T slope);
template <class T>
void activation_backward(MatrixView<T> dy, MatrixView<const T> y, Act act, T slope, T* db = nullptr);
}  // namespace reference

}  // namespace aevb
