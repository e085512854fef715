#include "viz/figure_panels.hpp"

#include "viz/base64.hpp"
#include "viz/markup.hpp"

#include <aevb/error.hpp>

#include <algorithm>
#include <regex>

namespace aevb::viz {
namespace {

struct Size {
  int width = 0, height = 0;
};

// The width and height attributes of the document's root <svg> tag.
Size svg_size(const std::string& svg) {
  const std::size_t end = svg.find('>');
  if (svg.rfind("<svg", 0) != 0 || end == std::string::npos)
    throw InputError("figure panels: a panel is not an SVG document");
  const std::string tag = svg.substr(0, end);
  static const std::regex width(R"( width="([0-9]+)\")"), height(R"( height="([0-9]+)\")");
  std::smatch w, h;
  if (!std::regex_search(tag, w, width) || !std::regex_search(tag, h, height))
    throw InputError("figure panels: a panel's <svg> has no integer width and height");
  return {std::stoi(w[1]), std::stoi(h[1])};
}

std::string header(int width, int height) {
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) + "\" height=\"" +
         std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(width) + " " + std::to_string(height) +
         "\" font-family=\"sans-serif\">\n<rect x=\"0\" y=\"0\" width=\"" + std::to_string(width) + "\" height=\"" +
         std::to_string(height) + "\" fill=\"#ffffff\"/>\n";
}

std::string title_text(int width, const std::string& title) {
  return "<text x=\"" + std::to_string(width / 2) + "\" y=\"26\" text-anchor=\"middle\" font-size=\"18\" "
         "font-weight=\"bold\">" + xml_escape(title) + "</text>\n";
}

constexpr int kTitleHeight = 40;

}  // namespace

std::string compose_svg_panels(const std::vector<std::string>& panels, int columns, const std::string& title) {
  if (columns < 1) throw InputError("figure panels: columns must be at least 1");
  Size cell;
  for (const std::string& p : panels) {
    const Size s = svg_size(p);
    cell.width = std::max(cell.width, s.width);
    cell.height = std::max(cell.height, s.height);
  }
  const int n = static_cast<int>(panels.size());
  const int cols = std::max(1, std::min(columns, n));
  const int rows = (n + cols - 1) / cols;
  const int width = std::max(cols * cell.width, 200), height = kTitleHeight + rows * cell.height;
  std::string out = header(width, height) + title_text(width, title);
  for (int i = 0; i < n; ++i) {
    // A nested <svg> placed at its cell (it clips to its own size).
    const std::string& p = panels[static_cast<std::size_t>(i)];
    const int x = (i % cols) * cell.width, y = kTitleHeight + (i / cols) * cell.height;
    out += "<svg x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(y) + "\"" + p.substr(4) + "\n";
  }
  return out + "</svg>\n";
}

std::string compose_image_row(const std::vector<CaptionedImage>& images, const std::string& title, int scale,
                              int gap) {
  if (images.empty()) throw InputError("figure panels: no images");
  if (scale < 1 || scale > 16 || gap < 0) throw InputError("figure panels: scale must be 1 to 16 and gap >= 0");
  int width = gap, height = 0;
  for (const CaptionedImage& c : images) {
    width += c.image.width * scale + gap;
    height = std::max(height, c.image.height * scale);
  }
  constexpr int kCaption = 28;
  std::string svg = header(width, kTitleHeight + height + kCaption + gap) + title_text(width, title);
  int x = gap;
  for (const CaptionedImage& c : images) {
    const int w = c.image.width * scale, h = c.image.height * scale;
    svg += "<image x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(kTitleHeight) + "\" width=\"" +
           std::to_string(w) + "\" height=\"" + std::to_string(h) +
           "\" style=\"image-rendering:pixelated\" href=\"data:image/png;base64," + base64_encode(encode_png(c.image)) +
           "\"/>\n<text x=\"" + std::to_string(x + w / 2) + "\" y=\"" + std::to_string(kTitleHeight + height + 20) +
           "\" text-anchor=\"middle\" font-size=\"14\">" + xml_escape(c.caption) + "</text>\n";
    x += w + gap;
  }
  return svg + "</svg>\n";
}

}  // namespace aevb::viz
