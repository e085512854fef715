#pragma once
// What the training-loop tests share: a small MLP, Adam settings, and grey
// datapoints that all differ, so that order and binarization both show.
#include <aevb/config.hpp>
#include <aevb/data.hpp>

#include <cstddef>
#include <cstdint>

namespace aevb::test {

inline constexpr std::size_t kSmallDim = 12;

inline ModelConfig small_model() {
  ModelConfig c;
  c.input_dim = kSmallDim;
  c.hidden = {8};
  c.latent = 3;
  c.init = Init::glorot;
  return c;
}

inline TrainConfig adam_config(std::size_t batch) {
  TrainConfig t;
  t.batch = batch;
  t.seed = 5;
  t.optimizer.kind = OptimizerKind::adam;
  t.optimizer.lr = 0.01f;
  return t;
}

/// `count` distinct grey datapoints (bytes) of kSmallDim values.
inline Dataset grey_data(std::size_t count) {
  Dataset d;
  d.count = count;
  d.dim = kSmallDim;
  d.bytes.resize(count * kSmallDim);
  for (std::size_t i = 0; i < d.bytes.size(); ++i) d.bytes[i] = static_cast<std::uint8_t>((i * 37 + 11) % 256);
  d.source = "test";
  return d;
}

}  // namespace aevb::test
