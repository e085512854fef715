// The training-curve SVG: log-decade ticks, nice linear ticks, exact pixel
// positions of a known series, edge cases, and well-formed, escaped output.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "aevb/error.hpp"
#include "unit/viz_xml_check.hpp"
#include "viz/curve_svg.hpp"
#include "viz/markup.hpp"

namespace aevb::viz {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

struct Pt {
  double x, y;
};

// The `points` attribute of every <polyline>, in document order.
std::vector<std::vector<Pt>> polylines(const std::string& svg) {
  std::vector<std::vector<Pt>> out;
  std::size_t at = 0;
  while ((at = svg.find("<polyline", at)) != std::string::npos) {
    const std::size_t end = svg.find("/>", at);
    const std::size_t p = svg.find("points=\"", at);
    EXPECT_LT(p, end);
    const std::size_t q = svg.find('"', p + 8);
    std::string list = svg.substr(p + 8, q - p - 8);
    std::vector<Pt> pts;
    std::size_t k = 0;
    while (k < list.size()) {
      std::size_t used = 0;
      const double x = std::stod(list.substr(k), &used);
      k += used;
      EXPECT_EQ(list[k], ',');
      ++k;
      const double y = std::stod(list.substr(k), &used);
      k += used;
      pts.push_back({x, y});
      while (k < list.size() && list[k] == ' ') ++k;
    }
    out.push_back(pts);
    at = end;
  }
  return out;
}

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

TEST(VizCurve, DecadeTicksFrom1e2To1e6) {
  const std::vector<Tick> ticks = log_decade_ticks(2, 6);
  std::vector<Tick> major;
  std::size_t minor = 0;
  for (const Tick& t : ticks) {
    if (t.major) {
      major.push_back(t);
    } else {
      ++minor;
      EXPECT_TRUE(t.label.empty());
    }
  }
  ASSERT_EQ(major.size(), 5u);
  for (int e = 2; e <= 6; ++e) {
    const Tick& t = major[static_cast<std::size_t>(e - 2)];
    EXPECT_DOUBLE_EQ(t.value, std::pow(10.0, e));
    EXPECT_EQ(t.label, "10");
    EXPECT_EQ(t.superscript, std::to_string(e));
  }
  EXPECT_EQ(minor, 4u * 8u);  // 2..9 x 10^k for k = 2..5
  EXPECT_DOUBLE_EQ(ticks[1].value, 200.0);
}

TEST(VizCurve, ManyDecadesAreThinned) {
  const std::vector<Tick> ticks = log_decade_ticks(-3, 27);  // 30 decades: label every 3rd
  EXPECT_EQ(ticks.size(), 31u);                              // no minor ticks
  int labelled = 0;
  for (const Tick& t : ticks) {
    if (!t.major) continue;
    ++labelled;
    EXPECT_EQ(std::stoi(t.superscript) % 3, 0) << t.superscript;
  }
  EXPECT_EQ(labelled, 11);
  EXPECT_EQ(ticks.front().superscript, "-3");
}

TEST(VizCurve, NiceLinearAxisUsesOneTwoFiveSteps) {
  const LinearAxis a = nice_linear_axis(-153.2, -96.1);
  EXPECT_DOUBLE_EQ(a.step, 10.0);
  EXPECT_DOUBLE_EQ(a.lo, -160.0);
  EXPECT_DOUBLE_EQ(a.hi, -90.0);
  ASSERT_EQ(a.ticks.size(), 8u);
  EXPECT_EQ(a.ticks.front().label, "-160");
  EXPECT_EQ(a.ticks.back().label, "-90");

  const LinearAxis b = nice_linear_axis(0.0, 1.0, 5);
  EXPECT_DOUBLE_EQ(b.step, 0.2);
  ASSERT_EQ(b.ticks.size(), 6u);
  EXPECT_EQ(b.ticks[0].label, "0.0");
  EXPECT_EQ(b.ticks[3].label, "0.6");
  EXPECT_EQ(b.ticks[5].label, "1.0");

  for (const auto& [lo, hi] : std::vector<std::pair<double, double>>{
           {-1e-3, 7e-3}, {3.0, 4.0}, {-500.0, 12.0}, {1e6, 3e7}, {-0.37, -0.36}, {-2.0, 2.0}}) {
    const LinearAxis c = nice_linear_axis(lo, hi);
    EXPECT_LE(c.lo, lo);
    EXPECT_GE(c.hi, hi);
    const double mantissa = c.step / std::pow(10.0, std::floor(std::log10(c.step) + 1e-9));
    EXPECT_TRUE(std::fabs(mantissa - 1) < 1e-9 || std::fabs(mantissa - 2) < 1e-9 || std::fabs(mantissa - 5) < 1e-9)
        << "step " << c.step << " for [" << lo << ", " << hi << "]";
    EXPECT_GE(c.ticks.size(), 4u);
    EXPECT_LE(c.ticks.size(), 14u);
    for (const Tick& t : c.ticks) {
      // The label says the value, and zero is never "-0".
      EXPECT_NEAR(std::stod(t.label), t.value, c.step * 1e-6) << t.label;
      if (std::fabs(t.value) < c.step * 1e-6) {
        EXPECT_NE(t.label[0], '-') << t.label;
      }
    }
  }
}

TEST(VizCurve, EqualValuesAreWidened) {
  const LinearAxis a = nice_linear_axis(-100.0, -100.0);
  EXPECT_LT(a.lo, -100.0);
  EXPECT_GT(a.hi, -100.0);
  const LinearAxis z = nice_linear_axis(0.0, 0.0);
  EXPECT_LT(z.lo, 0.0);
  EXPECT_GT(z.hi, 0.0);
}

TEST(VizCurve, KnownSeriesMapsToExpectedPixels) {
  CurveSeries train;
  train.name = "train";
  train.x = {1e2, 1e3, 1e4, 1e5, 1e6};
  train.y = {-200, -150, -125, -110, -100};
  const CurveOptions opt;
  const CurveLayout L = layout_curve({train}, opt);
  EXPECT_EQ(L.x_lo_exp, 2);
  EXPECT_EQ(L.x_hi_exp, 6);
  EXPECT_LE(L.y_lo, -200);
  EXPECT_GE(L.y_hi, -100);
  EXPECT_GT(L.plot_width, 300);
  EXPECT_GT(L.plot_height, 200);
  EXPECT_LE(L.plot_left + L.plot_width, opt.width);
  EXPECT_LE(L.plot_top + L.plot_height, opt.height);

  const std::string svg = render_curve_svg({train}, opt);
  const auto lines = polylines(svg);
  ASSERT_EQ(lines.size(), 1u);
  ASSERT_EQ(lines[0].size(), 5u);
  // Decades are equally spaced, from the left edge of the plot to its right edge.
  for (std::size_t k = 0; k < 5; ++k) {
    EXPECT_NEAR(lines[0][k].x, L.plot_left + L.plot_width * static_cast<double>(k) / 4.0, 0.006) << k;
    const double expected_y = L.plot_top + (L.y_hi - train.y[k]) / (L.y_hi - L.y_lo) * L.plot_height;
    EXPECT_NEAR(lines[0][k].y, expected_y, 0.006) << k;
  }
  // Higher bound = higher on the page (smaller y).
  EXPECT_GT(lines[0][0].y, lines[0][4].y);
  // Decade labels 10^2 .. 10^6 as "10" with a superscript exponent.
  for (int e = 2; e <= 6; ++e) {
    EXPECT_NE(svg.find(">10<tspan dy=\"-5.40\" font-size=\"9.00\">" + std::to_string(e) + "</tspan></text>"),
              std::string::npos)
        << e;
  }
  EXPECT_EQ(count(svg, "<circle"), 5u);  // markers for short series
  EXPECT_EQ(testing::check_markup(svg, false), "");
}

TEST(VizCurve, SkipsUnusablePointsAndKeepsSeriesOrder) {
  CurveSeries train{"train", {1e3, 2e3, kNaN, 0.0, -5.0, 8e3, 9e3}, {-120, -115, -110, -108, -107, kInf, -101}, "", false};
  CurveSeries test{"test", {1e3, 9e3}, {-125, -104}, "#000000", true};
  CurveSeries empty{"empty", {1e3}, {kNaN}, "", false};
  const std::string svg = render_curve_svg({train, test, empty});
  const auto lines = polylines(svg);
  ASSERT_EQ(lines.size(), 2u);    // "empty" draws no line
  EXPECT_EQ(lines[0].size(), 3u);  // 1e3, 2e3, 9e3
  EXPECT_EQ(lines[1].size(), 2u);
  EXPECT_NE(svg.find("stroke=\"#000000\" stroke-width=\"2\" stroke-linejoin=\"round\" stroke-dasharray"),
            std::string::npos);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
  // All three names are in the legend.
  EXPECT_NE(svg.find(">train</text>"), std::string::npos);
  EXPECT_NE(svg.find(">test</text>"), std::string::npos);
  EXPECT_NE(svg.find(">empty</text>"), std::string::npos);
  const CurveLayout L = layout_curve({train, test, empty});
  EXPECT_EQ(L.x_lo_exp, 3);
  EXPECT_EQ(L.x_hi_exp, 4);
  EXPECT_LE(L.y_lo, -125);
  EXPECT_GE(L.y_hi, -101);
  EXPECT_EQ(testing::check_markup(svg, false), "");
}

TEST(VizCurve, AFloorCutsTheAxisAndTheLegendSaysWhatIsBelow) {
  CurveSeries aevb{"AEVB", {1e4, 1e5, 1e6}, {-160, -130, -118}, "", false};
  CurveSeries partly{"WS", {1e4, 1e5, 1e6}, {-8000, -500, -140}, "", false};
  CurveSeries below{"far", {1e4, 1e6}, {-9000, -7000}, "", false};
  CurveOptions o;
  const CurveLayout unfloored = layout_curve({aevb, partly, below}, o);
  EXPECT_LE(unfloored.y_lo, -9000);
  o.y_floor = -200;
  const CurveLayout L = layout_curve({aevb, partly, below}, o);
  EXPECT_LE(L.y_lo, -200);
  EXPECT_GT(L.y_lo, -260);  // rounded down to a tick at most, not to the baselines' -9000
  EXPECT_GE(L.y_hi, -118);
  const std::string svg = render_curve_svg({aevb, partly, below}, o);
  EXPECT_NE(svg.find(">AEVB</text>"), std::string::npos);
  EXPECT_NE(svg.find(">WS</text>"), std::string::npos);  // partly visible: no note
  EXPECT_NE(svg.find(">far (below the axis)</text>"), std::string::npos);
  // The lines are drawn in full inside a viewport as large as the plot, which clips them.
  const std::string viewport = "<svg x=\"" + format_fixed(L.plot_left, 2) + "\" y=\"" + format_fixed(L.plot_top, 2) +
                               "\" width=\"" + format_fixed(L.plot_width, 2) + "\" height=\"" +
                               format_fixed(L.plot_height, 2) + "\"";
  const std::size_t at = svg.find(viewport);
  ASSERT_NE(at, std::string::npos) << svg;
  EXPECT_LT(at, svg.find("<polyline"));
  EXPECT_GT(svg.find("</svg>", at), svg.rfind("<polyline"));
  EXPECT_EQ(polylines(svg).size(), 3u);
  EXPECT_EQ(testing::check_markup(svg, false), "");
  // Without a floor nothing is "below".
  EXPECT_EQ(render_curve_svg({aevb, partly}).find("below the axis"), std::string::npos);
}

TEST(VizCurve, OnePointIsCentredAndDrawnAsAMarker) {
  CurveSeries s{"train", {1e5}, {-97.5}, "", false};
  const CurveLayout L = layout_curve({s});
  EXPECT_EQ(L.x_lo_exp, 4);
  EXPECT_EQ(L.x_hi_exp, 6);
  EXPECT_NEAR(L.map_x(1e5), L.plot_left + L.plot_width / 2, 1e-9);
  EXPECT_LT(L.y_lo, -97.5);
  EXPECT_GT(L.y_hi, -97.5);
  const std::string svg = render_curve_svg({s});
  EXPECT_EQ(count(svg, "<circle"), 1u);
  EXPECT_EQ(polylines(svg).size(), 1u);
  EXPECT_EQ(testing::check_markup(svg, false), "");

  CurveSeries off{"train", {3e5}, {-97.5}, "", false};
  const CurveLayout M = layout_curve({off});
  EXPECT_EQ(M.x_lo_exp, 5);
  EXPECT_EQ(M.x_hi_exp, 6);
}

TEST(VizCurve, EqualYValuesGiveAFlatLineInsideThePlot) {
  CurveSeries s{"train", {1e2, 1e3, 1e4}, {-100, -100, -100}, "", false};
  const CurveLayout L = layout_curve({s});
  const auto lines = polylines(render_curve_svg({s}));
  ASSERT_EQ(lines.size(), 1u);
  for (const Pt& p : lines[0]) {
    EXPECT_NEAR(p.y, lines[0][0].y, 1e-9);
    EXPECT_GT(p.y, L.plot_top);
    EXPECT_LT(p.y, L.plot_top + L.plot_height);
  }
}

TEST(VizCurve, NoDataStillMakesAFigure) {
  CurveSeries s{"train", {0.0, kNaN}, {1.0, 2.0}, "", false};
  for (const auto& series : {std::vector<CurveSeries>{}, std::vector<CurveSeries>{s}}) {
    const std::string svg = render_curve_svg(series);
    EXPECT_NE(svg.find(">no data</text>"), std::string::npos);
    EXPECT_EQ(svg.find("<polyline"), std::string::npos);
    EXPECT_EQ(testing::check_markup(svg, false), "");
  }
}

TEST(VizCurve, EscapesTextAndRefusesBadInput) {
  CurveSeries s{"train <L> & \"q\"", {1e2, 1e3}, {-1, -2}, "", false};
  CurveOptions opt;
  opt.title = "MNIST <Nz = 20> & 'paper'";
  opt.y_label = "L \xCF\x83\xC2\xB2";  // UTF-8 kept as is
  const std::string svg = render_curve_svg({s}, opt);
  EXPECT_NE(svg.find("<title>MNIST &lt;Nz = 20&gt; &amp; &#39;paper&#39;</title>"), std::string::npos);
  EXPECT_NE(svg.find(">train &lt;L&gt; &amp; &quot;q&quot;</text>"), std::string::npos);
  EXPECT_NE(svg.find("L \xCF\x83\xC2\xB2</text>"), std::string::npos);
  EXPECT_EQ(testing::check_markup(svg, false), "");
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_NE(svg.find("viewBox=\"0 0 640 420\""), std::string::npos);

  CurveSeries bad{"bad", {1, 2, 3}, {1, 2}, "", false};
  EXPECT_THROW(render_curve_svg({bad}), InputError);
  opt.width = 10;
  EXPECT_THROW(render_curve_svg({s}, opt), InputError);
}

TEST(VizMarkup, EscapesAndSanitises) {
  EXPECT_EQ(xml_escape("<a href=\"x\">&'</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(xml_escape("plain text, 1.5"), "plain text, 1.5");
  EXPECT_EQ(xml_escape("tab\tnl\n"), "tab\tnl\n");
  EXPECT_EQ(xml_escape(std::string("a\x01z", 3)), "a\xEF\xBF\xBDz");     // control character
  EXPECT_EQ(xml_escape("a\xC3z"), "a\xEF\xBF\xBDz");                      // truncated UTF-8
  EXPECT_EQ(xml_escape("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");          // overlong
  EXPECT_EQ(xml_escape("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(xml_escape("\xCF\x83 \xE2\x88\x9E \xF0\x9F\x98\x80"), "\xCF\x83 \xE2\x88\x9E \xF0\x9F\x98\x80");
}

TEST(VizMarkup, FormatsNumbersWithoutLocale) {
  EXPECT_EQ(format_fixed(3.14159, 2), "3.14");
  EXPECT_EQ(format_fixed(-0.001, 2), "0.00");
  EXPECT_EQ(format_fixed(-0.0, 0), "0");
  EXPECT_EQ(format_fixed(-12.5, 1), "-12.5");
  EXPECT_EQ(format_fixed(kNaN, 2), "nan");
  EXPECT_EQ(format_fixed(-kInf, 2), "-inf");
  EXPECT_EQ(format_general(-99.31234567, 6), "-99.3123");
  EXPECT_EQ(format_general(1.5e-7, 6), "1.5e-07");
}

}  // namespace
}  // namespace aevb::viz
