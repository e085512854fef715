#pragma once
// The seed material's two demonstrations on `aevb paper`'s page
// (docs/paper.md "The seed demonstrations"): (a) a plain autoencoder against
// the VAE with the same networks, N(0, I) decoded by each, interpolations,
// and how regular each latent space is; (b) the Gaussian decoder's fixed
// variance c swept, with reconstruction error, KL, regularity and samples
// per value. Reads the runs' own files (eval --regularity JSON, PNGs).
#include "paper_page.hpp"
#include "paper_plan.hpp"

#include <filesystem>

namespace aevb::cli {

/// Writes OUT/demo-autoencoder.{svg,png} and OUT/demo-variance.{svg,png}
/// for the demonstrations `options` asks for, and adds their claims, figures
/// and results.json entries to `page`. A run not finished yet is left out
/// (its claim "not checked").
void add_demo_results(const PaperOptions& options, const std::filesystem::path& out, PaperPage& page);

}  // namespace aevb::cli
