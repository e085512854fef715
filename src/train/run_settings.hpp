#pragma once
// Everything that describes a training run: the model, the optimization, and
// the run's data and schedule; the paper's setups as named presets.
#include <aevb/config.hpp>
#include <aevb/data.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace aevb {

/// Where the decoder's output bias starts: at the init's zero, or where the
/// decoder's mean is the training data's mean (train/initial_model.hpp).
enum class OutputBias { zero, data_mean };
std::string_view to_string(OutputBias);
OutputBias parse_output_bias(std::string_view name);  // "zero" | "data-mean"

struct RunSettings {
  ModelConfig model;  // input_dim and the image shape are taken from the data
  TrainConfig train;
  std::string data = "mnist";
  std::size_t limit = 0;  // use the first N training datapoints (0: all)
  Scaling scaling = Scaling::unit;
  ColorMode color = ColorMode::keep;  // colour images: kept as RGB, or read as grey
  Binarize binarize = Binarize::none;
  std::size_t epochs = 10;
  /// Held out of the training data: a count (>= 1), a fraction (< 1), 0 for
  /// none, or negative for automatic: min(1000, N / 10).
  double validation = -1;
  /// Test images evaluated after each epoch, when the data has a test split.
  std::size_t test_eval_limit = 1000;
  /// KL warm-up length in epochs (converted to steps once N is known).
  double kl_warmup_epochs = 0;
  /// weight_decay = 1/N: the paper's N(0, I) prior on the parameters, written
  /// per datapoint (N = training datapoints, known after loading).
  bool prior_weight_decay = false;
  OutputBias output_bias = OutputBias::zero;
  /// Epochs of an autoencoder trained first, from whose codes a family with a
  /// mixture prior starts (train/mixture_start.hpp); 0: none.
  std::size_t pretrain_epochs = 0;
};

/// Fills in what depends on the training data: the model's input size and
/// image shape, N (full VB's KL weight, MCEM's chains, a batch method's
/// batch), the prior's weight decay 1/N, the warm-up in steps; then validates
/// the model, the algorithm and the objective. InputError on a bad value.
void complete_for_data(RunSettings& settings, const DataRows& train);

/// A name of preset_names(); InputError for another name.
RunSettings preset_settings(std::string_view name);
std::vector<std::string_view> preset_names();

}  // namespace aevb
