// aevb paper end to end, at a toy budget (MNIST cut to 200 images, App. D on
// 5 points): the figures, results and page it promises, the App. D points
// at the planned budgets, and resuming: a finished set redoes nothing, a
// lost step is redone alone, a killed run continues.
#include "support/cli_runner.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <thread>

namespace aevb {
namespace {

namespace fs = std::filesystem;

class CliPaper : public ::testing::Test {
 protected:
  fs::path dir_;
  void SetUp() override {
    if (test::cli_path().empty()) GTEST_SKIP() << "this build has no aevb CLI";
    if (!fs::exists(fs::path(AEVB_SOURCE_DIR) / ".." / "shared" / "data" / "mnist"))
      GTEST_SKIP() << "no MNIST in ../shared/data";
    dir_ = fs::temp_directory_path() / ("aevb_cli_paper_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::vector<std::string> args(const fs::path& out) const {
    return {"paper", "--figures", "3", "4", "--budget", "2000", "--train-limit", "200", "--hmc-points", "5",
            "--out", out.string()};
  }
  test::CliResult run(const std::vector<std::string>& a) const {
    return test::run_cli(test::cli_path(), a, dir_, {{"AEVB_DATA_DIR", AEVB_SOURCE_DIR "/../shared/data"}});
  }
};

TEST_F(CliPaper, WritesTheFiguresAndChecksTheClaimsThenResumes) {
  const fs::path out = dir_ / "paper";
  const test::CliResult r = run(args(out));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const char* f : {"fig3.svg", "fig3.png", "fig4.svg", "fig4.png", "results.json", "index.html"})
    EXPECT_TRUE(fs::exists(out / f)) << f;
  const auto results = nlohmann::json::parse(test::read_text_file(out / "results.json"));
  // Fig. 3 at 2000 samples on 200 images: App. D after epochs 1, 3 and 10 (half-decade budgets, rounded, deduplicated).
  const auto& panel = results["figures"]["3"][0];
  EXPECT_EQ(panel["train_size"], 200);
  for (const char* algorithm : {"aevb", "wake-sleep", "mcem"}) {
    ASSERT_TRUE(panel.contains(algorithm)) << algorithm;
    EXPECT_EQ(panel[algorithm]["samples"], nlohmann::json({200, 600, 2000})) << algorithm;
    for (const auto& v : panel[algorithm]["test"]) EXPECT_TRUE(v.is_number() && v.get<double>() < 0) << algorithm;
  }
  std::size_t fig3_claims = 0;
  for (const auto& c : results["claims"]) fig3_claims += c["figure"] == "3";
  EXPECT_GE(fig3_claims, 3u);
  EXPECT_NE(test::read_text_file(out / "index.html").find("claims against these runs"), std::string::npos);

  // Everything done: nothing is run again.
  const test::CliResult again = run(args(out));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("already done (resuming)"), std::string::npos) << again.out;
  EXPECT_EQ(again.out.find("] fig"), std::string::npos) << "a step ran again:\n" << again.out;

  // One lost step (the last App. D evaluation of MCEM) is redone, alone.
  const fs::path job = out / "runs" / "fig3-n1000-mcem";
  std::size_t last = 0;
  for (const auto& e : fs::directory_iterator(job / ".steps")) last = std::max<std::size_t>(last, std::stoul(e.path().stem()));
  fs::remove(job / ".steps" / (std::to_string(last) + ".done"));
  fs::remove(job / "hmc-test-epoch10.json");
  const test::CliResult redo = run(args(out));
  ASSERT_EQ(redo.exit_code, 0) << redo.err;
  EXPECT_TRUE(fs::exists(job / "hmc-test-epoch10.json"));
  std::size_t started = 0;
  for (std::size_t p = redo.out.find("] fig"); p != std::string::npos; p = redo.out.find("] fig", p + 1)) ++started;
  EXPECT_EQ(started, 2u) << "one step, started and done:\n" << redo.out;

  // A larger budget is another step: Fig. 4's MNIST run continues its checkpoint from 10 to 20 epochs.
  std::vector<std::string> longer = args(out);
  *std::find(longer.begin(), longer.end(), "2000") = "4000";
  const test::CliResult more = run(longer);
  ASSERT_EQ(more.exit_code, 0) << more.out << more.err;
  EXPECT_NE(more.out.find("fig4-mnist-nz2: train aevb to 20 epochs (4e+03 samples) (resuming)"), std::string::npos)
      << more.out;
  const std::string metrics = test::read_text_file(out / "runs" / "fig4-mnist-nz2" / "run" / "metrics.jsonl");
  EXPECT_EQ(std::count(metrics.begin(), metrics.end(), '\n'), 20) << metrics;
}

TEST_F(CliPaper, TheSeedDemonstrationsMeasureEveryRun) {
  const fs::path out = dir_ / "demos";
  const test::CliResult r = run({"paper", "--figures", "autoencoder", "variance", "--budget", "2000", "--train-limit",
                                 "200", "--out", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const char* f : {"demo-autoencoder.svg", "demo-autoencoder.png", "demo-variance.svg", "demo-variance.png"})
    EXPECT_TRUE(fs::exists(out / f)) << f;
  const auto results = nlohmann::json::parse(test::read_text_file(out / "results.json"));
  for (const char* family : {"vae", "autoencoder"}) {
    const auto& m = results["figures"]["autoencoder"][family];
    for (const char* key : {"code_kl_to_prior", "nn_ratio", "reconstruction_mse"})
      EXPECT_TRUE(m.contains(key) && m[key].is_number()) << family << " " << key;
  }
  const auto& sweep = results["figures"]["variance"];
  ASSERT_EQ(sweep.size(), 5u);
  EXPECT_EQ(sweep[0]["variance"], 0.01);
  EXPECT_EQ(sweep[4]["variance"], 1.0);
  for (const auto& v : sweep) EXPECT_GT(v["reconstruction_mse"].get<double>(), 0) << v;
  // Both demonstrations' claims were checked (true or false, not "not run").
  std::size_t checked = 0;
  for (const auto& c : results["claims"])
    checked += (c["figure"] == "autoencoder" || c["figure"] == "variance") && c["reproduced"].is_boolean();
  EXPECT_EQ(checked, 2u) << results["claims"];
  EXPECT_NE(test::read_text_file(out / "index.html").find("Demonstration (variance)"), std::string::npos);
}

TEST_F(CliPaper, AKilledRunContinuesWhereItStopped) {
  const fs::path out = dir_ / "paper";
  test::CliChild child = test::start_cli(test::cli_path(), args(out), dir_,
                                         {{"AEVB_DATA_DIR", AEVB_SOURCE_DIR "/../shared/data"}});
  ASSERT_GT(child.pid, 0) << child.error;
  // Kill it once a few steps have finished (their markers exist), in the middle of the rest.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  auto markers = [&] {
    std::size_t n = 0;
    if (fs::exists(out / "runs"))
      for (const auto& e : fs::recursive_directory_iterator(out / "runs")) n += e.path().extension() == ".done";
    return n;
  };
  while (markers() < 3 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ::kill(child.pid, SIGKILL);
  const test::CliResult killed = test::wait_cli(child);
  ASSERT_EQ(killed.exit_code, 128 + SIGKILL) << "it finished before the kill: " << killed.out;
  const std::size_t done_before = markers();
  ASSERT_GE(done_before, 3u);
  const test::CliResult resumed = run(args(out));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  EXPECT_NE(resumed.out.find(std::to_string(done_before) + " of "), std::string::npos) << resumed.out;
  EXPECT_TRUE(fs::exists(out / "fig3.png"));
}

}  // namespace
}  // namespace aevb
