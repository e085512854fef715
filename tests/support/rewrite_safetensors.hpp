#pragma once
// Test scaffolding for the broken-file tests of model files and checkpoints:
// copy a safetensors file with its tensors and metadata edited.
#include "io/safetensors.hpp"

#include <filesystem>
#include <vector>

namespace aevb::test {

/// Writes `to` as `from` after `edit` has changed its tensors and metadata.
template <class Edit>
void rewrite_safetensors(const std::filesystem::path& from, const std::filesystem::path& to, Edit&& edit) {
  safetensors::File f = safetensors::read_file(from);
  edit(f);
  std::vector<safetensors::TensorRef> refs;
  for (const auto& t : f.tensors) refs.push_back({t.name, t.shape, t.data});
  safetensors::write_file(to, refs, f.metadata);
}

}  // namespace aevb::test
