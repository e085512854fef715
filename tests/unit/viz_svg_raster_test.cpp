// SVG to pixels (src/viz/svg_raster.hpp): shapes land where the SVG puts
// them, at the requested scale, on white; bad documents are refused.
#include "viz/curve_svg.hpp"
#include "viz/svg_raster.hpp"

#include <aevb/error.hpp>

#include <gtest/gtest.h>

namespace aevb::viz {
namespace {

const char* kRect = R"(<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20">)"
                    R"(<rect x="10" y="5" width="20" height="10" fill="#ff0000"/></svg>)";

TEST(SvgRaster, ShapesLandWhereTheSvgPutsThem) {
  const Image8 image = rasterize_svg(kRect);
  ASSERT_EQ(image.width, 40);
  ASSERT_EQ(image.height, 20);
  ASSERT_EQ(image.channels, 3);
  auto rgb = [&](int x, int y) {
    return std::array<int, 3>{image.at(x, y, 0), image.at(x, y, 1), image.at(x, y, 2)};
  };
  EXPECT_EQ(rgb(20, 10), (std::array<int, 3>{255, 0, 0})) << "inside the rectangle";
  EXPECT_EQ(rgb(11, 6), (std::array<int, 3>{255, 0, 0}));
  EXPECT_EQ(rgb(5, 10), (std::array<int, 3>{255, 255, 255})) << "left of it: the white background";
  EXPECT_EQ(rgb(20, 2), (std::array<int, 3>{255, 255, 255})) << "above it";
  EXPECT_EQ(rgb(35, 18), (std::array<int, 3>{255, 255, 255}));
}

TEST(SvgRaster, ScaleEnlargesTheWholeFigure) {
  const Image8 image = rasterize_svg(kRect, 2.0);
  ASSERT_EQ(image.width, 80);
  ASSERT_EQ(image.height, 40);
  EXPECT_EQ(image.at(22, 12, 1), 0) << "(11, 6) at scale 2 is red: no green";
  EXPECT_EQ(image.at(10, 20, 1), 255) << "(5, 10) at scale 2 is white";
}

TEST(SvgRaster, TheTrainingCurveRendersAtItsSize) {
  CurveSeries s{"train", {1e3, 1e4, 1e5}, {-200, -150, -120}, "#1f77b4", false};
  CurveOptions options;
  const Image8 image = rasterize_svg(render_curve_svg({s}, options));
  EXPECT_EQ(image.width, options.width);
  EXPECT_EQ(image.height, options.height);
  std::size_t coloured = 0;  // the line's blue pixels (text and axes are grey or black)
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x)
      coloured += image.at(x, y, 2) > 150 && image.at(x, y, 0) < 100;
  EXPECT_GT(coloured, 100u);
}

TEST(SvgRaster, RefusesWhatIsNotADrawableSvg) {
  EXPECT_THROW(rasterize_svg("not svg at all"), InputError);
  EXPECT_THROW(rasterize_svg(R"(<svg xmlns="http://www.w3.org/2000/svg" width="0" height="10"/>)"), InputError);
  EXPECT_THROW(rasterize_svg(R"(<svg xmlns="http://www.w3.org/2000/svg" width="99999" height="10"/>)"), InputError);
  EXPECT_THROW(rasterize_svg(kRect, 0.5), InputError);
}

}  // namespace
}  // namespace aevb::viz
