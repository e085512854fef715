#pragma once
// The algorithms the registry knows, each in its own file.
#include "train/algorithm.hpp"

namespace aevb {

std::unique_ptr<TrainingAlgorithm> make_aevb(const TrainConfig& config, Engine<float>& engine);  // algorithm_aevb.cpp
// algorithm_wake_sleep.cpp
std::unique_ptr<TrainingAlgorithm> make_wake_sleep(const TrainConfig& config, Engine<float>& engine);
std::unique_ptr<TrainingAlgorithm> make_rws(const TrainConfig& config, Engine<float>& engine);
std::unique_ptr<TrainingAlgorithm> make_full_vb(const TrainConfig& config, Engine<float>& engine);  // algorithm_full_vb.cpp
std::unique_ptr<TrainingAlgorithm> make_mcem(const TrainConfig& config, Engine<float>& engine);  // algorithm_mcem.cpp

}  // namespace aevb
