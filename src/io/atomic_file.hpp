#pragma once
// Whole-file writes that never leave a half-written file behind: the bytes go
// to a temporary file `<target>.tmp.<pid>` beside the target, are fsync'ed,
// then renamed over it. A writer killed mid-write (SIGKILL, power loss) leaves
// its temporary behind; remove_stale_temporaries clears those, and every write
// clears its own target's, so a directory that is written again gets clean.
#include <cstddef>
#include <filesystem>
#include <string_view>

namespace aevb {

/// Writes `bytes` to `path` atomically; throws InputError("cannot write PATH: why").
/// First removes the stale temporaries of `path` (remove_stale_temporaries).
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

/// Removes the files `NAME.tmp.PID` in `dir` whose writer is gone: PID is all
/// digits and no process has it (kill(PID, 0) fails with ESRCH). A live
/// process's temporary, this process's own, and any other name stay. `name`
/// empty: temporaries of any NAME. Best effort: what cannot be read or removed
/// is left. Returns how many files it removed.
std::size_t remove_stale_temporaries(const std::filesystem::path& dir, std::string_view name = {});

/// Creates `dir` (and parents) if needed; throws InputError when it cannot.
void ensure_directory(const std::filesystem::path& dir);

}  // namespace aevb
