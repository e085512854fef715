// End-to-end: `aevb train` killed with SIGKILL in the middle of a checkpoint
// write leaves a temporary behind; resuming removes it and still gives bitwise
// the model of an uninterrupted run, also from a checkpoint taken inside an
// epoch; SIGTERM checkpoints and stops. The write is paused by the test hook
// AEVB_TEST_PAUSE_IN_WRITE (src/io/atomic_file.cpp) so the kill lands inside it.
#include "support/cli_run_fixture.hpp"

#include "io/checkpoint.hpp"

#include <gtest/gtest.h>

#include <algorithm>
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
  // Whether the child is paused inside the write of `tmp` (AEVB_TEST_PAUSE_IN_WRITE)
  // within 120 s: every earlier write leaves that name for an instant only,
  // so it must stay there for 200 ms.
  static bool paused_in_write(const test::CliChild& child, const fs::path& tmp) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (!ended(child.pid) && std::chrono::steady_clock::now() < deadline) {
      int seen = 0;
      while (seen < 10 && fs::exists(tmp) && !ended(child.pid)) {
        ++seen;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (seen == 10) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  // three_epochs with a checkpoint after every minibatch, paused in checkpoint write `nth`.
  test::CliChild start_paused(const fs::path& out, int nth) {
    std::vector<std::string> args = three_epochs(out);
    args.insert(args.end(), {"--checkpoint-every", "1e-9"});
    return test::start_cli(cli_, args, dir_,
                           env({{"AEVB_TEST_PAUSE_IN_WRITE", "checkpoint.safetensors:" + std::to_string(nth)}}));
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

// --checkpoint-every 1e-9: a checkpoint after every minibatch. 500 training
// datapoints in minibatches of 50 are 10 per epoch: 9 checkpoints inside it
// and one at its end, so the 15th write is epoch 2's after 5 minibatches, and
// a kill inside it leaves the one after 4.
TEST_F(CliKill, ResumeFromACheckpointInsideAnEpochIsExact) {
  const fs::path whole = dir_ / "whole", killed = dir_ / "killed";
  const auto w = run(three_epochs(whole));
  ASSERT_EQ(w.exit_code, 0) << w.err;
  const test::CliChild child = start_paused(killed, 15);
  ASSERT_GT(child.pid, 0) << child.error;
  const bool paused = paused_in_write(child, killed / ("checkpoint.safetensors.tmp." + std::to_string(child.pid)));
  ::kill(child.pid, SIGKILL);
  const auto k = test::wait_cli(child);
  ASSERT_TRUE(paused) << "no pause inside the 15th checkpoint write within 120 s; exit " << k.exit_code << "\n"
                      << k.err;
  ASSERT_EQ(k.exit_code, 128 + SIGKILL) << k.err;
  const Checkpoint stopped = load_checkpoint(killed / "checkpoint.safetensors");
  EXPECT_EQ(stopped.loop.epoch, 1u);
  EXPECT_EQ(stopped.loop.batch_in_epoch, 4u);
  EXPECT_EQ(stopped.step, 14u);

  const auto r = run({"train", "--resume", killed.string(), "--no-report", "--threads", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(test::read_text_file(killed / "model.safetensors"), test::read_text_file(whole / "model.safetensors"));
  const Checkpoint a = load_checkpoint(whole / "checkpoint.safetensors");
  const Checkpoint b = load_checkpoint(killed / "checkpoint.safetensors");
  EXPECT_EQ(a.optimizer_state, b.optimizer_state);
  EXPECT_EQ(b.loop.batch_in_epoch, 0u);
  // The epoch that was cut in two reports the bound of the whole epoch, to the bit.
  const auto& ma = a.loop.extra["metrics"];
  const auto& mb = b.loop.extra["metrics"];
  ASSERT_EQ(mb.size(), 3u);
  for (const char* key : {"train_bound", "train_reconstruction", "train_kl", "validation_bound", "samples", "step"})
    for (std::size_t e = 0; e < 3; ++e) EXPECT_EQ(ma[e][key], mb[e][key]) << key << " of epoch " << e + 1;
}

// The first SIGTERM (or Ctrl-C's SIGINT) stops at the next minibatch with a
// checkpoint there and exit status 128 + 15; resuming finishes the run as if
// it had not stopped. The signal lands in the write after epoch 2's 5th
// minibatch (the 15th, as above), which finishes; the 6th minibatch then
// sees it and checkpoints.
TEST_F(CliKill, SigtermCheckpointsAtTheNextMinibatchAndTheRunResumesExactly) {
  const fs::path whole = dir_ / "whole", stopped = dir_ / "stopped";
  const auto w = run(three_epochs(whole));
  ASSERT_EQ(w.exit_code, 0) << w.err;
  const test::CliChild child = start_paused(stopped, 15);
  ASSERT_GT(child.pid, 0) << child.error;
  const bool paused = paused_in_write(child, stopped / ("checkpoint.safetensors.tmp." + std::to_string(child.pid)));
  ::kill(child.pid, SIGTERM);
  const auto s = test::wait_cli(child);
  ASSERT_TRUE(paused) << "no pause inside the 15th checkpoint write within 120 s; exit " << s.exit_code << "\n"
                      << s.err;
  ASSERT_EQ(s.exit_code, 128 + SIGTERM) << s.err;
  EXPECT_NE(s.out.find("stopped by signal 15 after 6 minibatches of epoch 2; checkpoint saved. Continue with: "
                       "aevb train --resume " + stopped.string()),
            std::string::npos)
      << s.out;
  const Checkpoint at_stop = load_checkpoint(stopped / "checkpoint.safetensors");
  EXPECT_EQ(at_stop.loop.epoch, 1u);
  EXPECT_EQ(at_stop.loop.batch_in_epoch, 6u);
  EXPECT_EQ(at_stop.step, 16u);
  EXPECT_EQ(at_stop.loop.extra["metrics"].size(), 1u);
  EXPECT_EQ(test::read_text_file(stopped / "metrics.jsonl").find("\"epoch\":2"), std::string::npos)
      << "metrics.jsonl holds whole epochs only";

  const auto r = run({"train", "--resume", stopped.string(), "--no-report", "--threads", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(test::read_text_file(stopped / "model.safetensors"), test::read_text_file(whole / "model.safetensors"));
}

}  // namespace
}  // namespace aevb
