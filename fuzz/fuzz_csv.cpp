// CSV text: load_dataset (`--data x.csv`, every scaling and colour mode) and
// read_table (`aevb decode --latents x.csv`).
#include "support.hpp"

#include <aevb/data.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::filesystem::path file = aevb::fuzz::scratch() / "f.csv";
  aevb::fuzz::write_file(file, aevb::fuzz::as_view(data, size));
  aevb::fuzz::clean([&] { aevb::load_dataset(file, aevb::fuzz::options_for(size)); });
  aevb::fuzz::clean([&] { aevb::read_table(file); });
  return 0;
}
