// IDX images and labels, gzip-compressed (as MNIST is distributed), through
// load_dataset. The input is split like fuzz_idx's (images, then labels after
// "AEVB-LABELS\n"); a part that starts with the gzip magic 1f 8b is written as
// it is (fuzzing the gzip reader on corrupt streams), any other part is
// compressed first (fuzzing the IDX parser behind the gzip reader).
#include "support.hpp"

#include <aevb/data.hpp>

namespace fs = std::filesystem;

namespace {
std::string as_gzip(std::string_view part) {
  if (part.size() >= 2 && part[0] == '\x1f' && part[1] == '\x8b') return std::string(part);
  return aevb::fuzz::gzip(part);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fs::path images = aevb::fuzz::scratch() / "f-images-idx3-ubyte.gz";
  static const fs::path labels = aevb::fuzz::scratch() / "f-labels-idx1-ubyte.gz";
  const auto parts = aevb::fuzz::split(aevb::fuzz::as_view(data, size), "AEVB-LABELS\n", 2);
  aevb::fuzz::write_file(images, as_gzip(parts[0]));
  std::error_code ec;
  if (parts.size() > 1) {
    aevb::fuzz::write_file(labels, as_gzip(parts[1]));
  } else {
    fs::remove(labels, ec);
  }
  aevb::fuzz::clean([&] { aevb::load_dataset(images, aevb::fuzz::options_for(size)); });
  return 0;
}
