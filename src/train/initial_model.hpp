#pragma once
// The model a training run starts from: the networks initialized from the
// seed (ModelConfig::init), then, where the run asks for it, the decoder's
// output bias set from the training data.
#include "train/mixture_start.hpp"
#include "train/run_settings.hpp"

#include <aevb/data.hpp>
#include <aevb/vae.hpp>

#include <string>
#include <vector>

namespace aevb {

/// The model's tensor `name`; std::logic_error if it has none (a caller's bug).
const ParameterInfo& parameter_named(const Vae& model, const std::string& name);

/// The training data's mean of each output unit of the decoder's last layer:
/// per feature for a dense output layer [dim], per channel (over its pixels)
/// for a convolutional one [channels]. Bytes count as byte / 255, as the
/// trainer reads them; with dynamic binarization this is the mean of the
/// binary images it draws.
std::vector<double> output_unit_means(const DataRows& train, std::size_t units);

/// Sets the decoder's output bias b so that the decoder's mean at b alone is
/// the training data's mean m: b = logit(clip(m, 0.001, 0.999)) where the
/// likelihood's mean is a sigmoid (Bernoulli, Gaussian with sigmoid mean),
/// b = m for an identity mean. Burda et al.'s code starts every IWAE
/// experiment so; docs/reproduction.md measures what it changes.
void start_output_bias_at_data_mean(Vae& model, const DataRows& train);

/// Vae(settings.model, settings.train.seed), then the output bias as
/// settings.output_bias says, then, with settings.pretrain_epochs, the start
/// from a pretrained autoencoder and a mixture fit (train/mixture_start.hpp),
/// reported in `start` unless it is null, each pretraining epoch to `epoch_done`.
Vae initial_model(const RunSettings& settings, const DataRows& train, MixtureStart* start = nullptr,
                  const PretrainEpochDone& epoch_done = {});

}  // namespace aevb
