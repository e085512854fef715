#pragma once
// TEMPORARY declarations (the real file comes from branch helper-conv).
#include "nn/activation.hpp"
#include "nn/layer.hpp"
#include <aevb/config.hpp>
#include <string>
namespace aevb {
class ParamLayout;
template <class T> class Conv2d final : public Layer<T> {
 public:
  Conv2d(ParamLayout& layout, const std::string& name, Shape in, const LayerSpec& spec, Act act, float slope);
  static Shape output_shape(Shape in, const LayerSpec& spec);
  void forward(const T*, MatrixView<const T>, MatrixView<T>) override;
  void backward(const T*, T*, MatrixView<const T>, MatrixView<const T>, MatrixView<T>, MatrixView<T>, GradMode) override;
};
template <class T> class ConvTranspose2d final : public Layer<T> {
 public:
  ConvTranspose2d(ParamLayout& layout, const std::string& name, Shape in, const LayerSpec& spec, Act act, float slope);
  static Shape output_shape(Shape in, const LayerSpec& spec);
  void forward(const T*, MatrixView<const T>, MatrixView<T>) override;
  void backward(const T*, T*, MatrixView<const T>, MatrixView<const T>, MatrixView<T>, MatrixView<T>, GradMode) override;
};
template <class T> class Residual final : public Layer<T> {
 public:
  Residual(ParamLayout& layout, const std::string& name, Shape in, const LayerSpec& spec, Act act, float slope);
  static Shape output_shape(Shape in, const LayerSpec& spec);
  void forward(const T*, MatrixView<const T>, MatrixView<T>) override;
  void backward(const T*, T*, MatrixView<const T>, MatrixView<const T>, MatrixView<T>, MatrixView<T>, GradMode) override;
};
}
