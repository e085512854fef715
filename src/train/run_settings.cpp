#include "train/run_settings.hpp"

#include <aevb/error.hpp>

namespace aevb {

std::vector<std::string_view> preset_names() { return {"paper-mnist", "paper-frey"}; }

RunSettings preset_settings(std::string_view name) {
  RunSettings s;
  // Section 5 of the paper: encoder and decoder of one hidden layer each,
  // minibatches of M = 100 with L = 1, Adagrad (step sizes from {0.01, 0.02,
  // 0.1}), a weight decay corresponding to the prior N(0, I), N(0, 0.01) init.
  s.model.activation = Activation::tanh;
  s.model.init = Init::paper;
  s.train.batch = 100;
  s.train.objective = {Estimator::B, 1, 1.0f};
  s.train.optimizer.kind = OptimizerKind::adagrad;
  s.train.optimizer.lr = 0.02f;
  s.prior_weight_decay = true;
  if (name == "paper-mnist") {
    // 500 hidden units for MNIST; Nz = 20, the paper's largest MNIST latent space.
    s.data = "mnist";
    s.model.hidden = {500};
    s.model.latent = 20;
    s.model.likelihood = Likelihood::bernoulli;
    s.binarize = Binarize::dynamic;
    s.epochs = 100;
  } else if (name == "paper-frey") {
    // 200 hidden units for the small Frey Face set; Gaussian decoder whose
    // mean goes through a sigmoid (App. C.2); Nz = 2 draws the Fig. 4 manifold.
    s.data = "frey";
    s.model.hidden = {200};
    s.model.latent = 2;
    s.model.likelihood = Likelihood::gaussian;
    s.model.sigmoid_mean = true;
    s.binarize = Binarize::none;
    s.train.optimizer.lr = 0.01f;
    s.epochs = 500;
  } else {
    std::string names;
    for (auto n : preset_names()) names += (names.empty() ? "" : ", ") + std::string(n);
    throw InputError("--preset: expected one of " + names + ", found '" + std::string(name) + "'");
  }
  return s;
}

}  // namespace aevb
