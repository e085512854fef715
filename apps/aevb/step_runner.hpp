#pragma once
// Runs many jobs of aevb's own commands as child processes, several at a
// time, each job a chain of steps in its own directory, resumably: a step
// whose marker file exists is done and skipped, so a killed run of the whole
// set continues where it stopped (used by `aevb paper`).
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace aevb::cli {

struct Step {
  std::string what;               // for progress lines: "train to 17 epochs"
  std::vector<std::string> args;  // aevb's arguments (without the program name)
  /// Used instead of `args` when this file exists: a training step continues
  /// its run's checkpoint with --resume rather than starting over.
  std::filesystem::path resume_if;
  std::vector<std::string> resume_args;
};

struct Job {
  std::string id;              // also its directory's name
  std::filesystem::path dir;   // holds log.txt and the steps' markers (.steps/N.done)
  std::vector<Step> steps;
  double cost = 1;             // relative; the costliest jobs start first
};

struct JobOutcome {
  std::string id;
  bool ok = false;
  std::string failure;  // the failed step and the last line of its log
};

/// Runs `jobs` with at most `parallel` child processes of the aevb binary
/// (/proc/self/exe), each step's output appended to JOB/log.txt. A child dies
/// with its parent (a killed `aevb paper` leaves no orphans). Progress lines
/// on stdout. A failed step ends its job; the others go on.
std::vector<JobOutcome> run_jobs(const std::vector<Job>& jobs, int parallel);

}  // namespace aevb::cli
