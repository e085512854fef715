#pragma once
// The paper's experiments (Kingma & Welling 2013, sec. 5, Figs. 2-5) as jobs
// of aevb's own commands (docs/paper.md "aevb paper"): each panel's runs
// train to the budget with `aevb train`, Fig. 3's are evaluated along the way
// with `aevb eval --hmc` (App. D), Figs. 4 and 5 draw with `aevb manifold`
// and `aevb sample`. Settings per panel: ../shared/reference/paper-baselines.md
// section 4, as docs/paper.md records them. Beside them, the seed material's
// two demonstrations: a plain autoencoder against the VAE, and the Gaussian
// decoder's variance c swept (docs/paper.md "The seed demonstrations").
#include "step_runner.hpp"

#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace aevb::cli {

/// What `--figures` may name: the paper's figures, then the demonstrations.
inline const std::vector<std::string> kPaperFigures = {"2", "3", "4", "5", "autoencoder", "variance"};

/// The decoder variances c of the sweep (the "variance" demonstration).
inline const std::vector<double> kDecoderVariances = {0.01, 0.03, 0.1, 0.3, 1.0};

struct PaperOptions {
  double budget = 1e6;             // training samples evaluated per run (the paper's x-axes end at 1e8)
  std::set<std::string> figures = {kPaperFigures.begin(), kPaperFigures.end()};
  std::string lr;                  // Adagrad's step size for every run; empty: each preset's
  std::size_t hmc_points = 1000;   // Fig. 3: App. D on the first P training and P test points
  std::size_t train_limit = 0;     // MNIST runs train on at most this many images (0: the paper's sizes)
  int threads = 1;                 // per child process

  bool wants(const std::string& figure) const { return figures.count(figure) > 0; }
};

/// One curve's run: where it is and what it stands for.
struct PaperRun {
  std::string id;          // job id and directory name under OUT/runs/
  std::string figure;      // one of kPaperFigures: the first that needs the run
  std::string dataset;     // "mnist", "frey"
  std::size_t latent = 0, hidden = 0, train_size = 0;
  std::string algorithm;   // "aevb", "wake-sleep", "mcem"
  std::vector<std::uint64_t> hmc_epochs;  // Fig. 3: epochs after which App. D is evaluated
  std::string family = "vae";  // "autoencoder" for the demonstration's plain autoencoder
  double variance = 0;         // > 0: a Gaussian decoder of fixed variance c on grey MNIST (the sweep)
};

struct PaperPlan {
  std::vector<PaperRun> runs;
  std::vector<Job> jobs;
};

/// Training set sizes: MNIST's 60000 (Fig. 3: 1000 and 50000 as the paper), Frey Face's 1965 less 365 held out.
inline constexpr std::size_t kFreyHeldOut = 365;

PaperPlan make_paper_plan(const PaperOptions& options, const std::filesystem::path& out);

/// Where a run's files are.
std::filesystem::path run_dir(const std::filesystem::path& out, const std::string& id);
/// The id of the sweep's run with decoder variance c.
std::string variance_run_id(double c);
std::filesystem::path hmc_result(const std::filesystem::path& out, const std::string& id, std::uint64_t epoch,
                                 const std::string& split);

}  // namespace aevb::cli
