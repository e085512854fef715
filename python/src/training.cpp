// aevb.VAE.fit's native half: the run's settings from a config document, a
// Trainer and the CLI's EpochRunner over the caller's array in place, one
// epoch per call with the GIL released. Between steps (at most every 0.1 s)
// it takes the GIL to deliver signals (Ctrl-C stops the epoch after a whole
// step, the model intact) and to call the Python progress callback.
#include "bindings.hpp"

#include "io/config_json.hpp"
#include "io/run_settings_json.hpp"
#include "train/algorithm.hpp"
#include "train/epoch_metrics.hpp"
#include "train/epoch_runner.hpp"
#include "train/initial_model.hpp"
#include "train/run_settings.hpp"

#include <aevb/vae.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

namespace aevb::python {
namespace {

constexpr auto kCallbackInterval = std::chrono::milliseconds(100);

// Thrown from inside the epoch when Python has an exception pending (a
// signal's, or the callback's own); the binding re-raises it once the GIL is back.
struct PythonErrorPending {};

DataRows rows_in(const py::array& x, const char* what) {
  if (x.ndim() != 2)
    throw InputError(std::string(what) + ": expected a 2-D array of rows, found " + std::to_string(x.ndim()) +
                     " dimensions");
  DataRows rows;
  if (py::isinstance<ByteArray>(x) && (x.flags() & py::array::c_style)) {
    rows.bytes = static_cast<const std::uint8_t*>(x.data());
  } else if (py::isinstance<FloatArray>(x) && (x.flags() & py::array::c_style)) {
    rows.floats = static_cast<const float*>(x.data());
  } else {
    throw InputError(std::string(what) + ": expected a C-contiguous float32 or uint8 array");
  }
  rows.count = static_cast<std::size_t>(x.shape(0));
  rows.dim = static_cast<std::size_t>(x.shape(1));
  return rows;
}

// What aevb train's readers guarantee (docs/data.md): finite values, and in
// [0, 1] for a decoder whose mean is a probability or a sigmoid (bytes are
// /255, always in range). Sets rows.binary. One pass, as the data may be large.
void check_values(DataRows& rows, const ModelConfig& c, const char* what) {
  if (rows.is_bytes()) {
    rows.binary = std::all_of(rows.bytes, rows.bytes + rows.count * rows.dim,
                              [](std::uint8_t b) { return b == 0 || b == 255; });
    return;
  }
  const bool unit = c.likelihood == Likelihood::bernoulli || c.sigmoid_mean;
  bool binary = true;
  for (std::size_t k = 0; k < rows.count * rows.dim; ++k) {
    const float v = rows.floats[k];
    if (!std::isfinite(v) || (unit && (v < 0.0f || v > 1.0f)))
      throw InputError(std::string(what) + ": row " + std::to_string(k / rows.dim) + ", value " +
                       std::to_string(k % rows.dim) + " is " + std::to_string(v) +
                       (unit ? "; this decoder models values in [0, 1] (pass images as uint8, or scale them)"
                             : "; expected a finite number"));
    binary = binary && (v == 0.0f || v == 1.0f);
  }
  rows.binary = binary;
}

class Training {
 public:
  // untrained: the model has not been fitted yet, so the run's output bias
  // from the data (RunSettings::output_bias) and the mixture start
  // (RunSettings::pretrain_epochs) apply.
  Training(Vae& model, const std::string& document_json, py::array x, const py::object& validation, bool untrained)
      : model_(model), data_(std::move(x)), rows_(rows_in(data_, "x")) {
    if (model.classes() > 0)
      throw InputError("fit: the " + model.config().family + " model is conditioned on labels, which the Python "
                       "module does not pass to it yet: train it with aevb train --family cvae (docs/conditional.md)");
    DataRows held_out;
    if (!validation.is_none()) {
      held_out = rows_in(validation.cast<py::array>(), "validation");
      if (held_out.dim != model.config().input_dim)
        throw InputError("validation: rows of " + std::to_string(held_out.dim) + " values; the model's input_dim is " +
                         std::to_string(model.config().input_dim));
    }
    apply_run_config(parse_json_strict(document_json, "aevb.VAE.fit"), settings_, "aevb.VAE.fit");
    if (rows_.dim != model.config().input_dim)
      throw InputError("x: rows of " + std::to_string(rows_.dim) + " values; the model's input_dim is " +
                       std::to_string(model.config().input_dim));
    // The data's shape is the model's (the Python layer built it for the data, or checked it).
    settings_.model = model.config();
    rows_.height = settings_.model.image_height;
    rows_.width = settings_.model.image_width;
    rows_.channels = settings_.model.image_channels;
    compute([&] {  // the Trainer plans the model's workspace: not while another thread uses the model
      complete_for_data(settings_, rows_);
      check_values(rows_, settings_.model, "x");
      if (held_out.count > 0) {
        check_values(held_out, settings_.model, "validation");
        validation_x_ = evaluation_rows(held_out, settings_.binarize, settings_.train.seed);
      }
      if (untrained && settings_.output_bias == OutputBias::data_mean) start_output_bias_at_data_mean(model_, rows_);
      if (untrained && settings_.pretrain_epochs > 0) start_mixture_from_autoencoder(model_, settings_, rows_);
      trainer_.emplace(model_, settings_.train);
      runner_.emplace(*trainer_, rows_, settings_.binarize, settings_.train.seed);
    });
  }

