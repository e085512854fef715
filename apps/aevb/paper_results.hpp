#pragma once
// What `aevb paper` makes of its runs: fig2..fig5 as SVG and PNG, the
// paper's claims checked against the curves, the seed demonstrations'
// figures and claims (paper_demos.hpp), results.json and index.html
// (docs/paper.md). Reads only the runs' own files, so it can be redone at
// any time from whatever has finished.
#include "paper_plan.hpp"

#include <filesystem>

namespace aevb::cli {

/// Writes OUT/fig*.svg, OUT/fig*.png, OUT/results.json and OUT/index.html
/// from the runs of `plan`; returns the number of claims checked and how
/// many the runs reproduce (printed by the caller).
struct ClaimCount {
  std::size_t checked = 0, reproduced = 0;
};
ClaimCount write_paper_results(const PaperPlan& plan, const PaperOptions& options, const std::filesystem::path& out);

}  // namespace aevb::cli
