#include "run_files.hpp"

#include "common.hpp"

#include "io/atomic_file.hpp"
#include "io/config_json.hpp"
#include "io/file_bytes.hpp"
#include "io/model_file.hpp"
#include "io/run_settings_json.hpp"
#include "train/epoch_runner.hpp"
#include "viz/run_report.hpp"


namespace aevb::cli {

void require_fresh_run_directory(const RunPaths& paths, bool overwrite) {
  for (const auto& file : {paths.checkpoint(), paths.model()}) {
    if (std::filesystem::exists(file) && !overwrite)
      throw InputError(paths.dir.string() + " already holds a run (" + file.filename().string() +
                       "): continue it with --resume " + paths.dir.string() + ", or pass --overwrite");
  }
  if (std::filesystem::exists(paths.dir) && !std::filesystem::is_directory(paths.dir))
    throw InputError("--out " + paths.dir.string() + ": expected a directory, found a file");
}

RunSettings settings_from_checkpoint(const Checkpoint& checkpoint, const std::string& where) {
  const auto& extra = checkpoint.loop.extra;
  if (!extra.contains("settings"))
    throw InputError(where + ": expected the run settings in the checkpoint, found none (not written by aevb train?)");
  RunSettings s;
  apply_run_config(extra["settings"], s, where);
  // Checkpoints written before colour images existed read PNG folders as grey.
  const auto& settings = extra["settings"];
  if (!settings.contains("run") || !settings["run"].contains("color")) s.color = ColorMode::grey;
  return s;
}

std::vector<nlohmann::json> metrics_from_checkpoint(const Checkpoint& checkpoint, const std::string& source) {
  std::vector<nlohmann::json> metrics;
  const auto& extra = checkpoint.loop.extra;
  if (extra.contains("metrics") && extra["metrics"].is_array())
    for (const auto& m : extra["metrics"]) {
      // What aevb train writes: one object of numbers per epoch, samples a count.
      const auto bad = [&](const std::string& what) {
        return InputError(source + ": aevb_state.loop.metrics[" + std::to_string(metrics.size()) + "]: " + what +
                          ", found " + m.dump());
      };
      if (!m.is_object()) throw bad("expected an object of numbers");
      for (const auto& [key, value] : m.items())
        if (!value.is_number()) throw bad("\"" + key + "\" should be a number");
      if (m.contains("samples") && !m["samples"].is_number_unsigned()) throw bad("\"samples\" should be a count");
      metrics.push_back(m);
    }
  return metrics;
}

void save_run_state(const RunPaths& paths, const Vae& model, Trainer& trainer, const RunSettings& settings,
                    const std::vector<nlohmann::json>& metrics, std::uint64_t epochs_done,
                    const std::string& source) {
  save_model(paths.model(), model,
             {{"binarize", std::string(to_string(settings.binarize))},
              {"data", source},
              {"epochs", std::to_string(epochs_done)},
              {"steps", std::to_string(trainer.steps())}});
  std::string lines;
  for (const auto& m : metrics) lines += m.dump() + "\n";
  write_file_atomic(paths.metrics(), lines);
  save_mid_epoch_checkpoint(paths, model, trainer, settings, metrics, epochs_done, {});
}

void save_mid_epoch_checkpoint(const RunPaths& paths, const Vae& model, Trainer& trainer, const RunSettings& settings,
                               const std::vector<nlohmann::json>& metrics, std::uint64_t epochs_done,
                               const EpochPosition& at) {
  LoopState loop;
  loop.epoch = epochs_done;
  loop.batch_in_epoch = at.batches;
  loop.extra = {{"settings", to_json(settings)}, {"metrics", metrics}};
  // Doubles survive JSON exactly (17 significant digits), so the epoch's
  // train bound comes out bitwise as an uninterrupted run's.
  if (at.batches > 0)
    loop.extra["epoch_position"] = {{"samples", at.samples},
                                    {"bound_sum", at.sums.bound},
                                    {"reconstruction_sum", at.sums.reconstruction},
                                    {"kl_sum", at.sums.kl},
                                    {"seconds", at.seconds}};
  save_checkpoint(paths.checkpoint(), model, trainer, loop);
}

EpochPosition epoch_position_from_checkpoint(const Checkpoint& checkpoint, const std::string& source) {
  EpochPosition at;
  at.batches = checkpoint.loop.batch_in_epoch;
  if (at.batches == 0) return at;
  const auto& extra = checkpoint.loop.extra;
  const auto bad = [&](const std::string& what) {
    return InputError(source + ": aevb_state.loop.epoch_position: " + what + " (the checkpoint stopped after " +
                      std::to_string(at.batches) + " minibatches of an epoch)");
  };
  if (!extra.contains("epoch_position") || !extra["epoch_position"].is_object()) throw bad("missing");
  const auto& p = extra["epoch_position"];
  const auto number = [&](const char* key) {
    if (!p.contains(key) || !p[key].is_number()) throw bad(std::string("expected a number \"") + key + "\"");
    return p[key].get<double>();
  };
  if (!p.contains("samples") || !p["samples"].is_number_unsigned()) throw bad("expected a count \"samples\"");
  at.samples = p["samples"].get<std::uint64_t>();
  at.sums = {number("bound_sum"), number("reconstruction_sum"), number("kl_sum")};
  at.seconds = number("seconds");
  return at;
}

void write_run_report(const RunPaths& paths, const Vae& model, const Dataset& examples, Binarize binarize,
                      std::uint64_t seed) {
  viz::RunReportInputs in;
  in.title = "aevb run " + paths.dir.filename().string();
  in.model = &model;
  in.seed = seed;
  if (std::filesystem::exists(paths.checkpoint())) {
    const Checkpoint ck = load_checkpoint(paths.checkpoint());
    in.metrics = metrics_from_checkpoint(ck, paths.checkpoint().string());
    in.settings = to_json(settings_from_checkpoint(ck, paths.checkpoint().string()));
  }
  if (std::filesystem::exists(paths.evaluation()))
    in.evaluation = parse_json_strict(read_file_bytes(paths.evaluation()), paths.evaluation().string());
  const Dataset shown = first_rows(examples, 32);
  const std::vector<float> x = evaluation_rows(with_label_columns(shown, model.classes()), binarize, seed);
  in.examples = {x.data(), shown.count, model_row_width(model.config())};
  if (model.code_grid().codes > 0 && !std::filesystem::exists(paths.evaluation()) && examples.count > 0) {
    const std::vector<float> held_out = evaluation_rows(examples, binarize, seed);
    in.codebook = evaluate_codebook(model, {held_out.data(), examples.count, examples.dim});
  }
  const viz::RunFigures figures = viz::render_run_report(in);
  write_file_atomic(paths.curve(), figures.curve_svg);
  write_file_atomic(paths.curve_png(), figures.curve_png);
  if (!figures.samples_png.empty()) write_file_atomic(paths.samples(), figures.samples_png);
  if (!figures.reconstructions_png.empty()) write_file_atomic(paths.reconstructions(), figures.reconstructions_png);
  if (!figures.manifold_png.empty()) write_file_atomic(paths.manifold(), figures.manifold_png);
  if (!figures.code_usage_png.empty()) write_file_atomic(paths.code_usage(), figures.code_usage_png);
  write_file_atomic(paths.report(), figures.report_html);
}

}  // namespace aevb::cli
