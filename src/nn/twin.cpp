#include "nn/twin.hpp"

#include <algorithm>
#include <stdexcept>

namespace aevb {

template <class T>
Twin<T>::Twin(std::unique_ptr<Layer<T>> first, std::unique_ptr<Layer<T>> second)
    : Layer<T>(first->in_shape(), Shape{2 * first->out_shape().size(), 0, 0}),
      part_{std::move(first), std::move(second)} {
  if (!(part_[0]->in_shape() == part_[1]->in_shape()) || !(part_[0]->out_shape() == part_[1]->out_shape()))
    throw std::logic_error("Twin: the two parts must have the same shapes");
}

template <class T>
void Twin<T>::plan(std::size_t rows) {
  if (rows <= planned_) return;
  const std::size_t width = part_[0]->out_shape().size();
  for (int p = 0; p < 2; ++p) {
    out_[p].assign(rows * width, T(0));
    grad_[p].assign(rows * width, T(0));
    part_[p]->plan(rows);
  }
  dx_.assign(rows * this->in_shape().size(), T(0));
  planned_ = rows;
}

template <class T>
void Twin<T>::forward(const T* params, MatrixView<const T> x, MatrixView<T> y) {
  const std::size_t width = part_[0]->out_shape().size();
  for (int p = 0; p < 2; ++p) {
    const MatrixView<T> out{out_[p].data(), x.rows, width};
    part_[p]->forward(params, x, out);
    for (std::size_t r = 0; r < x.rows; ++r) std::copy_n(out.row(r), width, y.row(r) + p * width);
  }
}

template <class T>
void Twin<T>::backward(const T* params, T* grads, MatrixView<const T> x, MatrixView<const T> /*y: each part keeps its own*/,
                       MatrixView<T> dy, MatrixView<T> dx, GradMode mode) {
  const std::size_t width = part_[0]->out_shape().size(), in = this->in_shape().size();
  for (int p = 0; p < 2; ++p) {
    const MatrixView<T> out{out_[p].data(), x.rows, width}, grad{grad_[p].data(), x.rows, width};
    for (std::size_t r = 0; r < x.rows; ++r) std::copy_n(dy.row(r) + p * width, width, grad.row(r));
    const MatrixView<T> part_dx =
        dx.data == nullptr ? MatrixView<T>{} : p == 0 ? dx : MatrixView<T>{dx_.data(), x.rows, in};
    part_[p]->backward(params, grads, x, out, grad, part_dx, mode);
  }
  if (dx.data != nullptr)
    for (std::size_t i = 0; i < x.rows * in; ++i) dx.data[i] += dx_[i];
}

template class Twin<float>;
template class Twin<double>;

}  // namespace aevb
