#include "viz/svg_raster.hpp"

#include <aevb/error.hpp>

#include <cairo.h>
#include <librsvg/rsvg.h>

#include <cmath>
#include <memory>
#include <string>

namespace aevb::viz {
namespace {

struct GErrorFree {
  void operator()(GError* e) const { g_error_free(e); }
};
struct HandleFree {
  void operator()(RsvgHandle* h) const { g_object_unref(h); }
};
struct SurfaceFree {
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
};
struct ContextFree {
  void operator()(cairo_t* c) const { cairo_destroy(c); }
};

[[noreturn]] void fail(const std::string& what, GError* error) {
  const std::unique_ptr<GError, GErrorFree> owned(error);
  throw InputError("SVG to PNG: " + what + (error ? std::string(": ") + error->message : std::string()));
}

}  // namespace

Image8 rasterize_svg(std::string_view svg, double scale) {
  if (!(scale >= 1.0 && scale <= 4.0)) throw InputError("SVG to PNG: scale must be 1 to 4");
  GError* error = nullptr;
  const std::unique_ptr<RsvgHandle, HandleFree> handle(
      rsvg_handle_new_from_data(reinterpret_cast<const guint8*>(svg.data()), svg.size(), &error));
  if (!handle) fail("not an SVG document", error);
  double width = 0, height = 0;
  if (!rsvg_handle_get_intrinsic_size_in_pixels(handle.get(), &width, &height) || !(width >= 1 && height >= 1) ||
      width * scale > 16000 || height * scale > 16000)
    fail("the document needs a width and height of 1 to 16000 pixels", nullptr);
  const int w = static_cast<int>(std::lround(width * scale)), h = static_cast<int>(std::lround(height * scale));
  const std::unique_ptr<cairo_surface_t, SurfaceFree> surface(cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h));
  const std::unique_ptr<cairo_t, ContextFree> cr(cairo_create(surface.get()));
  cairo_set_source_rgb(cr.get(), 1, 1, 1);
  cairo_paint(cr.get());
  const RsvgRectangle viewport{0, 0, double(w), double(h)};
  if (!rsvg_handle_render_document(handle.get(), cr.get(), &viewport, &error)) fail("rendering failed", error);
  cairo_surface_flush(surface.get());
  // RGB24: one 32-bit word per pixel, 0xXXRRGGBB in native byte order.
  Image8 out(w, h, 3);
  const unsigned char* data = cairo_image_surface_get_data(surface.get());
  const int stride = cairo_image_surface_get_stride(surface.get());
  for (int y = 0; y < h; ++y) {
    const auto* row = reinterpret_cast<const std::uint32_t*>(data + static_cast<std::ptrdiff_t>(y) * stride);
    for (int x = 0; x < w; ++x) {
      out.at(x, y, 0) = static_cast<std::uint8_t>(row[x] >> 16);
      out.at(x, y, 1) = static_cast<std::uint8_t>(row[x] >> 8);
      out.at(x, y, 2) = static_cast<std::uint8_t>(row[x]);
    }
  }
  return out;
}

}  // namespace aevb::viz
