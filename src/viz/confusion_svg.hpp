#pragma once
// The confusion matrix of a clustering against the classes as a picture: one
// row per cluster, one column per class, each cell shaded by its share of the
// cluster's datapoints and labelled with its count, so that a clean cluster is
// one dark cell in its row.
#include <cstdint>
#include <string>
#include <vector>

namespace aevb::viz {

/// rows: per-cluster counts, all of the same length (the classes); an SVG
/// document. An empty matrix gives an empty figure.
std::string render_confusion_svg(const std::vector<std::vector<std::uint64_t>>& rows, const std::string& title);

}  // namespace aevb::viz
