#pragma once
// A codebook's usage as a picture: one bar per code, the codes sorted from
// the most to the least used, each bar's height its share of the
// assignments, so that a healthy codebook is a long flat shelf and dead codes
// are the empty tail on the right (the line at 1/K is uniform use).
#include <cstdint>
#include <string>
#include <vector>

namespace aevb::viz {

/// usage: assignments of each code; an SVG document. Empty usage gives an empty figure.
std::string render_code_usage_svg(const std::vector<std::uint64_t>& usage, const std::string& title);

}  // namespace aevb::viz
