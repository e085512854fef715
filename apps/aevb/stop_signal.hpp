#pragma once
// A run of hours must survive Ctrl-C and a batch system's SIGTERM: while a
// StopSignal is alive, the first SIGINT or SIGTERM only asks the training
// loop to stop (it checkpoints at the next minibatch and exits with
// 128 + the signal, as a shell reports a killed command); a second one kills
// the process as usual. A signal the process started with ignored (a job a
// script put in the background, nohup) stays ignored.
namespace aevb::cli {

class StopSignal {
 public:
  StopSignal();   // installs the handlers
  ~StopSignal();  // restores the previous ones
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;
  /// 0, or the signal that asked to stop.
  int received() const;
};

/// Thrown once the loop has stopped and checkpointed on `signal`; main()
/// exits with 128 + signal.
struct Interrupted {
  int signal = 0;
};

}  // namespace aevb::cli
