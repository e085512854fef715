#pragma once
// Multi-panel figures: SVG panels (as render_curve_svg writes them) laid out
// in a grid under one title, and images set side by side with captions,
// for the paper's figures (aevb paper).
#include "viz/png.hpp"

#include <string>
#include <vector>

namespace aevb::viz {

/// One SVG document holding `panels` (standalone SVG documents with integer
/// width and height attributes) in rows of `columns`, in order, each cell as
/// large as the largest panel, under `title`. InputError for a panel without
/// a readable size or for columns < 1.
std::string compose_svg_panels(const std::vector<std::string>& panels, int columns, const std::string& title);

struct CaptionedImage {
  Image8 image;
  std::string caption;
};

/// The images in one row, `gap` pixels apart, each enlarged `scale` times,
/// with its caption below and `title` above, as one SVG document (the images
/// embedded as PNG data URIs; rasterize_svg renders it, captions included).
std::string compose_image_row(const std::vector<CaptionedImage>& images, const std::string& title, int scale = 1,
                              int gap = 16);

}  // namespace aevb::viz
