#pragma once
// The posterior p(z|x) as an HMC target: log p(x, z) = log p(x|z) + log p(z)
// equals log p(z|x) up to the constant log p(x), and its z-gradient is
// d log p(z)/dz + d log p(x|z)/dz (App. E). One chain per row of x; the
// decoder runs once per leapfrog step for all of them. Shared by the App. D
// estimator, inpainting (src/eval/inpaint.hpp) and, later, Monte Carlo EM.
#include "model/engine.hpp"
#include "prob/hmc.hpp"

namespace aevb {

template <class T>
class PosteriorTarget final : public HmcTarget<T> {
 public:
  /// Chain c samples p(z | row c of x), or with an observation p(z | the
  /// values of row c seen); `engine`, x and observation.seen must outlive it.
  PosteriorTarget(Engine<T>& engine, MatrixView<const T> x, const Observation& observation = {})
      : engine_(engine), x_(x), observation_(observation) {}
  void log_density_grad(MatrixView<const T> z, T* log_density, MatrixView<T> grad) override {
    engine_.log_joint_grad(x_, z, 1, log_density, grad, observation_);
  }

 private:
  Engine<T>& engine_;
  MatrixView<const T> x_;
  Observation observation_;
};

}  // namespace aevb
