#include "nn/dense.hpp"

#include "backend/gemm.hpp"
#include "core/param_layout.hpp"

#include <algorithm>
#include <cstdint>

namespace aevb {

using backend::gemm;
using backend::Trans;

template <class T>
void dense_forward(const Dense& layer, const T* params, MatrixView<const T> x, MatrixView<T> y) {
  gemm<T>(Trans::no, Trans::yes, x.rows, layer.out, layer.in, T(1), x.data, layer.in, params + layer.weight,
          layer.in, T(0), y.data, layer.out);
  bias_activation_forward(y, params + layer.bias, layer.act, static_cast<T>(layer.slope));
}

template <class T>
void dense_backward(const Dense& layer, const T* params, T* grads, MatrixView<const T> x, MatrixView<const T> y,
                    MatrixView<T> dy, MatrixView<T> dx, GradMode mode) {
  const bool overwrite = mode == GradMode::overwrite, parameters = mode != GradMode::none;
  // dL/d(pre-activation) in place, and db += its column sums, in one pass.
  if (overwrite) std::fill_n(grads + layer.bias, layer.out, T(0));
  activation_backward(dy, y, layer.act, static_cast<T>(layer.slope), parameters ? grads + layer.bias : nullptr);
  // dW (+)= dy^T x: with beta = 0 the BLAS writes dW, tile by tile, instead of
  // adding to a buffer zeroed in a separate pass.
  if (parameters)
    gemm<T>(Trans::yes, Trans::no, layer.out, layer.in, x.rows, T(1), dy.data, layer.out, x.data, layer.in,
            overwrite ? T(0) : T(1), grads + layer.weight, layer.in);
  if (dx.data != nullptr) {
    gemm<T>(Trans::no, Trans::no, x.rows, layer.in, layer.out, T(1), dy.data, layer.out, params + layer.weight,
            layer.in, T(0), dx.data, layer.in);
  }
}

template <class T>
DenseLayer<T>::DenseLayer(ParamLayout& layout, const std::string& name, Shape in, std::size_t out, Act act,
                          float slope)
    : Layer<T>(in, Shape{out, 0, 0}) {
  dense_ = Dense{in.size(), out, 0, 0, act, slope};
  dense_.weight = layout.add(name + ".weight", {out, in.size()});
  dense_.bias = layout.add(name + ".bias", {out});
}

template <class T>
std::unique_ptr<DenseLayer<T>> DenseLayer<T>::twin(ParamLayout& layout, const std::string& first,
                                                   const std::string& second, Shape in, std::size_t out) {
  Dense d{in.size(), 2 * out, 0, 0, Act::identity, 0};
  d.weight = layout.add(first + ".weight", {out, in.size()});
  layout.add(second + ".weight", {out, in.size()});
  d.bias = layout.add(first + ".bias", {out});
  layout.add(second + ".bias", {out});
  return std::unique_ptr<DenseLayer>(new DenseLayer(in, d));
}

template class DenseLayer<float>;
template class DenseLayer<double>;

template void dense_forward<float>(const Dense&, const float*, MatrixView<const float>, MatrixView<float>);
template void dense_forward<double>(const Dense&, const double*, MatrixView<const double>, MatrixView<double>);
template void dense_backward<float>(const Dense&, const float*, float*, MatrixView<const float>,
                                    MatrixView<const float>, MatrixView<float>, MatrixView<float>, GradMode);
template void dense_backward<double>(const Dense&, const double*, double*, MatrixView<const double>,
                                     MatrixView<const double>, MatrixView<double>, MatrixView<double>, GradMode);

}  // namespace aevb
