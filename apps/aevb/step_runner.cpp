#include "step_runner.hpp"

#include <aevb/error.hpp>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <numeric>

namespace aevb::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

fs::path marker(const Job& job, std::size_t step) { return job.dir / ".steps" / (std::to_string(step) + ".done"); }

// A marker holds its step's arguments, one per line: a step is done only if
// the same step was, so that a run with another budget (train to more
// epochs) or other figures (other steps at this index) redoes it.
std::string marker_text(const Step& step) {
  std::string text;
  for (const std::string& a : step.args) text += a + "\n";
  return text;
}

bool is_done(const Job& job, std::size_t step) {
  std::ifstream in(marker(job, step), std::ios::binary);
  if (!in) return false;
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text == marker_text(job.steps[step]);
}

std::string last_line(const fs::path& log) {
  std::ifstream in(log);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty() && line.find('\r') == std::string::npos) last = line;
  return last;
}

// Starts `args` as a child aevb with stdout and stderr appended to `log`.
pid_t spawn(const std::vector<std::string>& args, const fs::path& log) {
  std::vector<char*> argv;
  std::string program = "aevb";
  argv.push_back(program.data());
  std::vector<std::string> copy = args;
  for (std::string& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) throw InputError(std::string("aevb paper: cannot start a process: ") + std::strerror(errno));
  if (pid == 0) {
    // The child dies with its parent; if the parent is already gone, stop now.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(1);
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0) _exit(127);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
    execv("/proc/self/exe", argv.data());
    _exit(127);
  }
  return pid;
}

struct Running {
  std::size_t job = 0, step = 0;
  Clock::time_point start;
};

}  // namespace

std::vector<JobOutcome> run_jobs(const std::vector<Job>& jobs, int parallel) {
  std::vector<std::size_t> order(jobs.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return jobs[a].cost > jobs[b].cost; });
  std::vector<JobOutcome> outcomes(jobs.size());
  std::vector<std::size_t> next_step(jobs.size(), 0);
  std::size_t total_steps = 0, done_steps = 0;
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    outcomes[j].id = jobs[j].id;
    fs::create_directories(jobs[j].dir / ".steps");
    total_steps += jobs[j].steps.size();
    while (next_step[j] < jobs[j].steps.size() && is_done(jobs[j], next_step[j])) ++next_step[j], ++done_steps;
    outcomes[j].ok = next_step[j] == jobs[j].steps.size();
  }
  if (done_steps > 0)
    std::printf("aevb paper: %zu of %zu steps already done (resuming)\n", done_steps, total_steps);
  std::vector<bool> busy(jobs.size(), false), failed(jobs.size(), false);
  std::map<pid_t, Running> running;
  const auto start_all = Clock::now();
  auto start_next = [&]() -> bool {
    for (std::size_t j : order) {
      if (busy[j] || failed[j] || next_step[j] >= jobs[j].steps.size()) continue;
      const Step& step = jobs[j].steps[next_step[j]];
      const bool resume = !step.resume_if.empty() && fs::exists(step.resume_if);
      const pid_t pid = spawn(resume ? step.resume_args : step.args, jobs[j].dir / "log.txt");
      running[pid] = {j, next_step[j], Clock::now()};
      busy[j] = true;
      std::printf("[%zu/%zu] %s: %s%s\n", done_steps, total_steps, jobs[j].id.c_str(), step.what.c_str(),
                  resume ? " (resuming)" : "");
      std::fflush(stdout);
      return true;
    }
    return false;
  };
  while (true) {
    while (static_cast<int>(running.size()) < parallel && start_next()) {
    }
    if (running.empty()) break;
    int status = 0;
    const pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;
    }
    const auto it = running.find(pid);
    if (it == running.end()) continue;
    const Running r = it->second;
    running.erase(it);
    busy[r.job] = false;
    const Job& job = jobs[r.job];
    const double seconds = std::chrono::duration<double>(Clock::now() - r.start).count();
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      std::ofstream(marker(job, r.step), std::ios::binary) << marker_text(job.steps[r.step]);
      ++next_step[r.job], ++done_steps;
      outcomes[r.job].ok = next_step[r.job] == job.steps.size();
      std::printf("[%zu/%zu] %s: %s done in %.0f s (%.0f s so far)\n", done_steps, total_steps, job.id.c_str(),
                  job.steps[r.step].what.c_str(), seconds,
                  std::chrono::duration<double>(Clock::now() - start_all).count());
    } else {
      failed[r.job] = true;
      outcomes[r.job].failure = job.steps[r.step].what + ": " + last_line(job.dir / "log.txt");
      std::printf("[%zu/%zu] %s: %s FAILED (%s; see %s)\n", done_steps, total_steps, job.id.c_str(),
                  job.steps[r.step].what.c_str(), outcomes[r.job].failure.c_str(),
                  (job.dir / "log.txt").c_str());
    }
    std::fflush(stdout);
  }
  return outcomes;
}

}  // namespace aevb::cli
