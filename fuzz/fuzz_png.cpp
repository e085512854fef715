// The in-memory PNG decoder (viz::decode_png, libpng's simplified API), with
// its default pixel bound.
#include "support.hpp"

#include "viz/png.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  aevb::fuzz::clean([&] { aevb::viz::decode_png(aevb::fuzz::as_view(data, size)); });
  return 0;
}
