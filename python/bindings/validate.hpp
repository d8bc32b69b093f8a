// Checks shared by every binding: an array argument must have the expected dtype, rank and
// contiguity and hold finite values. Errors name the argument and what was found, so that a
// bad call from Python raises ValueError/TypeError instead of reaching the C++ core.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>

namespace facesel {
namespace bindings {

namespace py = pybind11;

inline std::string shape_str(const py::array& a) {
  std::ostringstream s;
  s << "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s << (i ? ", " : "") << a.shape(i);
  if (a.ndim() == 1) s << ",";
  s << ")";
  return s.str();
}

inline std::string dtype_str(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

/// Casts obj to a C-contiguous float32 array of rank `ndim` without silently changing its
/// meaning: integer and float inputs are accepted (copied when needed), anything else is a
/// TypeError naming `name`.
template <typename T>
py::array_t<T, py::array::c_style> as_array(const py::handle& obj, const char* name, int ndim,
                                            const char* dtype_name) {
  if (!py::isinstance<py::array>(obj)) {
    throw py::type_error(std::string(name) + " must be a numpy.ndarray of " + dtype_name + ", got " +
                         py::str(py::type::of(obj)).cast<std::string>());
  }
  py::array a = py::reinterpret_borrow<py::array>(obj);
  const char kind = a.dtype().kind();
  if (kind != 'f' && kind != 'i' && kind != 'u') {
    throw py::type_error(std::string(name) + " must be a numeric array (" + dtype_name + "), got dtype " +
                         dtype_str(a));
  }
  if (a.ndim() != ndim) {
    throw py::value_error(std::string(name) + " must have " + std::to_string(ndim) + " dimensions, got shape " +
                          shape_str(a));
  }
  return py::array_t<T, py::array::c_style>::ensure(a);
}

template <typename T>
void require_finite(const py::array_t<T, py::array::c_style>& a, const char* name) {
  const T* p = a.data();
  const py::ssize_t n = a.size();
  for (py::ssize_t i = 0; i < n; ++i) {
    if (!std::isfinite(static_cast<double>(p[i]))) {
      std::ostringstream s;
      s << name << " must hold finite values, found " << p[i] << " at flat index " << i;
      throw py::value_error(s.str());
    }
  }
}

}  // namespace bindings
}  // namespace facesel
