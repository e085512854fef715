// The safetensors container: round trips, and every way a file can be
// malformed gives an InputError naming the file and the problem.
#include "io/safetensors.hpp"

#include <aevb/error.hpp>

#include "support/scratch.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

namespace aevb {
namespace {

namespace fs = std::filesystem;
namespace st = safetensors;

using test::TempDir;

/// A file from a header text and raw data, with the length prefix.
std::string make_file(const std::string& header, const std::string& data = "") {
  std::string out;
  const std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  return out + header + data;
}

std::string floats_as_bytes(const std::vector<float>& v) {
  std::string s(v.size() * 4, '\0');
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::uint32_t u = 0;
    std::memcpy(&u, &v[i], 4);
    for (int b = 0; b < 4; ++b) s[4 * i + b] = static_cast<char>((u >> (8 * b)) & 0xff);
  }
  return s;
}

/// The InputError message of parse(bytes), or "" if it parsed.
std::string parse_error(const std::string& bytes) {
  try {
    (void)st::parse(bytes, "t.safetensors");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_PARSE_ERROR(bytes, fragment)                                  \
  do {                                                                       \
    const std::string message_ = parse_error(bytes);                         \
    EXPECT_NE(message_.find(fragment), std::string::npos)                    \
        << "expected an error containing '" << (fragment) << "', got '" << message_ << "'"; \
    EXPECT_EQ(message_.rfind("t.safetensors: ", 0), 0u) << message_;         \
    EXPECT_EQ(message_.find('\n'), std::string::npos) << message_;           \
  } while (0)

std::string sample_file() {
  const std::vector<float> a = {1.0f, -2.5f, 3.25f, 0.0f, 1e-30f, -0.0f};
  const std::vector<float> b = {7.0f};
  std::vector<st::TensorRef> tensors = {{"a.weight", {2, 3}, a}, {"b", {1}, b}};
  return st::serialize(tensors, {{"format", "test"}, {"note", "x\"y\n"}});
}

TEST(IoSafetensors, RoundTripKeepsNamesShapesValuesAndMetadata) {
  const std::vector<float> a = {1.0f, -2.5f, 3.25f, 0.0f, std::numeric_limits<float>::denorm_min(),
                                std::numeric_limits<float>::quiet_NaN()};
  const std::vector<float> b = {7.0f, 8.0f};
  const std::vector<float> empty;
  std::vector<st::TensorRef> tensors = {
      {"z.last", {2, 3}, a}, {"b", {2}, b}, {"empty", {0, 4}, empty}, {"scalar", {}, std::span(b).first(1)}};
  const std::string bytes = st::serialize(tensors, {{"k", "v"}, {"json", "{\"a\": [1, 2]}"}});

  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
  EXPECT_EQ((8 + n) % 8, 0u) << "the data must start 8-byte aligned";
  EXPECT_EQ(bytes[8], '{');

  const st::File f = st::parse(bytes, "mem");
  ASSERT_EQ(f.tensors.size(), 4u);
  EXPECT_EQ(f.tensors[0].name, "z.last");  // file order = data order = write order
  EXPECT_EQ(f.tensors[1].name, "b");
  const st::Tensor* t = f.find("z.last");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->shape, (std::vector<std::size_t>{2, 3}));
  ASSERT_EQ(t->data.size(), 6u);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(std::memcmp(&t->data[i], &a[i], 4), 0) << i;
  EXPECT_TRUE(std::isnan(t->data[5]));
  EXPECT_EQ(f.find("b")->data, b);
  EXPECT_EQ(f.find("empty")->shape, (std::vector<std::size_t>{0, 4}));
  EXPECT_TRUE(f.find("empty")->data.empty());
  EXPECT_TRUE(f.find("scalar")->shape.empty());
  EXPECT_EQ(f.find("scalar")->data, std::vector<float>{7.0f});
  EXPECT_EQ(f.find("nope"), nullptr);
  EXPECT_EQ(f.metadata.at("k"), "v");
  EXPECT_EQ(f.metadata.at("json"), "{\"a\": [1, 2]}");
}

TEST(IoSafetensors, NoTensorsAndNoMetadata) {
  const std::string bytes = st::serialize({});
  const st::File f = st::parse(bytes, "mem");
  EXPECT_TRUE(f.tensors.empty());
  EXPECT_TRUE(f.metadata.empty());
  EXPECT_EQ(bytes.size() % 8, 0u);
}

TEST(IoSafetensors, WriteAndReadFile) {
  TempDir dir;
  const std::vector<float> a = {1, 2, 3, 4};
  std::vector<st::TensorRef> tensors = {{"a", {2, 2}, a}};
  st::write_file(dir.path / "x.safetensors", tensors, {{"m", "1"}});
  const st::File f = st::read_file(dir.path / "x.safetensors");
  EXPECT_EQ(f.find("a")->data, a);
  EXPECT_EQ(f.metadata.at("m"), "1");
  // Nothing but the target is left in the directory (the write went through a temp file).
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path)) ++files;
  EXPECT_EQ(files, 1u);
}

