#pragma once
// The one layout shared by parameters, gradients and every optimizer moment:
// named slices of a flat buffer (llm.c style), so the optimizer, zero-grad,
// clipping and checkpoints are single loops, and names map to offsets.
#include <aevb/vae.hpp>

#include <string>
#include <vector>

namespace aevb {

/// Elements [offset, offset + size) of the flat buffers.
struct ParamSlice {
  std::size_t offset = 0, size = 0;
};

class ParamLayout {
 public:
  /// Appends a tensor; returns its offset in elements. Throws InputError when
  /// the total overflows.
  std::size_t add(std::string name, std::vector<std::size_t> shape);
  const std::vector<ParameterInfo>& table() const { return table_; }
  std::size_t total() const { return total_; }
  /// The entry named `name`; throws InputError if absent.
  const ParameterInfo& find(const std::string& name) const;

 private:
  [[noreturn]] static void overflow();
  std::vector<ParameterInfo> table_;
  std::size_t total_ = 0;
};

}  // namespace aevb
