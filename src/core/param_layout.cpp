#include "core/param_layout.hpp"

#include <functional>
#include <numeric>

namespace aevb {

std::size_t ParameterInfo::size() const {
  return std::accumulate(shape.begin(), shape.end(), std::size_t{1}, std::multiplies<>());
}

std::size_t ParamLayout::add(std::string name, std::vector<std::size_t> shape) {
  ParameterInfo info{std::move(name), std::move(shape), total_};
  total_ += info.size();
  table_.push_back(std::move(info));
  return table_.back().offset;
}

const ParameterInfo& ParamLayout::find(const std::string& name) const {
  for (const auto& p : table_)
    if (p.name == name) return p;
  throw InputError("no parameter named '" + name + "' in this model");
}

}  // namespace aevb
