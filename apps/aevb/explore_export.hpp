#pragma once
// `aevb explore --export DIR`: the explorer's embedding in the files
// TensorBoard's Embedding Projector loads (projector.tensorflow.org or
// TensorBoard's projector plugin): vectors.tsv (one posterior mean per line,
// tab-separated), metadata.tsv (a header line, then index, label and cluster
// where known), sprite.png (every datapoint's image in one grid) and
// projector_config.pbtxt naming them.
#include "explore_session.hpp"

#include <filesystem>

namespace aevb::cli {

/// Writes the files into `dir` (created); all or none of them (write_outputs).
/// Returns a one-line description of what was written.
std::string export_projector(const ExploreSession& session, const std::filesystem::path& dir);

}  // namespace aevb::cli
