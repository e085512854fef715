#pragma once
// The pieces of the _aevb extension module (python/src/module.cpp assembles
// them) and what they share: numpy arrays as aevb's matrices, and the rule
// that every computation runs with the GIL released.
#include <aevb/data.hpp>
#include <aevb/matrix.hpp>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace aevb::python {

namespace py = pybind11;

/// The arrays the binding accepts: exactly float32 (or uint8 for training
/// data), C-contiguous; the Python layer (python/aevb/_arrays.py) converts
/// anything else first, so an array that already fits is never copied.
using FloatArray = py::array_t<float, py::array::c_style>;
using ByteArray = py::array_t<std::uint8_t, py::array::c_style>;

/// A 2-D float32 array as rows of `cols` values; InputError naming `what`
/// otherwise.
ConstMatrix rows_of(const FloatArray& x, std::size_t cols, const char* what);
/// A new C-contiguous float32 array [rows, cols] and its storage as a matrix.
FloatArray new_matrix(std::size_t rows, std::size_t cols, Matrix& view);

/// `values` handed to numpy without a copy: the array owns the vector.
template <class T>
py::array_t<T> to_numpy(std::vector<T>&& values, std::vector<py::ssize_t> shape) {
  auto* owned = new std::vector<T>(std::move(values));
  py::capsule owner(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>(std::move(shape), owned->data(), owner);
}

/// aevb's pool runs one job at a time: calls from several Python threads take
/// turns here. Lock it only with the GIL released (see compute()), so that a
/// thread waiting for it never holds the GIL that fit's callbacks need.
std::mutex& compute_mutex();

/// Runs `f` with the GIL released and the pool to itself.
template <class F>
auto compute(F&& f) {
  py::gil_scoped_release release;
  std::lock_guard lock(compute_mutex());
  return f();
}

void bind_model(py::module_& m);
void bind_training(py::module_& m);
void bind_datasets(py::module_& m);

}  // namespace aevb::python
