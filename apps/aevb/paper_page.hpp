#pragma once
// What the parts of `aevb paper`'s results (the paper's figures in
// paper_results.cpp, the seed demonstrations in paper_demos.cpp) add to the
// one page: claims checked against the runs, figures, results.json entries.
#include "viz/png.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace aevb::cli {

struct PaperClaim {
  std::string figure, claim, evidence;
  std::optional<bool> reproduced;  // nullopt: not checked (not run, or nothing to compare)
};

struct PaperFigure {
  std::string heading, svg, caption;
};

struct PaperPage {
  std::vector<PaperClaim> claims;
  std::vector<PaperFigure> figures;
  nlohmann::json results;  // results.json; "figures" holds one entry per figure
};

/// OUT/NAME.svg and OUT/NAME.png (rasterized from the SVG), each written atomically.
void write_figure(const std::filesystem::path& out, const std::string& name, const std::string& svg);

/// OUT/runs/ID/FILE decoded, when the run has drawn it.
std::optional<viz::Image8> run_image(const std::filesystem::path& out, const std::string& id, const char* file);

/// A number for the page and the claims' evidence: 4 significant digits.
std::string page_number(double v);

}  // namespace aevb::cli
