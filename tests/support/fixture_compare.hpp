#pragma once
// The per-element comparison the PyTorch reference tests share: engine values
// against a fixture tensor, |got - ref| <= rel_elem |ref| + rel_tensor max|ref|.
#include "support/fixture.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

namespace aevb::test {

/// Checks `got` [n] against the tensor `name` of `fixture`, printing the worst
/// error over the allowed one under `tag`; a failure names `script`, which
/// regenerates the fixture.
template <class T>
void expect_close_to_fixture(const Fixture& fixture, const std::string& name, const T* got, std::size_t n,
                             double rel_elem, double rel_tensor, const char* tag, const char* script) {
  const FixtureTensor& ref = fixture.get(name);
  ASSERT_EQ(n, ref.size()) << name << ": values in the engine and in the fixture " << ref.shape_string();
  double scale = 0;
  for (float r : ref.data) scale = std::max(scale, std::fabs(double(r)));
  double worst = 0;
  std::size_t at = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double e = std::fabs(double(got[i]) - ref.data[i]);
    const double ratio = e / (rel_elem * std::fabs(double(ref.data[i])) + rel_tensor * scale);
    if (!(ratio <= worst)) {
      worst = ratio;
      at = i;
    }
  }
  std::printf("[%s] %-44s %-10s error/allowed %.2e\n", tag, name.c_str(), ref.shape_string().c_str(), worst);
  EXPECT_LE(worst, 1.0) << name << " element " << at << ": engine " << double(got[at]) << ", reference "
                        << ref.data[at] << " (regenerate with /usr/bin/python3 " << script
                        << " only if the reference changed on purpose)";
}

}  // namespace aevb::test
