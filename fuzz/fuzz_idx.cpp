// IDX images (raw), as `aevb train --data FILE` reads them: load_dataset sniffs
// the content, reads the images and the labels file beside them. The input is
// the images file; after a line "AEVB-LABELS\n", the rest is the labels file
// (`...-labels-idx1-ubyte` beside it), which read_idx_labels also reads alone.
#include "support.hpp"

#include <aevb/data.hpp>

namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fs::path images = aevb::fuzz::scratch() / "f-images-idx3-ubyte";
  static const fs::path labels = aevb::fuzz::scratch() / "f-labels-idx1-ubyte";
  const auto parts = aevb::fuzz::split(aevb::fuzz::as_view(data, size), "AEVB-LABELS\n", 2);
  aevb::fuzz::write_file(images, parts[0]);
  std::error_code ec;
  if (parts.size() > 1) {
    aevb::fuzz::write_file(labels, parts[1]);
    aevb::fuzz::clean([&] { aevb::read_idx_labels(labels); });
  } else {
    fs::remove(labels, ec);
  }
  aevb::fuzz::clean([&] { aevb::resolve_dataset(images.string(), aevb::Split::train, {}, aevb::fuzz::options_for(size)); });
  return 0;
}
