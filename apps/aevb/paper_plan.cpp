#include "paper_plan.hpp"

#include <aevb/error.hpp>

#include "viz/markup.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace aevb::cli {
namespace {

namespace fs = std::filesystem;

std::string format_samples(double samples) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2g samples", samples);
  return text;
}

std::uint64_t epochs_for(double samples, std::size_t n) {
  return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::llround(samples / double(n))));
}

struct Builder {
  const PaperOptions& options;
  fs::path out;
  PaperPlan plan;

  fs::path dir(const std::string& id) const { return run_dir(out, id); }

  // The run's `aevb train` arguments, without --epochs.
  std::vector<std::string> train_args(const PaperRun& r) const {
    std::vector<std::string> a = {"train", "--preset", r.dataset == "frey" ? "paper-frey" : "paper-mnist",
                                  "--hidden", std::to_string(r.hidden), "--latent", std::to_string(r.latent),
                                  "--algorithm", r.algorithm, "--threads", std::to_string(options.threads),
                                  "--no-report", "--overwrite", "--out", (dir(r.id) / "run").string()};
    if (!options.lr.empty()) a.insert(a.end(), {"--lr", options.lr});
    if (r.family != "vae") a.insert(a.end(), {"--family", r.family});
    if (r.variance > 0)
      a.insert(a.end(),
               {"--likelihood", "gaussian-fixed", "--variance", viz::format_general(r.variance), "--binarize", "none"});
    if (r.dataset == "frey") {
      // Frey Face has no test split: 365 faces held out, as the authors' later code (1600 / 365).
      a.insert(a.end(), {"--validation", std::to_string(kFreyHeldOut)});
    } else {
      a.insert(a.end(), {"--validation", "0"});
      if (r.train_size < 60000) a.insert(a.end(), {"--limit", std::to_string(r.train_size)});
      // Fig. 2's test curve: the bound on the first 1000 test images after each epoch.
      a.insert(a.end(), {"--test-eval", r.figure == "3" ? "0" : "1000"});
    }
    return a;
  }

  Step train_step(const PaperRun& r, std::uint64_t epochs) const {
    Step s;
    s.what = "train " + (r.family == "vae" ? r.algorithm : r.family) + " to " + std::to_string(epochs) +
             " epochs (" + format_samples(double(epochs) * double(r.train_size)) + ")";
    s.args = train_args(r);
    s.args.insert(s.args.end(), {"--epochs", std::to_string(epochs)});
    s.resume_if = dir(r.id) / "run" / "checkpoint.safetensors";
    s.resume_args = {"train", "--resume", (dir(r.id) / "run").string(), "--epochs", std::to_string(epochs),
                     "--threads", std::to_string(options.threads)};
    return s;
  }

  Step hmc_step(const PaperRun& r, std::uint64_t epoch, const std::string& split) const {
    Step s;
    s.what = "App. D log p(x) on " + std::to_string(options.hmc_points) + " " + split + " points after epoch " +
             std::to_string(epoch);
    s.args = {"eval", "--model", (dir(r.id) / "run" / "model.safetensors").string(), "--data", "mnist",
              "--split", split, "--limit", std::to_string(options.hmc_points), "--hmc", "--iw", "0", "--json",
              "--threads", std::to_string(options.threads), "--out", hmc_result(out, r.id, epoch, split).string()};
    return s;
  }

  // `aevb COMMAND --model RUN/model.safetensors --out DIR/FILE EXTRA...`.
  Step draw_step(const PaperRun& r, const std::string& command, const std::string& file,
                 const std::vector<std::string>& extra = {}) const {
    Step s;
    s.what = command + " of the trained model";
    s.args = {command, "--model", (dir(r.id) / "run" / "model.safetensors").string(), "--out",
              (dir(r.id) / file).string()};
    if (command == "sample") s.args.insert(s.args.end(), {"--count", "100"});
    s.args.insert(s.args.end(), extra.begin(), extra.end());
    return s;
  }

