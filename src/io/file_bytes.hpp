#pragma once
// Reading a whole (small) input file into memory with an InputError a user can act on.
#include <filesystem>
#include <string>

namespace aevb {

/// The file's bytes; throws InputError("cannot read PATH: why") when it is
/// missing, a directory, or unreadable.
std::string read_file_bytes(const std::filesystem::path& path);

}  // namespace aevb
