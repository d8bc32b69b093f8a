// Checks shared by every binding: an array argument must have the expected dtype, rank and
// contiguity and hold finite values. Errors name the argument and what was found, so that a
// bad call from Python raises ValueError/TypeError instead of reaching the C++ core.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <sstream>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <vector>

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

/// "shape (H, W, C), strides (S0, S1, S2) bytes": what a layout error reports of the array.
inline std::string layout_str(const py::array& a) {
  std::string s = "shape " + shape_str(a) + ", strides (";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.strides(i));
  return s + (a.ndim() == 1 ? ",)" : ")") + " bytes";
}

/// What `obj` is, for a type error: an ndarray's dtype, else its type.
inline std::string kind_str(const py::handle& obj) {
  if (py::isinstance<py::array>(obj)) return "dtype " + dtype_str(py::reinterpret_borrow<py::array>(obj));
  return py::str(py::type::of(obj)).cast<std::string>();
}

/// Whether numpy flags `a` aligned: every item at an address its dtype's alignment allows. A uint8
/// buffer sliced at an odd byte offset and viewed as float32 is not; the core reading it through a
/// float* is undefined behaviour (review round 17a: UBSan's -fsanitize=alignment stopped on it), and
/// a build that emits aligned vector loads would fault.
inline bool is_aligned(const py::array& a) { return (a.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_) != 0; }

/// For an argument the binding reads in place (no copy, by design): an unaligned array is a
/// ValueError naming `name`, the alignment and how far off the data starts.
inline void require_aligned(const py::array& a, const std::string& name) {
  if (is_aligned(a)) return;
  const int alignment = a.dtype().attr("alignment").cast<int>();
  const auto address = reinterpret_cast<std::uintptr_t>(a.data());
  throw py::value_error(name + " must be aligned to its dtype's " + std::to_string(alignment) +
                        " bytes (it is read in place, not copied), got data at " + std::to_string(address % alignment) +
                        " byte(s) past an aligned address (dtype " + dtype_str(a) + ", " + layout_str(a) +
                        "): pass a copy (numpy.array(" + name + "))");
}

/// numpy.ma.MaskedArray is an ndarray whose mask the core would never see: it would read the data
/// under the masked values as if they were valid (review round 17a). Refused, naming `name`; the
/// caller says what the masked values are (`filled`) or that the data is meant (`numpy.ma.getdata`).
/// Costs one type comparison for a plain ndarray; numpy.ma is never imported here (if nothing
/// imported it, no masked array exists).
inline void refuse_masked(const py::handle& obj, const std::string& name) {
  if (Py_TYPE(obj.ptr()) == py::detail::npy_api::get().PyArray_Type_) return;
  py::object ma = py::reinterpret_steal<py::object>(PyImport_GetModule(py::str("numpy.ma").ptr()));
  if (!ma) {
    if (PyErr_Occurred()) throw py::error_already_set();
    return;
  }
  if (!py::isinstance(obj, ma.attr("MaskedArray"))) return;
  const auto masked = ma.attr("count_masked")(obj).cast<py::ssize_t>();
  throw py::type_error(name + " must be a plain numpy.ndarray, got a numpy.ma.MaskedArray (" + std::to_string(masked) +
                       " of " + std::to_string(py::reinterpret_borrow<py::array>(obj).size()) +
                       " values masked): the core would read the values under its mask; pass " + name +
                       ".filled(value) or numpy.ma.getdata(" + name + ")");
}

/// The largest copy as_array makes of an argument (2 GiB, as region_batches' padded batches): a
/// non-float32 or non-contiguous array beyond it is refused instead of copied.
constexpr py::ssize_t kMaxCopyBytes = py::ssize_t{1} << 31;

/// The array type every binding works on: C-contiguous, converted to T when needed.
template <typename T>
using CArray = py::array_t<T, py::array::c_style | py::array::forcecast>;

