// The safetensors container: header length, JSON header, tensor table, data.
#include "support.hpp"

#include "io/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  aevb::fuzz::clean([&] { aevb::safetensors::parse(aevb::fuzz::as_view(data, size), "fuzz.safetensors"); });
  return 0;
}
