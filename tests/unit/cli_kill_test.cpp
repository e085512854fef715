// End-to-end: `aevb train` killed with SIGKILL in the middle of a checkpoint
// write leaves a temporary behind; resuming removes it and still gives bitwise
// the model of an uninterrupted run. The write is paused by the test hook
// AEVB_TEST_PAUSE_IN_WRITE (src/io/atomic_file.cpp) so the kill lands inside it.
#include "support/cli_run_fixture.hpp"

#include "io/checkpoint.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <thread>

namespace aevb {
namespace {

namespace fs = std::filesystem;

class CliKill : public test::CliRunTest {
 protected:
  static std::vector<std::string> three_epochs(const fs::path& out) {
    return {"train", "--data", "mnist", "--limit", "600", "--hidden", "64", "--latent", "4",
            "--batch", "50", "--binarize", "dynamic", "--optimizer", "adam", "--lr", "0.003",
            "--validation", "100", "--test-eval", "0", "--no-report", "--threads", "2",
            "--epochs", "3", "--out", out.string()};
  }
  static std::vector<std::string> temporaries(const fs::path& run) {
    std::vector<std::string> found;
    for (const auto& e : fs::directory_iterator(run)) {
      const std::string name = e.path().filename().string();
      if (name.find(".tmp.") != std::string::npos) found.push_back(name);
    }
    return found;
  }
  // Whether the child has ended, without reaping it (wait_cli does that).
  static bool ended(pid_t pid) {
    siginfo_t info{};
    return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid;
  }
};

TEST_F(CliKill, ResumeAfterAKillInsideACheckpointWriteIsCleanAndExact) {
  const fs::path whole = dir_ / "whole", killed = dir_ / "killed";
  const auto w = run(three_epochs(whole));
  ASSERT_EQ(w.exit_code, 0) << w.err;

  // The 2nd checkpoint write (epoch 2), so that epoch 1's checkpoint is there to resume from.
  const test::CliChild child = test::start_cli(cli_, three_epochs(killed), dir_,
                                               env({{"AEVB_TEST_PAUSE_IN_WRITE", "checkpoint.safetensors:2"}}));
  ASSERT_GT(child.pid, 0) << child.error;
  const fs::path tmp = killed / ("checkpoint.safetensors.tmp." + std::to_string(child.pid));
  // Epoch 1's checkpoint first: its write had a temporary of the same name
  // until the rename, so only one seen after that rename is the paused write's.
  auto in_write = [&] {
    return fs::exists(killed / "checkpoint.safetensors") && fs::exists(tmp) && !ended(child.pid);
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!in_write() && !ended(child.pid) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const bool paused = in_write();
  ::kill(child.pid, SIGKILL);
  const auto k = test::wait_cli(child);
  ASSERT_TRUE(paused) << "no pause inside the checkpoint write within 120 s; exit " << k.exit_code << "\n" << k.err;
  ASSERT_EQ(k.exit_code, 128 + SIGKILL);
  ASSERT_TRUE(fs::exists(tmp)) << "the kill should leave the temporary behind";
  EXPECT_EQ(load_checkpoint(killed / "checkpoint.safetensors").loop.epoch, 1u);

  // A leftover of a file this resumed run (--no-report) never writes: only the
  // sweep of the run directory at start removes it. Its pid is the one just killed.
  const fs::path report_tmp = killed / ("report.html.tmp." + std::to_string(child.pid));
  std::ofstream(report_tmp) << "partial";

  const auto r = run({"train", "--resume", killed.string(), "--no-report", "--threads", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(temporaries(killed), std::vector<std::string>{});
  EXPECT_EQ(test::read_text_file(killed / "model.safetensors"), test::read_text_file(whole / "model.safetensors"));
  const Checkpoint a = load_checkpoint(whole / "checkpoint.safetensors");
  const Checkpoint b = load_checkpoint(killed / "checkpoint.safetensors");
  EXPECT_EQ(a.optimizer_state, b.optimizer_state);
  EXPECT_EQ(a.step, b.step);
}

}  // namespace
}  // namespace aevb
