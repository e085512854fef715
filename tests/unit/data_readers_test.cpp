// Readers: IDX (raw and gzip), NPY, CSV and PNG folders, through small files
// written here, plus every error path a user can hit with a bad file.
#include <aevb/data.hpp>
#include <aevb/error.hpp>

#include "support/png_files.hpp"
#include "support/scratch.hpp"

#include <gtest/gtest.h>
#include <png.h>
#include <sys/resource.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

void write_gz(const fs::path& path, const std::string& bytes) {
  gzFile gz = gzopen(path.c_str(), "wb6");
  ASSERT_NE(gz, nullptr);
  ASSERT_EQ(gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  ASSERT_EQ(gzclose(gz), Z_OK);
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

std::string idx_images(std::uint32_t n, std::uint32_t rows, std::uint32_t cols, const std::string& pixels) {
  return std::string("\0\0\x08\x03", 4) + be32(n) + be32(rows) + be32(cols) + pixels;
}

std::string idx_labels(const std::vector<std::uint8_t>& labels) {
  return std::string("\0\0\x08\x01", 4) + be32(static_cast<std::uint32_t>(labels.size())) +
         std::string(labels.begin(), labels.end());
}

// Deterministic, poorly compressible bytes.
std::string noise(std::size_t n, std::uint32_t seed = 1) {
  std::string s(n, '\0');
  std::uint32_t x = seed * 2654435761u + 12345u;
  for (auto& c : s) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

// The InputError message thrown by f, checked to be one line holding every part.
void expect_input_error(const std::function<void()>& f, std::initializer_list<std::string> parts) {
  const std::string message = aevb::test::error_of(f);
  EXPECT_EQ(message.find('\n'), std::string::npos) << "not one line: " << message;
  for (const auto& part : parts) EXPECT_NE(message.find(part), std::string::npos) << "missing '" << part << "' in: " << message;
}

std::string npy_raw(const std::string& descr, const std::string& shape, const std::string& payload, int major = 1,
                    bool fortran = false) {
  std::string header = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape + ", }";
  const std::size_t pre = major == 1 ? 10 : 12;
  header.append((64 - (pre + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  const std::size_t len = header.size();
  out += static_cast<char>(len & 0xff);
  out += static_cast<char>((len >> 8) & 0xff);
  if (major > 1) out += std::string(2, '\0');
  return out + header + payload;
}

template <class T>
std::string raw_of(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

// Rec. 709 luminance in libpng's fixed point, the rule docs/data.md states.
std::uint8_t luminance(int r, int g, int b) {
  return static_cast<std::uint8_t>((6968 * r + 23434 * g + 2366 * b + 16384) >> 15);
}

// ---- IDX ----

TEST(DataIdx, RawAndGzipReadTheSameValuesAndLabelsBeside) {
  const aevb::test::TempDir scratch;
  const fs::path& dir = scratch.path;
  const std::string pixels = noise(5 * 3 * 4);
  write_bytes(dir / "train-images-idx3-ubyte", idx_images(5, 3, 4, pixels));
  write_gz(dir / "copy-images-idx3-ubyte.gz", idx_images(5, 3, 4, pixels));
  write_gz(dir / "copy-labels-idx1-ubyte.gz", idx_labels({3, 1, 4, 1, 5}));
  for (const char* name : {"train-images-idx3-ubyte", "copy-images-idx3-ubyte.gz"}) {
    const aevb::Dataset d = aevb::load_dataset(dir / name);
    ASSERT_EQ(d.count, 5u) << name;
    EXPECT_EQ(d.dim, 12u);
    EXPECT_EQ(d.height, 3u);
    EXPECT_EQ(d.width, 4u);
    ASSERT_TRUE(d.is_bytes());
    EXPECT_EQ(std::string(d.bytes.begin(), d.bytes.end()), pixels);
    EXPECT_FLOAT_EQ(d.value(2, 7), static_cast<float>(static_cast<std::uint8_t>(pixels[2 * 12 + 7])) / 255.0f);
  }
  EXPECT_TRUE(aevb::load_dataset(dir / "train-images-idx3-ubyte").labels.empty());
  EXPECT_EQ(aevb::load_dataset(dir / "copy-images-idx3-ubyte.gz").labels, (std::vector<std::int32_t>{3, 1, 4, 1, 5}));
  EXPECT_EQ(aevb::read_idx_labels(dir / "copy-labels-idx1-ubyte.gz"), (std::vector<std::int32_t>{3, 1, 4, 1, 5}));
}

TEST(DataIdx, GzipIsDetectedByContentNotName) {
  const aevb::test::TempDir scratch;
  const fs::path& dir = scratch.path;
  const std::string pixels = noise(2 * 2 * 2);
  write_gz(dir / "images.idx", idx_images(2, 2, 2, pixels));           // gzip without .gz
  write_bytes(dir / "images.gz", idx_images(2, 2, 2, pixels));         // raw named .gz
  for (const char* name : {"images.idx", "images.gz"}) {
    const aevb::Dataset d = aevb::read_idx_images(dir / name);
    EXPECT_EQ(std::string(d.bytes.begin(), d.bytes.end()), pixels) << name;
  }
}

TEST(DataIdx, MissingFileAndFolderSayWhat) {
  const aevb::test::TempDir scratch;
  const fs::path& dir = scratch.path;
  expect_input_error([&] { aevb::read_idx_images(dir / "nope.gz"); }, {(dir / "nope.gz").string(), "no such file"});
  expect_input_error([&] { aevb::read_idx_labels(dir); }, {dir.string(), "is a directory"});
  expect_input_error([&] { aevb::load_dataset(dir / "nope"); }, {"no such file or folder"});
}

TEST(DataIdx, WrongMagicOrKindIsNamed) {
  const aevb::test::TempDir scratch;
  const fs::path& dir = scratch.path;
  write_bytes(dir / "text", "hello world, not idx");
  expect_input_error([&] { aevb::read_idx_images(dir / "text"); }, {"not an IDX file", "2051", "68 65 6c 6c"});
  write_bytes(dir / "labels", idx_labels({1, 2}));
  expect_input_error([&] { aevb::read_idx_images(dir / "labels"); }, {"expected IDX images", "found IDX labels"});
  expect_input_error([&] { aevb::load_dataset(dir / "labels"); }, {"is an IDX labels file"});
  write_bytes(dir / "floats", std::string("\0\0\x0d\x03", 4) + be32(1) + be32(1) + be32(1) + std::string(4, '\0'));
  expect_input_error([&] { aevb::read_idx_images(dir / "floats"); }, {"element type 0x0d", "0x08"});
  write_bytes(dir / "short", std::string("\0\0", 2));
  expect_input_error([&] { aevb::read_idx_images(dir / "short"); }, {"too short", "found 2 bytes"});
  write_bytes(dir / "zero", idx_images(0, 28, 28, ""));
  expect_input_error([&] { aevb::read_idx_images(dir / "zero"); }, {"size 0"});
}

TEST(DataIdx, TruncatedRawAndGzipFilesAreErrors) {
  const aevb::test::TempDir scratch;
  const fs::path& dir = scratch.path;
  const std::string full = idx_images(100, 28, 28, noise(100 * 784));
  write_bytes(dir / "raw", full.substr(0, full.size() - 1));
  expect_input_error([&] { aevb::read_idx_images(dir / "raw"); },
                     {"truncated", "100 images of 28x28", "78416 bytes", "78415 bytes"});
  // A gzip stream cut short: the declared data never arrives.
  write_gz(dir / "full.gz", full);
  const std::string gz = read_bytes(dir / "full.gz");
  write_bytes(dir / "cut.gz", gz.substr(0, gz.size() / 2));
  expect_input_error([&] { aevb::read_idx_images(dir / "cut.gz"); }, {"truncated", "100 images of 28x28", "gzip stream ends early"});
  // A complete gzip stream holding fewer images than declared.
  write_gz(dir / "short.gz", idx_images(100, 28, 28, noise(50 * 784)));
  expect_input_error([&] { aevb::read_idx_images(dir / "short.gz"); }, {"truncated", "data ends after 39200 bytes"});
  // Labels too.
  write_bytes(dir / "labels", idx_labels({1, 2, 3}).substr(0, 10));
  expect_input_error([&] { aevb::read_idx_labels(dir / "labels"); }, {"truncated", "3 labels"});
}

TEST(DataIdx, TrailingDataIsAnError) {
  const aevb::test::TempDir scratch;
  const fs::path& dir = scratch.path;
  write_bytes(dir / "raw", idx_images(2, 2, 2, noise(9)));
  expect_input_error([&] { aevb::read_idx_images(dir / "raw"); }, {"2 images of 2x2", "1 more bytes"});
  write_gz(dir / "more.gz", idx_images(2, 2, 2, noise(9)));
  expect_input_error([&] { aevb::read_idx_images(dir / "more.gz"); }, {"2 images of 2x2", "more data follows"});
}

TEST(DataIdx, LyingHeaderNeverAllocatesWhatTheFileCannotHold) {
  const aevb::test::TempDir scratch;
  const fs::path& dir = scratch.path;
  // 4294967295 images of 65535 x 65535 overflows nothing in 64 bits but is ~18 EB.
  const std::string huge = idx_images(0xffffffffu, 0xffffu, 0xffffu, noise(64));
  write_bytes(dir / "huge", huge);
  expect_input_error([&] { aevb::read_idx_images(dir / "huge"); }, {"truncated", "4294967295 images of 65535x65535"});
  write_gz(dir / "huge.gz", huge);
  expect_input_error([&] { aevb::read_idx_images(dir / "huge.gz"); }, {"more than a gzip file of", "can hold"});
  // Within deflate's ratio (3 MB of gzip could hold 3 GB) but far beyond the
  // data: memory grows only as data arrives, so the peak stays small.
  write_gz(dir / "short.gz", idx_images(4000000, 28, 28, noise(3 << 20)));
  rusage before{};
  ::getrusage(RUSAGE_SELF, &before);
  expect_input_error([&] { aevb::read_idx_images(dir / "short.gz"); },
                     {"truncated", "4000000 images of 28x28", "data ends after 3145728 bytes"});
  rusage after{};
  ::getrusage(RUSAGE_SELF, &after);
  EXPECT_LT(after.ru_maxrss - before.ru_maxrss, 200 * 1024) << "peak memory grew by " << after.ru_maxrss - before.ru_maxrss << " KiB";
  write_gz(dir / "labels.gz", std::string("\0\0\x08\x01", 4) + be32(0xfffffff0u));
  expect_input_error([&] { aevb::read_idx_labels(dir / "labels.gz"); }, {"4294967280 labels"});
}

TEST(DataIdx, CorruptGzipIsAnError) {
  const aevb::test::TempDir scratch;
  const fs::path& dir = scratch.path;
  write_gz(dir / "ok.gz", idx_images(50, 28, 28, noise(50 * 784)));
  std::string gz = read_bytes(dir / "ok.gz");
  for (std::size_t k = gz.size() / 2; k < gz.size() / 2 + 64; ++k) gz[k] = static_cast<char>(gz[k] ^ 0x5a);
  write_bytes(dir / "bad.gz", gz);
  expect_input_error([&] { aevb::read_idx_images(dir / "bad.gz"); }, {(dir / "bad.gz").string(), "corrupt gzip data"});
}

TEST(DataIdx, MismatchedLabelCountIsNamed) {
  const aevb::test::TempDir scratch;
  const fs::path& dir = scratch.path;
  write_bytes(dir / "a-images-idx3-ubyte", idx_images(3, 1, 1, "abc"));
  write_bytes(dir / "a-labels-idx1-ubyte", idx_labels({1, 2}));
  expect_input_error([&] { aevb::load_dataset(dir / "a-images-idx3-ubyte"); }, {"has 2 labels", "has 3 images"});
}

// ---- NPY ----

TEST(DataNpy, Uint8ThreeDimensionalIsBytesWithShape) {
  const aevb::test::TempDir scratch;
  const fs::path& dir = scratch.path;
  const std::string pixels = noise(4 * 3 * 2);
  write_bytes(dir / "a.npy", npy_raw("|u1", "(4, 3, 2)", pixels));
  const aevb::Dataset d = aevb::load_dataset(dir / "a.npy");
  EXPECT_EQ(d.count, 4u);
  EXPECT_EQ(d.dim, 6u);
  EXPECT_EQ(d.height, 3u);
  EXPECT_EQ(d.width, 2u);
  ASSERT_TRUE(d.is_bytes());
  EXPECT_EQ(std::string(d.bytes.begin(), d.bytes.end()), pixels);
}

TEST(DataNpy, Float32VersionsOneTwoThreeAndGzip) {
  const aevb::test::TempDir scratch;
  const fs::path& dir = scratch.path;
  const std::vector<float> v = {0.0f, 0.25f, 0.5f, 1.0f, 0.125f, 0.75f};
  for (int major : {1, 2, 3}) {
    fs::path p = dir / "v";
    p += std::to_string(major) + ".npy";  // vN.npy (as one string expression, GCC 12 warns falsely: -Wrestrict)
    write_bytes(p, npy_raw("<f4", "(2, 3)", raw_of(v), major));
    const aevb::Dataset d = aevb::load_dataset(p);
    EXPECT_EQ(d.count, 2u);
    EXPECT_EQ(d.dim, 3u);
    EXPECT_EQ(d.height, 0u);
    EXPECT_EQ(d.floats, v) << "version " << major;
  }
  write_gz(dir / "g.npy.gz", npy_raw("<f4", "(2, 3)", raw_of(v)));
  EXPECT_EQ(aevb::load_dataset(dir / "g.npy.gz").floats, v);
}

TEST(DataNpy, OtherDtypesAndChannelAxes) {
  const aevb::test::TempDir scratch;
  const fs::path& dir = scratch.path;
  write_bytes(dir / "f8.npy", npy_raw("<f8", "(1, 2, 2, 1)", raw_of(std::vector<double>{0.5, 0.25, 1.0, 0.0})));
  const aevb::Dataset f8 = aevb::read_npy(dir / "f8.npy");
  EXPECT_EQ(f8.height, 2u);
  EXPECT_EQ(f8.width, 2u);
  EXPECT_EQ(f8.floats, (std::vector<float>{0.5f, 0.25f, 1.0f, 0.0f}));
  // int64 grey levels 0..255 are read as bytes / 255.
  write_bytes(dir / "i8.npy", npy_raw("<i8", "(2, 1, 1, 2)", raw_of(std::vector<std::int64_t>{0, 255, 51, 102})));
  const aevb::Dataset i8 = aevb::read_npy(dir / "i8.npy");
  EXPECT_EQ(i8.height, 1u);
  EXPECT_EQ(i8.width, 2u);
  ASSERT_TRUE(i8.is_bytes());
  EXPECT_EQ(i8.bytes, (std::vector<std::uint8_t>{0, 255, 51, 102}));
  // uint8 0/1 is a binary image.
  write_bytes(dir / "bin.npy", npy_raw("|u1", "(2, 2)", std::string("\0\1\1\0", 4)));
  const aevb::Dataset bin = aevb::read_npy(dir / "bin.npy");
  EXPECT_TRUE(bin.binary);
  EXPECT_EQ(bin.bytes, (std::vector<std::uint8_t>{0, 255, 255, 0}));
  // Big-endian float32 is converted.
  std::string be = raw_of(std::vector<float>{0.5f});
  std::reverse(be.begin(), be.end());
  write_bytes(dir / "be.npy", npy_raw(">f4", "(1, 1)", be));
  EXPECT_EQ(aevb::read_npy(dir / "be.npy").floats, std::vector<float>{0.5f});
}

// n images of c channels, h x w, as numpy would hold them: channels first
// (value = (((i * c) + ch) * h + y) * w + x) or last ((((i * h) + y) * w + x) * c + ch).
// Value of (i, ch, y, x): 1 + i * 64 + ch * 16 + y * 4 + x, distinct for h, w <= 4.
std::uint8_t pixel_value(std::size_t i, std::size_t ch, std::size_t y, std::size_t x) {
  return static_cast<std::uint8_t>(1 + i * 64 + ch * 16 + y * 4 + x);
}
std::string image_array(std::size_t n, std::size_t c, std::size_t h, std::size_t w, bool channels_last) {
  std::string out(n * c * h * w, '\0');
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t ch = 0; ch < c; ++ch)
      for (std::size_t y = 0; y < h; ++y)
        for (std::size_t x = 0; x < w; ++x) {
          const std::size_t at = channels_last ? ((i * h + y) * w + x) * c + ch : ((i * c + ch) * h + y) * w + x;
          out[at] = static_cast<char>(pixel_value(i, ch, y, x));
        }
  return out;
}
// The planar bytes aevb should hold for channels 0..c_kept-1.
std::vector<std::uint8_t> planar(std::size_t n, std::size_t c_kept, std::size_t h, std::size_t w) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t ch = 0; ch < c_kept; ++ch)
      for (std::size_t y = 0; y < h; ++y)
        for (std::size_t x = 0; x < w; ++x) out.push_back(pixel_value(i, ch, y, x));
  return out;
}

TEST(DataNpy, ColourChannelsFirstAreKeptAsStored) {
  const aevb::test::TempDir scratch;
  const fs::path& dir = scratch.path;
  write_bytes(dir / "nchw.npy", npy_raw("|u1", "(2, 3, 2, 4)", image_array(2, 3, 2, 4, false)));
  const aevb::Dataset d = aevb::load_dataset(dir / "nchw.npy");
  EXPECT_EQ(d.count, 2u);
  EXPECT_EQ(d.channels, 3u);
  EXPECT_EQ(d.height, 2u);
  EXPECT_EQ(d.width, 4u);
  EXPECT_EQ(d.dim, 24u);
  EXPECT_EQ(d.bytes, planar(2, 3, 2, 4));
  // (n, 3, h, 3) could be either layout: the second axis decides, channels first.
  write_bytes(dir / "ambiguous.npy", npy_raw("|u1", "(1, 3, 2, 3)", image_array(1, 3, 2, 3, false)));
  const aevb::Dataset a = aevb::read_npy(dir / "ambiguous.npy");
  EXPECT_EQ(a.channels, 3u);
  EXPECT_EQ(a.height, 2u);
  EXPECT_EQ(a.width, 3u);
  EXPECT_EQ(a.bytes, planar(1, 3, 2, 3));
}

TEST(DataNpy, ColourChannelsLastAreMadePlanarAndAlphaDropped) {
  const aevb::test::TempDir scratch;
  const fs::path& dir = scratch.path;
  write_bytes(dir / "nhwc.npy", npy_raw("|u1", "(3, 2, 4, 3)", image_array(3, 3, 2, 4, true)));
  const aevb::Dataset d = aevb::load_dataset(dir / "nhwc.npy");
  EXPECT_EQ(d.count, 3u);
  EXPECT_EQ(d.channels, 3u);
  EXPECT_EQ(d.height, 2u);
  EXPECT_EQ(d.width, 4u);
  EXPECT_EQ(d.dim, 24u);
  EXPECT_EQ(d.bytes, planar(3, 3, 2, 4));
  // RGBA as float32 in [0, 1]: the alpha plane goes, the rest is made planar.
  const std::string rgba = image_array(2, 4, 2, 3, true);
  std::vector<float> f(rgba.size());
  for (std::size_t k = 0; k < f.size(); ++k) f[k] = static_cast<float>(static_cast<std::uint8_t>(rgba[k])) / 256.0f;
  write_bytes(dir / "rgba.npy", npy_raw("<f4", "(2, 2, 3, 4)", raw_of(f)));
  const aevb::Dataset r = aevb::read_npy(dir / "rgba.npy");
  EXPECT_EQ(r.channels, 3u);
  EXPECT_EQ(r.height, 2u);
  EXPECT_EQ(r.width, 3u);
  ASSERT_EQ(r.dim, 18u);
  const std::vector<std::uint8_t> want = planar(2, 3, 2, 3);
  ASSERT_EQ(r.floats.size(), want.size());
  for (std::size_t k = 0; k < want.size(); ++k) EXPECT_EQ(r.floats[k], static_cast<float>(want[k]) / 256.0f) << k;
  EXPECT_NE(r.source.find("alpha dropped"), std::string::npos) << r.source;
  // One channel last is grey, as before.
  write_bytes(dir / "grey.npy", npy_raw("|u1", "(2, 2, 4, 1)", image_array(2, 1, 2, 4, true)));
  const aevb::Dataset g = aevb::read_npy(dir / "grey.npy");
  EXPECT_EQ(g.channels, 1u);
  EXPECT_EQ(g.dim, 8u);
  EXPECT_EQ(g.bytes, planar(2, 1, 2, 4));
}

TEST(DataNpy, GreyOptionAppliesLuminanceToColourArrays) {
  const aevb::test::TempDir scratch;
  const fs::path& dir = scratch.path;
  write_bytes(dir / "nhwc.npy", npy_raw("|u1", "(2, 2, 3, 3)", image_array(2, 3, 2, 3, true)));
  aevb::LoadOptions options;
  options.color = aevb::ColorMode::grey;
  const aevb::Dataset d = aevb::read_npy(dir / "nhwc.npy", options);
  EXPECT_EQ(d.channels, 1u);
  ASSERT_EQ(d.dim, 6u);
  ASSERT_EQ(d.bytes.size(), 12u);
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t p = 0; p < 6; ++p) {
      const std::size_t y = p / 3, x = p % 3;
      EXPECT_EQ(d.bytes[i * 6 + p], luminance(pixel_value(i, 0, y, x), pixel_value(i, 1, y, x), pixel_value(i, 2, y, x)))
          << i << " " << p;
    }
  // Floats by the same weights; equal channels stay exactly what they were.
  const std::vector<float> f = {0.2f, 0.2f, 0.2f, 0.0f, 1.0f, 0.5f};  // (1, 2, 1, 3): two pixels
  write_bytes(dir / "f.npy", npy_raw("<f4", "(1, 2, 1, 3)", raw_of(f)));
  const aevb::Dataset g = aevb::read_npy(dir / "f.npy", options);
  ASSERT_EQ(g.floats.size(), 2u);
  EXPECT_EQ(g.floats[0], 0.2f);
  EXPECT_NEAR(g.floats[1], (23434.0 + 0.5 * 2366.0) / 32768.0, 1e-6);  // float32 sums of three terms
  // Grey data is left alone.
  write_bytes(dir / "grey.npy", npy_raw("|u1", "(2, 1, 2, 3)", image_array(2, 1, 2, 3, false)));
  EXPECT_EQ(aevb::read_npy(dir / "grey.npy", options).bytes, planar(2, 1, 2, 3));
}

TEST(DataNpy, ErrorsNameTheProblem) {
  const aevb::test::TempDir scratch;
  const fs::path& dir = scratch.path;
  const std::string four = raw_of(std::vector<float>{0.1f, 0.2f, 0.3f, 0.4f});
  write_bytes(dir / "c16.npy", npy_raw("<c16", "(1, 1)", std::string(16, '\0')));
  expect_input_error([&] { aevb::read_npy(dir / "c16.npy"); }, {"dtype '<c16' is not supported", "float32"});
  write_bytes(dir / "fortran.npy", npy_raw("<f4", "(2, 2)", four, 1, true));
  expect_input_error([&] { aevb::read_npy(dir / "fortran.npy"); }, {"Fortran", "C order"});
  write_bytes(dir / "1d.npy", npy_raw("<f4", "(4,)", four));
  expect_input_error([&] { aevb::read_npy(dir / "1d.npy"); }, {"expected an array of shape (n, d)", "found shape (4,)"});
  write_bytes(dir / "five.npy", npy_raw("|u1", "(1, 2, 2, 5)", std::string(20, '\1')));
  expect_input_error([&] { aevb::read_npy(dir / "five.npy"); }, {"(n, h, w, c) with c = 1, 3 or 4", "found shape (1, 2, 2, 5)"});
  write_bytes(dir / "trunc.npy", npy_raw("<f4", "(2, 2)", four.substr(0, 12)));
  expect_input_error([&] { aevb::read_npy(dir / "trunc.npy"); }, {"truncated", "shape (2, 2)"});
  write_bytes(dir / "huge.npy", npy_raw("<f4", "(4000000000, 400000000)", four));
  expect_input_error([&] { aevb::read_npy(dir / "huge.npy"); }, {"truncated", "(4000000000, 400000000)"});
  write_gz(dir / "huge.npy.gz", npy_raw("<f4", "(4000000000, 4000)", four));
  expect_input_error([&] { aevb::read_npy(dir / "huge.npy.gz"); }, {"can hold", "corrupt header"});
  write_bytes(dir / "overflow.npy", npy_raw("<f4", "(99999999999999999999999, 2)", four));
  expect_input_error([&] { aevb::read_npy(dir / "overflow.npy"); }, {"overflows 64 bits"});
  write_bytes(dir / "range.npy", npy_raw("<f4", "(2, 2)", raw_of(std::vector<float>{0.5f, -2.0f, 3.5f, 0.0f})));
  expect_input_error([&] { aevb::read_npy(dir / "range.npy"); }, {"values range from -2 to 3.5", "minmax"});
  write_bytes(dir / "nan.npy", npy_raw("<f4", "(1, 2)", raw_of(std::vector<float>{0.5f, std::nanf("")})));
  expect_input_error([&] { aevb::read_npy(dir / "nan.npy"); }, {"value 2 of datapoint 1", "not a finite number"});
  write_bytes(dir / "magic.npy", "\x93NUMPX garbage");
  expect_input_error([&] { aevb::read_npy(dir / "magic.npy"); }, {"not an NPY file"});
  write_bytes(dir / "nodescr.npy", npy_raw("<f4", "(1, 1)", four.substr(0, 4)).replace(12, 5, "dxscr"));
  expect_input_error([&] { aevb::read_npy(dir / "nodescr.npy"); }, {"no 'descr' entry"});
}

TEST(DataNpy, ScalingMinmaxAndNone) {
  const aevb::test::TempDir scratch;
  const fs::path& dir = scratch.path;
  write_bytes(dir / "r.npy", npy_raw("<f4", "(2, 2)", raw_of(std::vector<float>{-1.0f, 0.0f, 1.0f, 3.0f})));
  const aevb::Dataset mm = aevb::read_npy(dir / "r.npy", {aevb::Scaling::minmax});
  EXPECT_EQ(mm.floats, (std::vector<float>{0.0f, 0.25f, 0.5f, 1.0f}));
  EXPECT_NE(mm.source.find("scaled from [-1, 3]"), std::string::npos) << mm.source;
  const aevb::Dataset none = aevb::read_npy(dir / "r.npy", {aevb::Scaling::none});
  EXPECT_EQ(none.floats, (std::vector<float>{-1.0f, 0.0f, 1.0f, 3.0f}));
}

// ---- CSV ----

TEST(DataCsv, IntegersAreBytesAndHeaderWithLabelColumn) {
  const aevb::test::TempDir scratch;
  const fs::path& dir = scratch.path;
  write_bytes(dir / "a.csv", "label,p0,p1,p2\r\n7,0,128,255\r\n\r\n2, 1 ,2,3\r\n");
  const aevb::Dataset d = aevb::load_dataset(dir / "a.csv");
  EXPECT_EQ(d.count, 2u);
  EXPECT_EQ(d.dim, 3u);
  EXPECT_EQ(d.labels, (std::vector<std::int32_t>{7, 2}));
  ASSERT_TRUE(d.is_bytes());
  EXPECT_EQ(d.bytes, (std::vector<std::uint8_t>{0, 128, 255, 1, 2, 3}));
  EXPECT_FLOAT_EQ(d.value(0, 1), 128.0f / 255.0f);
}

TEST(DataCsv, FloatsBinaryAndSeparators) {
  const aevb::test::TempDir scratch;
  const fs::path& dir = scratch.path;
  write_bytes(dir / "f.csv", "0.5;0.25\n1e-1;+1\n");
  const aevb::Dataset f = aevb::read_csv(dir / "f.csv");
  EXPECT_FALSE(f.is_bytes());
  EXPECT_EQ(f.floats, (std::vector<float>{0.5f, 0.25f, 0.1f, 1.0f}));
  EXPECT_TRUE(f.labels.empty());
  write_bytes(dir / "b.txt", "0 1  1\n1\t0 0\n");
  const aevb::Dataset b = aevb::load_dataset(dir / "b.txt");
  EXPECT_TRUE(b.binary);
  EXPECT_EQ(b.dim, 3u);
  EXPECT_EQ(b.bytes, (std::vector<std::uint8_t>{0, 255, 255, 255, 0, 0}));
  write_gz(dir / "g.csv.gz", "x,y\n0.5,0.5\n");
  EXPECT_EQ(aevb::load_dataset(dir / "g.csv.gz").floats, (std::vector<float>{0.5f, 0.5f}));
}

TEST(DataCsv, ErrorsNameLineAndColumn) {
  const aevb::test::TempDir scratch;
  const fs::path& dir = scratch.path;
  write_bytes(dir / "word.csv", "1,2\n3,abc\n");
  expect_input_error([&] { aevb::read_csv(dir / "word.csv"); }, {"word.csv:2", "column 2", "'abc'"});
  write_bytes(dir / "ragged.csv", "a,b,c\n1,2,3\n4,5\n");
  expect_input_error([&] { aevb::read_csv(dir / "ragged.csv"); }, {"ragged.csv:3", "expected 3 values", "found 2"});
  write_bytes(dir / "range.csv", "1,2\n3,300\n");
  expect_input_error([&] { aevb::read_csv(dir / "range.csv"); }, {"values range from 1 to 300", "[0, 1]"});
  write_bytes(dir / "nan.csv", "0.5,nan\n");
  expect_input_error([&] { aevb::read_csv(dir / "nan.csv"); }, {"nan.csv:1", "column 2", "not a finite"});
  write_bytes(dir / "empty.csv", "\n\n");
  expect_input_error([&] { aevb::read_csv(dir / "empty.csv"); }, {"no data rows"});
  write_bytes(dir / "header-only.csv", "a,b\n");
  expect_input_error([&] { aevb::read_csv(dir / "header-only.csv"); }, {"no data rows"});
  write_bytes(dir / "label.csv", "label,x\n1.5,0\n");
  expect_input_error([&] { aevb::read_csv(dir / "label.csv"); }, {"label.csv:2", "whole-number label"});
  write_bytes(dir / "binary.dat", std::string("\x01\x02\xff\xfe", 4));
  expect_input_error([&] { aevb::load_dataset(dir / "binary.dat"); }, {"unrecognised format", "01 02 ff fe"});
}

// ---- PNG folders ----

using aevb::test::write_png;

TEST(DataPng, GreyFolderSortedByName) {
  const aevb::test::TempDir scratch;
  const fs::path& dir = scratch.path;
  const std::uint8_t b[6] = {10, 20, 30, 40, 50, 60}, a[6] = {0, 1, 2, 253, 254, 255};
  write_png(dir / "b.png", 3, 2, PNG_FORMAT_GRAY, b);
  write_png(dir / "a.PNG", 3, 2, PNG_FORMAT_GRAY, a);
  write_bytes(dir / "notes.txt", "ignored");
  const aevb::Dataset d = aevb::load_dataset(dir);
  EXPECT_EQ(d.count, 2u);
  EXPECT_EQ(d.width, 3u);
  EXPECT_EQ(d.height, 2u);
  EXPECT_EQ(d.dim, 6u);
  EXPECT_EQ(d.bytes, (std::vector<std::uint8_t>{0, 1, 2, 253, 254, 255, 10, 20, 30, 40, 50, 60}));
}

TEST(DataPng, ColourPaletteAlphaAndSixteenBitBecomeGreyOnRequest) {
  const aevb::test::TempDir scratch;
  const fs::path& dir = scratch.path;
  const std::uint8_t want[4] = {0, 77, 200, 255};
  std::uint8_t rgb[12], rgba[16], index[4], palette[12];
  std::uint16_t wide[4];
  for (int k = 0; k < 4; ++k) {
    for (int c = 0; c < 3; ++c) rgb[3 * k + c] = rgba[4 * k + c] = palette[3 * (3 - k) + c] = want[k];
    rgba[4 * k + 3] = static_cast<std::uint8_t>(60 * k);  // alpha is dropped
    index[k] = static_cast<std::uint8_t>(3 - k);
    wide[k] = static_cast<std::uint16_t>(want[k] * 257);
  }
  write_png(dir / "1-rgb.png", 2, 2, PNG_FORMAT_RGB, rgb);
  write_png(dir / "2-rgba.png", 2, 2, PNG_FORMAT_RGBA, rgba);
  write_png(dir / "3-palette.png", 2, 2, PNG_FORMAT_RGB_COLORMAP, index, palette, 4);
  write_png(dir / "4-grey16.png", 2, 2, PNG_FORMAT_LINEAR_Y, wide);
  aevb::LoadOptions grey;
  grey.color = aevb::ColorMode::grey;
  const aevb::Dataset d = aevb::read_png_folder(dir, grey);
  ASSERT_EQ(d.count, 4u);
  EXPECT_EQ(d.channels, 1u);
  EXPECT_EQ(d.dim, 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    for (std::size_t p = 0; p < 4; ++p) EXPECT_EQ(d.bytes[i * 4 + p], want[p]) << "image " << i << " pixel " << p;
  }
  // Kept as colour (RGB files are colour by their type, even holding only greys): 3 equal planes each.
  const aevb::Dataset c = aevb::read_png_folder(dir);
  ASSERT_EQ(c.channels, 3u);
  ASSERT_EQ(c.dim, 12u);
  for (std::size_t i = 0; i < 4; ++i) {
    for (std::size_t ch = 0; ch < 3; ++ch) {
      for (std::size_t p = 0; p < 4; ++p) EXPECT_EQ(c.bytes[i * 12 + ch * 4 + p], want[p]) << i << " " << ch << " " << p;
    }
  }
}

TEST(DataPng, RgbFolderIsReadAsPlanarChannelsExactly) {
  const aevb::test::TempDir scratch;
  const fs::path& dir = scratch.path;
  // Two 3x2 (width x height) images; pixel (x, y) of image i has red 10i + 3y + x,
  // green 100 + that, blue 250 - that: every value distinct within an image.
  std::uint8_t pixels[2][18];
  auto value = [](int i, int c, int x, int y) {
    const int v = 10 * i + 3 * y + x;
    return c == 0 ? v : c == 1 ? 100 + v : 250 - v;
  };
  for (int i = 0; i < 2; ++i)
    for (int y = 0; y < 2; ++y)
      for (int x = 0; x < 3; ++x)
        for (int c = 0; c < 3; ++c) pixels[i][(y * 3 + x) * 3 + c] = static_cast<std::uint8_t>(value(i, c, x, y));
  write_png(dir / "a.png", 3, 2, PNG_FORMAT_RGB, pixels[0]);
  write_png(dir / "b.png", 3, 2, PNG_FORMAT_RGB, pixels[1]);
  const aevb::Dataset d = aevb::load_dataset(dir);
  ASSERT_EQ(d.count, 2u);
  EXPECT_EQ(d.channels, 3u);
  EXPECT_EQ(d.height, 2u);
  EXPECT_EQ(d.width, 3u);
  ASSERT_EQ(d.dim, 18u);
  ASSERT_EQ(d.bytes.size(), 36u);
  for (int i = 0; i < 2; ++i)
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 2; ++y)
        for (int x = 0; x < 3; ++x)
          EXPECT_EQ(d.bytes[static_cast<std::size_t>(i * 18 + (c * 2 + y) * 3 + x)], value(i, c, x, y))
              << "image " << i << " channel " << c << " pixel (" << x << "," << y << ")";
  EXPECT_NE(d.source.find("RGB"), std::string::npos) << d.source;
  // Subsets keep the channels.
  EXPECT_EQ(aevb::first_rows(d, 1).channels, 3u);
  const std::uint32_t second[] = {1};
  const aevb::Dataset one = aevb::select_rows(d, second);
  EXPECT_EQ(one.channels, 3u);
  EXPECT_EQ(std::vector<std::uint8_t>(d.bytes.begin() + 18, d.bytes.end()), one.bytes);
}

TEST(DataPng, MixedFolderIsAllColourWithGreyRepeatedAndAlphaDropped) {
  const aevb::test::TempDir scratch;
  const fs::path& dir = scratch.path;
  // 2x2 images. Grey ones come first and between the colour ones, so each must move when the folder turns out colour.
  const std::uint8_t grey_a[4] = {0, 50, 100, 255}, grey_b[4] = {7, 8, 9, 10};
  const std::uint8_t rgb[12] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 30, 60, 90};
  std::uint8_t rgba[16];
  for (int p = 0; p < 4; ++p) {
    for (int c = 0; c < 3; ++c) rgba[4 * p + c] = static_cast<std::uint8_t>(40 * p + 10 * c + 1);
    rgba[4 * p + 3] = static_cast<std::uint8_t>(p == 0 ? 0 : 85 * p);  // alpha 0 too: the colour is kept, not composited
  }
  const std::uint8_t palette[6] = {200, 100, 50, 5, 5, 5}, index[4] = {0, 1, 1, 0};
  std::uint16_t wide[4];
  for (int p = 0; p < 4; ++p) wide[p] = static_cast<std::uint16_t>(grey_b[p] * 257);
  write_png(dir / "1-grey.png", 2, 2, PNG_FORMAT_GRAY, grey_a);
  write_png(dir / "2-rgb.png", 2, 2, PNG_FORMAT_RGB, rgb);
  write_png(dir / "3-grey16.png", 2, 2, PNG_FORMAT_LINEAR_Y, wide);
  write_png(dir / "4-rgba.png", 2, 2, PNG_FORMAT_RGBA, rgba);
  write_png(dir / "5-palette.png", 2, 2, PNG_FORMAT_RGB_COLORMAP, index, palette, 2);
  // What each image holds, as planar RGB.
  std::vector<std::vector<std::uint8_t>> want(5, std::vector<std::uint8_t>(12));
  for (int c = 0; c < 3; ++c) {
    for (int p = 0; p < 4; ++p) {
      const auto at = static_cast<std::size_t>(c * 4 + p);
      want[0][at] = grey_a[p];
      want[1][at] = rgb[3 * p + c];
      want[2][at] = grey_b[p];
      want[3][at] = rgba[4 * p + c];
      want[4][at] = palette[3 * index[p] + c];
    }
  }
  const aevb::Dataset d = aevb::read_png_folder(dir);
  ASSERT_EQ(d.count, 5u);
  ASSERT_EQ(d.channels, 3u);
  ASSERT_EQ(d.dim, 12u);
  ASSERT_EQ(d.bytes.size(), 60u);
  for (std::size_t i = 0; i < 5; ++i)
    EXPECT_EQ(std::vector<std::uint8_t>(d.bytes.begin() + 12 * i, d.bytes.begin() + 12 * (i + 1)), want[i]) << "image " << i;

  // --grey: one channel, colour by luminance, grey images unchanged.
  aevb::LoadOptions options;
  options.color = aevb::ColorMode::grey;
  const aevb::Dataset g = aevb::load_dataset(dir, options);
  ASSERT_EQ(g.channels, 1u);
  ASSERT_EQ(g.dim, 4u);
  ASSERT_EQ(g.bytes.size(), 20u);
  for (std::size_t i = 0; i < 5; ++i) {
    for (std::size_t p = 0; p < 4; ++p) {
      const std::uint8_t lum = luminance(want[i][p], want[i][4 + p], want[i][8 + p]);
      EXPECT_EQ(g.bytes[4 * i + p], lum) << "image " << i << " pixel " << p;
      // Rec. 709's weights: half a byte of rounding, plus the fixed-point weights'
      // difference from 0.2126, 0.7152, 0.0722 (under 1e-4 in all, 255 * 1e-4 < 0.03).
      EXPECT_NEAR(lum, 0.2126 * want[i][p] + 0.7152 * want[i][4 + p] + 0.0722 * want[i][8 + p], 0.53);
    }
  }
  EXPECT_NE(g.source.find("colour read as grey"), std::string::npos) << g.source;

  // Without the colour images, the same folder is grey, and a palette of greys does not make it colour.
  fs::remove(dir / "2-rgb.png");
  fs::remove(dir / "4-rgba.png");
  const std::uint8_t grey_palette[6] = {9, 9, 9, 250, 250, 250};
  write_png(dir / "5-palette.png", 2, 2, PNG_FORMAT_RGB_COLORMAP, index, grey_palette, 2);
  const aevb::Dataset k = aevb::read_png_folder(dir);
  EXPECT_EQ(k.channels, 1u);
  EXPECT_EQ(k.dim, 4u);
  EXPECT_EQ(k.bytes, (std::vector<std::uint8_t>{0, 50, 100, 255, 7, 8, 9, 10, 9, 250, 250, 9}));
}

TEST(DataPng, PaletteTransparencyIsDropped) {
  const aevb::test::TempDir scratch;
  const fs::path& dir = scratch.path;
  // A colour map with alpha: libpng writes PLTE and tRNS.
  const std::uint8_t palette[8] = {10, 20, 30, 0, 200, 150, 100, 128}, index[2] = {1, 0};
  write_png(dir / "a.png", 2, 1, PNG_FORMAT_RGBA_COLORMAP, index, palette, 2);
  const aevb::Dataset d = aevb::read_png_folder(dir);
  ASSERT_EQ(d.channels, 3u);
  EXPECT_EQ(d.bytes, (std::vector<std::uint8_t>{200, 10, 150, 20, 100, 30}));
}

TEST(DataPng, ErrorsNameTheFile) {
  const aevb::test::TempDir scratch;
  const fs::path& dir = scratch.path;
  const std::uint8_t px[6] = {};
  write_png(dir / "a.png", 3, 2, PNG_FORMAT_GRAY, px);
  write_png(dir / "b.png", 2, 3, PNG_FORMAT_GRAY, px);
  expect_input_error([&] { aevb::read_png_folder(dir); }, {"b.png", "2x3 pixels", "expected 3x2 like a.png"});
  fs::remove(dir / "b.png");
  write_bytes(dir / "c.png", "this is not a png");
  expect_input_error([&] { aevb::read_png_folder(dir); }, {"c.png", "not a valid PNG image"});
  const std::string good = read_bytes(dir / "a.png");
  write_bytes(dir / "c.png", good.substr(0, good.size() - 20));
  expect_input_error([&] { aevb::read_png_folder(dir); }, {"c.png", "not a valid PNG image"});
  const fs::path empty = dir / "empty";
  fs::create_directories(empty / "sub");
  expect_input_error([&] { aevb::read_png_folder(empty); }, {"no .png files", "subfolders are not read"});
  expect_input_error([&] { aevb::load_dataset(dir / "a.png"); }, {"single PNG image", "folder"});
}

TEST(DataPng, LyingHeaderIsRejectedBeforeDecoding) {
  const aevb::test::TempDir scratch;
  const fs::path& dir = scratch.path;
  const std::uint8_t px[4] = {1, 2, 3, 4};
  write_png(dir / "a.png", 2, 2, PNG_FORMAT_GRAY, px);
  std::string bytes = read_bytes(dir / "a.png");
  // IHDR width and height sit at bytes 16..23; claim 900000 x 900000 and fix the CRC.
  const std::string dims = be32(900000) + be32(900000);
  bytes.replace(16, 8, dims);
  const std::uint32_t crc = static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(bytes.data() + 12), 17));
  bytes.replace(29, 4, be32(crc));
  write_bytes(dir / "a.png", bytes);
  expect_input_error([&] { aevb::read_png_folder(dir); }, {"a.png", "900000x900000", "can hold"});
}

