#pragma once
// A test fixture for end-to-end runs of the CLI on small real MNIST slices:
// a scratch folder per test, the data folder in the environment, a small
// quick training command line, and the run's metrics.jsonl as JSON.
#include "support/cli_runner.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace aevb::test {

class CliRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cli_ = cli_path();
    if (cli_.empty()) GTEST_SKIP() << "no CLI in this build";
    const std::string suite = ::testing::UnitTest::GetInstance()->current_test_info()->test_suite_name();
    dir_ = std::filesystem::path(::testing::TempDir()) / ("aevb_" + suite + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  /// The environment of the CLI's runs: the data folder, plus `extra`.
  static std::map<std::string, std::string> env(std::map<std::string, std::string> extra = {}) {
    extra["AEVB_DATA_DIR"] = std::string(AEVB_SOURCE_DIR) + "/../shared/data";
    return extra;
  }
  CliResult run(std::vector<std::string> args) { return run_cli(cli_, args, dir_, env()); }
  // A small, quick model on 600 MNIST images; extra flags appended.
  std::vector<std::string> small_run(const std::filesystem::path& out, std::vector<std::string> extra = {}) {
    std::vector<std::string> a = {"train", "--data", "mnist", "--limit", "600", "--hidden", "64",
                                  "--latent", "4", "--batch", "50", "--binarize", "dynamic",
                                  "--optimizer", "adam", "--lr", "0.003", "--validation", "100",
                                  "--test-eval", "200", "--threads", "2", "--out", out.string()};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  static std::vector<nlohmann::json> metrics(const std::filesystem::path& run) {
    std::ifstream in(run / "metrics.jsonl");
    std::vector<nlohmann::json> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
    return lines;
  }
  static std::string bytes(const std::filesystem::path& p) { return read_text_file(p); }

  std::string cli_;
  std::filesystem::path dir_;
};

}  // namespace aevb::test
