#include "viz/curve_svg.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string_view>

#include "aevb/error.hpp"
#include "viz/markup.hpp"

namespace aevb::viz {
namespace {

// Colour-blind-safe enough and familiar: matplotlib's "tab10" order.
constexpr std::string_view kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                         "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};

constexpr double kTickFont = 12;
constexpr double kLabelFont = 13;
constexpr double kTitleFont = 15;
constexpr double kCharWidth = 0.6;  // average advance of sans-serif glyphs, in em
constexpr std::size_t kMaxMarkers = 50;

struct Point {
  double x, y;
};

bool usable(double x, double y) { return std::isfinite(x) && std::isfinite(y) && x > 0; }

std::vector<Point> usable_points(const CurveSeries& s) {
  std::vector<Point> pts;
  pts.reserve(s.x.size());
  for (std::size_t i = 0; i < s.x.size(); ++i) {
    if (usable(s.x[i], s.y[i])) pts.push_back({s.x[i], s.y[i]});
  }
  return pts;
}

std::string num(double v) { return format_fixed(v, 2); }

double text_width(std::string_view text, double font_size) {
  // Count code points, not bytes, so that non-ASCII names are not over-estimated.
  std::size_t n = 0;
  for (const char c : text) n += (static_cast<unsigned char>(c) & 0xC0u) != 0x80u ? 1 : 0;
  return static_cast<double>(n) * font_size * kCharWidth;
}

std::string color_of(const CurveSeries& s, std::size_t index) {
  if (!s.color.empty()) return s.color;
  return std::string(kPalette[index % std::size(kPalette)]);
}

// Renders "label" with an optional superscript (10<sup>5</sup>) as SVG text content.
std::string tick_text(const Tick& t, double font_size) {
  std::string out = xml_escape(t.label);
  if (!t.superscript.empty()) {
    out += "<tspan dy=\"" + num(-0.45 * font_size) + "\" font-size=\"" + num(0.75 * font_size) + "\">" +
           xml_escape(t.superscript) + "</tspan>";
  }
  return out;
}

}  // namespace

std::vector<Tick> log_decade_ticks(int lo_exp, int hi_exp) {
  if (hi_exp < lo_exp) std::swap(lo_exp, hi_exp);
  std::vector<Tick> ticks;
  const int decades = hi_exp - lo_exp;
  // At most about 10 labelled decades; label the multiples of `every`.
  const int every = decades > 10 ? (decades + 9) / 10 : 1;
  for (int e = lo_exp; e <= hi_exp; ++e) {
    Tick t;
    t.value = std::pow(10.0, e);
    const bool labelled = ((e % every) + every) % every == 0;
    t.major = labelled;
    if (labelled) {
      t.label = "10";
      t.superscript = std::to_string(e);
    }
    ticks.push_back(t);
    if (decades <= 6 && e < hi_exp) {
      for (int m = 2; m <= 9; ++m) {
        Tick minor;
        minor.value = m * std::pow(10.0, e);
        minor.major = false;
        ticks.push_back(minor);
      }
    }
  }
  return ticks;
}

LinearAxis nice_linear_axis(double min, double max, int target) {
  if (!std::isfinite(min) || !std::isfinite(max)) {
    min = 0;
    max = 1;
  }
  if (max < min) std::swap(min, max);
  if (target < 1) target = 1;
  const double magnitude = std::max(std::fabs(min), std::fabs(max));
  if (max - min <= magnitude * 1e-9) {
    // Equal values (up to rounding): widen by 5% of the value, or by 1 around 0.
    const double half = magnitude > 0 ? magnitude * 0.05 : 1.0;
    min -= half;
    max += half;
  }
  const double raw = (max - min) / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = 10 * mag;
  for (const double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * mag >= raw * (1 - 1e-9)) {
      step = m * mag;
      break;
    }
  }
  const double k_lo = std::floor(min / step + 1e-9);
  const double k_hi = std::ceil(max / step - 1e-9);
  LinearAxis axis;
  axis.step = step;
  axis.lo = k_lo * step;
  axis.hi = k_hi * step;
  const int decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
  for (double k = k_lo; k <= k_hi + 0.5; k += 1) {
    Tick t;
    t.value = k * step;
    t.label = format_fixed(t.value, decimals);
    axis.ticks.push_back(t);
  }
  return axis;
}

