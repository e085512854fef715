// PNG encoding: round trips through libpng's decoder are exact, the header
// says what we asked for, and bad input is refused with aevb::InputError.
#include <gtest/gtest.h>

#include <string>

#include "aevb/error.hpp"
#include "viz/png.hpp"

namespace aevb::viz {
namespace {

Image8 pattern(int w, int h, int channels) {
  Image8 img(w, h, channels);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      for (int c = 0; c < channels; ++c) img.at(x, y, c) = static_cast<std::uint8_t>((x * 7 + y * 13 + c * 101) % 256);
    }
  }
  return img;
}

std::uint32_t be32(const std::string& b, std::size_t at) {
  return (std::uint32_t{static_cast<unsigned char>(b[at])} << 24) |
         (std::uint32_t{static_cast<unsigned char>(b[at + 1])} << 16) |
         (std::uint32_t{static_cast<unsigned char>(b[at + 2])} << 8) | std::uint32_t{static_cast<unsigned char>(b[at + 3])};
}

TEST(VizPng, GreyRoundTripIsExact) {
  const Image8 img = pattern(37, 23, 1);
  const std::string bytes = encode_png(img);
  ASSERT_GT(bytes.size(), 33u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  // IHDR: width, height, bit depth 8, colour type 0 (grey).
  EXPECT_EQ(bytes.substr(12, 4), "IHDR");
  EXPECT_EQ(be32(bytes, 16), 37u);
  EXPECT_EQ(be32(bytes, 20), 23u);
  EXPECT_EQ(bytes[24], 8);
  EXPECT_EQ(bytes[25], 0);
  EXPECT_EQ(bytes.substr(bytes.size() - 8, 4), "IEND");

  const Image8 back = decode_png(bytes);
  EXPECT_EQ(back.width, 37);
  EXPECT_EQ(back.height, 23);
  EXPECT_EQ(back.channels, 1);
  EXPECT_EQ(back.pixels, img.pixels);
}

TEST(VizPng, RgbRoundTripIsExact) {
  const Image8 img = pattern(19, 31, 3);
  const std::string bytes = encode_png(img);
  EXPECT_EQ(bytes[25], 2);  // colour type RGB
  const Image8 back = decode_png(bytes);
  EXPECT_EQ(back.width, 19);
  EXPECT_EQ(back.height, 31);
  EXPECT_EQ(back.channels, 3);
  EXPECT_EQ(back.pixels, img.pixels);
}

TEST(VizPng, OnePixelAndExtremes) {
  Image8 img(1, 1, 1, 255);
  EXPECT_EQ(decode_png(encode_png(img)).pixels, std::vector<std::uint8_t>{255});
  img.at(0, 0) = 0;
  EXPECT_EQ(decode_png(encode_png(img)).pixels, std::vector<std::uint8_t>{0});
}

TEST(VizPng, EncodeRefusesBadShapes) {
  EXPECT_THROW(encode_png(Image8{}), InputError);
  Image8 img = pattern(4, 4, 1);
  img.pixels.pop_back();
  EXPECT_THROW(encode_png(img), InputError);
  Image8 two = pattern(4, 4, 1);
  two.channels = 2;
  EXPECT_THROW(encode_png(two), InputError);
  EXPECT_THROW(Image8(-1, 3), InputError);
  try {
    encode_png(img);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("needs 16 bytes"), std::string::npos) << e.what();
  }
}

TEST(VizPng, DecodeRefusesGarbageAndTruncation) {
  EXPECT_THROW(decode_png("definitely not a png"), InputError);
  EXPECT_THROW(decode_png(""), InputError);
  const std::string bytes = encode_png(pattern(40, 40, 1));
  EXPECT_THROW(decode_png(bytes.substr(0, bytes.size() / 2)), InputError);
  std::string corrupt = bytes;
  corrupt[40] = static_cast<char>(corrupt[40] ^ 0x55);  // inside IDAT: CRC or zlib check fails
  EXPECT_THROW(decode_png(corrupt), InputError);
}

TEST(VizPng, DecodeRefusesImagesOverTheLimit) {
  const std::string bytes = encode_png(pattern(40, 30, 1));
  EXPECT_THROW(decode_png(bytes, 40 * 30 - 1), InputError);
  EXPECT_NO_THROW(decode_png(bytes, 40 * 30));
}

}  // namespace
// Found by fuzz_png (docs/reliability.md): 49 bytes whose second chunk header
// claims 0x7a545874 = 2052348020 bytes of iTXt data made libpng allocate 2 GB
// before finding the data missing. Every chunk must now fit in the bytes.
TEST(VizPng, ChunkLongerThanTheFileIsRejectedBeforeLibpngAllocatesIt) {
  const std::string bytes = std::string("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x02\0\0\0\x02\x08\0\0\0\0\x57\xdd\x52\xf8"
                  "\x7a\x54\x58\x74iTXt\x08\x03\x00\x0fIDAT", 49);
  ASSERT_EQ(bytes.size(), 49u);
  try {
    decode_png(bytes);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("chunk iTXt at byte 33 declares 2052348020 bytes"), std::string::npos) << what;
  }
}

}  // namespace aevb::viz