TEST(IoSafetensors, ReadsHandWrittenFileWithSortedKeysAndPadding) {
  // As another writer might lay it out: metadata last, keys sorted, data in
  // a different order than the header, padding spaces.
  const std::string header =
      R"({"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"x":"y"}}    )";
  const std::string bytes = make_file(header, floats_as_bytes({1.5f, 2.5f, 3.5f}));
  const st::File f = st::parse(bytes, "mem");
  ASSERT_EQ(f.tensors.size(), 2u);
  EXPECT_EQ(f.tensors[0].name, "a");
  EXPECT_EQ(f.find("a")->data, (std::vector<float>{1.5f, 2.5f}));
  EXPECT_EQ(f.find("b")->data, (std::vector<float>{3.5f}));
  EXPECT_EQ(f.metadata.at("x"), "y");
}

TEST(IoSafetensors, SerializeRejectsProgrammingErrors) {
  const std::vector<float> a = {1, 2, 3};
  std::vector<st::TensorRef> wrong_size = {{"a", {2, 2}, a}};
  EXPECT_THROW(st::serialize(wrong_size), std::invalid_argument);
  std::vector<st::TensorRef> duplicate = {{"a", {3}, a}, {"a", {3}, a}};
  EXPECT_THROW(st::serialize(duplicate), std::invalid_argument);
  std::vector<st::TensorRef> reserved = {{"__metadata__", {3}, a}};
  EXPECT_THROW(st::serialize(reserved), std::invalid_argument);
}

TEST(IoSafetensors, ShortFile) {
  EXPECT_PARSE_ERROR(std::string(), "fewer than the 8-byte header length");
  EXPECT_PARSE_ERROR(std::string("\x10\x00\x00", 3), "fewer than the 8-byte header length");
}

TEST(IoSafetensors, EveryTruncationIsRejected) {
  const std::string bytes = sample_file();
  ASSERT_EQ(parse_error(bytes), "");
  for (std::size_t len = 0; len < bytes.size(); ++len) {
    const std::string message = parse_error(bytes.substr(0, len));
    EXPECT_NE(message, "") << "a file cut to " << len << " of " << bytes.size() << " bytes was accepted";
  }
}

TEST(IoSafetensors, HeaderLengthLargerThanFile) {
  std::string bytes = sample_file();
  for (int i = 0; i < 8; ++i) bytes[i] = '\xff';  // 2^64 - 1
  EXPECT_PARSE_ERROR(bytes, "header length field says 18446744073709551615 bytes");
  std::string text = "this is just a text file, not a model\n";
  EXPECT_PARSE_ERROR(text, "not a safetensors file");
}

TEST(IoSafetensors, HeaderMustBeAJsonObject) {
  EXPECT_PARSE_ERROR(make_file(""), "starting with '{'");
  EXPECT_PARSE_ERROR(make_file("[1, 2]"), "starting with '{'");
  EXPECT_PARSE_ERROR(make_file("{\"a\": "), "not valid JSON");
  EXPECT_PARSE_ERROR(make_file("{\"a\": 1} trailing"), "not valid JSON");
  EXPECT_PARSE_ERROR(make_file("{\"a\": \"\xff\xfe\"}"), "not valid JSON");
  EXPECT_PARSE_ERROR(make_file("{\"a\": 1e999}"), "not valid JSON");
}

TEST(IoSafetensors, WrongDtypeSaysWhatWasFound) {
  EXPECT_PARSE_ERROR(make_file(R"({"w":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})", std::string(8, '\0')),
                     "tensor 'w' has dtype F64; aevb reads only F32");
  EXPECT_PARSE_ERROR(make_file(R"({"w":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}})", std::string(4, '\0')),
                     "dtype BF16");
  EXPECT_PARSE_ERROR(make_file(R"({"w":{"dtype":7,"shape":[1],"data_offsets":[0,4]}})", std::string(4, '\0')),
                     "dtype should be a string");
}

