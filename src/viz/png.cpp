#include "viz/png.hpp"

#include <png.h>

#include <csetjmp>
#include <cctype>
#include <cstring>

#include "aevb/error.hpp"

namespace aevb::viz {
namespace {

// State reached from libpng's callbacks. It holds no C++ objects with
// destructors of its own except through the pointer, so a longjmp cannot skip
// a destructor.
struct WriteState {
  std::string* out;
  bool out_of_memory;
  char message[200];
};

void on_error(png_structp png, png_const_charp message) {
  auto* state = static_cast<WriteState*>(png_get_error_ptr(png));
  if (state != nullptr) {
    std::strncpy(state->message, message != nullptr ? message : "unknown libpng error",
                 sizeof state->message - 1);
    state->message[sizeof state->message - 1] = '\0';
  }
  png_longjmp(png, 1);
}

void on_warning(png_structp, png_const_charp) {}

void on_write(png_structp png, png_bytep data, png_size_t length) {
  auto* state = static_cast<WriteState*>(png_get_io_ptr(png));
  try {
    state->out->append(reinterpret_cast<const char*>(data), length);
  } catch (...) {  // bad_alloc or length_error
    state->out_of_memory = true;
  }
  // png_error longjmps; call it outside the handler so no exception is live.
  if (state->out_of_memory) png_error(png, "out of memory while writing PNG");
}

void on_flush(png_structp) {}

// Everything between setjmp and a possible longjmp lives here: only trivially
// destructible locals, and `png`, `info`, `rows` are not modified after setjmp,
// so they need not be volatile. Returns false when libpng reported an error.
bool write_with_libpng(png_structp png, png_infop info, const Image8& image, png_bytep* rows,
                       WriteState* state) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_write_fn(png, state, on_write, on_flush);
  png_set_IHDR(png, info, static_cast<png_uint_32>(image.width), static_cast<png_uint_32>(image.height),
               8, image.channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level(png, 9);
  png_write_info(png, info);
  png_write_image(png, rows);
  png_write_end(png, nullptr);
  return true;
}

}  // namespace

Image8::Image8(int w, int h, int c, std::uint8_t fill)
    : width(w), height(h), channels(c) {
  if (w < 0 || h < 0 || (c != 1 && c != 3)) {
    throw InputError("image: invalid shape " + std::to_string(w) + "x" + std::to_string(h) + "x" +
                     std::to_string(c));
  }
  pixels.assign(static_cast<std::size_t>(w) * static_cast<std::size_t>(h) * static_cast<std::size_t>(c),
                fill);
}

std::string encode_png(const Image8& image) {
  // PNG allows up to 2^31-1 per side; libpng's default user limit is 10^6.
  constexpr int kMaxSide = 1000000;
  if (image.width <= 0 || image.height <= 0 || image.width > kMaxSide || image.height > kMaxSide) {
    throw InputError("cannot encode PNG: image size " + std::to_string(image.width) + "x" +
                     std::to_string(image.height) + " is outside 1.." + std::to_string(kMaxSide));
  }
  if (image.channels != 1 && image.channels != 3) {
    throw InputError("cannot encode PNG: expected 1 or 3 channels, got " + std::to_string(image.channels));
  }
  const std::size_t stride = static_cast<std::size_t>(image.width) * static_cast<std::size_t>(image.channels);
  if (image.pixels.size() != stride * static_cast<std::size_t>(image.height)) {
    throw InputError("cannot encode PNG: " + std::to_string(image.width) + "x" + std::to_string(image.height) +
                     "x" + std::to_string(image.channels) + " image needs " +
                     std::to_string(stride * static_cast<std::size_t>(image.height)) + " bytes, buffer has " +
                     std::to_string(image.pixels.size()));
  }

  std::string out;
  out.reserve(image.pixels.size() / 2 + 128);
  // libpng takes non-const row pointers but only reads them when writing.
  std::vector<png_bytep> rows(static_cast<std::size_t>(image.height));
  auto* base = const_cast<png_bytep>(image.pixels.data());
  for (std::size_t y = 0; y < rows.size(); ++y) rows[y] = base + y * stride;

  WriteState state{&out, false, {}};
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &state, on_error, on_warning);
  if (png == nullptr) throw InputError("cannot encode PNG: libpng could not allocate its state");
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_write_struct(&png, nullptr);
    throw InputError("cannot encode PNG: libpng could not allocate its state");
  }
  const bool ok = write_with_libpng(png, info, image, rows.data(), &state);
  png_destroy_write_struct(&png, &info);
  if (!ok) throw InputError(std::string("cannot encode PNG: ") + state.message);
  return out;
}

namespace {

// Every chunk's declared length must fit in the bytes left: libpng allocates a
// text or ICC chunk at its declared length before reading it, so a 49-byte
// file claiming a 2 GB iTXt chunk made it allocate 2 GB. The simplified API
// offers no png_set_chunk_malloc_max, hence this walk over the chunk headers.
void check_chunk_lengths(std::string_view bytes) {
  std::size_t at = 8;  // after the signature (libpng checks it)
  while (at + 8 <= bytes.size()) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + at);
    const std::uint64_t length = (std::uint64_t{p[0]} << 24) | (std::uint64_t{p[1]} << 16) |
                                 (std::uint64_t{p[2]} << 8) | std::uint64_t{p[3]};
    const std::uint64_t left = bytes.size() - at - 8;
    if (length > left) {
      std::string type;
      for (int k = 4; k < 8; ++k) type += std::isprint(p[k]) ? static_cast<char>(p[k]) : '?';
      throw InputError("invalid PNG: chunk " + type + " at byte " + std::to_string(at) + " declares " +
                       std::to_string(length) + " bytes of data, but only " + std::to_string(left) + " follow");
    }
    if (std::memcmp(p + 4, "IEND", 4) == 0) break;
    at += 12 + static_cast<std::size_t>(length);  // length, type, data, CRC
  }
}

}  // namespace

Image8 decode_png(std::string_view bytes, std::size_t max_pixels) {
  if (bytes.size() >= 8) check_chunk_lengths(bytes);
  // The simplified libpng API (1.6+) handles errors internally (no setjmp
  // here) and frees its state on error and on completion.
  png_image img;
  std::memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  if (png_image_begin_read_from_memory(&img, bytes.data(), bytes.size()) == 0) {
    const std::string why = img.message;
    png_image_free(&img);
    throw InputError("invalid PNG: " + why);
  }
  const bool color = (img.format & PNG_FORMAT_FLAG_COLOR) != 0;
  if (static_cast<std::size_t>(img.width) * img.height > max_pixels) {
    const std::string size = std::to_string(img.width) + "x" + std::to_string(img.height);
    png_image_free(&img);
    throw InputError("PNG image " + size + " is larger than the limit of " + std::to_string(max_pixels) +
                     " pixels");
  }
  img.format = color ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  Image8 out;
  try {
    out = Image8(static_cast<int>(img.width), static_cast<int>(img.height), color ? 3 : 1);
  } catch (...) {
    png_image_free(&img);
    throw;
  }
  const png_color black{0, 0, 0};
  if (png_image_finish_read(&img, &black, out.pixels.data(), 0, nullptr) == 0) {
    const std::string why = img.message;
    png_image_free(&img);
    throw InputError("invalid PNG: " + why);
  }
  return out;
}

}  // namespace aevb::viz
