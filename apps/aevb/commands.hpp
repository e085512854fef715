#pragma once
// Each subcommand registers itself on the app: its options and a callback.
#include <CLI/CLI.hpp>

namespace aevb::cli {

void add_train_command(CLI::App& app);
void add_train_prior_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_report_command(CLI::App& app);
void add_info_command(CLI::App& app);
void add_sample_command(CLI::App& app);
void add_reconstruct_command(CLI::App& app);
void add_manifold_command(CLI::App& app);
void add_interpolate_command(CLI::App& app);
void add_encode_command(CLI::App& app);
void add_cluster_command(CLI::App& app);
void add_decode_command(CLI::App& app);
void add_inpaint_command(CLI::App& app);
void add_paper_command(CLI::App& app);
void add_explore_command(CLI::App& app);

}  // namespace aevb::cli
