#include "eval/codebook_metrics.hpp"

#include <aevb/error.hpp>

#include <cmath>
#include <numbers>
#include <string>

namespace aevb {

std::vector<std::uint32_t> code_grids(const Vae& model, ConstMatrix x) {
  std::vector<std::uint32_t> codes(x.rows * model.code_grid().positions);
  model.quantize(x, codes);
  return codes;
}

CodebookEvaluation evaluate_codebook(const Vae& model, ConstMatrix x, std::vector<std::uint32_t>* codes_out) {
  const CodeGrid grid = model.code_grid();
  if (grid.codes == 0)
    throw InputError("codebook evaluation: the " + model.config().family + " family has no codebook");
  CodebookEvaluation e;
  e.count = x.rows;
  e.positions = grid.positions;
  e.usage.assign(grid.codes, 0);
  std::vector<std::uint32_t> own;
  std::vector<std::uint32_t>& codes = codes_out ? *codes_out : own;
  codes.assign(x.rows * grid.positions, 0);
  if (x.rows == 0) return e;
  std::vector<float> squared_error(x.rows);
  model.quantize(x, codes, squared_error);
  std::vector<float> mean(x.rows * x.cols);
  model.decode_codes(codes, {mean.data(), x.rows, x.cols});

  double sum = 0, sum_sq = 0, err = 0;
  for (std::size_t i = 0; i < x.rows * x.cols; ++i) {
    const double v = x.data[i], d = v - double(mean[i]);
    sum += v;
    sum_sq += v * v;
    err += d * d;
  }
  const double n = double(x.rows * x.cols);
  e.mse = err / n;
  e.data_variance = std::max(0.0, sum_sq / n - (sum / n) * (sum / n));
  e.mse_normalized = e.data_variance > 0 ? e.mse / e.data_variance : 0.0;
  double squared = 0;
  for (float s : squared_error) squared += double(s);
  e.codebook_loss = squared / double(x.rows);
  e.commitment_loss = double(model.config().codebook.commitment) * e.codebook_loss;

  for (std::uint32_t c : codes) ++e.usage[c];
  double entropy = 0;
  const double total = double(codes.size());
  for (std::uint64_t u : e.usage) {
    if (u == 0) continue;
    ++e.codes_used;
    const double f = double(u) / total;
    entropy -= f * std::log(f);
  }
  e.perplexity = std::exp(entropy);

  // log p(x|z_q): the bound's reconstruction term, exact (q(z|x) is a point mass: one sample).
  e.reconstruction = model.evaluate(x, ObjectiveConfig{Estimator::B, 1, 1.0f}, 1).reconstruction;
  const double uniform_nats = double(grid.positions) * std::log(double(grid.codes));
  e.bits_per_dim = -(e.reconstruction - uniform_nats) / (double(x.cols) * std::numbers::ln2);
  return e;
}

void add_code_prior(CodebookEvaluation& e, double nats_per_position, std::size_t dims) {
  e.prior_nats_per_position = nats_per_position;
  e.bits_per_dim_prior =
      -(e.reconstruction - double(e.positions) * nats_per_position) / (double(dims) * std::numbers::ln2);
}

void add_codebook_json(nlohmann::json& out, const CodebookEvaluation& e, const std::string& prefix, bool with_usage) {
  out[prefix + "mse"] = e.mse;
  out[prefix + "mse_normalized"] = e.mse_normalized;
  out[prefix + "data_variance"] = e.data_variance;
  out[prefix + "codebook_loss"] = e.codebook_loss;
  out[prefix + "commitment_loss"] = e.commitment_loss;
  out[prefix + "perplexity"] = e.perplexity;
  out[prefix + "codes_used"] = e.codes_used;
  out[prefix + "bits_per_dim"] = e.bits_per_dim;
  if (e.prior_nats_per_position) {
    out[prefix + "prior_nats_per_position"] = *e.prior_nats_per_position;
    out[prefix + "bits_per_dim_prior"] = *e.bits_per_dim_prior;
  }
  if (with_usage) out[prefix + "code_usage"] = e.usage;
}

}  // namespace aevb
