#pragma once
// VaDE's start (Jiang et al. 2017; ../shared/reference/model-families.md
// sec. 1.2): an autoencoder with the model's encoder and decoder trained
// first, its weights copied into the model, and the model's mixture prior set
// from a diagonal Gaussian mixture fitted to the autoencoder's codes of the
// training data. Without it the mixture's components start where the random
// encoder puts the data, and settle on clusters that split digits.
#include "train/run_settings.hpp"

#include <aevb/data.hpp>
#include <aevb/vae.hpp>

#include <cstddef>
#include <functional>

namespace aevb {

struct MixtureStart {
  std::size_t pretrain_epochs = 0;
  Bound pretrain;                   // the autoencoder's last epoch: its reconstruction per datapoint
  double mixture_log_likelihood = 0;  // the fit's mean log-density of the codes
  std::size_t em_iterations = 0;
};

/// Called after each pretraining epoch (1-based) with its bound per datapoint.
using PretrainEpochDone = std::function<void(std::size_t epoch, const Bound& bound)>;

/// Pretrains the autoencoder for settings.pretrain_epochs epochs on `train`
/// (the run's optimizer, batch, binarization and seed; a constant step size),
/// copies its encoder (its code into encoder.mu) and decoder into `model`,
/// and sets latent.mixture_logits, latent.means and latent.logvars from a
/// mixture of ModelConfig::clusters components fitted to the codes.
MixtureStart start_mixture_from_autoencoder(Vae& model, const RunSettings& settings, const DataRows& train,
                                            const PretrainEpochDone& epoch_done = {});

}  // namespace aevb
