#pragma once
// A fully connected layer y = act(x W^T + b), W [out, in] (PyTorch's layout),
// as a forward/backward pair over slices of the flat parameter and gradient
// buffers. Backward accumulates into the gradients (one zero-grad per step).
#include "nn/activation.hpp"

#include <aevb/matrix.hpp>

#include <cstddef>

namespace aevb {

/// How a backward pass writes the parameter gradients: added to what the
/// buffer holds (one zero-grad per step, several passes may add), or written
/// over it (no zero-grad pass: each layer's products write their slice).
enum class GradMode { accumulate, overwrite };

struct Dense {
  std::size_t in = 0, out = 0;
  std::size_t weight = 0, bias = 0;  // offsets into the flat buffers
  Act act = Act::identity;
  float slope = 0.01f;               // leaky_relu
};

/// y [rows, out] = act(x W^T + b).
template <class T>
void dense_forward(const Dense& layer, const T* params, MatrixView<const T> x, MatrixView<T> y);

/// Given dy = dL/dy (overwritten with dL/d(pre-activation)), the layer's input
/// x and output y: grads += dL/dW, dL/db (grads = ... with GradMode::overwrite);
/// dx = dL/dx unless dx.data is null.
template <class T>
void dense_backward(const Dense& layer, const T* params, T* grads, MatrixView<const T> x, MatrixView<const T> y,
                    MatrixView<T> dy, MatrixView<T> dx, GradMode mode = GradMode::accumulate);

}  // namespace aevb
