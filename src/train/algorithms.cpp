// The registry of training algorithms: adding one is a file with its
// gradient and a row here (docs/extending.md).
#include "train/algorithms.hpp"

#include <aevb/error.hpp>

#include <array>
#include <string>

namespace aevb {
namespace {

const std::array<AlgorithmInfo, 1> kAlgorithms{{
    {"aevb", "Auto-Encoding Variational Bayes (Algorithm 1): both networks follow the SGVB estimator's gradient",
     &make_aevb},
}};

}  // namespace

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