/// Whether a is an ndarray of T's dtype, by numpy's equivalence of dtypes, not by identity: an
/// array that went through pickle (a pipe, multiprocessing) has a uint8 dtype equal to numpy's but
/// not the same object, and `dtype().is(...)` refused it ("must be uint8, got dtype uint8"; found
/// in session 24 sending kept frames to a callgrind child). A non-native byte order is not equivalent.
template <typename T>
bool has_dtype(const py::handle& a) {
  return py::array_t<T>::check_(a);
}

/// Before a cast of `source` to T, the first value the cast would change beyond rounding, as a
/// ValueError naming `name`: a finite value beyond float32's range would become inf (float64 1e300 in
/// a box gave an empty region plan), a uint64 above int64's range would wrap to a negative int64 (a
/// region at x = 2**63 + 5 was sampled at x = -2**63 + 5). Review round 16b. Rounding (float64 or
/// int64 to float32) is the conversion the bindings document and stays accepted. Checked before
/// the cast, whose overflow numpy would otherwise report only as a RuntimeWarning; runs numpy only
/// for a cast that can overflow (a float source wider than T, a uint64 source for int64).
template <typename T>
void refuse_changed_meaning(const py::array& source, const char* name) {
  const char kind = source.dtype().kind();
  if (source.size() == 0) return;
  py::module_ np = py::module_::import("numpy");
  // The common case costs two reductions (no temporary array): only a suspect array is scanned
  // for where its first changed value is.
  py::object changed;  // a bool array: where the cast would change a value's meaning
  std::string why;
  if constexpr (std::is_floating_point<T>::value) {
    if (kind != 'f' || source.dtype().itemsize() <= static_cast<py::ssize_t>(sizeof(T))) return;
    // Round to nearest sends a magnitude of max + half an ulp or more to inf: 2^128 - 2^103 for
    // float32, 2^1024 - 2^970 for float64 (both exact in the wider source dtype).
    constexpr int kMaxExp = std::numeric_limits<T>::max_exponent, kDigits = std::numeric_limits<T>::digits;
    const py::object one = np.attr("asarray")(1.0, source.dtype());
    const py::object boundary = np.attr("ldexp")(one, kMaxExp) - np.attr("ldexp")(one, kMaxExp - kDigits - 1);
    const py::object hi = np.attr("fmax").attr("reduce")(source, py::arg("axis") = py::none());  // NaN ignored
    const py::object lo = np.attr("fmin").attr("reduce")(source, py::arg("axis") = py::none());
    if (!py::bool_(hi >= boundary) && !py::bool_(lo <= -boundary)) return;
    changed = np.attr("logical_and")(np.attr("greater_equal")(np.attr("abs")(source), boundary), np.attr("isfinite")(source));
    why = sizeof(T) == 4 ? "beyond float32's range (+-3.4028235e+38): the cast to float32 would make it infinite"
                         : "beyond float64's range: the cast to float64 would make it infinite";
  } else {
    static_assert(std::is_same<T, std::int64_t>::value, "as_array's integer target is int64");
    if (kind != 'u' || source.dtype().itemsize() < 8) return;
    const py::object limit = py::int_(std::numeric_limits<std::int64_t>::max());
    if (!py::bool_(np.attr("max")(source) > limit)) return;
    changed = np.attr("greater")(source, limit);
    why = "beyond int64's range: the cast to int64 would wrap it to a negative value";
  }
  const py::array where = np.attr("flatnonzero")(changed);
  if (where.size() == 0) return;
  const py::ssize_t i = where.attr("__getitem__")(0).cast<py::ssize_t>();
  const py::object value = np.attr("ravel")(source).attr("__getitem__")(i);
  throw py::value_error(std::string(name) + " holds " + py::str(value).cast<std::string>() + " at flat index " +
                        std::to_string(i) + " (dtype " + dtype_str(source) + "), " + why);
}

