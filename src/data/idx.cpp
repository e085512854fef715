// IDX files (LeCun's MNIST format): a big-endian header -- two zero bytes, an
// element type (0x08 = unsigned byte), the number of dimensions, then each
// dimension as a 32-bit big-endian integer -- followed by the elements.
#include <aevb/data.hpp>

#include "data/byte_input.hpp"
#include "data/values.hpp"

#include <cstdio>
#include <string>

namespace aevb {

namespace {

struct IdxHeader {
  unsigned ndims = 0;
  std::uint64_t dims[3] = {0, 0, 0};
  std::uint64_t header_bytes = 0;
};

std::string hex4(const unsigned char* b) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02x %02x %02x %02x", b[0], b[1], b[2], b[3]);
  return buf;
}

// Reads and checks the header; `want_ndims` is 3 for images, 1 for labels.
IdxHeader read_header(data::ByteInput& in, unsigned want_ndims) {
  const auto& path = in.path();
  const char* expected = want_ndims == 3 ? "IDX images (magic 00 00 08 03 = 2051)" : "IDX labels (magic 00 00 08 01 = 2049)";
  unsigned char magic[4] = {0, 0, 0, 0};
  const std::size_t got = in.read(magic, 4);
  if (got < 4) data::fail(path, std::string("too short: expected ") + expected + ", found " + std::to_string(got) + " bytes");
  if (magic[0] != 0 || magic[1] != 0) {
    data::fail(path, std::string("not an IDX file: expected ") + expected + ", found first bytes " + hex4(magic));
  }
  if (magic[2] != 0x08) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02x", magic[2]);
    data::fail(path, std::string("IDX element type ") + buf + " is not supported: expected unsigned bytes (0x08)");
  }
  if (magic[3] != want_ndims) {
    const std::string found = magic[3] == 1   ? "IDX labels (1 dimension)"
                              : magic[3] == 3 ? "IDX images (3 dimensions)"
                                              : "an IDX file with " + std::to_string(magic[3]) + " dimensions";
    data::fail(path, std::string("expected ") + expected + ", found " + found);
  }
  IdxHeader h;
  h.ndims = want_ndims;
  h.header_bytes = 4 + 4 * want_ndims;
  unsigned char raw[12];
  in.read_exact(raw, 4 * want_ndims, "the IDX header's dimensions");
  for (unsigned k = 0; k < want_ndims; ++k) {
    const unsigned char* b = raw + 4 * k;
    h.dims[k] = (std::uint64_t{b[0]} << 24) | (std::uint64_t{b[1]} << 16) | (std::uint64_t{b[2]} << 8) | b[3];
    if (h.dims[k] == 0) data::fail(path, "the IDX header declares a dimension of size 0: the file holds no data");
  }
  data::check_row_limit(h.dims[0], path);
  return h;
}

// Checks that the file can hold `payload` bytes after the header, before any
// allocation: exactly, for a raw file; within deflate's ratio, for gzip.
void check_payload_fits(data::ByteInput& in, const IdxHeader& h, std::uint64_t payload, const std::string& what) {
  const auto& path = in.path();
  const std::uint64_t need = h.header_bytes + payload;
  if (!in.compressed()) {
    if (in.file_size() < need) {
      data::fail(path, "truncated: the header declares " + what + " (" + data::describe_bytes(need) +
                           " with the header), but the file has " + data::describe_bytes(in.file_size()));
    }
    if (in.file_size() > need) {
      data::fail(path, "the header declares " + what + " (" + data::describe_bytes(need) + " with the header), but the file has " +
                           std::to_string(in.file_size() - need) + " more bytes: wrong count or corrupt file");
    }
  } else if (need > in.capacity()) {
    data::fail(path, "the header declares " + what + " (" + data::describe_bytes(need) + "), more than a gzip file of " +
                         data::describe_bytes(in.file_size()) + " can hold: corrupt header");
  }
}

// Reads the payload into `out` (growing as data arrives) and checks the end.
void read_payload(data::ByteInput& in, std::vector<std::uint8_t>& out, std::uint64_t payload, const std::string& what) {
  const std::size_t got = data::read_growing(in, out, static_cast<std::size_t>(payload));
  if (got < payload) {
    data::fail(in.path(), "truncated: the header declares " + what + " (" + std::to_string(payload) +
                              " bytes of data), but the data ends after " + std::to_string(got) + " bytes" + in.end_note());
  }
  if (!in.at_end()) {
    data::fail(in.path(), "the header declares " + what + ", but more data follows: wrong count or corrupt file");
  }
}

}  // namespace

Dataset read_idx_images(const std::filesystem::path& path) {
  data::ByteInput in(path);
  const IdxHeader h = read_header(in, 3);
  const std::uint64_t dim = data::checked_mul(h.dims[1], h.dims[2], path);
  const std::uint64_t payload = data::checked_mul(h.dims[0], dim, path);
  const std::string what = std::to_string(h.dims[0]) + " images of " + std::to_string(h.dims[1]) + "x" + std::to_string(h.dims[2]);
  check_payload_fits(in, h, payload, what);
  Dataset d;
  read_payload(in, d.bytes, payload, what);
  d.count = static_cast<std::size_t>(h.dims[0]);
  d.height = static_cast<std::size_t>(h.dims[1]);
  d.width = static_cast<std::size_t>(h.dims[2]);
  d.dim = static_cast<std::size_t>(dim);
  d.source = path.string();
  data::detect_binary_bytes(d);
  return d;
}

std::vector<std::int32_t> read_idx_labels(const std::filesystem::path& path) {
  data::ByteInput in(path);
  const IdxHeader h = read_header(in, 1);
  const std::string what = std::to_string(h.dims[0]) + " labels";
  check_payload_fits(in, h, h.dims[0], what);
  std::vector<std::uint8_t> bytes;
  read_payload(in, bytes, h.dims[0], what);
  return std::vector<std::int32_t>(bytes.begin(), bytes.end());
}

}  // namespace aevb