  // The demonstrations' measures (aevb eval --regularity) on the MNIST test set.
  Step regularity_step(const PaperRun& r) const {
    Step s = draw_step(r, "eval", "regularity.json",
                       {"--data", "mnist", "--iw", "0", "--regularity", "--json", "--threads",
                        std::to_string(options.threads)});
    s.what = "latent regularity and reconstruction on the MNIST test set";
    return s;
  }

  // Relative cost for scheduling: samples times the network's width.
  static double cost(const PaperRun& r, double samples) {
    const double per_sample = double(r.hidden) * (r.dataset == "frey" ? 560.0 : 784.0) + double(r.latent) * 1000.0;
    return samples * per_sample * (r.algorithm == "mcem" ? 4.0 : 1.0) + double(r.hmc_epochs.size()) * 1e11;
  }

  // Adds the run, or when a run of that id is planned already (the same
  // settings: ids name them), appends `extra_after` to its steps.
  void add(PaperRun r, std::vector<Step> extra_after = {}) {
    for (Job& j : plan.jobs)
      if (j.id == r.id) {
        for (Step& s : extra_after) j.steps.push_back(std::move(s));
        return;
      }
    if (r.dataset == "mnist" && options.train_limit > 0) r.train_size = std::min(r.train_size, options.train_limit);
    Job job;
    job.id = r.id;
    job.dir = dir(r.id);
    const std::uint64_t epochs = epochs_for(options.budget, r.train_size);
    std::uint64_t trained = 0;
    for (std::uint64_t e : r.hmc_epochs) {
      if (e > trained) job.steps.push_back(train_step(r, e));
      trained = e;
      job.steps.push_back(hmc_step(r, e, "train"));
      job.steps.push_back(hmc_step(r, e, "test"));
    }
    if (epochs > trained) job.steps.push_back(train_step(r, epochs));
    for (Step& s : extra_after) job.steps.push_back(std::move(s));
    job.cost = cost(r, double(epochs) * double(r.train_size));
    plan.jobs.push_back(std::move(job));
    plan.runs.push_back(std::move(r));
  }
};

}  // namespace

fs::path run_dir(const fs::path& out, const std::string& id) { return out / "runs" / id; }

std::string variance_run_id(double c) { return "demo-variance-c" + viz::format_general(c); }

fs::path hmc_result(const fs::path& out, const std::string& id, std::uint64_t epoch, const std::string& split) {
  return run_dir(out, id) / ("hmc-" + split + "-epoch" + std::to_string(epoch) + ".json");
}

