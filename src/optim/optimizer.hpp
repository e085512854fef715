#pragma once
// SGD with momentum, Adagrad (the paper's) and Adam as single loops over the
// flat parameter buffer, with PyTorch's update rules (so the reference fixture
// can check them). Weight decay adds weight_decay * theta to the gradient: the
// gradient of the Gaussian prior on theta (MAP, sec. 5). Clipping rescales the
// data gradient to norm <= clip_norm before the decay is added, as
// torch.nn.utils.clip_grad_norm_ before optimizer.step() does.
#include "core/param_layout.hpp"

#include <aevb/config.hpp>

#include <cstdint>
#include <span>
#include <vector>

namespace aevb {

template <class T>
class Optimizer {
 public:
  /// `untrained`: slices of the parameters that apply() leaves as they are
  /// (a codebook's moving averages, which the model updates itself).
  Optimizer(const OptimizerConfig& config, std::size_t param_count, std::vector<ParamSlice> untrained = {});

  /// One update from the data gradient; `step` counts from 1 (Adam's bias
  /// correction, the first momentum step). The step size is config().lr
  /// times `lr_scale`, the schedule's factor at this step (lr_schedule.hpp),
  /// as PyTorch's schedulers scale a param group's lr.
  void apply(T* params, const T* grads, std::uint64_t step, double lr_scale = 1.0);
  /// All moment buffers, one after another (empty for plain SGD without momentum).
  std::span<T> state() { return state_; }
  const OptimizerConfig& config() const { return config_; }

 private:
  void update(T* params, const T* grads, std::uint64_t step, double lr_scale);  // every element

  OptimizerConfig config_;
  std::size_t n_;
  std::vector<T> state_;
  std::vector<ParamSlice> untrained_;
  std::vector<T> kept_;  // the untrained slices' values across an update
};

/// sqrt(sum g^2), accumulated in double in a fixed order.
template <class T>
double l2_norm(const T* x, std::size_t n);

/// True when no element is inf or NaN (one vectorized pass; the trainer's check).
template <class T>
bool all_finite(const T* x, std::size_t n);

}  // namespace aevb
