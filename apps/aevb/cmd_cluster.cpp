// aevb cluster: each datapoint's cluster under a model with clusters (the
// cluster family), argmax_y q(y|x), with the probabilities q(y|x) beside it.
#include "commands.hpp"
#include "common.hpp"
#include "model_use.hpp"

#include "eval/evaluation.hpp"
#include "io/model_file.hpp"

#include <cstdio>
#include <memory>
#include <numeric>
#include <string>

namespace aevb::cli {
namespace {

struct ClusterFlags {
  std::string model_path, out;
  DataOptions data;
  std::uint64_t seed = 1;
  int threads = 0;
};

void run_cluster(const ClusterFlags& f) {
  const TableFormat format = format_of(f.out, "--out");
  set_threads(f.threads);
  const Vae model = load_model(f.model_path);
  require_encoder(model, f.model_path, "cluster");
  if (model.clusters() == 0)
    throw InputError("cluster: " + f.model_path + " is a " + model.config().family +
                     " model, which has no clusters (train one with --family cluster --clusters K)");
  const Dataset data = f.data.load();
  require_fit(model, data, f.model_path);
  const Binarize binarize = evaluation_binarization(f.data.binarize, f.model_path);
  std::vector<std::uint32_t> rows(data.count);
  std::iota(rows.begin(), rows.end(), 0u);
  const std::vector<float> x = gather_rows(data, rows, binarize, f.seed);
  std::vector<float> probabilities;
  const std::vector<std::int32_t> cluster = assign_clusters(model, {x.data(), data.count, data.dim}, &probabilities);
  const std::size_t n = data.count, k = model.clusters();
  // Per datapoint: its cluster, then q(y|x) for y = 0..K-1.
  std::vector<float> table(n * (1 + k));
  for (std::size_t r = 0; r < n; ++r) {
    table[r * (1 + k)] = float(cluster[r]);
    std::copy_n(probabilities.data() + r * k, k, table.data() + r * (1 + k) + 1);
  }
  std::string bytes;
  if (format == TableFormat::npy) {
    const std::size_t shape[] = {n, 1 + k};
    bytes = npy_bytes(table, shape);
  } else {
    std::vector<std::string> header{"cluster"};
    for (std::size_t y = 0; y < k; ++y) header.push_back("p_" + std::to_string(y));
    bytes = csv_bytes(table, 1 + k, header);
  }
  write_output(f.out, bytes);
  std::printf("wrote %s: the cluster (of %zu) and q(y|x) of %zu datapoints of %s (binarization %s)\n", f.out.c_str(),
              k, n, data.source.c_str(), to_string(binarize).data());
}

}  // namespace

void add_cluster_command(CLI::App& app) {
  auto flags = std::make_shared<ClusterFlags>();
  CLI::App* cmd = app.add_subcommand("cluster", "write each datapoint's cluster and q(y|x) (NPY or CSV)");
  cmd->footer(
      "For a model with clusters (--family cluster): each datapoint's cluster argmax_y q(y|x), where q(y|x) is the "
      "classifier q(y|z) at z = E[z|x], in the data's order. FILE.csv: a header line cluster,p_0,...,p_{K-1}, then "
      "one line per datapoint. FILE.npy: float32 of shape [n, 1 + K], column 0 the cluster, then the K "
      "probabilities. aevb eval scores the clusters against the data's labels.");
  cmd->add_option("--model", flags->model_path, "model file (model.safetensors)")->required();
  flags->data.add_to(*cmd, "test");
  cmd->add_option("--seed", flags->seed, "seed of the fixed binarization sample")->capture_default_str();
  cmd->add_option("--out", flags->out, "output file: .npy or .csv (the extension picks the format)")->required();
  add_threads_option(*cmd, flags->threads);
  cmd->callback([flags] { run_cluster(*flags); });
}

}  // namespace aevb::cli
