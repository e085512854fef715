// A folder of PNG images as a dataset: every *.png directly inside it, sorted
// by file name, decoded with libpng's transforms to 8 bits, then stored as
// planar RGB when any image has colour, else as grey (docs/data.md).
#include <aevb/data.hpp>

#include "data/byte_input.hpp"
#include "data/values.hpp"

#include <algorithm>
#include <cctype>
#include <csetjmp>
#include <cstdio>
#include <cstring>
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

// What one decoded image holds: `channels` interleaved 8-bit samples per pixel
// (1 grey or 3 RGB) and whether it has colour. A palette whose entries are all
// grey decodes to 3 equal channels but has no colour.
struct Decoded {
  int channels = 1;
  bool colour = false;
};

// Decodes one image into *pixels (width * height * channels bytes, alpha
// dropped, palette expanded, 16-bit scaled, low bit depths expanded). No
// colour conversion is asked of libpng: its grey conversion would depend on
// the file's gAMA and cHRM chunks. libpng reports errors by longjmp back here,
// so this frame keeps no objects with destructors; *width / *height are 0 on
// entry for the first image (any size whose stored rows, uncompressed, take at
// most max_row_bytes accepted) and the
// required size otherwise.
Decode decode_image(PngReader& r, std::FILE* file, std::uint64_t max_row_bytes, png_uint_32* width, png_uint_32* height,
                    Decoded* out, std::vector<std::uint8_t>* pixels) {
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
  // The rows as stored: a filter byte and w pixels of depth x channels bits
  // (8 pixels a byte at depth 1). Interlacing only adds bytes.
  const std::uint64_t bits_per_pixel = std::uint64_t(depth) * png_get_channels(r.png, r.info);
  const std::uint64_t row_bytes = 1 + (std::uint64_t{w} * bits_per_pixel + 7) / 8;
  if (h != 0 && row_bytes > max_row_bytes / h) return Decode::too_large;  // row_bytes * h could overflow
  out->channels = (color & PNG_COLOR_MASK_COLOR) != 0 ? 3 : 1;
  out->colour = out->channels == 3;
  if (color == PNG_COLOR_TYPE_PALETTE) {
    png_colorp palette = nullptr;
    int entries = 0;
    out->colour = false;
    if (png_get_PLTE(r.png, r.info, &palette, &entries) != 0) {
      for (int k = 0; k < entries; ++k) {
        const png_color& c = palette[k];
        if (c.red != c.green || c.red != c.blue) out->colour = true;
      }
    }
    png_set_palette_to_rgb(r.png);  // a tRNS chunk becomes alpha, dropped below
  }
  if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(r.png);
  if (depth == 16) png_set_scale_16(r.png);
  png_set_strip_alpha(r.png);  // whatever alpha the transforms above produce
  const int passes = png_set_interlace_handling(r.png);
  png_read_update_info(r.png, r.info);
  const std::size_t stride = std::size_t{w} * static_cast<std::size_t>(out->channels);
  if (png_get_rowbytes(r.png, r.info) != stride) png_error(r.png, "unexpected row size after conversion to 8 bits");
  pixels->resize(stride * h);
  for (int pass = 0; pass < passes; ++pass) {
    for (png_uint_32 y = 0; y < h; ++y) png_read_row(r.png, pixels->data() + std::size_t{y} * stride, nullptr);
  }
  png_read_end(r.png, nullptr);
  return Decode::ok;
}

// Appends one decoded image to `out` as planar channels: 3 (RGB) when
// `keep_colour` and the image has colour, else 1 (grey by rgb_to_grey).
// Returns the channels appended.
std::size_t append_image(const std::vector<std::uint8_t>& pixels, const Decoded& image, std::size_t count,
                         bool keep_colour, std::vector<std::uint8_t>& out) {
  const std::size_t start = out.size();
  if (image.channels == 1) {
    out.insert(out.end(), pixels.begin(), pixels.begin() + static_cast<std::ptrdiff_t>(count));
    return 1;
  }
  if (image.colour && keep_colour) {
    out.resize(start + 3 * count);
    for (std::size_t c = 0; c < 3; ++c) {
      std::uint8_t* dst = out.data() + start + c * count;
      for (std::size_t p = 0; p < count; ++p) dst[p] = pixels[3 * p + c];
    }
    return 3;
  }
  out.resize(start + count);
  for (std::size_t p = 0; p < count; ++p)
    out[start + p] = rgb_to_grey(pixels[3 * p], pixels[3 * p + 1], pixels[3 * p + 2]);  // exact for a grey palette
  return 1;
}

