// Model files: `aevb info` (inspect_model) and every command that loads a
// model (load_model: config checks, tensor checks, then the network is built
// and filled).
#include "support.hpp"

#include "io/model_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::filesystem::path file = aevb::fuzz::scratch() / "model.safetensors";
  aevb::fuzz::write_file(file, aevb::fuzz::as_view(data, size));
  aevb::fuzz::clean([&] { aevb::inspect_model(file); });
  aevb::fuzz::clean([&] { aevb::load_model(file); });
  return 0;
}