double CurveLayout::map_x(double x) const {
  const double span = static_cast<double>(x_hi_exp - x_lo_exp);
  return plot_left + (std::log10(x) - x_lo_exp) / span * plot_width;
}

double CurveLayout::map_y(double y) const { return plot_top + (y_hi - y) / (y_hi - y_lo) * plot_height; }

CurveLayout layout_curve(const std::vector<CurveSeries>& series, const CurveOptions& options) {
  if (options.width < 200 || options.width > 4000 || options.height < 150 || options.height > 4000) {
    throw InputError("curve figure: size must be within 200..4000 x 150..4000 pixels, got " +
                     std::to_string(options.width) + "x" + std::to_string(options.height));
  }
  double x_min = std::numeric_limits<double>::infinity(), x_max = -x_min;
  double y_min = x_min, y_max = -x_min;
  for (const auto& s : series) {
    if (s.x.size() != s.y.size()) {
      throw InputError("curve figure: series '" + s.name + "' has " + std::to_string(s.x.size()) +
                       " x values but " + std::to_string(s.y.size()) + " y values");
    }
    for (const Point& p : usable_points(s)) {
      x_min = std::min(x_min, p.x);
      x_max = std::max(x_max, p.x);
      y_min = std::min(y_min, p.y);
      y_max = std::max(y_max, p.y);
    }
  }
  CurveLayout L;
  L.has_data = x_min <= x_max;
  if (L.has_data) {
    L.x_lo_exp = static_cast<int>(std::floor(std::log10(x_min) + 1e-12));
    L.x_hi_exp = static_cast<int>(std::ceil(std::log10(x_max) - 1e-12));
    if (L.x_hi_exp <= L.x_lo_exp) {  // all points on one power of ten: centre it
      --L.x_lo_exp;
      ++L.x_hi_exp;
    }
    y_min = std::max(y_min, options.y_floor);
    y_max = std::max(y_max, y_min);
    // A little air above and below the data before rounding to nice ticks.
    const double margin = 0.03 * (y_max - y_min);
    const LinearAxis y = nice_linear_axis(y_min - margin, y_max + margin);
    L.y_lo = y.lo;
    L.y_hi = y.hi;
    L.y_ticks = y.ticks;
  } else {
    L.x_lo_exp = 0;
    L.x_hi_exp = 1;
    const LinearAxis y = nice_linear_axis(0, 1, 5);
    L.y_lo = y.lo;
    L.y_hi = y.hi;
    L.y_ticks = y.ticks;
  }
  L.x_ticks = log_decade_ticks(L.x_lo_exp, L.x_hi_exp);

  double widest_label = 0;
  for (const Tick& t : L.y_ticks) widest_label = std::max(widest_label, text_width(t.label, kTickFont));
  const double left = 10 + kLabelFont + 10 + widest_label + 8;  // y title, gap, labels, tick
  const double top = options.title.empty() ? 16 : 16 + kTitleFont + 12;
  const double bottom = 8 + kTickFont + 10 + kLabelFont + 14;  // ticks, labels, x title
  const double right = 24;
  L.plot_left = left;
  L.plot_top = top;
  L.plot_width = std::max(40.0, options.width - left - right);
  L.plot_height = std::max(40.0, options.height - top - bottom);
  return L;
}

