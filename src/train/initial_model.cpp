#include "train/initial_model.hpp"

#include "model/architecture.hpp"

#include <aevb/error.hpp>

#include <algorithm>
#include <cmath>
#include <string>

namespace aevb {

std::vector<double> output_unit_means(const DataRows& train, std::size_t units) {
  if (train.count == 0) throw InputError("the output bias from the data: the training data has no rows");
  // A dense output layer has a unit per feature; a convolutional one a unit
  // per channel, each over its plane of the planar (NCHW) row.
  const bool per_feature = units == train.dim;
  if (!per_feature && (units != train.channels || train.dim % units != 0))
    throw InputError("the output bias from the data: the decoder's output layer has " + std::to_string(units) +
                     " biases, the data " + std::to_string(train.dim) + " features in " +
                     std::to_string(train.channels) + " channels");
  const std::size_t plane = per_feature ? 1 : train.dim / units;
  std::vector<double> sums(units, 0.0);
  for (std::size_t r = 0; r < train.count; ++r)
    for (std::size_t j = 0; j < train.dim; ++j) {
      const double v = train.is_bytes() ? train.bytes[r * train.dim + j] / 255.0 : train.floats[r * train.dim + j];
      sums[j / plane] += v;
    }
  for (double& s : sums) s /= double(train.count) * double(plane);
  return sums;
}

const ParameterInfo& parameter_named(const Vae& model, const std::string& name) {
  const auto& table = model.parameter_table();
  const auto it = std::find_if(table.begin(), table.end(), [&](const ParameterInfo& p) { return p.name == name; });
  if (it == table.end()) throw std::logic_error("the model has no tensor " + name);
  return *it;
}

void start_output_bias_at_data_mean(Vae& model, const DataRows& train) {
  const ModelConfig& config = model.config();
  const ParameterInfo& bias = parameter_named(model, std::string(output_heads(config.likelihood).first) + ".bias");
  const std::vector<double> means = output_unit_means(train, bias.size());
  const bool sigmoid = config.likelihood == Likelihood::bernoulli || config.sigmoid_mean;
  float* b = model.parameters().data() + bias.offset;
  for (std::size_t j = 0; j < means.size(); ++j) {
    // Clipped as Burda et al.'s code clips it: a pixel that is 0 in every
    // training image would otherwise start at logit(0) = -inf.
    const double m = std::clamp(means[j], 0.001, 0.999);
    b[j] = static_cast<float>(sigmoid ? std::log(m / (1.0 - m)) : means[j]);
  }
}

Vae initial_model(const RunSettings& settings, const DataRows& train, MixtureStart* start,
                  const PretrainEpochDone& epoch_done) {
  Vae model(settings.model, settings.train.seed);
  if (settings.output_bias == OutputBias::data_mean) start_output_bias_at_data_mean(model, train);
  if (settings.pretrain_epochs > 0) {
    const MixtureStart s = start_mixture_from_autoencoder(model, settings, train, epoch_done);
    if (start) *start = s;
  }
  return model;
}

}  // namespace aevb
