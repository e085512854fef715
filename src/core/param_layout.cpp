#include "core/param_layout.hpp"

#include <functional>
#include <limits>
#include <numeric>

namespace aevb {

std::size_t ParameterInfo::size() const {
  return std::accumulate(shape.begin(), shape.end(), std::size_t{1}, std::multiplies<>());
}

std::size_t ParamLayout::add(std::string name, std::vector<std::size_t> shape) {
  // Overflow-checked: the shapes may come from a config read from a file.
  std::size_t n = 1;
  for (std::size_t d : shape) {
    if (d != 0 && n > std::numeric_limits<std::size_t>::max() / d) overflow();
    n *= d;
  }
  if (total_ > std::numeric_limits<std::size_t>::max() - n) overflow();
  ParameterInfo info{std::move(name), std::move(shape), total_};
  total_ += n;
  table_.push_back(std::move(info));
  return table_.back().offset;
}

void ParamLayout::overflow() { throw InputError("model config: the network's parameter count overflows"); }

const ParameterInfo& ParamLayout::find(const std::string& name) const {
  for (const auto& p : table_)
    if (p.name == name) return p;
  throw InputError("no parameter named '" + name + "' in this model");
}

}  // namespace aevb
