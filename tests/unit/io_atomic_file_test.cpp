// write_file_atomic and the removal of temporaries left by killed writers.
#include "io/atomic_file.hpp"

#include "support/cli_runner.hpp"
#include "support/scratch.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace aevb {
namespace {

namespace fs = std::filesystem;

class AtomicFile : public ::testing::Test {
 protected:
  void touch(const std::string& name) { scratch_.write(name, "partial"); }
  // A pid no process can have: above the kernel's largest.
  static std::string dead_pid() {
    long pid_max = 0;
    std::ifstream("/proc/sys/kernel/pid_max") >> pid_max;
    EXPECT_GT(pid_max, 0);
    return std::to_string(pid_max + 1);
  }

  const test::TempDir scratch_;
  const fs::path dir_ = scratch_.path;
};

TEST_F(AtomicFile, RemovesOnlyTemporariesOfGoneWriters) {
  const std::string dead = dead_pid(), self = std::to_string(::getpid());
  const std::vector<std::string> stale = {"model.safetensors.tmp." + dead, "report.html.tmp." + dead};
  const std::vector<std::string> kept = {
      "checkpoint.safetensors.tmp." + self,     // a live writer's: ours
      "checkpoint.safetensors.tmp.1",           // a live writer's: init
      "model.safetensors",                      // not temporaries at all
      "notes.tmp",
      "x.tmp." + dead + "a",                    // not digits only
      "x.tmp.-" + dead,
      "x.tmp.",
      ".tmp." + dead,                           // no target name
      "x.tmp.0",                                // 0 is no process's pid
      "x.tmp.99999999999999999999"};            // too large to be a pid
  for (const auto& f : stale) touch(f);
  for (const auto& f : kept) touch(f);
  fs::create_directory(dir_ / ("folder.tmp." + dead));  // only files are removed

  EXPECT_EQ(remove_stale_temporaries(dir_), stale.size());
  for (const auto& f : stale) EXPECT_FALSE(fs::exists(dir_ / f)) << f;
  for (const auto& f : kept) EXPECT_TRUE(fs::exists(dir_ / f)) << f;
  EXPECT_TRUE(fs::exists(dir_ / ("folder.tmp." + dead)));
  EXPECT_EQ(remove_stale_temporaries(dir_ / "missing"), 0u);  // no directory: nothing to do, no error
}

TEST_F(AtomicFile, NameLimitsTheRemovalToOneTarget) {
  const std::string dead = dead_pid();
  touch("model.safetensors.tmp." + dead);
  touch("metrics.jsonl.tmp." + dead);
  EXPECT_EQ(remove_stale_temporaries(dir_, "model.safetensors"), 1u);
  EXPECT_FALSE(fs::exists(dir_ / ("model.safetensors.tmp." + dead)));
  EXPECT_TRUE(fs::exists(dir_ / ("metrics.jsonl.tmp." + dead)));
}

// A write clears its own target's leftovers, so that any later write into a
// run directory cleans up after a killed one.
TEST_F(AtomicFile, WriteRemovesItsTargetsStaleTemporaries) {
  const std::string dead = dead_pid();
  touch("metrics.jsonl.tmp." + dead);
  touch("other.txt.tmp." + dead);
  write_file_atomic(dir_ / "metrics.jsonl", "{}\n");
  EXPECT_EQ(test::read_text_file(dir_ / "metrics.jsonl"), "{}\n");
  EXPECT_FALSE(fs::exists(dir_ / ("metrics.jsonl.tmp." + dead)));
  EXPECT_TRUE(fs::exists(dir_ / ("other.txt.tmp." + dead)));
  EXPECT_FALSE(fs::exists(dir_ / ("metrics.jsonl.tmp." + std::to_string(::getpid()))));
}

}  // namespace
}  // namespace aevb
