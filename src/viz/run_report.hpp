#pragma once
// The figures and the one-page report of a training run: the training curve
// as the paper draws it (Fig. 2: bound per datapoint against training samples
// evaluated, log x-axis), prior samples, reconstructions, the latent manifold
// (Fig. 4: the first two latent dimensions, the others at 0), and the numbers.
#include "eval/codebook_metrics.hpp"

#include <aevb/vae.hpp>

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace aevb::viz {

struct RunReportInputs {
  std::string title;
  const Vae* model = nullptr;
  std::vector<nlohmann::json> metrics;         // metrics.jsonl, one object per epoch
  std::optional<nlohmann::json> evaluation;    // eval.json (aevb eval --json), if any
  nlohmann::json settings = nlohmann::json::object();  // shown as a table
  /// Inputs to reconstruct (rows may be 0), as the model reads them (model_row_width).
  ConstMatrix examples;
  /// A codebook's usage over the held-out set, for a model with one; the
  /// evaluation's ("code_usage" in eval.json) is drawn instead where present.
  std::optional<CodebookEvaluation> codebook;
  std::uint64_t seed = 1;
};

struct RunFigures {
  std::string curve_svg;
  std::string curve_png;  // the same figure rendered from the SVG (twice its size, for sharp screens)
  std::string samples_png, reconstructions_png, manifold_png;  // empty when not images
  std::string code_usage_svg, code_usage_png;  // empty without a codebook
  std::string report_html;
};

RunFigures render_run_report(const RunReportInputs& inputs);

/// The training curve alone: train (and validation/test when present) bound
/// against samples seen, the series named after `algorithm` (a decoder-only
/// run's train series is its log p(x, z) at the chains).
std::string render_training_curve(const std::vector<nlohmann::json>& metrics, const std::string& title,
                                  const std::string& algorithm = "AEVB");

}  // namespace aevb::viz
