// colour_histograms / grey_samples: the switch cues' pixel samples (facesel.track_cues). Every
// argument is checked here (type, dtype, rank, shape, contiguity, finiteness) and errors name it:
// a frame is never copied (a 1080p frame is 6 MB; the caller passes the decoder's array as is).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <type_traits>

#include "facesel/cue_samples.hpp"
#include "register.hpp"
#include "validate.hpp"

namespace facesel {
namespace bindings {

namespace {

// A frame side beyond this is a mistake; the limit keeps every index product inside int64.
constexpr py::ssize_t kMaxSide = 1 << 15;

/// The frame as a C-contiguous uint8 array (H, W) or (H, W, 3) (`colour`: (H, W, 3) only), never a copy.
py::array frame_of(const py::object& obj, bool colour) {
  if (!py::isinstance<py::array>(obj)) {
    throw py::type_error("frame must be a numpy.ndarray of uint8, got " + py::str(py::type::of(obj)).cast<std::string>());
  }
  py::array a = py::reinterpret_borrow<py::array>(obj);
  if (!a.dtype().is(py::dtype::of<std::uint8_t>())) throw py::type_error("frame must be uint8, got dtype " + dtype_str(a));
  const bool shape_ok = colour ? (a.ndim() == 3 && a.shape(2) == 3)
                               : (a.ndim() == 2 || (a.ndim() == 3 && a.shape(2) == 3));
  if (!shape_ok) {
    throw py::value_error(std::string("frame must have shape ") + (colour ? "(H, W, 3)" : "(H, W) or (H, W, 3)") +
                          ", got " + shape_str(a));
  }
  if (a.shape(0) < 1 || a.shape(1) < 1 || a.shape(0) > kMaxSide || a.shape(1) > kMaxSide) {
    throw py::value_error("frame's height and width must be in [1, " + std::to_string(kMaxSide) + "], got shape " +
                          shape_str(a));
  }
  if (!(a.flags() & py::array::c_style)) throw py::value_error("frame must be C-contiguous (it is not copied), got strides of a view");
  return a;
}

template <typename T>
CArray<T> rows_of_four(const py::object& obj, const char* name, const char* dtype_name) {
  if (py::isinstance<py::array>(obj)) {
    const char kind = py::reinterpret_borrow<py::array>(obj).dtype().kind();
    if (std::is_integral<T>::value && kind != 'i' && kind != 'u') {
      throw py::type_error(std::string(name) + " must be an integer array (int64), got dtype " +
                           dtype_str(py::reinterpret_borrow<py::array>(obj)));
    }
  }
  CArray<T> a = as_array<T>(obj, name, 2, dtype_name);
  if (a.shape(1) != 4) throw py::value_error(std::string(name) + " must have shape (N, 4), got " + shape_str(a));
  return a;
}

py::array_t<float> colour_histograms_py(const py::object& frame_obj, const py::object& boxes_obj) {
  const py::array frame = frame_of(frame_obj, true);
  const CArray<double> boxes = rows_of_four<double>(boxes_obj, "boxes", "float64");
  require_finite(boxes, "boxes");
  const py::ssize_t n = boxes.shape(0);
  py::array_t<float> out({n, py::ssize_t{2}, py::ssize_t{kCueBins * kCueBins * kCueBins}});
  colour_histograms(static_cast<const std::uint8_t*>(frame.data()), frame.shape(0), frame.shape(1), boxes.data(), n,
                    out.mutable_data());
  return out;
}

py::array_t<float> grey_samples_py(const py::object& frame_obj, const py::object& regions_obj) {
  const py::array frame = frame_of(frame_obj, false);
  const CArray<std::int64_t> regions = rows_of_four<std::int64_t>(regions_obj, "regions", "int64");
  const py::ssize_t k = regions.shape(0);
  py::array_t<float> out({k, py::ssize_t{kCueGrid * kCueGrid}});
  grey_samples(static_cast<const std::uint8_t*>(frame.data()), frame.shape(0), frame.shape(1),
               frame.ndim() == 3 ? frame.shape(2) : 1, regions.data(), k, out.mutable_data());
  return out;
}

}  // namespace

void register_cue_samples(py::module_& m) {
  m.attr("CUE_GRID") = kCueGrid;  // facesel.track_cues takes the core's samples only when these are its own
  m.attr("CUE_BINS") = kCueBins;
  m.def("colour_histograms", &colour_histograms_py, py::arg("frame"), py::arg("boxes"),
        "The switch cues' colour histograms of each box's face and the band below it.\n\n"
        "frame (H, W, 3) uint8 C-contiguous, boxes (N, 4) float64 finite -> (N, 2, 64) float32\n"
        "(facesel.track_cues.appearances, bit for bit).");
  m.def("grey_samples", &grey_samples_py, py::arg("frame"), py::arg("regions"),
        "Grey levels (channel 1 of a colour frame) on a 12 x 12 grid over each region.\n\n"
        "frame (H, W) or (H, W, 3) uint8 C-contiguous, regions (K, 4) int64 x1, y1, x2, y2 -> (K, 144)\n"
        "float32 (facesel.track_cues.grey_samples_many, bit for bit).");
}

}  // namespace bindings
}  // namespace facesel
