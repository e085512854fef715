#pragma once
// The mean of a sample and its standard error, for statistical tests whose
// tolerances are a few standard errors.
#include <cmath>
#include <vector>

namespace aevb::test {

struct Moments {
  double mean = 0, stderr_ = 0;
};

inline Moments moments(const std::vector<double>& v) {
  Moments m;
  for (double x : v) m.mean += x / double(v.size());
  double ss = 0;
  for (double x : v) ss += (x - m.mean) * (x - m.mean);
  m.stderr_ = std::sqrt(ss / double(v.size() - 1) / double(v.size()));
  return m;
}

}  // namespace aevb::test
