#pragma once
// From parsed numbers to a Dataset's compact storage, applying the Scaling
// rules of docs/data.md (shared by the NPY and CSV readers).
#include <aevb/data.hpp>

#include <filesystem>
#include <vector>

namespace aevb::data {

/// Sets d.bytes or d.floats from `values` (d.count * d.dim of them, finite or
/// not yet checked), following `scaling`:
///   all values 0 or 1                  -> bytes 0/255, binary;
///   unit:   in [0, 1] -> floats; integers 0..255 -> bytes; else InputError;
///   minmax: mapped from [min, max] to [0, 1];
///   none:   kept as they are.
/// Non-finite values are an InputError naming row and column.
void store_values(Dataset& d, std::vector<float>&& values, Scaling scaling, const std::filesystem::path& path);

/// Sets d.binary when every byte is 0 or 255.
void detect_binary_bytes(Dataset& d);

/// Rejects datasets with more rows than 32-bit indices can address.
void check_row_limit(std::uint64_t count, const std::filesystem::path& path);

}  // namespace aevb::data
