#pragma once
// Runs the built aevb CLI (AEVB_CLI_PATH) as a child process, to the end or
// started for a test to kill, and captures its exit code, stdout and stderr,
// for end-to-end tests. Output goes to files in a scratch folder (no pipes, so
// a chatty child can never block).
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace aevb::test {

struct CliResult {
  int exit_code = -1;  // the exit status; 128 + signal when killed by one
  std::string out, err;
};

inline std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// The path of the built CLI, or "" when this build has none.
inline std::string cli_path() {
#ifdef AEVB_CLI_PATH
  return AEVB_CLI_PATH;
#else
  return "";
#endif
}

/// A started CLI process: its pid (-1 when it could not start, `error` says
/// why) and its capture files.
struct CliChild {
  pid_t pid = -1;
  std::filesystem::path out_file, err_file;
  std::string error;
};

/// Starts `cli args...` with the current environment plus `env` (which
/// overrides), without waiting. Capture files go to `scratch`.
inline CliChild start_cli(const std::string& cli, const std::vector<std::string>& args,
                          const std::filesystem::path& scratch, const std::map<std::string, std::string>& env = {}) {
  static int counter = 0;
  CliChild child;
  child.out_file = scratch / ("cli_stdout_" + std::to_string(counter) + ".txt");
  child.err_file = scratch / ("cli_stderr_" + std::to_string(counter++) + ".txt");

  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    const std::string entry = *e;
    const std::string key = entry.substr(0, entry.find('='));
    if (!env.count(key)) env_strings.push_back(entry);
  }
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  std::vector<std::string> argv_strings = {cli};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, child.out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, child.err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int rc = posix_spawn(&child.pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    child.pid = -1;
    child.error = std::string("posix_spawn failed: ") + std::strerror(rc);
  }
  return child;
}

/// Waits for a started process (kill it first with ::kill(child.pid, SIGKILL)
/// to stop it) and collects its result.
inline CliResult wait_cli(const CliChild& child) {
  CliResult r;
  if (child.pid < 0) {
    r.err = child.error;
    return r;
  }
  int status = 0;
  while (waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  r.out = read_text_file(child.out_file);
  r.err = read_text_file(child.err_file);
  std::error_code ec;
  std::filesystem::remove(child.out_file, ec);
  std::filesystem::remove(child.err_file, ec);
  return r;
}

/// `args` followed by `more`: a command line with extra flags.
inline std::vector<std::string> concat(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

/// Runs `cli args...` to the end; see start_cli.
inline CliResult run_cli(const std::string& cli, const std::vector<std::string>& args,
                         const std::filesystem::path& scratch, const std::map<std::string, std::string>& env = {}) {
  return wait_cli(start_cli(cli, args, scratch, env));
}

}  // namespace aevb::test
