#include "viz/run_report.hpp"

#include "eval/codebook_metrics.hpp"
#include "eval/latent_grid.hpp"
#include "viz/code_usage_svg.hpp"
#include "viz/confusion_svg.hpp"
#include "viz/curve_svg.hpp"
#include "viz/svg_raster.hpp"
#include "viz/image_grid.hpp"
#include "viz/png.hpp"
#include "viz/report_html.hpp"

#include <algorithm>
#include <cmath>

namespace aevb::viz {
namespace {

// Points (samples seen, value) of one metrics key, skipping epochs without it.
CurveSeries series_of(const std::vector<nlohmann::json>& metrics, const char* key, std::string name) {
  CurveSeries s;
  s.name = std::move(name);
  for (const auto& m : metrics) {
    if (!m.contains(key) || !m.contains("samples")) continue;
    s.x.push_back(m["samples"].get<double>());
    s.y.push_back(m[key].get<double>());
  }
  return s;
}

// How a figure names an algorithm: the paper's names where it has them.
std::string algorithm_label(const std::string& name) {
  if (name == "aevb") return "AEVB";
  if (name == "wake-sleep") return "Wake-Sleep";
  if (name == "mcem") return "MCEM";
  return name;
}

std::string number(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? format_number(j[key].get<double>()) : "-";
}

// Each example's values into inputs and E[x|z = mu(x)] into recon (the
// examples' rows as the model reads them: for a conditional model the
// one-hot label after the values, which its decoder is given too).
void reconstruct_examples(const Vae& model, ConstMatrix examples, std::span<float> inputs, std::span<float> recon) {
  const ModelConfig& c = model.config();
  const std::size_t n = examples.rows, d = c.input_dim, nz = c.latent;
  std::vector<float> mu(n * nz), logvar(n * nz);
  model.encode(examples, {mu.data(), n, nz}, {logvar.data(), n, nz});
  for (std::size_t r = 0; r < n; ++r) std::copy_n(examples.row(r), d, inputs.data() + r * d);
  if (model.classes() == 0) {
    model.decode({mu.data(), n, nz}, {recon.data(), n, d});
    return;
  }
  for (std::size_t r = 0; r < n; ++r) {
    const float* label = examples.row(r) + d;
    const auto y = std::size_t(std::max_element(label, label + model.classes()) - label);
    model.decode_class({mu.data() + r * nz, 1, nz}, y, {recon.data() + r * d, 1, d});
  }
}

}  // namespace

std::string render_training_curve(const std::vector<nlohmann::json>& metrics, const std::string& title,
                                  const std::string& algorithm) {
  // A decoder-only run (MCEM) logs log p(x, z) at its chains: it has no bound.
  const bool chains = !metrics.empty() && metrics.front().contains("train_log_joint");
  std::vector<CurveSeries> series{series_of(metrics, chains ? "train_log_joint" : "train_bound", algorithm + " (train)")};
  for (auto [key, name] : {std::pair{"validation_bound", " (validation)"}, {"test_bound", " (test)"}}) {
    CurveSeries s = series_of(metrics, key, algorithm + name);
    s.dashed = true;
    if (!s.x.empty()) series.push_back(std::move(s));
  }
  CurveOptions options;
  options.title = title;
  return render_curve_svg(series, options);
}

RunFigures render_run_report(const RunReportInputs& in) {
  RunFigures out;
  const Vae& model = *in.model;
  const ModelConfig& c = model.config();
  const std::string algorithm = in.settings.value(nlohmann::json::json_pointer("/train/algorithm"), std::string("aevb"));
  out.curve_svg = render_training_curve(in.metrics, in.title, algorithm_label(algorithm));
  out.curve_png = encode_png(rasterize_svg(out.curve_svg, 2.0));

  Report report(in.title);
  std::vector<ReportRow> results;
  if (!in.metrics.empty()) {
    const auto& last = in.metrics.back();
    results.emplace_back("epochs", number(last, "epoch"));
    results.emplace_back("training samples evaluated", number(last, "samples"));
    if (c.decoder_only)
      results.emplace_back("train log p(x, z) at the chains (nats/datapoint)", number(last, "train_log_joint"));
    else
      results.emplace_back("train bound (nats/datapoint)", number(last, "train_bound"));
    results.emplace_back("validation bound", number(last, "validation_bound"));
    results.emplace_back("test bound (subset)", number(last, "test_bound"));
    if (last.contains("test_mse")) {
      results.emplace_back("test reconstruction MSE (subset)", number(last, "test_mse"));
      results.emplace_back("test codes used, perplexity (subset)",
                           number(last, "test_codes_used") + ", " + number(last, "test_perplexity"));
    }
    double seconds = 0;
    for (const auto& m : in.metrics) seconds += m.value("seconds", 0.0);
    results.emplace_back("training time (s)", format_number(seconds, 4));
  }
  if (in.evaluation) {
    const auto& e = *in.evaluation;
    results.emplace_back("evaluation set", e.value("data", std::string("-")));
    results.emplace_back("ELBO (eval)", number(e, "elbo"));
    results.emplace_back("log p(x), importance sampled (k = " + number(e, "iw_samples") + ")",
                         number(e, "log_likelihood"));
    results.emplace_back("active latent units", number(e, "active_units"));
    if (e.contains("mse")) {
      results.emplace_back("reconstruction MSE (of the variance)",
                           number(e, "mse") + " (" + number(e, "mse_normalized") + ")");
      results.emplace_back("codes used, perplexity", number(e, "codes_used") + ", " + number(e, "perplexity"));
      results.emplace_back("bits per dimension, uniform prior", number(e, "bits_per_dim"));
      if (e.contains("bits_per_dim_prior"))
        results.emplace_back("bits per dimension, code prior", number(e, "bits_per_dim_prior"));
    }
    if (e.contains("cluster_accuracy")) {
      results.emplace_back("cluster accuracy (Hungarian, one-to-one)", number(e, "cluster_accuracy"));
      results.emplace_back("cluster accuracy (majority, many-to-one)", number(e, "cluster_accuracy_majority"));
      results.emplace_back("NMI", number(e, "nmi"));
      results.emplace_back("ARI", number(e, "ari"));
    }
  }
  report.add_table(results, "Results (per datapoint, nats)");
  if (in.evaluation && in.evaluation->contains("confusion")) {
    std::vector<std::vector<std::uint64_t>> rows;
    for (const auto& row : (*in.evaluation)["confusion"]) rows.push_back(row.get<std::vector<std::uint64_t>>());
    report.add_svg(render_confusion_svg(rows, "Clusters against the labels"),
                   "Each cluster's datapoints by class, " + in.evaluation->value("data", std::string("-")) +
                       ": a clean cluster is one dark cell in its row");
  }
  report.add_svg(out.curve_svg, c.decoder_only ? "log p(x, z) per datapoint at the HMC chains against training samples "
                                                 "evaluated (not a bound: log p(x) is aevb eval --hmc's)"
                                               : "Lower bound per datapoint against training samples evaluated (the "
                                                 "paper's Fig. 2)");

  const CodeGrid grid = model.code_grid();
  const bool evaluated = in.evaluation && in.evaluation->contains("code_usage");
  if (grid.codes > 0 && (evaluated || in.codebook)) {
    CodebookEvaluation usage;
    if (evaluated) {
      usage.usage = (*in.evaluation)["code_usage"].get<std::vector<std::uint64_t>>();
      usage.codes_used = in.evaluation->value("codes_used", std::size_t{0});
      usage.perplexity = in.evaluation->value("perplexity", 0.0);
      usage.count = in.evaluation->value("count", std::size_t{0});
    } else {
      usage = *in.codebook;
    }
    out.code_usage_svg = render_code_usage_svg(usage.usage, "Codebook usage: " + std::to_string(usage.codes_used) +
                                                                " of " + std::to_string(grid.codes) +
                                                                " codes used, perplexity " +
                                                                format_number(usage.perplexity, 4));
    out.code_usage_png = encode_png(rasterize_svg(out.code_usage_svg, 2.0));
    report.add_svg(out.code_usage_svg, "Assignments of each code over " + std::to_string(usage.count) +
                                           " held-out datapoints x " + std::to_string(grid.positions) +
                                           " positions, most used first");
  }

  if (c.image_height > 0) {
    const int h = static_cast<int>(c.image_height), w = static_cast<int>(c.image_width);
    const int channels = static_cast<int>(c.image_channels);  // grey or RGB figures
    GridStyle style;
    style.scale = 2;
    // The prior's figures (samples, the manifold through its quantiles) exist
    // only for families that have one; the autoencoder shows reconstructions.
    // A row per cluster or per class, as aevb sample draws them.
    const std::size_t groups = model.clusters() > 0 ? model.clusters() : model.classes();
    if (groups > 0) {
      const std::size_t n = 10;
      std::vector<float> samples(groups * n * c.input_dim);
      for (std::size_t y = 0; y < groups; ++y) {
        const Matrix row{samples.data() + y * n * c.input_dim, n, c.input_dim};
        model.clusters() > 0 ? model.sample_cluster(y, in.seed, row) : model.sample_class(y, in.seed, row);
      }
      GridStyle rows = style;
      rows.columns = int(n);
      out.samples_png = encode_png(sample_grid({samples.data(), groups * n, c.input_dim}, h, w, channels, rows));
      report.add_png(out.samples_png, model.clusters() > 0
                                          ? "Samples of each cluster: row y is E[x|z], z ~ p(z|y)"
                                          : "Samples of each class: row y is E[x|z, y], z ~ N(0, I)");
    } else if (model.has_prior()) {
      std::vector<float> samples(64 * c.input_dim);
      model.sample(in.seed, {samples.data(), 64, c.input_dim});
      out.samples_png = encode_png(sample_grid({samples.data(), 64, c.input_dim}, h, w, channels, style));
      report.add_png(out.samples_png, grid.codes > 0 ? "Samples with uniform, independent codes, the prior the "
                                                       "model trains with (aevb train-prior fits one to sample from)"
                                                     : "Samples from the prior: E[x|z], z ~ p(z)");
    }
    if (in.examples.rows > 0 && !c.decoder_only) {  // reconstructing needs the encoder
      const std::size_t n = std::min<std::size_t>(in.examples.rows, 32);
      std::vector<float> inputs(n * c.input_dim), recon(n * c.input_dim);
      reconstruct_examples(model, {in.examples.data, n, in.examples.cols}, inputs, recon);
      out.reconstructions_png = encode_png(reconstruction_grid({inputs.data(), n, c.input_dim},
                                                               {recon.data(), n, c.input_dim}, h, w, channels,
                                                               style));
      report.add_png(out.reconstructions_png, "Inputs (left) and reconstructions E[x|z = mu(x)] (right)");
    }
    // The manifold walks N(0, I)'s quantiles: not the cluster families' prior (a mixture) nor the vq family's
    // (codes), and a conditional model's decoder needs a class beside z.
    if (c.latent >= 2 && model.has_prior() && groups == 0 && grid.codes == 0) {
      constexpr std::size_t kSteps = 16;
      const std::vector<float> z = manifold_latents(c.latent, kSteps, 0, 1);
      std::vector<float> images(kSteps * kSteps * c.input_dim);
      model.decode({z.data(), kSteps * kSteps, c.latent}, {images.data(), kSteps * kSteps, c.input_dim});
      out.manifold_png = encode_png(manifold_grid({images.data(), kSteps * kSteps, c.input_dim}, int(kSteps),
                                                  int(kSteps), h, w, channels, style));
      report.add_png(out.manifold_png, c.latent == 2 ? "The learned manifold (the paper's Fig. 4): z through the inverse Gaussian CDF"
                                                     : "Latent dimensions 1 and 2 through the inverse Gaussian CDF, the others 0");
    }
  }

  std::vector<ReportRow> settings;
  for (const auto& [section, values] : in.settings.items()) {
    if (!values.is_object()) continue;
    for (const auto& [key, value] : values.items())
      settings.emplace_back(section + "." + key, value.is_string() ? value.get<std::string>() : value.dump());
  }
  if (!settings.empty()) report.add_table(settings, "Settings");
  out.report_html = report.render();
  return out;
}

}  // namespace aevb::viz
