#pragma once
// SVG figures as pixels: the figure code writes SVG only, and PNGs (for
// READMEs, chats and image viewers) are rendered from that same SVG by
// librsvg, Debian's SVG renderer, so the two never differ in content.
#include "viz/png.hpp"

#include <string_view>

namespace aevb::viz {

/// Renders a standalone SVG document (its width and height attributes give
/// the size) onto white, `scale` times its size (1 to 4), as RGB. Throws
/// aevb::InputError when librsvg cannot parse it or the size is unusable.
Image8 rasterize_svg(std::string_view svg, double scale = 1.0);

}  // namespace aevb::viz
