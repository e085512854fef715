#include "nn/network.hpp"

#include <stdexcept>
#include <string>

namespace aevb {

template <class T>
void Network<T>::add(std::unique_ptr<Layer<T>> layer) {
  if (!layers_.empty() && !(layer->in_shape() == out_shape()))
    throw std::logic_error("Network::add: a layer taking " + to_string(layer->in_shape()) + " after one giving " +
                           to_string(out_shape()));
  layers_.push_back(std::move(layer));
  outputs_.emplace_back();
  grads_.emplace_back();
  planned_ = 0;
}

template <class T>
void Network<T>::plan(std::size_t rows) {
  if (rows <= planned_) return;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    const std::size_t width = layers_[i]->out_shape().size();
    outputs_[i].assign(rows * width, T(0));
    grads_[i].assign(rows * width, T(0));
    layers_[i]->plan(rows);
  }
  planned_ = rows;
}

template <class T>
MatrixView<T> Network<T>::forward(const T* params, MatrixView<const T> x) {
  if (x.rows > planned_)
    throw std::logic_error("Network::forward: " + std::to_string(x.rows) + " rows, planned for " +
                           std::to_string(planned_));
  rows_ = x.rows;
  MatrixView<const T> input = x;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    layers_[i]->forward(params, input, output(i));
    input = output(i);
  }
  return output(layers_.size() - 1);
}

template <class T>
void Network<T>::backward(const T* params, T* grads, MatrixView<const T> x, MatrixView<T> dx, GradMode mode) {
  for (std::size_t i = layers_.size(); i-- > 0;) {
    const MatrixView<const T> input = i == 0 ? x : MatrixView<const T>(output(i - 1));
    const MatrixView<T> input_grad = i == 0 ? dx : grad(i - 1);
    layers_[i]->backward(params, grads, input, output(i), grad(i), input_grad, mode);
  }
}

template class Network<float>;
template class Network<double>;

}  // namespace aevb
