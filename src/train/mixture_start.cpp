#include "train/mixture_start.hpp"

#include "prob/gaussian_mixture.hpp"
#include "train/epoch_runner.hpp"
#include "train/initial_model.hpp"

#include <aevb/error.hpp>

#include <algorithm>
#include <cmath>
#include <string>

namespace aevb {
namespace {

// The autoencoder's tensors into the model's of the same name, its code
// layer encoder.z into the mean head encoder.mu.
void copy_autoencoder(const Vae& autoencoder, Vae& model) {
  for (const ParameterInfo& p : autoencoder.parameter_table()) {
    std::string name = p.name;
    if (name.starts_with("encoder.z.")) name = "encoder.mu." + name.substr(10);
    const ParameterInfo& to = parameter_named(model, name);
    if (to.shape != p.shape) throw std::logic_error("mixture start: " + name + " differs in shape");
    std::copy_n(autoencoder.parameters().data() + p.offset, p.size(), model.parameters().data() + to.offset);
  }
}

}  // namespace

MixtureStart start_mixture_from_autoencoder(Vae& model, const RunSettings& settings, const DataRows& train,
                                            const PretrainEpochDone& epoch_done) {
  MixtureStart start;
  start.pretrain_epochs = settings.pretrain_epochs;
  RunSettings pretrain = settings;
  pretrain.model.family = "autoencoder";
  pretrain.model.clusters = 0;
  pretrain.train.algorithm = "aevb";  // the autoencoder's reconstruction gradient, whatever trains the model
  pretrain.train.objective = ObjectiveConfig{};
  pretrain.train.optimizer.schedule = LrSchedule{};
  pretrain.train.kl_warmup_steps = 0;
  pretrain.pretrain_epochs = 0;  // the autoencoder itself starts from the init
  Vae autoencoder = initial_model(pretrain, train);
  {
    Trainer trainer(autoencoder, pretrain.train);
    EpochRunner runner(trainer, train, settings.binarize, settings.train.seed);
    for (std::uint64_t epoch = 0; epoch < settings.pretrain_epochs; ++epoch) {
      start.pretrain = runner.run(epoch).train;
      if (epoch_done) epoch_done(epoch + 1, start.pretrain);
    }
  }
  copy_autoencoder(autoencoder, model);

  // The codes of the training images, binarized as an evaluation binarizes them.
  const std::size_t d = settings.model.latent;
  const std::vector<float> x = evaluation_rows(train, settings.binarize, settings.train.seed);
  std::vector<float> mu(train.count * d), logvar(train.count * d);
  model.encode({x.data(), train.count, train.dim}, {mu.data(), train.count, d}, {logvar.data(), train.count, d});
  MixtureFitOptions options;
  options.components = settings.model.clusters;
  options.seed = settings.train.seed;
  const DiagonalMixture fit = fit_diagonal_mixture(std::vector<double>(mu.begin(), mu.end()), d, options);
  start.mixture_log_likelihood = fit.log_likelihood;
  start.em_iterations = fit.iterations;

  float* params = model.parameters().data();
  const std::size_t logits = parameter_named(model, "latent.mixture_logits").offset;
  const std::size_t means = parameter_named(model, "latent.means").offset;
  const std::size_t logvars = parameter_named(model, "latent.logvars").offset;
  for (std::size_t c = 0; c < options.components; ++c) params[logits + c] = static_cast<float>(std::log(fit.weights[c]));
  double mean_log_variance = 0;
  for (std::size_t i = 0; i < fit.means.size(); ++i) {
    params[means + i] = static_cast<float>(fit.means[i]);
    params[logvars + i] = static_cast<float>(std::log(fit.variances[i]));
    mean_log_variance += std::log(fit.variances[i]) / double(fit.means.size());
  }
  // q(z|x) starts as wide as a typical component (the geometric mean of the
  // mixture's variances) for every x. The init's log-variances near 0 would
  // put sigma^2 ~ 1 around codes whose clusters are far narrower: a KL of
  // hundreds of nats that the first steps would spend undoing the pretraining.
  const ParameterInfo& weight = parameter_named(model, "encoder.logvar.weight");
  const ParameterInfo& bias = parameter_named(model, "encoder.logvar.bias");
  std::fill_n(params + weight.offset, weight.size(), 0.0f);
  std::fill_n(params + bias.offset, bias.size(), static_cast<float>(mean_log_variance));
  return start;
}

}  // namespace aevb