  std::size_t batches_per_epoch() const { return runner_->batches_per_epoch(); }
  std::uint64_t steps() const { return trainer_->steps(); }
  std::size_t epochs() const { return settings_.epochs; }
  std::string binarize() const { return std::string(to_string(settings_.binarize)); }

  // Runs epoch `epoch` (0-based) and evaluates `validation`; returns the
  // epoch's metrics as JSON (train/epoch_metrics.hpp).
  std::string run_epoch(std::uint64_t epoch, std::uint64_t samples_before, const py::object& on_batch) {
    const std::size_t dim = model_.config().input_dim;
    const ConstMatrix held_out{validation_x_.data(), validation_x_.size() / dim, dim};
    std::optional<EpochResult> result;
    std::optional<Bound> validation_bound;
    compute([&] {
      auto last_call = std::chrono::steady_clock::now();
      const EpochRunner::AfterBatch progress = [&](const EpochPosition& at, std::size_t total) {
        const auto now = std::chrono::steady_clock::now();
        if (now - last_call < kCallbackInterval && at.batches < total) return true;
        last_call = now;
        py::gil_scoped_acquire gil;
        if (PyErr_CheckSignals() != 0) throw PythonErrorPending{};
        if (on_batch.is_none()) return true;
        try {
          on_batch(at.batches, total, at.mean().bound);
        } catch (py::error_already_set& e) {
          e.restore();
          throw PythonErrorPending{};
        }
        return true;
      };
      try {
        result = runner_->run(epoch, progress);
      } catch (const PythonErrorPending&) {
        return;
      }
      validation_bound = evaluate_held_out(model_, held_out, settings_.train.objective, settings_.train.seed);
    });
    if (!result) throw py::error_already_set();
    return epoch_metrics(epoch + 1, *trainer_, samples_before + result->position.samples, *result, validation_bound, std::nullopt)
        .dump();
  }

 private:
  Vae& model_;
  py::array data_;  // keeps the caller's array alive while rows_ points into it
  DataRows rows_;
  RunSettings settings_;
  std::vector<float> validation_x_;  // evaluated after each epoch
  std::optional<Trainer> trainer_;
  std::optional<EpochRunner> runner_;
};

}  // namespace

void bind_training(py::module_& m) {
  m.def("algorithm_info", [](const std::string& name) {
    const AlgorithmInfo& a = find_algorithm(name);
    py::dict d;
    d["trains_encoder"] = a.trains_encoder;
    d["trains_weight_posterior"] = a.trains_weight_posterior;
    d["batch_method"] = a.batch_method;
    return d;
  });
  py::class_<Training>(m, "Training")
      .def(py::init<Vae&, const std::string&, py::array, const py::object&, bool>(), py::arg("model"),
           py::arg("document_json"), py::arg("x"), py::arg("validation"), py::arg("untrained"),
           py::keep_alive<1, 2>())
      .def_property_readonly("epochs", &Training::epochs)
      .def_property_readonly("binarize", &Training::binarize)
      .def_property_readonly("batches_per_epoch", &Training::batches_per_epoch)
      .def_property_readonly("steps", &Training::steps)
      .def("run_epoch", &Training::run_epoch, py::arg("epoch"), py::arg("samples_before"), py::arg("on_batch"));
}

}  // namespace aevb::python
