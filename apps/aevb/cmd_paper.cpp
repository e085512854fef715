// aevb paper: the paper's experiments (Figs. 2-5) and the seed material's
// demonstrations (autoencoder against VAE, the decoder variance) from one command, at a
// budget of training samples per run, several runs at a time, resumable;
// then the figures, the claims checked and the results page (docs/paper.md).
#include "commands.hpp"
#include "paper_plan.hpp"
#include "paper_results.hpp"
#include "step_runner.hpp"

#include <aevb/error.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

namespace aevb::cli {
namespace {

namespace fs = std::filesystem;

struct PaperFlags {
  std::string budget = "1e6", out = "runs/paper", lr;
  std::vector<std::string> figures = kPaperFigures;
  std::size_t hmc_points = 1000, train_limit = 0;
  int jobs = 0;
  bool dry_run = false;
};

double parse_budget(const std::string& text) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || !(v >= 1000 && v <= 1e10))
    throw InputError("--budget: expected training samples per run, a number from 1000 to 1e10 (e.g. 1e6), found '" +
                     text + "'");
  return v;
}

// Fails early, with one line, when the output folder cannot be written.
void require_writable(const fs::path& out) {
  std::error_code ec;
  fs::create_directories(out / "runs", ec);
  const fs::path probe = out / ".write-test";
  if (!ec) {
    std::ofstream(probe) << "ok";
    if (!fs::exists(probe)) ec = std::make_error_code(std::errc::permission_denied);
    fs::remove(probe, ec);
  }
  if (ec || !fs::is_directory(out / "runs"))
    throw InputError("--out " + out.string() + ": cannot write there (" + (ec ? ec.message() : "not a folder") + ")");
}

void run_paper(const PaperFlags& f) {
  PaperOptions options;
  options.budget = parse_budget(f.budget);
  options.figures.clear();
  for (const std::string& figure : f.figures) {
    if (std::find(kPaperFigures.begin(), kPaperFigures.end(), figure) == kPaperFigures.end())
      throw InputError("--figures: expected the paper's figures 2, 3, 4, 5 or the demonstrations autoencoder, "
                       "variance; found '" + figure + "'");
    options.figures.insert(figure);
  }
  if (options.figures.empty()) throw InputError("--figures: none given");
  options.lr = f.lr;
  options.hmc_points = f.hmc_points;
  options.train_limit = f.train_limit;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int parallel = f.jobs > 0 ? f.jobs : cores;
  options.threads = std::max(1, cores / parallel);
  const fs::path out = f.out;
  const PaperPlan plan = make_paper_plan(options, out);
  if (!f.dry_run) require_writable(out);
  std::size_t steps = 0;
  for (const Job& j : plan.jobs) steps += j.steps.size();
  std::printf("aevb paper: figures");
  for (const std::string& figure : kPaperFigures)
    if (options.wants(figure)) std::printf(" %s", figure.c_str());
  std::printf(", %zu runs (%zu steps) of %.3g training samples each, %d at a time -> %s\n", plan.jobs.size(), steps,
              options.budget, parallel, out.c_str());
  if (f.dry_run) {
    for (const Job& j : plan.jobs)
      for (const Step& s : j.steps) std::printf("%s: %s\n", j.id.c_str(), s.what.c_str());
    return;
  }
  const std::vector<JobOutcome> outcomes = run_jobs(plan.jobs, parallel);
  const ClaimCount claims = write_paper_results(plan, options, out);
  std::printf("results: %s (%zu of %zu checked claims reproduced)\n", (out / "index.html").c_str(),
              claims.reproduced, claims.checked);
  std::size_t failed = 0;
  for (const JobOutcome& o : outcomes)
    if (!o.ok) ++failed, std::printf("failed: %s: %s\n", o.id.c_str(), o.failure.c_str());
  if (failed > 0)
    throw InputError(std::to_string(failed) + " of " + std::to_string(outcomes.size()) +
                     " runs failed (their logs are in " + (out / "runs").string() + "/ID/log.txt); run aevb paper "
                     "again to retry them");
}

}  // namespace

void add_paper_command(CLI::App& app) {
  auto flags = std::make_shared<PaperFlags>();
  CLI::App* cmd = app.add_subcommand(
      "paper", "reproduce the paper's Figs. 2-5 and the seed demonstrations at a budget, with a results page");
  cmd->add_option("--budget", flags->budget, "training samples evaluated per run (the paper's: 1e8)")
      ->capture_default_str();
  cmd->add_option("--figures", flags->figures, "which figures: the paper's 2 3 4 5, the demonstrations autoencoder variance")->capture_default_str();
  cmd->add_option("--out", flags->out, "output folder (runs/, fig*.png and .svg, results.json, index.html)")
      ->capture_default_str();
  cmd->add_option("--lr", flags->lr, "Adagrad's step size for every run (default: each preset's)");
  cmd->add_option("--hmc-points", flags->hmc_points, "Fig. 3: App. D on the first P training and P test points")
      ->capture_default_str();
  cmd->add_option("--train-limit", flags->train_limit,
                  "MNIST runs train on at most N images (a quick look; 0: the paper's 60000, 1000 and 50000)");
  cmd->add_option("--jobs", flags->jobs, "runs at a time (0: one per processor, each single-threaded)");
  cmd->add_flag("--dry-run", flags->dry_run, "print the steps without running them");
  cmd->callback([flags] { run_paper(*flags); });
}

}  // namespace aevb::cli
