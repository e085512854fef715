#pragma once
// The check every entry point of the code prior makes on the grids it is given.
#include "prior/code_prior.hpp"

#include <cstdint>
#include <span>
#include <string_view>

namespace aevb {

/// std::invalid_argument unless codes holds n grids of H * W; InputError
/// naming `what`, the grid and the position at the first code >= K.
void check_codes(const CodePriorConfig& config, std::span<const std::uint32_t> codes, std::size_t n,
                 std::string_view what);

}  // namespace aevb
