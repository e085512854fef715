#include "io/atomic_file.hpp"

#include <aevb/error.hpp>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <signal.h>
#include <string>
#include <unistd.h>

namespace aevb {
namespace {

constexpr std::string_view kTmp = ".tmp.";

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& why) {
  throw InputError("cannot write " + path.string() + ": " + why);
}

// The writer's pid when `file` is `name.tmp.PID` (any name when `name` is
// empty), else 0.
pid_t temporary_writer(std::string_view file, std::string_view name) {
  const std::size_t at = file.rfind(kTmp);
  if (at == std::string_view::npos || at == 0 || (!name.empty() && file.substr(0, at) != name)) return 0;
  const std::string_view digits = file.substr(at + kTmp.size());
  pid_t pid = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
  // pid <= 0 also turns away a leading '-', which from_chars takes (and kill(0, ...) would mean our group).
  if (ec != std::errc() || end != digits.data() + digits.size() || pid <= 0) return 0;
  return pid;
}

// Test hook, there only for tests/unit/cli_kill_test.cpp, which must kill a
// process in the middle of a write: AEVB_TEST_PAUSE_IN_WRITE=NAME:N makes this
// process's N-th write of a file named NAME (N = 1 without ":N") stop halfway
// through its temporary until a signal arrives: SIGKILL ends the process
// there; a signal that aevb train catches (SIGTERM) lets the write finish.
bool test_pause_requested(const std::filesystem::path& path) {
  const char* hook = std::getenv("AEVB_TEST_PAUSE_IN_WRITE");
  if (!hook) return false;
  const std::string_view spec = hook;
  const std::size_t colon = spec.rfind(':');
  if (spec.substr(0, colon) != path.filename().string()) return false;
  const long nth = colon == std::string_view::npos ? 1 : std::atol(hook + colon + 1);
  static std::atomic<long> writes{0};
  return ++writes == nth;
}

}  // namespace

std::size_t remove_stale_temporaries(const std::filesystem::path& dir, std::string_view name) {
  std::size_t removed = 0;
  std::error_code ec, entry_ec;  // entry_ec: one file's failure does not end the scan
  // increment(ec), not a range-for, whose ++ throws.
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const pid_t pid = temporary_writer(it->path().filename().native(), name);
    if (pid == 0 || pid == ::getpid() || !it->is_regular_file(entry_ec)) continue;
    // ESRCH only: EPERM means the process exists (another user's).
    if (::kill(pid, 0) != 0 && errno == ESRCH && std::filesystem::remove(it->path(), entry_ec)) ++removed;
  }
  return removed;
}

void write_file_atomic(const std::filesystem::path& path, std::string_view bytes) {
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  remove_stale_temporaries(dir, path.filename().native());
  std::filesystem::path tmp = path;
  tmp += std::string(kTmp) + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(path, std::strerror(errno));
  auto write_all = [&](std::string_view part) {
    std::size_t done = 0;
    while (done < part.size()) {
      ssize_t n = ::write(fd, part.data() + done, part.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        std::string why = std::strerror(errno);
        ::close(fd);
        ::unlink(tmp.c_str());
        fail(path, why);
      }
      done += static_cast<std::size_t>(n);
    }
  };
  write_all(bytes.substr(0, bytes.size() / 2));
  if (test_pause_requested(path)) ::pause();
  write_all(bytes.substr(bytes.size() / 2));
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    fail(path, why);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    fail(path, why);
  }
}

void ensure_directory(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir)) {
    throw InputError("cannot create directory " + dir.string() + ": " +
                     (ec ? ec.message() : std::string("a file is in the way")));
  }
}

}  // namespace aevb
