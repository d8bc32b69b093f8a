// yunet_decode: YuNet's score/box/landmark maps of a batch -> faces per image, in one call with
// the GIL released. Every input is checked here (dtype, rank, shape, contiguity, numbers) so that
// the C++ core only ever sees consistent float32 maps.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "facesel/yunet_decode.hpp"
#include "register.hpp"
#include "validate.hpp"

namespace facesel {
namespace bindings {

namespace {

// Strides beyond this are a typo (YuNet's are 8, 16, 32); it also keeps stride * col exact.
constexpr std::int64_t kMaxStride = 1 << 12;

std::vector<py::array> as_list(const py::handle& obj, const char* name) {
  if (!py::isinstance<py::list>(obj) && !py::isinstance<py::tuple>(obj)) {
    throw py::type_error(std::string(name) + " must be a list or tuple of numpy arrays, got " +
                         py::str(py::type::of(obj)).cast<std::string>());
  }
  std::vector<py::array> out;
  for (const py::handle& item : py::reinterpret_borrow<py::sequence>(obj)) {
    const std::string label = std::string(name) + "[" + std::to_string(out.size()) + "]";
    if (!py::isinstance<py::array>(item)) {
      throw py::type_error(label + " must be a numpy.ndarray of float32, got " + py::str(py::type::of(item)).cast<std::string>());
    }
    refuse_masked(item, label);
    out.push_back(py::reinterpret_borrow<py::array>(item));
  }
  return out;
}

// A (n, channels, rows, cols) C-contiguous float32 map (no silent copy: the maps are large and
// ONNX Runtime hands them over in this layout). Finite values are checked where they are read:
// all of the score map here, the candidates' boxes and landmarks in the core.
void check_map(const py::array& a, const std::string& label, py::ssize_t channels) {
  if (!has_dtype<float>(a)) throw py::type_error(label + " must be float32, got dtype " + dtype_str(a));
  if (a.ndim() != 4) throw py::value_error(label + " must have 4 dimensions (N, C, H, W), got shape " + shape_str(a));
  if (a.shape(1) != channels) {
    throw py::value_error(label + " must have " + std::to_string(channels) + " channel(s) (axis 1), got shape " + shape_str(a));
  }
  if (!(a.flags() & py::array::c_style)) throw py::value_error(label + " must be C-contiguous (shape " + shape_str(a) + ")");
  require_aligned(a, label);  // read in place: a float at an odd address is undefined behaviour
}

py::list yunet_decode_py(const py::object& scores_obj, const py::object& boxes_obj, const py::object& marks_obj,
                         const py::object& strides_obj, const py::object& min_score_obj, const py::object& nms_iou_obj) {
  const double min_score = as_finite_double(min_score_obj, "min_score");
  if (min_score < 0.0 || min_score > 1.0) throw py::value_error("min_score must be in [0, 1], got " + repr_str(min_score_obj));
  const double nms_iou = as_finite_double(nms_iou_obj, "nms_iou");
  if (!(nms_iou > 0.0 && nms_iou <= 1.0)) throw py::value_error("nms_iou must be in (0, 1], got " + repr_str(nms_iou_obj));
  const std::vector<py::array> scores = as_list(scores_obj, "scores");
  const std::vector<py::array> boxes = as_list(boxes_obj, "boxes");
  const std::vector<py::array> marks = as_list(marks_obj, "marks");
  if (!py::isinstance<py::list>(strides_obj) && !py::isinstance<py::tuple>(strides_obj)) {
    throw py::type_error("strides must be a list or tuple of ints, got " + py::str(py::type::of(strides_obj)).cast<std::string>());
  }
  std::vector<int> strides;
  for (const py::handle& item : py::reinterpret_borrow<py::sequence>(strides_obj)) {
    const std::string label = "strides[" + std::to_string(strides.size()) + "]";
    const std::int64_t s = as_int64(item, label.c_str());
    if (s < 1 || s > kMaxStride) {
      throw py::value_error(label + " must be in [1, " + std::to_string(kMaxStride) + "], got " + std::to_string(s));
    }
    strides.push_back(static_cast<int>(s));
  }
  if (strides.empty()) throw py::value_error("strides must name at least one level, got none");
  if (scores.size() != strides.size() || boxes.size() != strides.size() || marks.size() != strides.size()) {
    throw py::value_error("scores, boxes, marks and strides must have one entry per level, got " + std::to_string(scores.size()) +
                          ", " + std::to_string(boxes.size()) + ", " + std::to_string(marks.size()) + ", " +
                          std::to_string(strides.size()));
  }
  const py::ssize_t n = scores[0].ndim() == 4 ? scores[0].shape(0) : -1;
  for (std::size_t k = 0; k < strides.size(); ++k) {
    const std::string at = "[" + std::to_string(k) + "]";
    check_map(scores[k], "scores" + at, 1);
    check_map(boxes[k], "boxes" + at, 4);
    check_map(marks[k], "marks" + at, 10);
    for (const auto* other : {&boxes[k], &marks[k]}) {
      if (other->shape(0) != scores[k].shape(0) || other->shape(2) != scores[k].shape(2) ||
          other->shape(3) != scores[k].shape(3)) {
        throw py::value_error("boxes" + at + " and marks" + at + " must have the N, H, W of scores" + at + " " +
                              shape_str(scores[k]) + ", got " + shape_str(boxes[k]) + " and " + shape_str(marks[k]));
      }
    }
    if (scores[k].shape(0) != n) {
      throw py::value_error("every level must hold the same number of images: scores[0] has " + std::to_string(n) +
                            ", scores" + at + " " + std::to_string(scores[k].shape(0)));
    }
    const float* p = static_cast<const float*>(scores[k].data());
    if (!all_finite(p, scores[k].size())) throw py::value_error("scores" + at + " must hold finite values");
  }
  // Step 1 without the GIL: the candidates of every image, their log sides gathered in one array.
  const auto levels_of = [&](py::ssize_t i) {
    std::vector<YunetLevel> levels(strides.size());
    for (std::size_t k = 0; k < strides.size(); ++k) {
      const std::int64_t rows = scores[k].shape(2), cols = scores[k].shape(3), cells = rows * cols;
      levels[k] = YunetLevel{static_cast<const float*>(scores[k].data()) + i * cells,
                             static_cast<const float*>(boxes[k].data()) + i * 4 * cells,
                             static_cast<const float*>(marks[k].data()) + i * 10 * cells, rows, cols, strides[k]};
    }
    return levels;
  };
  std::vector<YunetCandidates> candidates(static_cast<std::size_t>(n));
  std::vector<std::size_t> first(static_cast<std::size_t>(n) + 1, 0);
  py::array_t<float> log_sides;
  {
    py::gil_scoped_release release;
    // numpy compares float32 maps with a Python float in float32 (NEP 50); NMSBoxes takes floats.
    for (py::ssize_t i = 0; i < n; ++i) {
      candidates[i] = yunet_candidates(levels_of(i), static_cast<float>(min_score));
      first[i + 1] = first[i] + candidates[i].score.size();
    }
  }
  // Step 2 with the GIL: one numpy float32 exp over all candidates of the batch (a few
  // microseconds), so that sides equal the numpy reference's bit for bit on any CPU.
  const std::size_t total = first.back();
  log_sides = py::array_t<float>(static_cast<py::ssize_t>(2 * total));
  {
    float* p = log_sides.mutable_data();
    for (py::ssize_t i = 0; i < n; ++i) {
      std::copy(candidates[i].log_w.begin(), candidates[i].log_w.end(), p + first[i]);
      std::copy(candidates[i].log_h.begin(), candidates[i].log_h.end(), p + total + first[i]);
    }
  }
  // (no call when no image has a candidate: the common case for region squares)
  const py::array_t<float> sides = total == 0 ? log_sides : py::array_t<float>(py::module_::import("numpy").attr("exp")(log_sides));
  if (sides.size() != static_cast<py::ssize_t>(2 * total) || !has_dtype<float>(sides)) {
    throw std::runtime_error("numpy.exp returned an unexpected array");  // cannot happen; guards the pointers below
  }
  const float* exp_sides = sides.data();
  // Step 3 without the GIL: boxes, landmarks and suppression.
  std::vector<YunetFaces> found(static_cast<std::size_t>(n));
  {
    py::gil_scoped_release release;
    for (py::ssize_t i = 0; i < n; ++i) {
      found[i] = yunet_faces(levels_of(i), candidates[i], exp_sides + first[i], exp_sides + total + first[i],
                             static_cast<float>(nms_iou));
    }
  }
  py::list out;
  for (const YunetFaces& faces : found) {
    const py::ssize_t k = static_cast<py::ssize_t>(faces.scores.size());
    py::array_t<float> b({k, py::ssize_t(4)}, faces.boxes.data());
    py::array_t<float> s(k, faces.scores.data());
    py::array_t<float> m({k, py::ssize_t(5), py::ssize_t(2)}, faces.marks.data());
    out.append(py::make_tuple(b, s, m));
  }
  return out;
}

}  // namespace

void register_yunet_decode(py::module_& m) {
  m.def("yunet_decode", &yunet_decode_py, py::arg("scores"), py::arg("boxes"), py::arg("marks"), py::arg("strides"),
        py::arg("min_score"), py::arg("nms_iou"),
        "YuNet's outputs of a batch -> faces per image (facesel.detect.yunet_graph.decode_many).\n\n"
        "scores, boxes, marks: one entry per level, (N, 1|4|10, H, W) C-contiguous float32; strides: int per level;\n"
        "min_score in [0, 1]; nms_iou in (0, 1]. Returns N tuples (boxes (K, 4), scores (K,), marks (K, 5, 2)) float32,\n"
        "most confident first, equal to the numpy reference (cv2.dnn.NMSBoxes semantics).");
}

}  // namespace bindings
}  // namespace facesel
