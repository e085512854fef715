#include "nn/layer.hpp"

namespace aevb {

std::string to_string(const Shape& shape) {
  // Appended piece by piece: GCC 12 warns (-Wrestrict, falsely) on "[" + std::to_string(n).
  std::string s = "[";
  s += std::to_string(shape.channels);
  if (shape.is_image()) {
    s += ", ";
    s += std::to_string(shape.height);
    s += ", ";
    s += std::to_string(shape.width);
  }
  s += ']';
  return s;
}

}  // namespace aevb
