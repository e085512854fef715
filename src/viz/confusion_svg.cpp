#include "viz/confusion_svg.hpp"

#include "viz/markup.hpp"

#include <algorithm>
#include <numeric>

namespace aevb::viz {

std::string render_confusion_svg(const std::vector<std::vector<std::uint64_t>>& rows, const std::string& title) {
  constexpr int kCell = 34, kLeft = 70, kTop = 54, kPad = 12;
  const int clusters = int(rows.size()), classes = rows.empty() ? 0 : int(rows[0].size());
  const int width = kLeft + classes * kCell + kPad, height = kTop + clusters * kCell + kPad;
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) + "\" height=\"" +
                    std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(width) + " " +
                    std::to_string(height) + "\" font-family=\"sans-serif\" font-size=\"11\">\n";
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg += "<text x=\"" + std::to_string(kLeft) + "\" y=\"16\" font-size=\"13\">" + xml_escape(title) + "</text>\n";
  svg += "<text x=\"" + std::to_string(kLeft) + "\" y=\"32\">class</text>\n";
  svg += "<text x=\"4\" y=\"" + std::to_string(kTop - 6) + "\">cluster</text>\n";
  for (int c = 0; c < classes; ++c)
    svg += "<text x=\"" + std::to_string(kLeft + c * kCell + kCell / 2) + "\" y=\"" + std::to_string(kTop - 6) +
           "\" text-anchor=\"middle\">" + std::to_string(c) + "</text>\n";
  for (int k = 0; k < clusters; ++k) {
    const auto& row = rows[std::size_t(k)];
    const double total = double(std::accumulate(row.begin(), row.end(), std::uint64_t{0}));
    const int y = kTop + k * kCell;
    svg += "<text x=\"" + std::to_string(kLeft - 8) + "\" y=\"" + std::to_string(y + kCell / 2 + 4) +
           "\" text-anchor=\"end\">" + std::to_string(k) + "</text>\n";
    for (int c = 0; c < classes; ++c) {
      const double share = total > 0 ? double(row[std::size_t(c)]) / total : 0.0;
      // White (none of the cluster) to dark blue (all of it); the count in white on dark cells.
      const int shade = int(255 - 200 * share), blue = int(255 - 100 * share);
      const int x = kLeft + c * kCell;
      svg += "<rect x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(y) + "\" width=\"" +
             std::to_string(kCell - 1) + "\" height=\"" + std::to_string(kCell - 1) + "\" fill=\"rgb(" +
             std::to_string(shade) + "," + std::to_string(shade) + "," + std::to_string(blue) + ")\"/>\n";
      svg += "<text x=\"" + std::to_string(x + kCell / 2) + "\" y=\"" + std::to_string(y + kCell / 2 + 4) +
             "\" text-anchor=\"middle\" font-size=\"9\" fill=\"" + (share > 0.5 ? "white" : "black") + "\">" +
             std::to_string(row[std::size_t(c)]) + "</text>\n";
    }
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace aevb::viz
