#pragma once
// Errors are exceptions carrying one line a user can act on: what (file or
// argument), what was expected, what was found. The CLI prints the line and
// exits with the code below; library code never calls exit().
#include <stdexcept>
#include <string>

namespace aevb {

/// Bad input from outside the program: a flag, a file, a model that does not
/// fit the data. The CLI exits with code 2.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Training met a non-finite value; the message names the step.
class NumericError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace aevb
