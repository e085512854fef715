#pragma once
// A dense layer y = W x + b evaluated in double from a model's named tensors
// ([out, in] row-major, PyTorch's layout): what the tests that write a
// family's networks out by hand build them from, independently of the
// engine's layers and products.
#include "core/param_layout.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace aevb::testing {

template <class T>
std::vector<double> written_out_dense(const ParamLayout& layout, const T* params, const std::string& name,
                                      const std::vector<double>& x) {
  const ParameterInfo& w = layout.find(name + ".weight");
  const ParameterInfo& b = layout.find(name + ".bias");
  const std::size_t out = w.shape[0], in = w.shape[1];
  EXPECT_EQ(in, x.size()) << name;
  std::vector<double> y(out);
  for (std::size_t o = 0; o < out; ++o) {
    y[o] = double(params[b.offset + o]);
    for (std::size_t i = 0; i < in && i < x.size(); ++i) y[o] += double(params[w.offset + o * in + i]) * x[i];
  }
  return y;
}

}  // namespace aevb::testing
