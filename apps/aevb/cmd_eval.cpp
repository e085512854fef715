// aevb eval: the bound, the importance-sampled marginal likelihood, with
// --hmc the paper's App. D estimate of it, the active latent units of a
// model on a dataset, and with --regularity how well its prior's samples
// land where the data is coded (eval/latent_regularity.hpp).
#include "code_prior_use.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "progress.hpp"
#include "world.hpp"

#include "eval/codebook_metrics.hpp"
#include "eval/evaluation.hpp"
#include "eval/hmc_likelihood.hpp"
#include "eval/latent_regularity.hpp"
#include "io/model_file.hpp"
#include "train/epoch_runner.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>

namespace aevb::cli {
namespace {

struct EvalFlags {
  std::string model_path, prior_path, estimator = "B", json_out, per_datapoint_out, matmul_precision = "float32";
  DataOptions data;
  std::size_t iw = 5000, samples = 1, weight_samples = Vae::kWeightSamples;
  std::uint64_t seed = 1;
  int threads = 0;
  bool json = false, hmc = false, regularity = false;
  HmcLikelihoodOptions hmc_options;
  RegularityOptions regularity_options;
  CLI::App* cmd = nullptr;
};

// index,log_likelihood, one line per datapoint in the data's order: two
// models evaluated on the same data and seed see the same binarized images,
// so their files pair up line by line (a paired comparison's differences).
std::string per_datapoint_csv(const std::vector<double>& log_likelihoods) {
  std::string csv = "index,log_likelihood\n";
  char line[64];
  for (std::size_t i = 0; i < log_likelihoods.size(); ++i) {
    std::snprintf(line, sizeof line, "%zu,%.10g\n", i, log_likelihoods[i]);
    csv += line;
  }
  return csv;
}

void run_eval(const EvalFlags& f) {
  set_threads(f.threads);
  const Vae model = load_model(f.model_path);
  if (f.hmc && !model.has_prior())
    throw InputError("--hmc estimates log p(x), which needs a model with a prior; " + f.model_path + " is " +
                     model.config().family);
  if (f.hmc) validate(f.hmc_options);
  if (f.cmd->count("--weight-samples") > 0 && !model.has_weight_posterior())
    throw InputError("--weight-samples averages over decoders theta ~ q(theta); " + f.model_path +
                     " has no weight posterior (train it with --full-vb)");
  // A decoder-only model (MCEM's) has no q(z|x): no bound, no importance sampling.
  const bool has_encoder = !model.config().decoder_only;
  if (!has_encoder && !f.hmc)
    throw InputError(f.model_path + " is decoder-only (trained by mcem): its bound and importance-sampled log p(x) "
                     "need an encoder; --hmc estimates log p(x) without one");
  if (f.regularity && !has_encoder)
    throw InputError("--regularity codes the data with the encoder; " + f.model_path +
                     " is decoder-only (trained by mcem)");
  if (!f.per_datapoint_out.empty() && (!model.has_prior() || f.iw == 0 || !has_encoder))
    throw InputError("--per-datapoint writes each datapoint's importance-sampled log p(x), which needs --iw > 0 and "
                     "a model with a prior and an encoder; " + f.model_path + " is " +
                     (has_encoder ? model.config().family : "decoder-only") + " with --iw " + std::to_string(f.iw));
  const Dataset data = f.data.load();
  require_fit(model, data, f.model_path);
  const Binarize binarize = evaluation_binarization(f.data.binarize, f.model_path);
  // A conditional model reads each datapoint's label after its values.
  const std::vector<float> x = evaluation_rows(with_label_columns(data, model.classes()), binarize, f.seed);
  const ConstMatrix x_rows{x.data(), data.count, model_row_width(model.config())};
  // Under mpirun the ranks split the datapoints (docs/distributed.md): they
  // must hold the same rows and parameters for their shares to add up.
  Communicator& ranks = World::get().communicator();
  if (ranks.size() > 1) {
    require_same_as_rank_zero(ranks, checksum(x.data(), x.size() * sizeof(float)), "the evaluation data");
    require_same_as_rank_zero(ranks, checksum(model.parameters().data(), model.parameters().size_bytes()),
                              "the model's parameters");
  }

  EvalOptions options;
  options.objective = {parse_estimator(f.estimator), f.samples, 1.0f};
  validate(options.objective);
  // A family without a prior (the autoencoder) has no log p(x) to estimate;
  // one whose z is a function of x (the vq family's codes) has L_k = the bound for every k.
  const std::size_t iw = model.has_prior() && has_encoder && model.engine().noise_dim() > 0 ? f.iw : 0;
  options.iw_samples = iw;
  options.seed = f.seed;
  options.weight_samples = f.weight_samples;
  options.matmul_precision = parse_matmul_precision(f.matmul_precision);
  if (model.clusters() > 0 && data.has_labels()) options.labels = data.labels;
  options.ranks = &ranks;
  const auto start = std::chrono::steady_clock::now();
  EvalResult r;
  if (has_encoder) {
    Progress progress("log p(x), k = " + std::to_string(iw), "datapoints");
    r = evaluate_model(model, x_rows, options, [&](std::size_t done, std::size_t total) {
      if (!f.json) progress.update(done, total, NAN);
    });
    if (!f.json && iw > 0) progress.finish();
  }
  HmcLikelihood hmc;
  if (f.hmc) {
    if (model.config().latent > 5)
      std::fprintf(stderr, "aevb: warning: --hmc with %zu latent dimensions: the paper found the estimator "
                           "unreliable above 5 latent dimensions\n", model.config().latent);
    HmcLikelihoodOptions hmc_options = f.hmc_options;
    hmc_options.seed = f.seed;
    Progress hmc_progress("log p(x), App. D (HMC)", "datapoints");
    hmc = hmc_log_likelihood(model, x_rows, hmc_options,
                             [&](std::size_t done, std::size_t total) {
                               if (!f.json) hmc_progress.update(done, total, NAN);
                             },
                             &ranks);
    if (!f.json) hmc_progress.finish();
  }
  std::optional<CodebookEvaluation> codebook;
  if (model.code_grid().codes > 0) {
    std::vector<std::uint32_t> codes;
    codebook = evaluate_codebook(model, x_rows, &codes);
    if (std::optional<CodePrior> prior = find_code_prior(model, f.model_path, f.prior_path); prior && data.count > 0)
      add_code_prior(*codebook, prior->cross_entropy(codes, data.count), data.dim);
  } else if (!f.prior_path.empty()) {
    throw InputError("eval: --prior is a code prior; " + f.model_path + " is a " + model.config().family +
                     " model, which has no codebook");
  }
  LatentRegularity regularity;
  if (f.regularity) {
    RegularityOptions o = f.regularity_options;
    o.seed = f.seed;
    regularity = latent_regularity(model, x_rows, o);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  nlohmann::json out = {{"model", f.model_path},
                        {"data", data.source},
                        {"count", data.count},
                        {"binarize", std::string(to_string(binarize))},
                        {"family", model.config().family},
                        {"seed", f.seed},
                        {"matmul_precision", f.matmul_precision},
                        {"seconds", seconds}};
  if (has_encoder) {
    out.update({{"estimator", f.estimator},
                {"samples", f.samples},
                {"elbo", r.elbo.bound},
                {"reconstruction", r.elbo.reconstruction},
                {"kl", r.elbo.kl},
                {"iw_samples", iw},
                {"active_units", r.active_units},
                {"active_units_per_layer", r.active_units_per_layer},
                {"activity", r.activity}});
  } else {
    out["decoder_only"] = true;
  }
  if (model.has_weight_posterior()) out["weight_samples"] = f.weight_samples;
  if (r.clusters) {
    const ClusterEvaluation& c = *r.clusters;
    nlohmann::json confusion = nlohmann::json::array();
    for (std::size_t k = 0; k < c.confusion.clusters; ++k) {
      const std::uint64_t* row = c.confusion.counts.data() + k * c.confusion.classes;
      confusion.push_back(std::vector<std::uint64_t>(row, row + c.confusion.classes));
    }
    out.update({{"cluster_accuracy", c.scores.accuracy},
                {"cluster_accuracy_majority", c.scores.accuracy_majority},
                {"nmi", c.scores.nmi},
                {"ari", c.scores.ari},
                {"clusters", model.clusters()},
                {"confusion", confusion}});
  }
  if (codebook) {
    add_codebook_json(out, *codebook, "", true);
    out["codes"] = model.code_grid().codes;
  }
  if (iw > 0) {
    out["log_likelihood"] = r.log_likelihood;
    out["log_likelihood_stderr"] = r.log_likelihood_stderr;
  }
  if (f.hmc) {
    out["log_likelihood_hmc"] = hmc.mean;
    out["log_likelihood_hmc_stderr"] = hmc.stderr_;
    out["hmc_samples"] = f.hmc_options.samples;
    out["hmc_leapfrog_steps"] = f.hmc_options.hmc.leapfrog_steps;
    out["hmc_burn_in"] = f.hmc_options.burn_in;
    out["hmc_acceptance"] = hmc.acceptance;
  }
  if (f.regularity)
    out["regularity"] = {{"code_kl_to_prior", regularity.code_kl_to_prior},
                         {"reconstruction_mse", regularity.reconstruction_mse},
                         {"reconstruction_nn_mse", regularity.reconstruction_nn_mse},
                         {"prior_sample_nn_mse", regularity.prior_sample_nn_mse},
                         {"nn_ratio", regularity.nn_ratio()},
                         {"reference_rows", regularity.reference_rows},
                         {"held_out_rows", regularity.held_out_rows},
                         {"prior_samples", regularity.prior_samples}};
  if (!f.json_out.empty()) write_output(f.json_out, out.dump(2) + "\n");
  if (!f.per_datapoint_out.empty()) write_output(f.per_datapoint_out, per_datapoint_csv(r.log_likelihoods));
  if (f.json) {
    std::printf("%s\n", out.dump(2).c_str());
    return;
  }
  std::printf("%s: %zu datapoints (%s binarization)%s\n", data.source.c_str(), data.count,
              to_string(binarize).data(), has_encoder ? "" : ", a decoder-only model");
  if (has_encoder && model.has_prior())
    std::printf("  ELBO (estimator %s, L = %zu)   %10.3f nats  (reconstruction %.3f, KL %.3f)\n", f.estimator.c_str(),
                f.samples, r.elbo.bound, r.elbo.reconstruction, r.elbo.kl);
  else if (has_encoder)
    std::printf("  reconstruction log p(x|z)   %10.3f nats  (no log p(x): the %s family has no prior)\n",
                r.elbo.reconstruction, model.config().family.c_str());
  if (iw > 0)
    std::printf("  log p(x) (importance sampling, k = %zu)   %10.3f +- %.3f nats\n", iw, r.log_likelihood,
                r.log_likelihood_stderr);
  if (f.hmc)
    std::printf("  log p(x) (App. D: HMC, %zu samples, %zu leapfrog steps)   %10.3f +- %.3f nats  (acceptance %.2f)\n",
                f.hmc_options.samples, f.hmc_options.hmc.leapfrog_steps, hmc.mean, hmc.stderr_, hmc.acceptance);
  if (has_encoder) {
    std::printf("  active latent units (Cov_x E_q[z_j] > 0.01)   %zu of %zu", r.active_units, r.activity.size());
    if (r.active_units_per_layer.size() > 1) {
      const std::vector<std::size_t> widths = model.latent_layers();
      for (std::size_t l = 0; l < widths.size(); ++l)
        std::printf("%sz%zu %zu of %zu", l == 0 ? "  (" : ", ", l + 1, r.active_units_per_layer[l], widths[l]);
      std::printf(")");
    }
    std::printf("\n");
  }
  if (r.clusters) {
    const ClusterScores& c = r.clusters->scores;
    std::printf("  clusters (%zu) against the labels: accuracy %.4f (Hungarian, one-to-one), %.4f (majority, "
                "many-to-one), NMI %.4f, ARI %.4f\n",
                model.clusters(), c.accuracy, c.accuracy_majority, c.nmi, c.ari);
  }
  if (codebook) {
    const CodebookEvaluation& c = *codebook;
    std::printf("  reconstruction MSE   %.6f per value (%.4f of the data's variance %.5f)\n", c.mse, c.mse_normalized,
                c.data_variance);
    std::printf("  codebook term %.4f, commitment term %.4f (beta x the same squared distance), per datapoint\n",
                c.codebook_loss, c.commitment_loss);
    std::printf("  codes used %zu of %zu, perplexity %.2f (over all %zu datapoints x %zu positions)\n", c.codes_used,
                c.usage.size(), c.perplexity, c.count, c.positions);
    std::printf("  bits per dimension   %.4f with the uniform prior", c.bits_per_dim);
    if (c.bits_per_dim_prior)
      std::printf(", %.4f with the code prior (%.4f nats per position)", *c.bits_per_dim_prior,
                  *c.prior_nats_per_position);
    std::printf("\n");
  }
  if (f.regularity) {
    std::printf("  regularity: KL(codes' Gaussian || N(0, I))   %10.3f nats\n", regularity.code_kl_to_prior);
    std::printf("  regularity: decoded N(0, I) draws to the nearest of %zu images   %.5f per dimension, %.2fx the "
                "decoded codes of %zu held-out images (%.5f; their reconstruction MSE %.5f)\n",
                regularity.reference_rows, regularity.prior_sample_nn_mse, regularity.nn_ratio(),
                regularity.held_out_rows, regularity.reconstruction_nn_mse, regularity.reconstruction_mse);
  }
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto flags = std::make_shared<EvalFlags>();
  CLI::App* cmd = app.add_subcommand("eval", "evaluate the bound and the marginal likelihood of a model");
  flags->cmd = cmd;
  cmd->add_option("--model", flags->model_path, "model file (model.safetensors)")->required();
  flags->data.add_to(*cmd, "test");
  cmd->add_option("--iw", flags->iw, "importance samples k for log p(x) (0: skip)")->capture_default_str();
  cmd->add_option("--estimator", flags->estimator, "bound estimator: A, B or iw")->capture_default_str();
  cmd->add_option("--samples", flags->samples, "samples L per datapoint for the bound")->capture_default_str();
  cmd->add_option("--seed", flags->seed, "seed of the evaluation noise")->capture_default_str();
  cmd->add_option("--weight-samples", flags->weight_samples,
                  "decoders theta ~ q(theta) to average over, for a full-VB model")
      ->capture_default_str();
  cmd->add_option("--matmul-precision", flags->matmul_precision,
                  "float32, or bfloat16: products rounded to bfloat16, on AMX (about 2x faster log p(x)) or "
                  "AVX512-BF16")
      ->capture_default_str();
  cmd->add_option("--prior", flags->prior_path,
                  "a vq model's code prior (default: prior.safetensors beside the model, if there)");
  cmd->add_flag("--json", flags->json, "print the results as JSON (keys include elbo, log_likelihood)");
  cmd->add_option("--out", flags->json_out, "also write the JSON results to this file (e.g. RUN/eval.json)");
  cmd->add_option("--per-datapoint", flags->per_datapoint_out,
                  "also write each datapoint's log p(x) to this CSV (index,log_likelihood), to pair two models");
  cmd->add_flag("--hmc", flags->hmc,
                "also estimate log p(x) as the paper's App. D does (HMC posterior samples, KDE, harmonic mean)");
  cmd->add_option("--hmc-samples", flags->hmc_options.samples, "--hmc: posterior samples per datapoint")
      ->capture_default_str();
  cmd->add_option("--hmc-leapfrog", flags->hmc_options.hmc.leapfrog_steps, "--hmc: leapfrog steps per HMC transition")
      ->capture_default_str();
  cmd->add_option("--hmc-burn-in", flags->hmc_options.burn_in,
                  "--hmc: HMC transitions before the samples (step sizes adapt only here)")
      ->capture_default_str();
  cmd->add_flag("--regularity", flags->regularity,
                "also measure the latent space's regularity: the codes' distance from N(0, I) and how near decoded "
                "N(0, I) draws come to the data (the first half of the rows), against held-out images' codes");
  cmd->add_option("--regularity-samples", flags->regularity_options.prior_samples,
                  "--regularity: decoded N(0, I) draws, and at most this many held-out images")
      ->capture_default_str();
  add_threads_option(*cmd, flags->threads);
  cmd->callback([flags] { run_eval(*flags); });
}

}  // namespace aevb::cli
