#pragma once
// Whole-file writes that never leave a half-written file behind: the bytes go
// to a temporary file beside the target, are fsync'ed, then renamed over it.
#include <filesystem>
#include <string_view>

namespace aevb {

/// Writes `bytes` to `path` atomically; throws InputError("cannot write PATH: why").
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

/// Creates `dir` (and parents) if needed; throws InputError when it cannot.
void ensure_directory(const std::filesystem::path& dir);

}  // namespace aevb
