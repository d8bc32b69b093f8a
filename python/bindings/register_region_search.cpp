// region_plan / region_batches / region_merge: the region search's per-square work around YuNet
// (facesel.detect.schedule.search_regions, path "core"), each call with the GIL released for its
// loops. Every argument is checked here (type, dtype, rank, shape, range) and errors name it, so
// that the C++ core only sees consistent inputs.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "facesel/region_search.hpp"
#include "register.hpp"
#include "validate.hpp"

namespace facesel {
namespace bindings {

namespace {

// Larger frames or network inputs than this are a mistake, and the limit keeps every product of
// sides far inside int64 and float32's exact integers.
constexpr std::int64_t kMaxSide = 1 << 15;

// The padded batches region_batches may allocate: 2 GiB, beyond any frame's squares (a frame side
// is at most 16384, whole: 805 MB) and below what a machine's overcommit lets through before the
// kernel's OOM killer ends the process (three 32768^2 views of one pixel asked for 9.7 GB).
constexpr std::int64_t kMaxBatchBytes = std::int64_t{1} << 31;

/// The squares of one frame's region search, with the boxes they were planned for (kept for
/// region_merge, which needs each square's searched box).
struct RegionPlan {
  std::vector<RegionSquare> squares;
  std::vector<float> boxes;
};

const RegionPlan& plan_of(const py::handle& self) {
  return initialised<RegionPlan>(self, "RegionPlan", "region_plan(...)");
}

std::string type_name(const py::handle& obj) { return py::str(py::type::of(obj)).cast<std::string>(); }

double positive(const py::object& obj, const char* name) {
  const double value = as_finite_double(obj, name);
  if (!(value > 0.0)) throw py::value_error(std::string(name) + " must be > 0, got " + repr_str(obj));
  return value;
}

RegionPlan region_plan_py(const py::object& boxes_obj, const py::object& shape_obj, const py::object& scale_obj,
                          const py::object& face_px_obj, const py::object& min_px_obj, const py::object& base_obj,
                          const py::object& fast_obj) {
  const CArray<float> boxes = as_array<float>(boxes_obj, "boxes", 2, "float32");
  if (boxes.shape(1) != 4) throw py::value_error("boxes must have shape (T, 4), got " + shape_str(boxes));
  if (!py::isinstance<py::tuple>(shape_obj) && !py::isinstance<py::list>(shape_obj)) {
    throw py::type_error("frame_shape must be a tuple (height, width[, channels]), got " + type_name(shape_obj));
  }
  const py::sequence shape = py::reinterpret_borrow<py::sequence>(shape_obj);
  if (shape.size() < 2 || shape.size() > 3) {
    throw py::value_error("frame_shape must be (height, width[, channels]), got " + repr_str(shape_obj));
  }
  const std::int64_t h = as_int64(shape[0], "frame_shape[0]"), w = as_int64(shape[1], "frame_shape[1]");
  if (h < 1 || h > kMaxSide || w < 1 || w > kMaxSide) {
    throw py::value_error("frame_shape's height and width must be in [1, " + std::to_string(kMaxSide) + "], got " +
                          repr_str(shape_obj));
  }
  RegionParams params{};
  params.scale = positive(scale_obj, "scale");
  params.face_px = positive(face_px_obj, "face_px");
  params.min_px = as_int64(min_px_obj, "min_px");
  if (params.min_px < 0 || params.min_px > kMaxSide) {
    throw py::value_error("min_px must be in [0, " + std::to_string(kMaxSide) + "], got " + repr_str(min_px_obj));
  }
  params.base_shrink = as_finite_double(base_obj, "base_shrink");
  if (!(params.base_shrink > 0.0 && params.base_shrink <= 1.0)) {
    throw py::value_error("base_shrink must be in (0, 1], got " + repr_str(base_obj));
  }
  if (!PyBool_Check(fast_obj.ptr())) throw py::type_error("fast must be True or False, got " + repr_str(fast_obj));
  params.fast = fast_obj.cast<bool>();
  RegionPlan plan;
  plan.boxes.assign(boxes.data(), boxes.data() + boxes.size());
  {
    py::gil_scoped_release release;
    plan.squares = plan_region_squares(plan.boxes.data(), static_cast<std::int64_t>(boxes.shape(0)), w, h, params);
  }
  return plan;
}

py::array_t<std::int64_t> plan_cuts(const RegionPlan& plan) {
  const py::ssize_t n = static_cast<py::ssize_t>(plan.squares.size());
  py::array_t<std::int64_t> out({n, py::ssize_t(7)});
  auto v = out.mutable_unchecked<2>();
  for (py::ssize_t i = 0; i < n; ++i) {
    const RegionSquare& s = plan.squares[i];
    const std::int64_t row[7] = {s.x1, s.y1, s.x2, s.y2, s.step, s.width, s.height};
    for (int c = 0; c < 7; ++c) v(i, c) = row[c];
  }
  return out;
}

py::array_t<float> plan_pairs(const RegionPlan& plan, bool corners) {
  const py::ssize_t n = static_cast<py::ssize_t>(plan.squares.size());
  py::array_t<float> out({n, py::ssize_t(2)});
  auto v = out.mutable_unchecked<2>();
  for (py::ssize_t i = 0; i < n; ++i) {
    const float* pair = corners ? plan.squares[i].corner : plan.squares[i].back;
    v(i, 0) = pair[0];
    v(i, 1) = pair[1];
  }
  return out;
}

// An image handed to the network: (h, w, 3) or (h, w) uint8, any strides.
struct Image {
  const std::uint8_t* data;
  std::int64_t rows, cols, row_stride, col_stride, channel_stride;
  int channels;
};

py::list region_batches_py(const py::object& regions_obj, const py::object& pad_obj, const py::object& planar_obj) {
  if (!py::isinstance<py::list>(regions_obj) && !py::isinstance<py::tuple>(regions_obj)) {
    throw py::type_error("regions must be a list or tuple of uint8 images, got " + type_name(regions_obj));
  }
  const std::int64_t pad_to = as_int64(pad_obj, "pad_to");
  if (pad_to < 1 || pad_to > 1024) throw py::value_error("pad_to must be in [1, 1024], got " + repr_str(pad_obj));
  if (!py::isinstance<py::bool_>(planar_obj)) throw py::type_error("planar must be True or False, got " + repr_str(planar_obj));
  const bool planar = planar_obj.cast<bool>();
  const std::int64_t item_bytes = planar ? 4 : 1;
  std::vector<py::array> keep;  // holds the arrays while the GIL is released
  std::vector<Image> images;
  for (const py::handle& item : py::reinterpret_borrow<py::sequence>(regions_obj)) {
    const std::string label = "regions[" + std::to_string(images.size()) + "]";
    if (!py::isinstance<py::array>(item)) throw py::type_error(label + " must be a numpy.ndarray of uint8, got " + type_name(item));
    refuse_masked(item, label);
    py::array a = py::reinterpret_borrow<py::array>(item);
    if (!has_dtype<std::uint8_t>(a)) throw py::type_error(label + " must be uint8, got dtype " + dtype_str(a));
    if (!(a.ndim() == 2 || (a.ndim() == 3 && a.shape(2) == 3))) {
      throw py::value_error(label + " must have shape (H, W, 3) or (H, W), got " + shape_str(a));
    }
    if (a.shape(0) < 1 || a.shape(1) < 1 || a.shape(0) > kMaxSide || a.shape(1) > kMaxSide) {
      throw py::value_error(label + " must have sides in [1, " + std::to_string(kMaxSide) + "], got shape " + shape_str(a));
    }
    images.push_back(Image{static_cast<const std::uint8_t*>(a.data()), a.shape(0), a.shape(1), a.strides(0), a.strides(1),
                           a.ndim() == 3 ? a.strides(2) : 0, a.ndim() == 3 ? 3 : 1});
    keep.push_back(a);
  }
  // Groups of one padded size, in order of first appearance (as detect_many's dict keeps them).
  std::vector<std::pair<std::int64_t, std::int64_t>> sizes;
  std::vector<std::vector<std::int64_t>> members;
  std::map<std::pair<std::int64_t, std::int64_t>, std::size_t> group_of;
  for (std::size_t i = 0; i < images.size(); ++i) {
    const auto size = std::make_pair(padded_side(images[i].rows, pad_to), padded_side(images[i].cols, pad_to));
    const auto found = group_of.find(size);
    if (found == group_of.end()) {
      group_of.emplace(size, sizes.size());
      sizes.push_back(size);
      members.push_back({static_cast<std::int64_t>(i)});
    } else {
      members[found->second].push_back(static_cast<std::int64_t>(i));
    }
  }
  std::int64_t total_bytes = 0;  // a term is count * H * W * 3 <= count * 3.3e9: far below int64 for any list in memory
  for (std::size_t g = 0; g < sizes.size(); ++g) {
    total_bytes += static_cast<std::int64_t>(members[g].size()) * sizes[g].first * sizes[g].second * 3 * item_bytes;
    if (total_bytes > kMaxBatchBytes) {
      throw py::value_error("regions: the padded batches of these " + std::to_string(images.size()) +
                            " images would take more than " + std::to_string(kMaxBatchBytes) + " bytes");
    }
  }
  // (n, H, W, 3) uint8 BGR, or (n, 3, H, W) float32 planes of the same values (planar: the first
  // convolution's input, without the graph's Cast + Transpose)
  std::vector<py::array> batches;
  for (std::size_t g = 0; g < sizes.size(); ++g) {
    const auto n = static_cast<py::ssize_t>(members[g].size());
    if (planar) {
      batches.push_back(py::array_t<float>(std::vector<py::ssize_t>{n, 3, sizes[g].first, sizes[g].second}));
    } else {
      batches.push_back(py::array_t<std::uint8_t>(std::vector<py::ssize_t>{n, sizes[g].first, sizes[g].second, 3}));
    }
  }
  std::vector<void*> outputs;
  for (auto& batch : batches) outputs.push_back(batch.mutable_data());
  {
    py::gil_scoped_release release;
    for (std::size_t g = 0; g < sizes.size(); ++g) {
      const std::int64_t rows = sizes[g].first, cols = sizes[g].second;
      for (std::size_t k = 0; k < members[g].size(); ++k) {
        const Image& im = images[static_cast<std::size_t>(members[g][k])];
        const std::int64_t offset = static_cast<std::int64_t>(k) * rows * cols * 3;
        if (planar) {
          letterbox_planar(im.data, im.rows, im.cols, im.row_stride, im.col_stride, im.channel_stride, im.channels,
                           static_cast<float*>(outputs[g]) + offset, rows, cols);
        } else {
          letterbox(im.data, im.rows, im.cols, im.row_stride, im.col_stride, im.channel_stride, im.channels,
                    static_cast<std::uint8_t*>(outputs[g]) + offset, rows, cols);
        }
      }
    }
  }
  py::list out;
  for (std::size_t g = 0; g < sizes.size(); ++g) {
    out.append(py::make_tuple(batches[g], to_numpy(members[g])));
  }
  return out;
}

// A (K, ...) float32 C-contiguous array of one square's faces, checked; finite values required.
py::array faces_array(const py::handle& obj, const std::string& label, py::ssize_t count, std::vector<py::ssize_t> tail) {
  if (!py::isinstance<py::array>(obj)) throw py::type_error(label + " must be a numpy.ndarray of float32, got " + type_name(obj));
  refuse_masked(obj, label);
  py::array a = py::reinterpret_borrow<py::array>(obj);
  if (!has_dtype<float>(a)) throw py::type_error(label + " must be float32, got dtype " + dtype_str(a));
  bool ok = a.ndim() == static_cast<py::ssize_t>(1 + tail.size()) && (count < 0 || a.shape(0) == count);
  for (std::size_t d = 0; ok && d < tail.size(); ++d) ok = a.shape(static_cast<py::ssize_t>(d + 1)) == tail[d];
  if (!ok) {
    std::string want = "(K";
    for (py::ssize_t t : tail) want += ", " + std::to_string(t);
    throw py::value_error(label + " must have shape " + want + (tail.empty() ? ",)" : ")") +
                          (count >= 0 ? " with K = " + std::to_string(count) : "") + ", got " + shape_str(a));
  }
  if (!(a.flags() & py::array::c_style)) throw py::value_error(label + " must be C-contiguous (shape " + shape_str(a) + ")");
  require_aligned(a, label);  // read in place: a float at an odd address is undefined behaviour
  if (!all_finite(static_cast<const float*>(a.data()), a.size())) throw py::value_error(label + " must hold finite values");
  return a;
}

py::tuple region_merge_py(const py::handle& plan_obj, const py::object& faces_obj, const py::object& nms_obj) {
  if (!py::isinstance<RegionPlan>(plan_obj)) {
    throw py::type_error("plan must be a RegionPlan (from region_plan), got " + type_name(plan_obj));
  }
  const RegionPlan& plan = plan_of(plan_obj);
  const double nms_iou = as_finite_double(nms_obj, "nms_iou");
  if (!(nms_iou >= 0.0 && nms_iou <= 1.0)) throw py::value_error("nms_iou must be in [0, 1], got " + repr_str(nms_obj));
  if (!py::isinstance<py::list>(faces_obj) && !py::isinstance<py::tuple>(faces_obj)) {
    throw py::type_error("faces must be a list of (boxes, scores, marks) tuples, got " + type_name(faces_obj));
  }
  const py::sequence faces = py::reinterpret_borrow<py::sequence>(faces_obj);
  if (faces.size() != plan.squares.size()) {
    throw py::value_error("faces must hold one entry per square of the plan (" + std::to_string(plan.squares.size()) +
                          "), got " + std::to_string(faces.size()));
  }
  std::vector<py::array> keep;
  std::vector<SquareFaces> found;
  for (std::size_t s = 0; s < faces.size(); ++s) {
    const std::string at = "faces[" + std::to_string(s) + "]";
    const py::handle entry = faces[s];
    if (!py::isinstance<py::tuple>(entry) || py::len(entry) != 3) {
      throw py::type_error(at + " must be a tuple (boxes, scores, marks), got " + repr_str(entry));
    }
    const py::tuple t = py::reinterpret_borrow<py::tuple>(entry);
    py::array boxes = faces_array(t[0], at + "[0] (boxes)", -1, {4});
    py::array scores = faces_array(t[1], at + "[1] (scores)", boxes.shape(0), {});
    py::array marks = faces_array(t[2], at + "[2] (marks)", boxes.shape(0), {5, 2});
    found.push_back(SquareFaces{static_cast<const float*>(boxes.data()), static_cast<const float*>(scores.data()),
                                static_cast<const float*>(marks.data()), static_cast<std::int64_t>(boxes.shape(0))});
    keep.insert(keep.end(), {boxes, scores, marks});
  }
  MergedFaces merged;
  {
    py::gil_scoped_release release;
    merged = merge_region_faces(found, plan.squares, plan.boxes.data(), nms_iou);
  }
  const py::ssize_t k = static_cast<py::ssize_t>(merged.scores.size());
  return py::make_tuple(py::array_t<float>({k, py::ssize_t(4)}, merged.boxes.data()),
                        py::array_t<float>(k, merged.scores.data()),
                        py::array_t<float>({k, py::ssize_t(5), py::ssize_t(2)}, merged.marks.data()));
}

}  // namespace

void register_region_search(py::module_& m) {
  py::class_<RegionPlan>(m, "RegionPlan",
                         "The squares of one frame's region search (facesel.detect.schedule.search_regions, path 'core').")
      .def("__len__", [](const py::handle& self) { return plan_of(self).squares.size(); })
      .def_property_readonly("cuts", [](const py::handle& self) { return plan_cuts(plan_of(self)); },
                             "(S, 7) int64: x1, y1, x2, y2, step, width, height of each square: frame[y1:y2, x1:x2], "
                             "area-averaged by step when step >= 2, then resized to width x height")
      .def_property_readonly("index", [](const py::handle& self_obj) {
        const RegionPlan& p = plan_of(self_obj);
        std::vector<std::int64_t> index;
        for (const RegionSquare& s : p.squares) index.push_back(s.index);
        return to_numpy(index);
      }, "(S,) int64: the searched box of each square")
      .def_property_readonly("corners", [](const py::handle& self) { return plan_pairs(plan_of(self), true); },
                             "(S, 2) float32: (x1, y1) of each square")
      .def_property_readonly("backs", [](const py::handle& self) { return plan_pairs(plan_of(self), false); },
                             "(S, 2) float32: per-axis factors from square pixels back to frame pixels");
  m.def("region_plan", &region_plan_py, py::arg("boxes"), py::arg("frame_shape"), py::arg("scale"), py::arg("face_px"),
        py::arg("min_px"), py::arg("base_shrink"), py::arg("fast"),
        "The squares searched around (T, 4) float32 boxes in a frame of frame_shape (search_regions' planning, "
        "bit for bit): a RegionPlan.");
  m.def("region_batches", &region_batches_py, py::arg("regions"), py::arg("pad_to"), py::arg("planar") = false,
        "Shrunk squares ((h, w, 3) or (h, w) uint8) zero-padded at the bottom and right to multiples of pad_to and "
        "stacked by padded size: a list of (batch (n, H, W, 3) uint8, members (n,) int64), groups in order of first "
        "appearance. planar=True: each batch is (n, 3, H, W) float32 instead, the same values as B, G, R planes "
        "(YuNet's planar_float32 input).");
  m.def("region_merge", &region_merge_py, py::arg("plan"), py::arg("faces"), py::arg("nms_iou"),
        "Each square's faces (boxes (K, 4), scores (K,), marks (K, 5, 2) float32, square pixels) -> the one per "
        "square that overlaps its searched box most, in frame pixels, suppressed across squares: (boxes, scores, marks).");
}

}  // namespace bindings
}  // namespace facesel