// Makes every image of `bytes` 3 channels in place: image i (channels[i] planes
// of `count` bytes, packed one after another) moves to [3 i count, 3 (i + 1)
// count), a grey plane repeated three times. Images move from the last to the
// first, and none moves backwards, so no image is overwritten before it moved.
void expand_to_rgb(std::vector<std::uint8_t>& bytes, const std::vector<std::uint8_t>& channels, std::size_t count) {
  std::vector<std::size_t> offset(channels.size());
  std::size_t at = 0;
  for (std::size_t i = 0; i < channels.size(); ++i) {
    offset[i] = at;
    at += channels[i] * count;
  }
  bytes.resize(3 * count * channels.size());
  for (std::size_t i = channels.size(); i-- > 0;) {
    std::uint8_t* dst = bytes.data() + 3 * count * i;
    const std::uint8_t* src = bytes.data() + offset[i];
    if (channels[i] == 3) {
      std::memmove(dst, src, 3 * count);
    } else {
      // Planes 2 and 1 lie wholly after the source (offset[i] <= 3 count i); plane 0 may overlap it.
      std::memcpy(dst + 2 * count, src, count);
      std::memcpy(dst + count, src, count);
      std::memmove(dst, src, count);
    }
  }
}

// Walks the chunk headers (length, type) from after the signature to IEND or
// the end of the file; throws when a chunk's data would run past the end.
// Leaves the file at its start.
void check_chunk_lengths(std::FILE* f, std::uint64_t file_size, const std::filesystem::path& path) {
  std::uint64_t at = 8;
  unsigned char header[8];
  while (at + 8 <= file_size && std::fseek(f, static_cast<long>(at), SEEK_SET) == 0 &&
         std::fread(header, 1, 8, f) == 8) {
    const std::uint64_t length = (std::uint64_t{header[0]} << 24) | (std::uint64_t{header[1]} << 16) |
                                 (std::uint64_t{header[2]} << 8) | std::uint64_t{header[3]};
    const std::uint64_t left = file_size - at - 8;
    if (length > left) {
      std::string type;
      for (int k = 4; k < 8; ++k) type += std::isprint(header[k]) ? static_cast<char>(header[k]) : '?';
      data::fail(path, "not a valid PNG image: chunk " + type + " at byte " + std::to_string(at) + " declares " +
                           std::to_string(length) + " bytes of data, but only " + std::to_string(left) + " follow");
    }
    if (std::memcmp(header + 4, "IEND", 4) == 0) break;
    at += 12 + length;  // length, type, data, CRC
  }
  std::rewind(f);
}

bool has_png_extension(const std::filesystem::path& p) {
  std::string ext = p.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".png";
}

}  // namespace

Dataset read_png_folder(const std::filesystem::path& dir, const LoadOptions& options) {
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
  const bool keep_colour = options.color == ColorMode::keep;
  std::vector<std::uint8_t> pixels;    // one decoded image, interleaved
  std::vector<std::uint8_t> channels;  // per image: the planes appended to d.bytes
  bool colour = false;
  for (const auto& file : files) {
    const std::uint64_t file_size = std::filesystem::file_size(file, ec);
    if (ec) data::fail(file, "cannot read: " + ec.message());
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> fp(std::fopen(file.c_str(), "rb"), &std::fclose);
    if (!fp) data::fail(file, "cannot open");
    PngReader reader;
    if (reader.png == nullptr || reader.info == nullptr) throw std::bad_alloc();
    png_uint_32 w = width, h = height;
    // Deflate expands at most 1032:1: a header whose rows need more is lying.
    // (Counted in bytes, not pixels: a 1-bit image holds 8 pixels a byte.)
    const std::uint64_t max_row_bytes = file_size * 1032 + 4096;
    // libpng allocates a text chunk at the length its header declares, before
    // reading it (a 49-byte file claiming a 2 GB iTXt chunk made it allocate
    // 2 GB): every chunk must fit in the file.
    check_chunk_lengths(fp.get(), file_size, file);
    Decoded image;
    switch (decode_image(reader, fp.get(), max_row_bytes, &w, &h, &image, &pixels)) {
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
    channels.push_back(static_cast<std::uint8_t>(append_image(pixels, image, std::size_t{w} * h, keep_colour, d.bytes)));
    colour = colour || image.colour;
  }
  d.count = files.size();
  d.width = width;
  d.height = height;
  const bool rgb = colour && keep_colour;
  if (rgb) expand_to_rgb(d.bytes, channels, d.width * d.height);
  d.channels = rgb ? 3 : 1;
  d.dim = d.channels * d.width * d.height;
  d.source = dir.string() + " (" + std::to_string(files.size()) + " PNG images" +
             (rgb ? ", RGB" : colour ? ", colour read as grey" : "") + ")";
  data::detect_binary_bytes(d);
  return d;
}

}  // namespace aevb
