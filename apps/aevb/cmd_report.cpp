// aevb report: the figures and report.html of a run directory.
#include "commands.hpp"
#include "common.hpp"
#include "run_files.hpp"

#include "io/model_file.hpp"

#include <cstdio>
#include <memory>

namespace aevb::cli {
namespace {

struct ReportFlags {
  std::string run;
  int threads = 0;
};

void run_report(const ReportFlags& f) {
  set_threads(f.threads);
  const RunPaths paths(f.run);
  const Checkpoint ck = load_checkpoint(paths.checkpoint());
  const RunSettings s = settings_from_checkpoint(ck, paths.checkpoint().string());
  const Vae model = load_model(paths.model());
  // Reconstructions of test images when the data has a test split, else of training images.
  const bool has_test = is_dataset_name(s.data) && s.data != "frey";
  LoadOptions options;
  options.scaling = s.scaling;
  options.color = s.color;
  const Dataset examples = first_rows(resolve_dataset(s.data, has_test ? Split::test : Split::train, {}, options), 32);
  require_fit(model, examples, paths.model().string());
  write_run_report(paths, model, examples, s.binarize, s.train.seed);
  std::printf("report: %s\n", paths.report().c_str());
}

}  // namespace

void add_report_command(CLI::App& app) {
  auto flags = std::make_shared<ReportFlags>();
  CLI::App* cmd = app.add_subcommand("report", "write the figures and report.html of a run directory");
  cmd->add_option("--run", flags->run, "run directory (aevb train --out)")->required();
  add_threads_option(*cmd, flags->threads);
  cmd->callback([flags] { run_report(*flags); });
}

}  // namespace aevb::cli
