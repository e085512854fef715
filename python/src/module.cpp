// _aevb: the native half of `import aevb` (the Python half, python/aevb/,
// gives it its keyword arguments, array conversions and docstrings). aevb's
// InputError becomes ValueError with aevb's one-line message, NumericError
// aevb.NumericError (an ArithmeticError).
#include "bindings.hpp"

#include <aevb/error.hpp>
#include <aevb/version.hpp>
#include <aevb/vae.hpp>

#include <exception>
#include <string>

namespace aevb::python {

std::mutex& compute_mutex() {
  static std::mutex mutex;
  return mutex;
}

ConstMatrix rows_of(const FloatArray& x, std::size_t cols, const char* what) {
  if (x.ndim() != 2)
    throw InputError(std::string(what) + ": expected a 2-D array of rows, found " + std::to_string(x.ndim()) +
                     " dimensions");
  if (static_cast<std::size_t>(x.shape(1)) != cols)
    throw InputError(std::string(what) + ": expected rows of " + std::to_string(cols) + " values, found " +
                     std::to_string(x.shape(1)));
  return {x.data(), static_cast<std::size_t>(x.shape(0)), cols};
}

FloatArray new_matrix(std::size_t rows, std::size_t cols, Matrix& view) {
  FloatArray out({static_cast<py::ssize_t>(rows), static_cast<py::ssize_t>(cols)});
  view = {out.mutable_data(), rows, cols};
  return out;
}

}  // namespace aevb::python

PYBIND11_MODULE(_aevb, m) {
  namespace py = pybind11;
  using namespace aevb::python;
  m.doc() = "aevb's native core (use the aevb package, not this module)";
  m.attr("__version__") = std::string(aevb::kVersion);

  static py::exception<aevb::NumericError> numeric_error(m, "NumericError", PyExc_ArithmeticError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const aevb::InputError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const aevb::NumericError& e) {
      numeric_error(e.what());
    }
  });

  m.def("set_threads", [](int threads) { compute([&] { aevb::set_threads(threads); }); }, py::arg("threads"));
  bind_model(m);
  bind_training(m);
  bind_datasets(m);
}
