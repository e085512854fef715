// TEMPORARY stub (the real file comes from branch helper-conv).
#include "nn/conv.hpp"
#include <stdexcept>
namespace aevb {
#define STUB(C) \
template <class T> C<T>::C(ParamLayout&, const std::string&, Shape in, const LayerSpec&, Act, float) : Layer<T>(in, in) { throw std::logic_error("stub"); } \
template <class T> Shape C<T>::output_shape(Shape in, const LayerSpec&) { throw std::logic_error("stub"); return in; } \
template <class T> void C<T>::forward(const T*, MatrixView<const T>, MatrixView<T>) {} \
template <class T> void C<T>::backward(const T*, T*, MatrixView<const T>, MatrixView<const T>, MatrixView<T>, MatrixView<T>, GradMode) {} \
template class C<float>; template class C<double>;
STUB(Conv2d) STUB(ConvTranspose2d) STUB(Residual)
}
