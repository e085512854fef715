#include "viz/report_html.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "aevb/error.hpp"
#include "viz/base64.hpp"
#include "viz/markup.hpp"

namespace aevb::viz {
namespace {

constexpr std::string_view kStyle = R"(
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1a1a1a;
       background: #ffffff; margin: 2em auto; max-width: 1100px; padding: 0 1em; line-height: 1.45; }
h1 { font-size: 1.6em; border-bottom: 1px solid #d0d0d0; padding-bottom: 0.3em; }
h2 { font-size: 1.25em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.8em 0; }
caption { text-align: left; font-weight: bold; padding-bottom: 0.3em; }
th, td { border: 1px solid #d0d0d0; padding: 0.25em 0.8em; }
th { text-align: left; font-weight: normal; background: #f5f5f5; }
td { text-align: right; font-variant-numeric: tabular-nums; }
figure { display: inline-block; vertical-align: top; margin: 0.5em 1.5em 1em 0; max-width: 100%; }
figure svg, figure img { display: block; max-width: 100%; height: auto; }
figure img { image-rendering: pixelated; image-rendering: crisp-edges; }
figcaption { font-size: 0.9em; color: #444444; margin-top: 0.4em; max-width: 640px; }
footer { margin-top: 3em; font-size: 0.8em; color: #777777; }
)";

std::uint32_t read_be32(std::string_view b, std::size_t at) {
  return (std::uint32_t{static_cast<unsigned char>(b[at])} << 24) |
         (std::uint32_t{static_cast<unsigned char>(b[at + 1])} << 16) |
         (std::uint32_t{static_cast<unsigned char>(b[at + 2])} << 8) |
         std::uint32_t{static_cast<unsigned char>(b[at + 3])};
}

std::string figure(std::string_view content, std::string_view caption) {
  std::string out = "<figure>\n";
  out += content;
  if (!caption.empty()) out += "<figcaption>" + html_escape(caption) + "</figcaption>\n";
  out += "</figure>\n";
  return out;
}

}  // namespace

std::string html_escape(std::string_view text) { return xml_escape(text); }

std::string format_number(double v, int significant) {
  if (std::isfinite(v) && v == std::trunc(v) && std::fabs(v) <= 9007199254740992.0) return format_fixed(v, 0);
  return format_general(v, significant);
}

Report::Report(std::string title) : title_(std::move(title)) {}

Report& Report::add_heading(std::string_view text) {
  blocks_.push_back("<h2>" + html_escape(text) + "</h2>\n");
  return *this;
}

Report& Report::add_paragraph(std::string_view text) {
  blocks_.push_back("<p>" + html_escape(text) + "</p>\n");
  return *this;
}

Report& Report::add_table(const std::vector<ReportRow>& rows, std::string_view caption) {
  std::string out = "<table>\n";
  if (!caption.empty()) out += "<caption>" + html_escape(caption) + "</caption>\n";
  for (const ReportRow& r : rows) {
    out += "<tr><th scope=\"row\">" + html_escape(r.key) + "</th><td>" + html_escape(r.value) + "</td></tr>\n";
  }
  out += "</table>\n";
  blocks_.push_back(std::move(out));
  return *this;
}

Report& Report::add_svg(std::string_view svg, std::string_view caption) {
  const auto skip_space = [&] {
    const std::size_t p = svg.find_first_not_of(" \t\r\n");
    svg.remove_prefix(p == std::string_view::npos ? svg.size() : p);
  };
  skip_space();
  if (svg.substr(0, 5) == "<?xml") {
    const std::size_t end = svg.find("?>");
    svg.remove_prefix(end == std::string_view::npos ? svg.size() : end + 2);
    skip_space();
  }
  if (svg.substr(0, 4) != "<svg" || svg.find("</svg>") == std::string_view::npos) {
    throw InputError("report: figure is not an SVG document (expected '<svg ... </svg>')");
  }
  std::string content(svg);
  if (content.back() != '\n') content += '\n';
  blocks_.push_back(figure(content, caption));
  return *this;
}

Report& Report::add_png(std::string_view png_bytes, std::string_view caption, std::string_view alt,
                        int display_scale) {
  // Signature, then the IHDR chunk: length (4), "IHDR", width (4), height (4).
  constexpr std::string_view kSignature("\x89PNG\r\n\x1a\n", 8);
  if (png_bytes.size() < 33 || png_bytes.substr(0, 8) != kSignature || png_bytes.substr(12, 4) != "IHDR") {
    throw InputError("report: image is not a PNG file");
  }
  const std::uint32_t w = read_be32(png_bytes, 16), h = read_be32(png_bytes, 20);
  if (w == 0 || h == 0 || w > 1000000 || h > 1000000) throw InputError("report: PNG has an invalid size");
  int scale = display_scale;
  if (scale <= 0) {
    // Enlarge small grids to about 480 pixels on the long side, at most 8x.
    const std::uint32_t longest = std::max(w, h);
    scale = static_cast<int>(std::clamp<std::uint32_t>(480 / longest, 1, 8));
  }
  const std::uint64_t dw = std::uint64_t{w} * static_cast<std::uint64_t>(scale);
  const std::uint64_t dh = std::uint64_t{h} * static_cast<std::uint64_t>(scale);
  std::string img = "<img alt=\"" + html_escape(alt.empty() ? caption : alt) + "\" width=\"" +
                    std::to_string(dw) + "\" height=\"" + std::to_string(dh) + "\" src=\"data:image/png;base64,";
  img += base64_encode(png_bytes);
  img += "\">\n";
  blocks_.push_back(figure(img, caption));
  return *this;
}

std::string Report::render() const {
  std::string out;
  std::size_t total = 0;
  for (const auto& b : blocks_) total += b.size();
  out.reserve(total + kStyle.size() + 1024);
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<title>" + html_escape(title_) + "</title>\n<style>";
  out += kStyle;
  out += "</style>\n</head>\n<body>\n<h1>" + html_escape(title_) + "</h1>\n";
  for (const auto& b : blocks_) out += b;
  out += "<footer>Written by aevb (Auto-Encoding Variational Bayes). This page is self-contained and works "
         "offline.</footer>\n</body>\n</html>\n";
  return out;
}

}  // namespace aevb::viz
