#include "viz/code_usage_svg.hpp"

#include "viz/markup.hpp"

#include <algorithm>
#include <functional>
#include <numeric>

namespace aevb::viz {

std::string render_code_usage_svg(const std::vector<std::uint64_t>& usage, const std::string& title) {
  constexpr int kPlotWidth = 512, kPlotHeight = 160, kLeft = 56, kTop = 30, kBottom = 36, kPad = 12;
  const int width = kLeft + kPlotWidth + kPad, height = kTop + kPlotHeight + kBottom;
  std::vector<std::uint64_t> sorted = usage;
  std::sort(sorted.begin(), sorted.end(), std::greater<>());
  const double total = double(std::accumulate(sorted.begin(), sorted.end(), std::uint64_t{0}));
  const double top_share = sorted.empty() || total == 0 ? 1.0 : double(sorted.front()) / total;
  const auto y_of = [&](double share) { return double(kTop + kPlotHeight) - share / top_share * kPlotHeight; };

  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) + "\" height=\"" +
                    std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(width) + " " +
                    std::to_string(height) + "\" font-family=\"sans-serif\" font-size=\"11\">\n";
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg += "<text x=\"" + std::to_string(kLeft) + "\" y=\"16\" font-size=\"13\">" + xml_escape(title) + "</text>\n";
  const double bar = sorted.empty() ? 0.0 : double(kPlotWidth) / double(sorted.size());
  for (std::size_t k = 0; k < sorted.size(); ++k) {
    if (sorted[k] == 0) continue;
    const double y = y_of(double(sorted[k]) / total);
    svg += "<rect x=\"" + format_fixed(kLeft + double(k) * bar, 2) + "\" y=\"" + format_fixed(y, 2) + "\" width=\"" +
           format_fixed(std::max(bar, 0.5), 2) + "\" height=\"" + format_fixed(kTop + kPlotHeight - y, 2) +
           "\" fill=\"steelblue\"/>\n";
  }
  if (!sorted.empty()) {
    const double uniform = y_of(1.0 / double(sorted.size()));
    svg += "<line x1=\"" + std::to_string(kLeft) + "\" x2=\"" + std::to_string(kLeft + kPlotWidth) + "\" y1=\"" +
           format_fixed(uniform, 2) + "\" y2=\"" + format_fixed(uniform, 2) +
           "\" stroke=\"black\" stroke-dasharray=\"4 3\"/>\n";
    svg += "<text x=\"" + std::to_string(kLeft + kPlotWidth) + "\" y=\"" + format_fixed(uniform - 4, 2) +
           "\" text-anchor=\"end\">uniform use, 1/" + std::to_string(sorted.size()) + "</text>\n";
  }
  // Axes: share of assignments (0 and the largest), codes by rank.
  svg += "<line x1=\"" + std::to_string(kLeft) + "\" x2=\"" + std::to_string(kLeft) + "\" y1=\"" +
         std::to_string(kTop) + "\" y2=\"" + std::to_string(kTop + kPlotHeight) + "\" stroke=\"black\"/>\n";
  svg += "<line x1=\"" + std::to_string(kLeft) + "\" x2=\"" + std::to_string(kLeft + kPlotWidth) + "\" y1=\"" +
         std::to_string(kTop + kPlotHeight) + "\" y2=\"" + std::to_string(kTop + kPlotHeight) +
         "\" stroke=\"black\"/>\n";
  svg += "<text x=\"" + std::to_string(kLeft - 4) + "\" y=\"" + std::to_string(kTop + 4) + "\" text-anchor=\"end\">" +
         format_general(top_share, 3) + "</text>\n";
  svg += "<text x=\"" + std::to_string(kLeft - 4) + "\" y=\"" + std::to_string(kTop + kPlotHeight) +
         "\" text-anchor=\"end\">0</text>\n";
  svg += "<text x=\"" + std::to_string(kLeft + kPlotWidth / 2) + "\" y=\"" + std::to_string(height - 8) +
         "\" text-anchor=\"middle\">codes, most used first (" + std::to_string(sorted.size()) +
         "); bar height: share of the assignments</text>\n";
  svg += "</svg>\n";
  return svg;
}

}  // namespace aevb::viz
