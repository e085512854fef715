#include "stop_signal.hpp"

#include <csignal>

namespace aevb::cli {
namespace {

volatile std::sig_atomic_t g_received = 0;

extern "C" void on_stop_signal(int signal) {
  g_received = signal;
  std::signal(signal, SIG_DFL);  // a second one ends the process at once
}

using Handler = void (*)(int);
Handler g_previous_int = SIG_DFL, g_previous_term = SIG_DFL;

// A signal ignored when the process started stays ignored: a command run in
// the background by a script (or under nohup) must not stop on the
// terminal's Ctrl-C.
Handler catch_unless_ignored(int signal) {
  const Handler previous = std::signal(signal, on_stop_signal);
  if (previous == SIG_IGN) std::signal(signal, SIG_IGN);
  return previous;
}

}  // namespace

StopSignal::StopSignal() {
  g_received = 0;
  g_previous_int = catch_unless_ignored(SIGINT);
  g_previous_term = catch_unless_ignored(SIGTERM);
}

StopSignal::~StopSignal() {
  std::signal(SIGINT, g_previous_int);
  std::signal(SIGTERM, g_previous_term);
}

int StopSignal::received() const { return g_received; }

}  // namespace aevb::cli
