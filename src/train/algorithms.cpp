// The registry of training algorithms: adding one is a file with its
// gradient and a row here (docs/extending.md).
#include "train/algorithms.hpp"

#include <aevb/error.hpp>

#include <array>
#include <stdexcept>
#include <string>

namespace aevb {
namespace {

const std::array<AlgorithmInfo, 5> kAlgorithms{{
    {"aevb", "Auto-Encoding Variational Bayes (Algorithm 1): both networks follow the SGVB estimator's gradient",
     &make_aevb},
    {"wake-sleep", "wake-sleep (Hinton et al. 1995), the paper's baseline: the decoder learns from z ~ q(z|x), "
     "the encoder from dreams (z, x) ~ p",
     &make_wake_sleep},
    {"rws", "reweighted wake-sleep (Bornschein & Bengio 2015): K = --samples importance-weighted draws; "
     "the encoder learns on the data (--rws-q wake), on dreams (sleep) or both",
     &make_rws},
    {"full-vb", "full variational Bayes (App. F): AEVB with a Gaussian q(theta) over the decoder's parameters, "
     "one theta per minibatch",
     &make_full_vb, true},
    {"mcem", "Monte Carlo EM (App. E): no encoder; a persistent HMC chain per datapoint, then 5 decoder updates; "
     "a batch method, on small training sets",
     &make_mcem, false, false, true},
}};

}  // namespace

Bound TrainingAlgorithm::gradient_of_rows(Engine<float>&, ConstMatrix, std::size_t, std::size_t, std::uint64_t, float) {
  throw std::logic_error("gradient_of_rows: this algorithm does not split its gradient (shardable() is false)");
}

std::span<const AlgorithmInfo> algorithms() { return kAlgorithms; }

const AlgorithmInfo& find_algorithm(std::string_view name) {
  std::string names;
  for (const AlgorithmInfo& a : kAlgorithms) {
    if (a.name == name) return a;
    names += (names.empty() ? "" : ", ") + std::string(a.name);
  }
  throw InputError("training algorithm: expected one of " + names + ", found '" + std::string(name) + "'");
}

}  // namespace aevb
