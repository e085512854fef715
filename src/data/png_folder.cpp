// A folder of PNG images as a dataset: every *.png directly inside it, sorted
// by file name, decoded with libpng's transforms to 8-bit grey.
#include <aevb/data.hpp>

#include "data/byte_input.hpp"
#include "data/values.hpp"

#include <algorithm>
#include <cctype>
#include <csetjmp>
#include <cstdio>
#include <memory>
#include <png.h>
#include <string>

namespace aevb {
namespace {

struct PngError {
  char message[200] = {};
};

void on_png_error(png_structp png, png_const_charp message) {
  auto* err = static_cast<PngError*>(png_get_error_ptr(png));
  std::snprintf(err->message, sizeof err->message, "%s", message ? message : "unknown error");
  png_longjmp(png, 1);
}

void on_png_warning(png_structp, png_const_charp) {}

// Owns libpng's read state (freed on every exit path, including exceptions).
struct PngReader {
  png_structp png = nullptr;
  png_infop info = nullptr;
  PngError error;
  PngReader() {
    png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &error, on_png_error, on_png_warning);
    if (png != nullptr) info = png_create_info_struct(png);
  }
  ~PngReader() {
    if (png != nullptr) png_destroy_read_struct(&png, info != nullptr ? &info : nullptr, nullptr);
  }
  PngReader(const PngReader&) = delete;
  PngReader& operator=(const PngReader&) = delete;
};

enum class Decode { ok, libpng_error, too_large, size_mismatch };

// Decodes one image as 8-bit grey, appending width * height bytes to *pixels.
// libpng reports errors by longjmp back here, so this frame keeps no objects
// with destructors; *width / *height are 0 on entry for the first image (any
// size up to max_pixels accepted) and the required size otherwise.
Decode decode_gray(PngReader& r, std::FILE* file, std::uint64_t max_pixels, png_uint_32* width, png_uint_32* height,
                   std::vector<std::uint8_t>* pixels) {
  if (setjmp(png_jmpbuf(r.png))) return Decode::libpng_error;
  png_init_io(r.png, file);
  png_read_info(r.png, r.info);
  const png_uint_32 w = png_get_image_width(r.png, r.info);
  const png_uint_32 h = png_get_image_height(r.png, r.info);
  const int color = png_get_color_type(r.png, r.info);
  const int depth = png_get_bit_depth(r.png, r.info);
  if (*width != 0 && (w != *width || h != *height)) {
    *width = w;
    *height = h;
    return Decode::size_mismatch;
  }
  *width = w;
  *height = h;
  if (std::uint64_t{w} * h > max_pixels) return Decode::too_large;
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(r.png);
  if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(r.png);
  if (depth == 16) png_set_scale_16(r.png);
  if ((color & PNG_COLOR_MASK_COLOR) != 0) png_set_rgb_to_gray_fixed(r.png, 1, -1, -1);  // Rec. 709 weights
  if ((color & PNG_COLOR_MASK_ALPHA) != 0) png_set_strip_alpha(r.png);
  const int passes = png_set_interlace_handling(r.png);
  png_read_update_info(r.png, r.info);
  if (png_get_rowbytes(r.png, r.info) != w) png_error(r.png, "unexpected row size after conversion to 8-bit grey");
  const std::size_t start = pixels->size();
  pixels->resize(start + std::size_t{w} * h);
  for (int pass = 0; pass < passes; ++pass) {
    for (png_uint_32 y = 0; y < h; ++y) png_read_row(r.png, pixels->data() + start + std::size_t{y} * w, nullptr);
  }
  png_read_end(r.png, nullptr);
  return Decode::ok;
}

bool has_png_extension(const std::filesystem::path& p) {
  std::string ext = p.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".png";
}

}  // namespace

Dataset read_png_folder(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) data::fail(dir, "no such folder (expected a folder of PNG images)");
  std::vector<std::filesystem::path> files;
  bool subfolders = false;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec)) subfolders = true;
    if (it->is_regular_file(ec) && has_png_extension(it->path())) files.push_back(it->path());
  }
  if (ec) data::fail(dir, "cannot list the folder: " + ec.message());
  if (files.empty()) {
    data::fail(dir, std::string("no .png files in this folder") + (subfolders ? " (images in subfolders are not read)" : ""));
  }
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.filename().string() < b.filename().string(); });
  data::check_row_limit(files.size(), dir);

  Dataset d;
  png_uint_32 width = 0, height = 0;
  for (const auto& file : files) {
    const std::uint64_t file_size = std::filesystem::file_size(file, ec);
    if (ec) data::fail(file, "cannot read: " + ec.message());
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> fp(std::fopen(file.c_str(), "rb"), &std::fclose);
    if (!fp) data::fail(file, "cannot open");
    PngReader reader;
    if (reader.png == nullptr || reader.info == nullptr) throw std::bad_alloc();
    png_uint_32 w = width, h = height;
    // Deflate expands at most 1032:1: a header claiming more pixels is lying.
    const std::uint64_t max_pixels = file_size * 1032 + 4096;
    switch (decode_gray(reader, fp.get(), max_pixels, &w, &h, &d.bytes)) {
      case Decode::ok:
        break;
      case Decode::libpng_error:
        data::fail(file, std::string("not a valid PNG image (libpng: ") + reader.error.message + ")");
      case Decode::too_large:
        data::fail(file, "the PNG header declares " + std::to_string(w) + "x" + std::to_string(h) +
                             " pixels, more than a file of " + data::describe_bytes(file_size) + " can hold: corrupt file");
      case Decode::size_mismatch:
        data::fail(file, "image is " + std::to_string(w) + "x" + std::to_string(h) + " pixels (width x height); expected " +
                             std::to_string(width) + "x" + std::to_string(height) + " like " + files.front().filename().string() +
                             ": all images must have the same size");
    }
    width = w;
    height = h;
  }
  d.count = files.size();
  d.width = width;
  d.height = height;
  d.dim = d.width * d.height;
  d.source = dir.string() + " (" + std::to_string(files.size()) + " PNG images)";
  data::detect_binary_bytes(d);
  return d;
}

}  // namespace aevb
