#pragma once
// What a VQ-VAE's evaluation reports (the vq family, docs/vq-vae.md): the
// reconstruction's squared error (raw and over the data's variance, as van
// den Oord et al. 2017 report it), the codebook terms, and how the codebook
// is used over the WHOLE evaluated set: the perplexity exp(H) of the codes'
// frequencies and the number of codes used at least once. Per-batch
// perplexities, which peers log, are lower than this and depend on the batch
// size. Bits per dimension bound -log2 p(x) per value of x with the uniform
// prior p(z) = K^-P the model trains with, and with a fitted code prior.
#include <aevb/vae.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <vector>

namespace aevb {

struct CodebookEvaluation {
  std::size_t count = 0;          // datapoints
  std::size_t positions = 0;      // P, codes per datapoint
  double mse = 0;                 // mean over datapoints and values of (x - E[x|z_q])^2
  double data_variance = 0;       // of every value of the evaluated x
  double mse_normalized = 0;      // mse / data_variance
  double codebook_loss = 0;       // per datapoint: sum over positions of ||z_e - e||^2
  double commitment_loss = 0;     // per datapoint: beta times the same sum (beta = the model's commitment)
  std::vector<std::uint64_t> usage;  // assignments of each code over the set
  double perplexity = 0;          // exp(-sum_k f_k log f_k), f_k = usage_k / (count * P)
  std::size_t codes_used = 0;     // codes with usage > 0
  double reconstruction = 0;      // mean log p(x|z_q), nats
  double bits_per_dim = 0;        // -(reconstruction - P log K) / (dims ln 2): the uniform prior
  /// With a fitted code prior (aevb train-prior): its cross-entropy on these
  /// codes, nats per position, and the bound in bits per dimension with it.
  std::optional<double> prior_nats_per_position, bits_per_dim_prior;
};

/// The codes of every row of x, [rows, positions] (Vae::quantize); InputError without a codebook.
std::vector<std::uint32_t> code_grids(const Vae& model, ConstMatrix x);

/// The measures above on the rows of x (InputError for a model without a
/// codebook), and x's code_grids into `codes` unless it is null.
CodebookEvaluation evaluate_codebook(const Vae& model, ConstMatrix x, std::vector<std::uint32_t>* codes = nullptr);

/// Fills the prior's two fields from its cross-entropy on the same codes.
void add_code_prior(CodebookEvaluation& e, double nats_per_position, std::size_t dims);

/// The keys aevb eval writes (mse, mse_normalized, data_variance, codebook_loss,
/// commitment_loss, perplexity, codes_used, bits_per_dim, and the prior's
/// prior_nats_per_position and bits_per_dim_prior), each name prefixed
/// with `prefix` (metrics.jsonl's "test_"); `usage` too when with_usage.
void add_codebook_json(nlohmann::json& out, const CodebookEvaluation& e, const std::string& prefix = "",
                       bool with_usage = false);

}  // namespace aevb
