#pragma once
// A non-owning row-major matrix view: `rows` datapoints of `cols` features.
#include <cstddef>

namespace aevb {

template <class T>
struct MatrixView {
  T* data = nullptr;
  std::size_t rows = 0, cols = 0;

  T* row(std::size_t r) const { return data + r * cols; }
  std::size_t size() const { return rows * cols; }
  operator MatrixView<const T>() const { return {data, rows, cols}; }
};

using Matrix = MatrixView<float>;
using ConstMatrix = MatrixView<const float>;

}  // namespace aevb