/// Casts obj to a C-contiguous, aligned T array of rank `ndim` without silently changing its
/// meaning: integer and float inputs are accepted (copied when needed, an unaligned one included;
/// rounded to float32 where T is float), a value the cast would not keep is a ValueError
/// (refuse_changed_meaning), a masked array a TypeError (refuse_masked), anything else is a
/// TypeError naming `name`.
template <typename T>
CArray<T> as_array(const py::handle& obj, const char* name, int ndim,
                                            const char* dtype_name) {
  if (!py::isinstance<py::array>(obj)) {
    throw py::type_error(std::string(name) + " must be a numpy.ndarray of " + dtype_name + ", got " +
                         py::str(py::type::of(obj)).cast<std::string>());
  }
  refuse_masked(obj, name);
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
  // pybind11's array_t asks numpy for C order and the dtype, never for alignment: a C-contiguous
  // array of T's dtype at an odd address would reach the core as it is. Such an array is copied.
  const bool unaligned = has_dtype<T>(a) && (a.flags() & py::array::c_style) && !is_aligned(a);
  const bool copies = !has_dtype<T>(a) || !(a.flags() & py::array::c_style) || unaligned;
  if (copies && a.size() > kMaxCopyBytes / static_cast<py::ssize_t>(sizeof(T))) {
    // A broadcast or strided view can describe far more elements than it holds: its copy would
    // be allocated, then filled page by page until the kernel's OOM killer ends the process.
    throw py::value_error(std::string(name) + " would need a copy of " + std::to_string(a.size()) + " elements (dtype " +
                          dtype_str(a) + ", shape " + shape_str(a) + "), over " + std::to_string(kMaxCopyBytes) +
                          " bytes: pass a C-contiguous " + dtype_name + " array");
  }
  // forcecast: float64 or int64 input is converted (NumPy's default dtypes); without it NumPy
  // refuses the "unsafe" cast. The only failure left is an allocation: say which argument.
  try {
    if (!has_dtype<T>(a)) refuse_changed_meaning<T>(a, name);
    if (unaligned) return CArray<T>(a.attr("copy")());  // a fresh allocation: aligned, C order
    return CArray<T>(py::reinterpret_borrow<py::object>(a));
  } catch (py::error_already_set& err) {
    if (!err.matches(PyExc_MemoryError)) throw;
    PyErr_SetString(PyExc_MemoryError, (std::string(name) + ": no memory for a C-contiguous " + dtype_name +
                                        " copy (dtype " + dtype_str(a) + ", shape " + shape_str(a) + ")")
                                           .c_str());
    throw py::error_already_set();
  }
}

/// Builds a 1-D NumPy array (a copy) from a std::vector.
template <typename T>
py::array_t<T> to_numpy(const std::vector<T>& v) {
  return py::array_t<T>(static_cast<py::ssize_t>(v.size()), v.data());
}

inline std::string repr_str(const py::handle& obj) { return py::repr(obj).cast<std::string>(); }

inline bool is_numpy_scalar_of(const py::handle& obj, const char* abstract_type) {
  return py::isinstance(obj, py::module_::import("numpy").attr(abstract_type));
}

/// The C++ object of a bound class behind a method's `self` (taken as a handle). pybind11 hands a
/// method freshly allocated, unconstructed memory when the object was made by cls.__new__(cls)
/// without __init__: a Tracker then hung on its mutex, a RegionPlan reported 1.4e19 squares. A
/// TypeError names the class instead.
template <typename T>
T& initialised(const py::handle& self, const char* cls_name, const char* made_by) {
  const py::detail::type_info* info = py::detail::get_type_info(typeid(T));
  if (info == nullptr || !PyObject_TypeCheck(self.ptr(), info->type)) {
    throw py::type_error(std::string("self must be a ") + cls_name + ", got " + repr_str(self));
  }
  py::detail::value_and_holder v_h = reinterpret_cast<py::detail::instance*>(self.ptr())->get_value_and_holder(info);
  if (!v_h || !v_h.holder_constructed()) {
    throw py::type_error(std::string(cls_name) + " object was never initialised (made by " + cls_name +
                         ".__new__ without __init__): make one with " + made_by);
  }
  return *v_h.value_ptr<T>();
}

