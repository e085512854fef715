// aevb.VAE's native object: a Vae, built from a config document (the schema
// of config files, src/io/run_settings_json.hpp) or read from a model file,
// and its inference methods on float32 arrays.
#include "bindings.hpp"

#include "eval/evaluation.hpp"
#include "eval/latent_grid.hpp"
#include "io/config_json.hpp"
#include "io/model_file.hpp"
#include "io/run_settings_json.hpp"
#include "train/run_settings.hpp"

#include <aevb/vae.hpp>

#include <cmath>
#include <map>
#include <string>
#include <vector>

namespace aevb::python {
namespace {

constexpr const char* kWhere = "aevb.VAE";

RunSettings settings_from(const std::string& document_json) {
  RunSettings s;
  apply_run_config(parse_json_strict(document_json, kWhere), s, kWhere);
  return s;
}

// A model for the config document alone (its model section names input_dim)
// or, given training data, sized and shaped by that data as `aevb train` does.
Vae build(const std::string& document_json, const DataRows* data) {
  RunSettings s = settings_from(document_json);
  if (data) complete_for_data(s, *data);
  validate(s.model);
  return Vae(s.model, s.train.seed);
}

py::dict bound_dict(const Bound& b) {
  py::dict d;
  d["bound"] = b.bound;
  d["reconstruction"] = b.reconstruction;
  d["kl"] = b.kl;
  return d;
}

}  // namespace

void bind_model(py::module_& m) {
  py::class_<Vae>(m, "Model")
      .def(py::init([](const std::string& document_json) { return build(document_json, nullptr); }),
           py::arg("document_json"))
      .def_static(
          "for_data",
          [](const std::string& document_json, std::size_t count, std::size_t dim, std::size_t height,
             std::size_t width, std::size_t channels) {
            DataRows shape;
            shape.count = count, shape.dim = dim;
            shape.height = height, shape.width = width, shape.channels = channels;
            return build(document_json, &shape);
          },
          py::arg("document_json"), py::arg("count"), py::arg("dim"), py::arg("height"), py::arg("width"),
          py::arg("channels"))
      .def_static(
          "load", [](const std::string& path) { return compute([&] { return load_model(path); }); },
          py::arg("path"))
      .def(
          "save",
          [](const Vae& model, const std::string& path, const std::map<std::string, std::string>& metadata) {
            safetensors::Metadata extra(metadata.begin(), metadata.end());
            compute([&] { save_model(path, model, extra); });
          },
          py::arg("path"), py::arg("metadata"))
      .def("config_json", [](const Vae& model) { return to_json(model.config()).dump(); })
      .def_static("preset_json", [](const std::string& name) { return to_json(preset_settings(name)).dump(); })
      .def_static("preset_names", [] {
        std::vector<std::string> names;
        for (auto n : preset_names()) names.emplace_back(n);
        return names;
      })
      .def_property_readonly("has_prior", &Vae::has_prior)
      .def_property_readonly("has_weight_posterior", &Vae::has_weight_posterior)
      // The parameters in place (writes reach the model): a view whose base keeps the model alive.
      .def_property_readonly("parameters",
                             [](py::object self) {
                               Vae& model = self.cast<Vae&>();
                               const std::span<float> p = model.parameters();
                               return FloatArray({static_cast<py::ssize_t>(p.size())}, {sizeof(float)}, p.data(), self);
                             })
      .def("parameter_table",
           [](const Vae& model) {
             py::list table;
             for (const ParameterInfo& t : model.parameter_table())
               table.append(py::make_tuple(t.name, py::tuple(py::cast(t.shape)), t.offset));
             return table;
           })
      .def(
          "encode",
          [](const Vae& model, const FloatArray& x) {
            const ConstMatrix rows = rows_of(x, model.config().input_dim, "x");
            Matrix mu, var;
            FloatArray mu_array = new_matrix(rows.rows, model.config().latent, mu);
            FloatArray var_array = new_matrix(rows.rows, model.config().latent, var);
            compute([&] {
              model.encode(rows, mu, var);
              for (std::size_t k = 0; k < var.size(); ++k) var.data[k] = std::exp(var.data[k]);  // log sigma^2 -> sigma^2
            });
            return py::make_tuple(mu_array, var_array);
          },
          py::arg("x").noconvert())
      .def(
          "cluster_probabilities",
          [](const Vae& model, const FloatArray& x) {
            const ConstMatrix rows = rows_of(x, model.config().input_dim, "x");
            if (model.clusters() == 0)
              throw InputError("cluster: the " + model.config().family +
                               " family has no clusters (family=\"cluster\" has)");
            Matrix p;
            FloatArray out = new_matrix(rows.rows, model.clusters(), p);
            compute([&] { model.cluster_probabilities(rows, p); });
            return out;
          },
          py::arg("x").noconvert())
      .def(
          "decode",
          [](const Vae& model, const FloatArray& z) {
            const ConstMatrix rows = rows_of(z, model.config().latent, "z");
            Matrix mean;
            FloatArray out = new_matrix(rows.rows, model.config().input_dim, mean);
            compute([&] { model.decode(rows, mean); });
            return out;
          },
          py::arg("z").noconvert())
      .def(
          "sample",
          [](const Vae& model, std::size_t n, std::uint64_t seed) {
            Matrix mean;
            FloatArray out = new_matrix(n, model.config().input_dim, mean);
            compute([&] { model.sample(seed, mean); });
            return out;
          },
          py::arg("n"), py::arg("seed"))
      .def(
          "evaluate",
          [](const Vae& model, const FloatArray& x, const std::string& estimator, std::size_t samples,
             std::uint64_t seed, std::size_t weight_samples) {
            const ConstMatrix rows = rows_of(x, model.config().input_dim, "x");
            ObjectiveConfig objective;
            objective.estimator = parse_estimator(estimator);
            objective.samples = samples;
            validate(objective);
            return bound_dict(compute([&] { return model.evaluate(rows, objective, seed, weight_samples); }));
          },
          py::arg("x").noconvert(), py::arg("estimator"), py::arg("samples"), py::arg("seed"),
          py::arg("weight_samples"))
      .def(
          "interpolate",
          [](const Vae& model, const FloatArray& a, const FloatArray& b, std::size_t steps) {
            const std::size_t d = model.config().input_dim, nz = model.config().latent;
            const ConstMatrix from = rows_of(a, d, "a"), to = rows_of(b, d, "b");
            if (from.rows != to.rows)
              throw InputError("interpolate: a has " + std::to_string(from.rows) + " rows and b " +
                               std::to_string(to.rows) + "; expected pairs");
            Matrix out;
            FloatArray result = new_matrix(from.rows * steps, d, out);
            compute([&] {
              // Between posterior means, as aevb interpolate: pair p's steps are rows p * steps ...
              std::vector<float> ends(2 * from.rows * nz), logvar(from.rows * nz), z;
              model.encode(from, {ends.data(), from.rows, nz}, {logvar.data(), from.rows, nz});
              model.encode(to, {ends.data() + from.rows * nz, from.rows, nz}, {logvar.data(), from.rows, nz});
              for (std::size_t p = 0; p < from.rows; ++p) {
                const std::vector<float> line = interpolation_latents(
                    {ends.data() + p * nz, nz}, {ends.data() + (from.rows + p) * nz, nz}, steps);
                z.insert(z.end(), line.begin(), line.end());
              }
              model.decode({z.data(), from.rows * steps, nz}, out);
            });
            return result.reshape({static_cast<py::ssize_t>(from.rows), static_cast<py::ssize_t>(steps),
                                   static_cast<py::ssize_t>(d)});
          },
          py::arg("a").noconvert(), py::arg("b").noconvert(), py::arg("steps"))
      .def(
          "log_likelihood",
          [](const Vae& model, const FloatArray& x, std::size_t k, std::uint64_t seed, std::size_t weight_samples) {
            const ConstMatrix rows = rows_of(x, model.config().input_dim, "x");
            std::vector<double> values =
                compute([&] { return sliced_log_likelihoods(model, rows, k, seed, weight_samples); });
            const auto n = static_cast<py::ssize_t>(values.size());
            return to_numpy(std::move(values), {n});
          },
          py::arg("x").noconvert(), py::arg("k"), py::arg("seed"), py::arg("weight_samples"));
}

}  // namespace aevb::python
