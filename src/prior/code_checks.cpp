#include "prior/code_checks.hpp"

#include <aevb/error.hpp>

#include <stdexcept>
#include <string>

namespace aevb {

void check_codes(const CodePriorConfig& config, std::span<const std::uint32_t> codes, std::size_t n,
                 std::string_view what) {
  const std::size_t P = config.height * config.width;
  if (codes.size() != n * P)
    throw std::invalid_argument(std::string(what) + ": " + std::to_string(codes.size()) + " codes for " +
                                std::to_string(n) + " grids of " + std::to_string(config.height) + " x " +
                                std::to_string(config.width) + " (expected " + std::to_string(n * P) + ")");
  for (std::size_t i = 0; i < codes.size(); ++i)
    if (codes[i] >= config.codes)
      throw InputError(std::string(what) + ": grid " + std::to_string(i / P) + ", position (" +
                       std::to_string(i % P / config.width) + ", " + std::to_string(i % config.width) +
                       ") holds code " + std::to_string(codes[i]) + ", expected a code below K = " +
                       std::to_string(config.codes));
}

}  // namespace aevb
