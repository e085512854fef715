// Checkpoints, as `aevb train --resume` and `aevb report` read them:
// load_checkpoint, then the run settings stored in it (apply_run_config on
// loop.extra["settings"], as apps/aevb/run_files.cpp does), then the model it
// holds (load_model reads a checkpoint as a model too).
#include "support.hpp"

#include "io/checkpoint.hpp"
#include "io/model_file.hpp"
#include "io/run_settings_json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::filesystem::path file = aevb::fuzz::scratch() / "checkpoint.safetensors";
  aevb::fuzz::write_file(file, aevb::fuzz::as_view(data, size));
  aevb::fuzz::clean([&] {
    const aevb::Checkpoint ck = aevb::load_checkpoint(file);
    const auto& extra = ck.loop.extra;
    if (extra.contains("settings")) {
      aevb::RunSettings s;
      aevb::apply_run_config(extra["settings"], s, file.string());
    }
    aevb::load_model(file);
  });
  return 0;
}