/// A Python int or NumPy integer (never bool, float or str) that fits in int64; TypeError or
/// ValueError naming `name` otherwise.
inline std::int64_t as_int64(const py::handle& obj, const char* name) {
  if (PyLong_CheckExact(obj.ptr())) {  // the common case, without the NumPy type checks below
    int overflow = 0;
    const long long value = PyLong_AsLongLongAndOverflow(obj.ptr(), &overflow);
    if (overflow != 0) throw py::value_error(std::string(name) + " must fit in int64, got " + repr_str(obj));
    return static_cast<std::int64_t>(value);
  }
  const bool is_bool = PyBool_Check(obj.ptr()) || is_numpy_scalar_of(obj, "bool_");
  if (is_bool || !(PyLong_Check(obj.ptr()) || is_numpy_scalar_of(obj, "integer"))) {
    throw py::type_error(std::string(name) + " must be an int, got " + repr_str(obj) + " of type " +
                         py::str(py::type::of(obj)).cast<std::string>());
  }
  py::object as_long = py::reinterpret_steal<py::object>(PyNumber_Index(obj.ptr()));
  if (!as_long) throw py::error_already_set();
  int overflow = 0;
  const long long value = PyLong_AsLongLongAndOverflow(as_long.ptr(), &overflow);
  if (overflow != 0) throw py::value_error(std::string(name) + " must fit in int64, got " + repr_str(obj));
  return static_cast<std::int64_t>(value);
}

/// A Python int/float or NumPy integer/floating scalar (never bool or str) as a finite double.
inline double as_finite_double(const py::handle& obj, const char* name) {
  const bool is_bool = PyBool_Check(obj.ptr()) || (!PyFloat_CheckExact(obj.ptr()) && is_numpy_scalar_of(obj, "bool_"));
  const bool numeric = PyFloat_Check(obj.ptr()) || PyLong_Check(obj.ptr()) || is_numpy_scalar_of(obj, "integer") ||
                       is_numpy_scalar_of(obj, "floating");
  if (is_bool || !numeric) {
    throw py::type_error(std::string(name) + " must be a real number, got " + repr_str(obj) + " of type " +
                         py::str(py::type::of(obj)).cast<std::string>());
  }
  const double value = PyFloat_AsDouble(obj.ptr());
  if (value == -1.0 && PyErr_Occurred()) {
    PyErr_Clear();  // e.g. an int too large for a double
    throw py::value_error(std::string(name) + " must be representable as a float64, got " + repr_str(obj));
  }
  if (!std::isfinite(value)) throw py::value_error(std::string(name) + " must be finite, got " + repr_str(obj));
  return value;
}

/// True when no element is inf or NaN. Tests the exponent bits as integers: an integer loop
/// without branches vectorises (a floating-point compare loop does not under GCC's default
/// -ftrapping-math), so validation stays a small fraction of the work it guards.
template <typename T>
bool all_finite(const T* p, py::ssize_t n) {
  static_assert(sizeof(T) == 4 || sizeof(T) == 8, "float or double");
  using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  constexpr Bits kExponent = sizeof(T) == 4 ? Bits(0x7f800000u) : Bits(0x7ff0000000000000ull);
  Bits bad = 0;
  for (py::ssize_t i = 0; i < n; ++i) {
    Bits b;
    std::memcpy(&b, p + i, sizeof b);
    bad |= static_cast<Bits>((b & kExponent) == kExponent);  // all-ones exponent: inf or NaN
  }
  return bad == 0;
}

template <typename T>
void require_finite(const CArray<T>& a, const char* name) {
  const T* p = a.data();
  const py::ssize_t n = a.size();
  if (all_finite(p, n)) return;
  for (py::ssize_t i = 0; i < n; ++i) {  // only on failure: name the first bad element
    if (!std::isfinite(static_cast<double>(p[i]))) {
      std::ostringstream s;
      s << name << " must hold finite values, found " << p[i] << " at flat index " << i;
      throw py::value_error(s.str());
    }
  }
}

}  // namespace bindings
}  // namespace facesel
