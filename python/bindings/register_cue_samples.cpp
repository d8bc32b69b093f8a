// colour_histograms / grey_samples: the switch cues' pixel samples (facesel.track_cues). Every
// argument is checked here (type, dtype, rank, shape, contiguity, finiteness) and errors name it:
// a frame is never copied (a 1080p frame is 6 MB; the caller passes the decoder's array as is).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

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
  refuse_masked(obj, "frame");
  py::array a = py::reinterpret_borrow<py::array>(obj);
  if (!has_dtype<std::uint8_t>(a)) throw py::type_error("frame must be uint8, got dtype " + dtype_str(a));
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
  if (!(a.flags() & py::array::c_style)) throw py::value_error("frame must be C-contiguous (it is not copied), got " + layout_str(a));
  return a;
}

/// An (N, 4) array as a C-contiguous T array. `exact`: its dtype must already be T (a float64
/// box cast to float32 would not be the box numpy computes with); integer T takes integers only.
template <typename T>
CArray<T> rows_of_four(const py::object& obj, const char* name, const char* dtype_name, bool exact = false) {
  if (py::isinstance<py::array>(obj)) {
    const py::array a = py::reinterpret_borrow<py::array>(obj);
    const char kind = a.dtype().kind();
    if (std::is_integral<T>::value && kind != 'i' && kind != 'u') {
      throw py::type_error(std::string(name) + " must be an integer array (int64), got dtype " + dtype_str(a));
    }
    if (exact && !has_dtype<T>(a)) {
      throw py::type_error(std::string(name) + " must be " + dtype_name + ", got dtype " + dtype_str(a));
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

py::tuple pinned_patches_py(const py::object& frame_obj, const py::object& boxes_obj,
                            const py::object& regions_obj, const py::object& patches_obj) {
  const py::array frame = frame_of(frame_obj, false);
  const CArray<float> boxes = rows_of_four<float>(boxes_obj, "boxes", "float32", true);
  require_finite(boxes, "boxes");
  const CArray<std::int64_t> previous = rows_of_four<std::int64_t>(regions_obj, "previous_regions", "int64");
  const CArray<float> patches = as_array<float>(patches_obj, "previous_patches", 2, "float32");
  const py::ssize_t samples = kCueGrid * kCueGrid;
  if (patches.shape(0) != previous.shape(0) || patches.shape(1) != samples) {
    throw py::value_error("previous_patches must have shape (" + std::to_string(previous.shape(0)) + ", " +
                          std::to_string(samples) + ") (one patch per row of previous_regions), got " + shape_str(patches));
  }
  const float* p = patches.data();
  for (py::ssize_t i = 0; i < patches.size(); ++i) {
    // whole grey levels (as grey_samples gives them): the sums below are then exact in any order
    if (!(p[i] >= 0.0f && p[i] <= 255.0f && p[i] == static_cast<float>(static_cast<int>(p[i])))) {
      throw py::value_error("previous_patches must hold whole grey levels in [0, 255], found " +
                            std::to_string(p[i]) + " at flat index " + std::to_string(i));
    }
  }
  const py::ssize_t n = boxes.shape(0), k = previous.shape(0);
  py::array_t<std::int64_t> regions({n, py::ssize_t{4}});
  py::array_t<float> out_patches({n, samples});
  py::array_t<float> under(k);
  pinned_patches(static_cast<const std::uint8_t*>(frame.data()), frame.shape(0), frame.shape(1),
                 frame.ndim() == 3 ? frame.shape(2) : 1, boxes.data(), n, previous.data(), p, k,
                 regions.mutable_data(), out_patches.mutable_data(), under.mutable_data());
  return py::make_tuple(regions, out_patches, under);
}

py::tuple box_jumps_py(const py::object& previous_obj, const py::object& boxes_obj) {
  const CArray<float> previous = rows_of_four<float>(previous_obj, "previous", "float32", true);
  const CArray<float> boxes = rows_of_four<float>(boxes_obj, "boxes", "float32", true);
  if (previous.shape(0) != boxes.shape(0)) {
    throw py::value_error("previous and boxes must have the same number of rows, got " + shape_str(previous) + " and " +
                          shape_str(boxes));
  }
  const py::ssize_t n = boxes.shape(0);
  std::vector<double> size(static_cast<std::size_t>(n)), aspect(static_cast<std::size_t>(n));
  facesel::box_jumps(previous.data(), boxes.data(), n, size.data(), aspect.data());
  py::list sizes(n), aspects(n);
  for (py::ssize_t i = 0; i < n; ++i) {
    sizes[i] = py::float_(size[static_cast<std::size_t>(i)]);
    aspects[i] = py::float_(aspect[static_cast<std::size_t>(i)]);
  }
  return py::make_tuple(sizes, aspects);
}

// Whole grey levels of a thumbnail: the float32 sum of up to kMaxLevels of them is exact in any
// order, so mean_level equals numpy's reduction bit for bit.
constexpr py::ssize_t kMaxLevels = (py::ssize_t{1} << 24) / 255;

CArray<float> whole_levels(const py::object& obj, const char* name) {
  if (!py::isinstance<py::array>(obj) || !has_dtype<float>(py::reinterpret_borrow<py::array>(obj))) {
    throw py::type_error(std::string(name) + " must be a float32 numpy array, got " + kind_str(obj));
  }
  refuse_masked(obj, name);
  const py::array a = py::reinterpret_borrow<py::array>(obj);
  if (!(a.flags() & py::array::c_style)) throw py::value_error(std::string(name) + " must be C-contiguous, got " + layout_str(a));
  require_aligned(a, name);  // read in place: a float at an odd address is undefined behaviour
  if (a.size() > kMaxLevels) {
    throw py::value_error(std::string(name) + " must hold at most " + std::to_string(kMaxLevels) + " levels, got " +
                          std::to_string(a.size()));
  }
  CArray<float> c = py::reinterpret_borrow<CArray<float>>(a);
  const float* p = c.data();
  for (py::ssize_t i = 0; i < c.size(); ++i) {
    if (!(p[i] >= 0.0f && p[i] <= 255.0f && p[i] == static_cast<float>(static_cast<int>(p[i])))) {
      throw py::value_error(std::string(name) + " must hold whole grey levels in [0, 255], found " + std::to_string(p[i]) +
                            " at flat index " + std::to_string(i));
    }
  }
  return c;
}

py::array_t<float> take_levels_py(const py::object& frame_obj, const py::object& index_obj) {
  if (!py::isinstance<py::array>(frame_obj)) {
    throw py::type_error("frame must be a numpy.ndarray of uint8, got " + repr_str(py::type::of(frame_obj)));
  }
  refuse_masked(frame_obj, "frame");
  const py::array frame = py::reinterpret_borrow<py::array>(frame_obj);
  if (!has_dtype<std::uint8_t>(frame)) throw py::type_error("frame must be uint8, got dtype " + dtype_str(frame));
  if (!(frame.flags() & py::array::c_style)) {
    throw py::value_error("frame must be C-contiguous (it is not copied), got " + layout_str(frame));
  }
  if (!py::isinstance<py::array>(index_obj) || py::reinterpret_borrow<py::array>(index_obj).dtype().kind() != 'i') {
    throw py::type_error("index must be an integer numpy array (int64), got " + kind_str(index_obj));
  }
  const CArray<std::int64_t> index = as_array<std::int64_t>(index_obj, "index", py::reinterpret_borrow<py::array>(index_obj).ndim(), "int64");
  const std::int64_t* ix = index.data();
  const py::ssize_t size = frame.size();
  for (py::ssize_t i = 0; i < index.size(); ++i) {
    if (ix[i] < 0 || ix[i] >= size) {
      throw py::value_error("index must lie in [0, " + std::to_string(size) + ") (the frame's bytes), found " +
                            std::to_string(ix[i]) + " at flat index " + std::to_string(i));
    }
  }
  std::vector<py::ssize_t> shape(index.shape(), index.shape() + index.ndim());
  py::array_t<float> out(shape);
  take_levels(static_cast<const std::uint8_t*>(frame.data()), ix, index.size(), out.mutable_data());
  return out;
}

py::array_t<bool> crowded_py(const py::object& boxes_obj) {
  const CArray<double> boxes = rows_of_four<double>(boxes_obj, "boxes", "float64");
  const py::ssize_t n = boxes.shape(0);
  py::array_t<bool> out(n);
  static_assert(sizeof(bool) == 1, "numpy bool is one byte");
  crowded(boxes.data(), n, reinterpret_cast<std::uint8_t*>(out.mutable_data()));
  return out;
}

py::object shadowed_pairs_py(const py::object& boxes_obj, const py::object& scores_obj, const py::object& overlap_obj) {
  const CArray<double> boxes = rows_of_four<double>(boxes_obj, "boxes", "float64");
  const double overlap = as_finite_double(overlap_obj, "overlap");
  if (!py::isinstance<py::list>(scores_obj)) {
    throw py::type_error("scores must be a list of floats, got " + repr_str(py::type::of(scores_obj)));
  }
  const py::list scores_list = py::reinterpret_borrow<py::list>(scores_obj);
  const py::ssize_t n = boxes.shape(0);
  if (static_cast<py::ssize_t>(scores_list.size()) != n) {
    throw py::value_error("scores must have one entry per row of boxes (" + std::to_string(n) + "), got " +
                          std::to_string(scores_list.size()));
  }
  std::vector<double> scores(static_cast<std::size_t>(n));
  for (py::ssize_t i = 0; i < n; ++i) {
    const double value = PyFloat_AsDouble(scores_list[static_cast<std::size_t>(i)].ptr());
    if (value == -1.0 && PyErr_Occurred()) {
      PyErr_Clear();
      throw py::type_error("scores must hold floats, got " + repr_str(scores_list[static_cast<std::size_t>(i)]) +
                           " at index " + std::to_string(i));
    }
    scores[static_cast<std::size_t>(i)] = value;
  }
  // Only where the Python pairs ran: when the sum Python's _shadowed_few takes is finite (every
  // value finite and no overflow), summed in its order; else None (numpy's nan and inf rules apply)
  double score_sum = 0.0, box_sum = 0.0;
  for (py::ssize_t i = 0; i < n; ++i) score_sum += scores[static_cast<std::size_t>(i)];
  for (py::ssize_t i = 0; i < n; ++i) {
    double row = 0.0;
    for (int c = 0; c < 4; ++c) row += boxes.data()[4 * i + c];
    box_sum += row;
  }
  if (!std::isfinite(score_sum + box_sum)) return py::none();
  std::vector<std::uint8_t> out(static_cast<std::size_t>(n));
  shadowed_pairs(boxes.data(), scores.data(), n, overlap, out.data());
  py::list result(n);
  for (py::ssize_t i = 0; i < n; ++i) result[static_cast<std::size_t>(i)] = py::bool_(out[static_cast<std::size_t>(i)] != 0);
  return std::move(result);
}

double mean_level_py(const py::object& a_obj, const py::object& b_obj) {
  const CArray<float> a = whole_levels(a_obj, "a"), b = whole_levels(b_obj, "b");
  if (a.size() != b.size() || a.size() == 0) {
    throw py::value_error("a and b must hold the same number of levels (at least one), got " + std::to_string(a.size()) +
                          " and " + std::to_string(b.size()));
  }
  return static_cast<double>(mean_level(a.data(), b.data(), a.size()));
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
  m.def("pinned_patches", &pinned_patches_py, py::arg("frame"), py::arg("boxes"), py::arg("previous_regions"),
        py::arg("previous_patches"),
        "The pinned-logo cue's samples of one frame: (regions (N, 4) int64, patches (N, 144) float32,\n"
        "under (K,) float32) from boxes (N, 4) float32 and the previous regions (K, 4) int64 and patches\n"
        "(K, 144) float32 (facesel.track_cues.pinned_patches, bit for bit).");
  m.def("crowded", &crowded_py, py::arg("boxes"),
        "Per box (N, 4) float64, whether its face-and-band region meets another's: (N,) bool\n"
        "(facesel.track_cues.crowded, the same for every float, NaN and infinities included).");
  m.def("shadowed_pairs", &shadowed_pairs_py, py::arg("boxes"), py::arg("scores"), py::arg("overlap"),
        "Per box (N, 4) float64 with scores (a list of N floats), whether a box of higher score covers at\n"
        "least `overlap` of the smaller one's area: a list of N bools, or None when a value is not finite\n"
        "(facesel.select.evidence._shadowed_pairs, the same float64 operations).");
  m.def("take_levels", &take_levels_py, py::arg("frame"), py::arg("index"),
        "The bytes of a C-contiguous uint8 frame at flat indices (int64, any shape) as float32 grey levels\n"
        "(facesel.track_cues.thumbnail).");
  m.def("mean_level", &mean_level_py, py::arg("a"), py::arg("b"),
        "Mean absolute difference of two float32 arrays of whole grey levels, summed and divided in float32\n"
        "(facesel.track_cues._mean_level, bit for bit).");
  m.def("box_jumps", &box_jumps_py, py::arg("previous"), py::arg("boxes"),
        "The size and aspect jumps of pairs of float32 boxes (N, 4): two lists of N floats\n"
        "(facesel.track_cues.box_jumps, bit for bit).");
}

}  // namespace bindings
}  // namespace facesel