// A 1-bit image packs 8 pixels in a byte, so a small file can honestly hold
// far more pixels than its size times deflate's ratio: the bound on a lying
// header counts the header's row bytes (bit depth and channels), not pixels.
TEST(DataPng, HighlyCompressedOneBitImageIsNotMistakenForALyingHeader) {
  const aevb::test::TempDir scratch;
  const fs::path& dir = scratch.path;
  const png_uint_32 side = 2048;  // 4M pixels, 526 KB of 1-bit rows, about 600 bytes of PNG
  std::string raw;
  for (png_uint_32 y = 0; y < side; ++y) raw += std::string(1 + side / 8, '\0');  // filter byte 0, black
  uLongf packed_size = compressBound(static_cast<uLong>(raw.size()));
  std::string packed(packed_size, '\0');
  ASSERT_EQ(compress2(reinterpret_cast<Bytef*>(packed.data()), &packed_size, reinterpret_cast<const Bytef*>(raw.data()),
                      static_cast<uLong>(raw.size()), 9),
            Z_OK);
  packed.resize(packed_size);
  auto chunk = [](const std::string& type, const std::string& body) {
    const std::string typed = type + body;
    const auto crc = static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(typed.data()),
                                                      static_cast<uInt>(typed.size())));
    return be32(static_cast<std::uint32_t>(body.size())) + typed + be32(crc);
  };
  const std::string ihdr = be32(side) + be32(side) + std::string("\x01\x00\x00\x00\x00", 5);  // 1-bit grey
  const std::string file = std::string("\x89PNG\r\n\x1a\n", 8) + chunk("IHDR", ihdr) + chunk("IDAT", packed) + chunk("IEND", "");
  ASSERT_LT(file.size() * 1032 + 4096, std::size_t{side} * side);  // what the old bound rejected
  write_bytes(dir / "a.png", file);
  const aevb::Dataset d = aevb::read_png_folder(dir);
  EXPECT_EQ(d.width, side);
  EXPECT_EQ(d.height, side);
  EXPECT_EQ(d.bytes.size(), std::size_t{side} * side);
  EXPECT_EQ(std::count(d.bytes.begin(), d.bytes.end(), 0), static_cast<std::ptrdiff_t>(d.bytes.size()));
}

// Found by fuzz_png (docs/reliability.md), and the folder reader did the same:
// a 49-byte file whose iTXt chunk header claims 2052348020 bytes made libpng
// allocate 2 GB before finding the data missing.
TEST(DataPng, ChunkLongerThanTheFileIsRejectedBeforeLibpngAllocatesIt) {
  const aevb::test::TempDir scratch;
  const fs::path& dir = scratch.path;
  write_bytes(dir / "a.png", std::string("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x02\0\0\0\x02\x08\0\0\0\0\x57\xdd\x52\xf8"
                  "\x7a\x54\x58\x74iTXt\x08\x03\x00\x0fIDAT", 49));
  expect_input_error([&] { aevb::load_dataset(dir); },
                     {"a.png", "chunk iTXt at byte 33 declares 2052348020 bytes of data, but only 8 follow"});
}

}  // namespace
