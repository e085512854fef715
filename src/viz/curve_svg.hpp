#pragma once
// The training-curve figure as the paper draws it (Kingma & Welling 2013,
// Fig. 2): the lower bound per datapoint against the number of training
// samples evaluated, on a log x-axis with one tick per decade, one line per
// named series (train, test, ...), with legend, axis titles and a title.
// Output is a standalone SVG document (no XML declaration, so the same text
// can be inlined in HTML).
#include <limits>
#include <string>
#include <vector>

namespace aevb::viz {

struct CurveSeries {
  std::string name;       ///< legend text, e.g. "AEVB (train)".
  std::vector<double> x;  ///< training samples evaluated; values <= 0 or non-finite are skipped.
  std::vector<double> y;  ///< lower bound per datapoint (nats); non-finite values are skipped.
  std::string color;      ///< any SVG colour; empty picks the next colour of the palette.
  bool dashed = false;
};

struct CurveOptions {
  std::string title = "Training curve";
  std::string x_label = "# Training samples evaluated";
  std::string y_label = "Lower bound per datapoint (nats)";
  int width = 640;   ///< pixels, 200..4000
  int height = 420;  ///< pixels, 150..4000
  /// The y-axis starts no lower than this (about: it is rounded to a tick):
  /// lines below it are cut at the frame, and the legend says "(below the
  /// axis)" of a series that has no point above it. For
  /// a baseline far below the curves of interest (the paper's Fig. 2 cuts
  /// wake-sleep so), which would otherwise flatten them.
  double y_floor = -std::numeric_limits<double>::infinity();
};

/// One axis tick. Decade ticks of the log axis have label "10" and
/// superscript the exponent ("5" for 10^5); linear ticks have an empty superscript.
struct Tick {
  double value = 0;
  std::string label;
  std::string superscript;
  bool major = true;  ///< minor ticks (2..9 x 10^k) carry no label.
};

/// Decade ticks 10^lo_exp .. 10^hi_exp (labelled; when there are more than 10
/// decades only every k-th is labelled and the rest are minor), plus unlabelled
/// minor ticks at 2..9 x 10^k when the axis spans at most 6 decades.
std::vector<Tick> log_decade_ticks(int lo_exp, int hi_exp);

struct LinearAxis {
  double lo = 0, hi = 1, step = 1;  ///< lo and hi are multiples of step
  std::vector<Tick> ticks;
};

/// A "nice" axis covering [min, max] with steps of 1, 2 or 5 times a power of
/// ten and about `target` intervals; equal min and max are widened.
LinearAxis nice_linear_axis(double min, double max, int target = 6);

/// Where everything goes, in SVG pixel coordinates (y grows downwards).
struct CurveLayout {
  double plot_left = 0, plot_top = 0, plot_width = 0, plot_height = 0;
  int x_lo_exp = 0, x_hi_exp = 1;  ///< x axis spans 10^x_lo_exp .. 10^x_hi_exp
  double y_lo = 0, y_hi = 1;
  std::vector<Tick> x_ticks, y_ticks;
  bool has_data = false;  ///< false when no series has a usable point

  double map_x(double x) const;  ///< x > 0, log scale
  double map_y(double y) const;
};

/// The layout render_curve_svg uses: x spans the decades enclosing the usable
/// points (a single decade value is centred in two decades), y a nice axis
/// around them (those above options.y_floor). Throws aevb::InputError for a series whose x and y differ in
/// length or for a size out of range.
CurveLayout layout_curve(const std::vector<CurveSeries>& series, const CurveOptions& options = {});

/// The figure as an SVG document. Each series with usable points is one
/// <polyline> (in series order), with circle markers when it has at most 50
/// points; an empty figure says "no data".
std::string render_curve_svg(const std::vector<CurveSeries>& series, const CurveOptions& options = {});

}  // namespace aevb::viz