std::string render_curve_svg(const std::vector<CurveSeries>& series, const CurveOptions& options) {
  const CurveLayout L = layout_curve(series, options);
  const double W = options.width, H = options.height;
  const double x0 = L.plot_left, y0 = L.plot_top, x1 = L.plot_left + L.plot_width,
               y1 = L.plot_top + L.plot_height;

  std::string s;
  s.reserve(16384);
  s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(options.width) + "\" height=\"" +
       std::to_string(options.height) + "\" viewBox=\"0 0 " + std::to_string(options.width) + " " +
       std::to_string(options.height) + "\" font-family=\"sans-serif\" font-size=\"" + num(kTickFont) + "\">\n";
  s += "<title>" + xml_escape(options.title.empty() ? "Training curve" : options.title) + "</title>\n";
  s += "<rect x=\"0\" y=\"0\" width=\"" + num(W) + "\" height=\"" + num(H) + "\" fill=\"#ffffff\"/>\n";
  if (!options.title.empty()) {
    s += "<text x=\"" + num(x0 + L.plot_width / 2) + "\" y=\"" + num(16 + kTitleFont) +
         "\" text-anchor=\"middle\" font-size=\"" + num(kTitleFont) + "\" font-weight=\"bold\">" +
         xml_escape(options.title) + "</text>\n";
  }

  // Grid lines at labelled ticks, then the frame on top of them.
  s += "<g stroke=\"#e0e0e0\" stroke-width=\"1\">\n";
  for (const Tick& t : L.x_ticks) {
    if (!t.major) continue;
    const double x = L.map_x(t.value);
    s += "<line x1=\"" + num(x) + "\" y1=\"" + num(y0) + "\" x2=\"" + num(x) + "\" y2=\"" + num(y1) + "\"/>\n";
  }
  for (const Tick& t : L.y_ticks) {
    const double y = L.map_y(t.value);
    s += "<line x1=\"" + num(x0) + "\" y1=\"" + num(y) + "\" x2=\"" + num(x1) + "\" y2=\"" + num(y) + "\"/>\n";
  }
  s += "</g>\n";
  s += "<rect x=\"" + num(x0) + "\" y=\"" + num(y0) + "\" width=\"" + num(L.plot_width) + "\" height=\"" +
       num(L.plot_height) + "\" fill=\"none\" stroke=\"#000000\" stroke-width=\"1\"/>\n";

  // Tick marks (outside the frame) and their labels.
  s += "<g stroke=\"#000000\" stroke-width=\"1\">\n";
  for (const Tick& t : L.x_ticks) {
    const double x = L.map_x(t.value);
    const double len = t.major ? 6 : 3;
    s += "<line x1=\"" + num(x) + "\" y1=\"" + num(y1) + "\" x2=\"" + num(x) + "\" y2=\"" + num(y1 + len) +
         "\"/>\n";
  }
  for (const Tick& t : L.y_ticks) {
    const double y = L.map_y(t.value);
    s += "<line x1=\"" + num(x0 - 6) + "\" y1=\"" + num(y) + "\" x2=\"" + num(x0) + "\" y2=\"" + num(y) +
         "\"/>\n";
  }
  s += "</g>\n";
  for (const Tick& t : L.x_ticks) {
    if (t.label.empty()) continue;
    s += "<text x=\"" + num(L.map_x(t.value)) + "\" y=\"" + num(y1 + 8 + kTickFont + 2) +
         "\" text-anchor=\"middle\">" + tick_text(t, kTickFont) + "</text>\n";
  }
  for (const Tick& t : L.y_ticks) {
    s += "<text x=\"" + num(x0 - 9) + "\" y=\"" + num(L.map_y(t.value) + kTickFont * 0.35) +
         "\" text-anchor=\"end\">" + tick_text(t, kTickFont) + "</text>\n";
  }

  // Axis titles.
  s += "<text x=\"" + num(x0 + L.plot_width / 2) + "\" y=\"" + num(H - 12) +
       "\" text-anchor=\"middle\" font-size=\"" + num(kLabelFont) + "\">" + xml_escape(options.x_label) +
       "</text>\n";
  const double ty = y0 + L.plot_height / 2;
  s += "<text x=\"" + num(10 + kLabelFont) + "\" y=\"" + num(ty) + "\" text-anchor=\"middle\" font-size=\"" +
       num(kLabelFont) + "\" transform=\"rotate(-90 " + num(10 + kLabelFont) + " " + num(ty) + ")\">" +
       xml_escape(options.y_label) + "</text>\n";

  // The series, in a nested viewport over the plot area (same coordinates)
  // that clips what lies below the axis.
  s += "<svg x=\"" + num(x0) + "\" y=\"" + num(y0) + "\" width=\"" + num(L.plot_width) + "\" height=\"" +
       num(L.plot_height) + "\" viewBox=\"" + num(x0) + " " + num(y0) + " " + num(L.plot_width) + " " +
       num(L.plot_height) + "\" overflow=\"hidden\">\n";
  for (std::size_t i = 0; i < series.size(); ++i) {
    const std::vector<Point> pts = usable_points(series[i]);
    if (pts.empty()) continue;
    const std::string color = xml_escape(color_of(series[i], i));
    s += "<polyline fill=\"none\" stroke=\"" + color + "\" stroke-width=\"2\" stroke-linejoin=\"round\"";
    if (series[i].dashed) s += " stroke-dasharray=\"7 4\"";
    s += " points=\"";
    for (std::size_t k = 0; k < pts.size(); ++k) {
      if (k > 0) s += ' ';
      s += num(L.map_x(pts[k].x)) + "," + num(L.map_y(pts[k].y));
    }
    s += "\"/>\n";
    if (pts.size() <= kMaxMarkers) {
      s += "<g fill=\"" + color + "\">\n";
      for (const Point& p : pts) {
        s += "<circle cx=\"" + num(L.map_x(p.x)) + "\" cy=\"" + num(L.map_y(p.y)) + "\" r=\"2.5\"/>\n";
      }
      s += "</g>\n";
    }
  }

  s += "</svg>\n";

  if (!L.has_data) {
    s += "<text x=\"" + num(x0 + L.plot_width / 2) + "\" y=\"" + num(y0 + L.plot_height / 2) +
         "\" text-anchor=\"middle\" fill=\"#808080\" font-size=\"" + num(kLabelFont) + "\">no data</text>\n";
  }

  // Legend in the lower right corner, where a rising training curve leaves room.
  std::vector<std::size_t> named;
  std::vector<std::string> legend(series.size());
  for (std::size_t i = 0; i < series.size(); ++i) {
    if (series[i].name.empty()) continue;
    named.push_back(i);
    const std::vector<Point> pts = usable_points(series[i]);
    const bool hidden = !pts.empty() && std::all_of(pts.begin(), pts.end(), [&](const Point& p) { return p.y < L.y_lo; });
    legend[i] = series[i].name + (hidden ? " (below the axis)" : "");
  }
  if (!named.empty()) {
    double widest = 0;
    for (const std::size_t i : named) widest = std::max(widest, text_width(legend[i], kTickFont));
    const double row = kTickFont + 6;
    const double box_w = 8 + 24 + 6 + widest + 8;
    const double box_h = 6 + row * static_cast<double>(named.size()) + 2;
    const double bx = x1 - 10 - box_w, by = y1 - 10 - box_h;
    s += "<g>\n<rect x=\"" + num(bx) + "\" y=\"" + num(by) + "\" width=\"" + num(box_w) + "\" height=\"" +
         num(box_h) + "\" fill=\"#ffffff\" fill-opacity=\"0.9\" stroke=\"#b0b0b0\"/>\n";
    for (std::size_t r = 0; r < named.size(); ++r) {
      const std::size_t i = named[r];
      const double cy = by + 6 + row * (static_cast<double>(r) + 0.5);
      s += "<line x1=\"" + num(bx + 8) + "\" y1=\"" + num(cy) + "\" x2=\"" + num(bx + 32) + "\" y2=\"" + num(cy) +
           "\" stroke=\"" + xml_escape(color_of(series[i], i)) + "\" stroke-width=\"2\"" +
           (series[i].dashed ? " stroke-dasharray=\"7 4\"" : "") + "/>\n";
      s += "<text x=\"" + num(bx + 38) + "\" y=\"" + num(cy + kTickFont * 0.35) + "\">" +
           xml_escape(legend[i]) + "</text>\n";
    }
    s += "</g>\n";
  }
  s += "</svg>\n";
  return s;
}

}  // namespace aevb::viz