TEST(IoSafetensors, MalformedEntries) {
  const std::string d4(4, '\0');
  EXPECT_PARSE_ERROR(make_file(R"({"w":[1]})", d4), "tensor 'w' should be an object");
  EXPECT_PARSE_ERROR(make_file(R"({"w":{"dtype":"F32","shape":[1]}})", d4), "tensor 'w' has no data_offsets");
  EXPECT_PARSE_ERROR(make_file(R"({"w":{"dtype":"F32","data_offsets":[0,4]}})", d4), "has no shape");
  EXPECT_PARSE_ERROR(make_file(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", d4),
                     "shape should hold non-negative integers, found -1");
  EXPECT_PARSE_ERROR(make_file(R"({"w":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}})", d4),
                     "non-negative integers");
  EXPECT_PARSE_ERROR(make_file(R"({"w":{"dtype":"F32","shape":"1","data_offsets":[0,4]}})", d4),
                     "shape should be an array");
  EXPECT_PARSE_ERROR(make_file(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", d4),
                     "data_offsets should be [begin, end]");
  EXPECT_PARSE_ERROR(make_file(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,-4]}})", d4),
                     "data_offsets should be [begin, end]");
  EXPECT_PARSE_ERROR(make_file(R"({"__metadata__":{"a":1}})"), "__metadata__ entry 'a' should be a string");
  EXPECT_PARSE_ERROR(make_file(R"({"__metadata__":[]})"), "__metadata__ should be an object");
}

TEST(IoSafetensors, DuplicateTensorName) {
  EXPECT_PARSE_ERROR(make_file(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                               R"("w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                               std::string(4, '\0')),
                     "names 'w' twice");
}

TEST(IoSafetensors, OffsetsOutOfRange) {
  EXPECT_PARSE_ERROR(make_file(R"({"w":{"dtype":"F32","shape":[100],"data_offsets":[0,400]}})", std::string(8, '\0')),
                     "data_offsets [0, 400] lie outside the 8 data bytes");
  EXPECT_PARSE_ERROR(make_file(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[18446744073709551612,18446744073709551615]}})",
                               std::string(8, '\0')),
                     "lie outside");
  EXPECT_PARSE_ERROR(make_file(R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})", std::string(8, '\0')),
                     "lie outside");
}

TEST(IoSafetensors, OffsetsMustMatchShape) {
  EXPECT_PARSE_ERROR(make_file(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", std::string(8, '\0')),
                     "shape [3] needs 12 bytes but data_offsets span 8");
}

TEST(IoSafetensors, ShapeOverflow) {
  EXPECT_PARSE_ERROR(make_file(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,4]}})",
                               std::string(4, '\0')),
                     "overflows");
  EXPECT_PARSE_ERROR(make_file(R"({"w":{"dtype":"F32","shape":[4611686018427387904,2],"data_offsets":[0,4]}})",
                               std::string(4, '\0')),
                     "overflows");
  // A product that fits in 64 bits only because a zero dimension is first
  // still has to match its (empty) data.
  EXPECT_PARSE_ERROR(make_file(R"({"w":{"dtype":"F32","shape":[0,18446744073709551615],"data_offsets":[0,4]}})",
                               std::string(4, '\0')),
                     "needs 0 bytes");
}

TEST(IoSafetensors, OverlapsHolesAndTrailingBytes) {
  const std::string d12(12, '\0');
  EXPECT_PARSE_ERROR(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                               R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                               d12),
                     "tensor 'b' overlaps tensor 'a'");
  EXPECT_PARSE_ERROR(make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                               R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                               d12),
                     "data bytes 4 to 8 belong to no tensor");
  EXPECT_PARSE_ERROR(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", d12),
                     "4 bytes after the last tensor belong to no tensor");
  EXPECT_PARSE_ERROR(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                               R"("b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
                               std::string(8, '\0')),
                     "overlaps");
}

TEST(IoSafetensors, RandomCorruptionNeverCrashes) {
  // Whatever bytes are flipped, parse either succeeds or throws InputError.
  const std::string good = sample_file();
  std::mt19937 rng(12345);
  std::size_t rejected = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::string bytes = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) bytes[rng() % bytes.size()] = static_cast<char>(rng() & 0xff);
    try {
      const st::File f = st::parse(bytes, "fuzz");
      std::size_t total = 0;
      for (const auto& t : f.tensors) total += t.data.size();
      EXPECT_LE(total * 4, bytes.size());
    } catch (const InputError&) {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 0u);
}

TEST(IoSafetensors, MissingFileAndDirectory) {
  TempDir dir;
  try {
    (void)st::read_file(dir.path / "missing.safetensors");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot read " + (dir.path / "missing.safetensors").string() + ": no such file"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW((void)st::read_file(dir.path), InputError);
  std::ofstream(dir.path / "short.safetensors") << "abc";
  try {
    (void)st::read_file(dir.path / "short.safetensors");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind((dir.path / "short.safetensors").string() + ": ", 0), 0u) << e.what();
  }
}

TEST(IoSafetensors, UnwritableTarget) {
  TempDir dir;
  EXPECT_THROW(st::write_file(dir.path / "no" / "such" / "dir" / "x.safetensors", {}), InputError);
}

}  // namespace
}  // namespace aevb