PaperPlan make_paper_plan(const PaperOptions& options, const fs::path& out) {
  if (!(options.budget >= 1000 && options.budget <= 1e10))
    throw InputError("--budget: expected training samples per run from 1000 to 1e10, found " +
                     std::to_string(options.budget));
  if (options.hmc_points == 0 || options.hmc_points > 10000)
    throw InputError("--hmc-points: expected 1 to 10000 points, found " + std::to_string(options.hmc_points));
  Builder b{options, out, {}};
  const bool fig5 = options.wants("5");
  auto samples_step = [&](const PaperRun& r) {
    return std::vector<Step>{b.draw_step(r, "sample", "samples.png")};
  };
  if (options.wants("2") || fig5) {
    // Fig. 2: AEVB against wake-sleep, MNIST with 500 hidden units, Frey Face with 200.
    const std::vector<std::size_t> mnist_latents = options.wants("2") ? std::vector<std::size_t>{3, 5, 10, 20, 200}
                                                                            : std::vector<std::size_t>{5, 10, 20};
    for (std::size_t nz : mnist_latents)
      for (const char* algorithm : {"aevb", "wake-sleep"}) {
        if (!options.wants("2") && std::string(algorithm) != "aevb") continue;
        PaperRun r{"fig2-mnist-nz" + std::to_string(nz) + "-" + algorithm, "2", "mnist", nz, 500, 60000, algorithm, {}};
        const bool drawn = fig5 && std::string(algorithm) == "aevb" && (nz == 5 || nz == 10 || nz == 20);
        b.add(r, drawn ? samples_step(r) : std::vector<Step>{});
      }
    if (options.wants("2"))
      for (std::size_t nz : {2, 5, 10, 20})
        for (const char* algorithm : {"aevb", "wake-sleep"})
          b.add({"fig2-frey-nz" + std::to_string(nz) + "-" + algorithm, "2", "frey", nz, 200, 1965 - kFreyHeldOut,
                 algorithm, {}});
  }
  if (options.wants("3")) {
    // Fig. 3: MNIST, 100 hidden units, Nz = 3; App. D at half-decade budgets. MCEM at N = 1000 only
    // (the paper: it "does not scale" to the full set; aevb's MCEM refuses N > 10000).
    for (std::size_t n : {std::size_t{1000}, std::size_t{50000}})
      for (const char* algorithm : {"aevb", "wake-sleep", "mcem"}) {
        if (n > 1000 && std::string(algorithm) == "mcem") continue;
        std::vector<std::uint64_t> points;
        const std::size_t size = options.train_limit > 0 ? std::min(n, options.train_limit) : n;
        for (int k = 4; k >= 0; --k) {
          const std::uint64_t e = epochs_for(options.budget * std::pow(10.0, -0.5 * k), size);
          if (points.empty() || e > points.back()) points.push_back(e);
        }
        b.add({"fig3-n" + std::to_string(n) + "-" + algorithm, "3", "mnist", 3, 100, n, algorithm, points});
      }
  }
  if (options.wants("4") || fig5) {
    // Fig. 4: 2-D latent manifolds; the MNIST one is also Fig. 5's Nz = 2.
    if (options.wants("4")) {
      PaperRun frey{"fig4-frey-nz2", "4", "frey", 2, 200, 1965 - kFreyHeldOut, "aevb", {}};
      b.add(frey, {b.draw_step(frey, "manifold", "manifold.png")});
    }
    PaperRun mnist{"fig4-mnist-nz2", "4", "mnist", 2, 500, 60000, "aevb", {}};
    std::vector<Step> draws;
    if (options.wants("4")) draws.push_back(b.draw_step(mnist, "manifold", "manifold.png"));
    if (fig5) draws.push_back(b.draw_step(mnist, "sample", "samples.png"));
    b.add(mnist, std::move(draws));
  }
  if (options.wants("autoencoder")) {
    // A plain autoencoder beside the VAE with the same networks (784-500-20, paper-mnist's settings; the
    // VAE is Fig. 2's Nz = 20 run): N(0, I) decoded by each, interpolations, and the regularity measures.
    const std::vector<std::string> interpolation = {"--data", "mnist", "--from", "0,1,2,3,4", "--to", "5,6,7,8,9",
                                                    "--steps", "10"};
    for (const char* family : {"vae", "autoencoder"}) {
      const bool vae = std::string(family) == "vae";
      PaperRun r{vae ? "fig2-mnist-nz20-aevb" : "demo-autoencoder", "autoencoder", "mnist", 20, 500, 60000, "aevb", {}};
      r.family = family;
      b.add(r, {b.draw_step(r, "sample", "normal-draws.png", {"--assume-normal-prior"}),
                b.draw_step(r, "interpolate", "interpolation.png", interpolation), b.regularity_step(r)});
    }
  }
  if (options.wants("variance")) {
    // The Gaussian decoder's fixed variance c, swept on grey MNIST: c weighs the squared error against the
    // KL (log p(x|z) = -||x - f(z)||^2 / 2c + const), from sharp reconstructions to a collapsed posterior.
    for (double c : kDecoderVariances) {
      PaperRun r{variance_run_id(c), "variance", "mnist", 20, 500, 60000, "aevb", {}};
      r.variance = c;
      b.add(r, {b.draw_step(r, "sample", "samples.png"), b.regularity_step(r)});
    }
  }
  return std::move(b.plan);
}

}  // namespace aevb::cli
