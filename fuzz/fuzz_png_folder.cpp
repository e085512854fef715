// A folder of PNG images (`--data DIR`): load_dataset on a folder holding up
// to 4 images, the input's parts split at "AEVB-NEXT-PNG" (0.png, 1.png, ...),
// every colour mode, so mixed sizes, grey and colour, palettes, bit depths and
// interlacing meet the folder reader's stacking.
#include "support.hpp"

#include <aevb/data.hpp>

namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fs::path dir = [] {
    fs::path d = aevb::fuzz::scratch() / "pngs";
    fs::create_directories(d);
    return d;
  }();
  const auto parts = aevb::fuzz::split(aevb::fuzz::as_view(data, size), "AEVB-NEXT-PNG", 4);
  std::error_code ec;
  for (std::size_t i = 0; i < 4; ++i) {
    const fs::path file = dir / (std::to_string(i) + ".png");
    if (i < parts.size())
      aevb::fuzz::write_file(file, parts[i]);
    else
      fs::remove(file, ec);
  }
  aevb::fuzz::clean([&] { aevb::load_dataset(dir, aevb::fuzz::options_for(size)); });
  return 0;
}
