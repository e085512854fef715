// JSON run settings (`aevb train --config run.json`): load_config_file, then
// apply_run_config onto the defaults, then the checks training runs on the
// result; and parse_json_strict alone (evaluation.json in a run folder).
#include "support.hpp"

#ifndef AEVB_FUZZ_CONFIG_EXT
#define AEVB_FUZZ_CONFIG_EXT ".json"
#endif

#include "io/config_json.hpp"
#include "io/run_settings_json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::filesystem::path file = aevb::fuzz::scratch() / "run" AEVB_FUZZ_CONFIG_EXT;
  const std::string_view bytes = aevb::fuzz::as_view(data, size);
  aevb::fuzz::write_file(file, bytes);
  aevb::fuzz::clean([&] {
    aevb::RunSettings s;
    aevb::apply_run_config(aevb::load_config_file(file), s, file.string());
    aevb::validate(s.model);
    aevb::validate(s.train.objective);
    aevb::validate(s.train.optimizer);
  });
#ifndef AEVB_FUZZ_TOML
  aevb::fuzz::clean([&] { aevb::parse_json_strict(bytes, "evaluation.json"); });
#endif
  return 0;
}
