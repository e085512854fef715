// TOML run settings (`aevb train --config run.toml`): the JSON target's code
// on a .toml file (toml++ parses it; the same schema checks follow).
#define AEVB_FUZZ_CONFIG_EXT ".toml"
#define AEVB_FUZZ_TOML 1
#include "fuzz_config_json.cpp"
